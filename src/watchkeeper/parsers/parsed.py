"""``watchkeeper-events``: events already parsed by Watchkeeper, one JSON object a line.

``watchkeeper import`` parses files where they are (any format, any size, in bounded
batches) and sends the batches in this form, through the spool or the HTTP API, so
that a 2 GB EVTX file never has to travel as one piece. Every column comes back with
the type it had: the reserved columns with theirs, the original fields as text.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

import polars as pl

from watchkeeper.events.model import RESERVED, TIMESTAMP, Skip
from watchkeeper.parsers.base import DEFAULT_BATCH_SIZE, ParsedChunk, Parser

MARKER = b'{"event.dataset"'


def dump_events(frame: pl.DataFrame) -> bytes:
    """A batch in this format (``event.dataset`` first, which is how it is recognised)."""
    first = [c for c in ("event.dataset",) if c in frame.columns]
    ordered = frame.select(first + [c for c in frame.columns if c not in first])
    buffer = io.BytesIO()
    ordered.write_ndjson(buffer)
    return buffer.getvalue()


class ParsedEventsParser(Parser):
    name = "watchkeeper-events"
    description = "Events already parsed by Watchkeeper (what 'watchkeeper import' sends)"

    @classmethod
    def sniff(cls, head: bytes, filename: str) -> int:
        return 95 if head.startswith(MARKER) else 0

    def parse(
        self, stream: BinaryIO, source: str, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[ParsedChunk]:
        data = stream.read()
        try:
            frame = pl.read_ndjson(io.BytesIO(data), infer_schema_length=None)
        except pl.exceptions.PolarsError as error:
            skip = Skip(source, "chunk", f"not parsed events: {error}")
            yield ParsedChunk(pl.DataFrame(), [skip])
            return
        casts = []
        for name in frame.columns:
            wanted = RESERVED.get(name, pl.String())
            if name == TIMESTAMP or wanted == RESERVED[TIMESTAMP]:
                casts.append(pl.col(name).cast(pl.String).str.to_datetime(
                    time_zone="UTC", time_unit="us", strict=False).alias(name))
            elif frame.schema[name] != wanted:
                casts.append(pl.col(name).cast(wanted, strict=False))
        frame = frame.with_columns(casts) if casts else frame
        if not self.keep_original and "event.original" in frame.columns:
            frame = frame.drop("event.original")
        for start in range(0, max(frame.height, 1), batch_size):
            yield ParsedChunk(frame.slice(start, batch_size))


PARSERS: list[type[Parser]] = [ParsedEventsParser]
