"""The event model shared by parsers, detection, the store and search."""

from watchkeeper.events.model import (
    DATASET,
    LINE,
    OFFSET,
    ORIGINAL,
    RESERVED,
    SOURCE,
    TIMESTAMP,
    Skip,
    frame_from_records,
    stringify,
)

__all__ = [
    "DATASET",
    "LINE",
    "OFFSET",
    "ORIGINAL",
    "RESERVED",
    "SOURCE",
    "TIMESTAMP",
    "Skip",
    "frame_from_records",
    "stringify",
]
