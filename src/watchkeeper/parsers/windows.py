"""Windows events as batches: the dataset of each channel, and the reserved columns.

The events come flattened by :mod:`.winfields`, whatever rendering they were read
from (EVTX, event XML, EVTX-JSON, Sysmon for Linux).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import polars as pl

from watchkeeper.events.model import DATASET, TIMESTAMP
from watchkeeper.parsers.frames import constant, frame_of, location_columns
from watchkeeper.parsers.times import parse_times
from watchkeeper.parsers.winfields import FlatEvent

DATASETS: Mapping[str, str] = MappingProxyType(
    {
        "Microsoft-Windows-Sysmon/Operational": "windows.sysmon",
        "Security": "windows.security",
        "System": "windows.system",
        "Application": "windows.application",
        "Microsoft-Windows-PowerShell/Operational": "windows.powershell",
        "Windows PowerShell": "windows.powershell_classic",
    }
)
"""Datasets of the channels Sigma's Windows logsources name; others are derived."""

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def dataset_for_channel(channel: str | None) -> str:
    """``windows.sysmon`` for the Sysmon channel…, else ``windows.`` + the channel as a slug."""
    if not channel:
        return "windows"
    known = DATASETS.get(channel)
    if known is not None:
        return known
    return "windows." + _NOT_ALNUM.sub("_", channel.lower())


def datasets(channels: pl.Series) -> pl.Series:
    """:func:`dataset_for_channel` over a column: computed once per distinct channel."""
    distinct = channels.drop_nulls().unique().to_list()
    mapping = {channel: dataset_for_channel(channel) for channel in distinct}
    return channels.replace_strict(mapping, default=None, return_dtype=pl.String)


def windows_frame(
    events: Sequence[FlatEvent],
    source: str,
    offsets: Sequence[int],
    lines: Sequence[int | None] | None = None,
    originals: Sequence[str] | None = None,
    dataset: str | None = None,
) -> pl.DataFrame:
    """A batch from flattened events: original fields plus the reserved columns.

    The dataset is derived from ``Channel`` unless ``dataset`` fixes it (Sysmon for Linux).
    """
    columns: dict[str, list[str | None]] = {}
    height = len(events)
    for index, event in enumerate(events):
        for key, value in event.fields.items():
            column = columns.get(key)
            if column is None:
                column = columns[key] = [None] * height
            column[index] = value
    frame = frame_of(
        [pl.Series(name, values, dtype=pl.String) for name, values in columns.items()], height
    )
    times = pl.Series("time", [event.time for event in events], dtype=pl.String)
    if dataset:
        dataset_column = constant(DATASET, dataset, height)
    elif "Channel" in columns:
        dataset_column = datasets(frame["Channel"]).fill_null("windows")
    else:
        dataset_column = constant(DATASET, "windows", height)
    reserved = [
        parse_times(times).alias(TIMESTAMP),
        dataset_column.alias(DATASET),
        *location_columns(source, offsets, lines, originals),
    ]
    return frame.with_columns(reserved)
