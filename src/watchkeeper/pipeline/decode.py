"""Spool chunks → one batch of events, and the records no parser could read.

Each chunk is parsed by the parser of its source type (or the one most sure of its
first bytes for ``auto``). Every event gets

- ``event.id``: the chunk's spool sequence number and the record's offset in the chunk,
  ``<seq:012x>-<offset>`` — the same on every replay of the chunk, so that a replay
  after a crash is recognised (alerts are idempotent by rule and event id), and two
  identical lines are still two events;
- ``event.ingested``: when the receiver took the chunk;

and ``log.file.path`` is the chunk's origin (receiver and peer, token, or file).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import polars as pl

from watchkeeper.deadletters.service import Rejected
from watchkeeper.errors import UsageError
from watchkeeper.events.model import EVENT_ID, INGESTED, OFFSET, RESERVED, Skip
from watchkeeper.parsers import ParserRegistry

AUTO = "auto"
_LOCATION = re.compile(r"^(line|offset|record) (\d+)$")


class ChunkLike(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def source_type(self) -> str: ...
    @property
    def origin(self) -> str: ...
    @property
    def received(self) -> object: ...
    @property
    def payload(self) -> bytes: ...


@dataclass(slots=True)
class Decoded:
    frame: pl.DataFrame
    rejected: list[Rejected] = field(default_factory=list)
    events_by_type: dict[str, int] = field(default_factory=dict)


class Decoder:
    def __init__(self, registry: ParserRegistry, *, keep_original: bool = True) -> None:
        self.registry = registry
        self.keep_original = keep_original

    def check_source_type(self, source_type: str) -> str:
        """The source type if a parser of that name exists (``auto`` always does)."""
        if source_type != AUTO:
            self.registry.get(source_type)
        return source_type

    def decode(self, chunks: Sequence[ChunkLike]) -> Decoded:
        frames: list[pl.DataFrame] = []
        result = Decoded(pl.DataFrame())
        for chunk in chunks:
            frame, skipped = self._parse(chunk)
            if frame.height:
                frames.append(_identify(frame, chunk))
                result.events_by_type[chunk.source_type] = (
                    result.events_by_type.get(chunk.source_type, 0) + frame.height
                )
            result.rejected.extend(_rejected(chunk, skip) for skip in skipped)
        if frames:
            # one contiguous chunk per column: the stages after this are much faster on it
            result.frame = pl.concat(frames, how="diagonal_relaxed", rechunk=True)
        return result

    def _parse(self, chunk: ChunkLike) -> tuple[pl.DataFrame, list[Skip]]:
        try:
            if chunk.source_type == AUTO:
                parser_class = self.registry.detect(chunk.payload[:65536], chunk.origin)
                if parser_class is None:
                    return pl.DataFrame(), [Skip(chunk.origin, "chunk", "no parser claims it")]
            else:
                parser_class = self.registry.get(chunk.source_type)
        except UsageError as error:
            return pl.DataFrame(), [Skip(chunk.origin, "chunk", error.message)]
        parser = parser_class(keep_original=self.keep_original)
        frames: list[pl.DataFrame] = []
        skipped: list[Skip] = []
        stream = io.BytesIO(chunk.payload)
        for parsed in parser.parse(stream, chunk.origin, batch_size=1 << 30):
            if parsed.frame.height:
                frames.append(parsed.frame)
            skipped.extend(parsed.skipped)
        if not frames:
            return pl.DataFrame(), skipped
        frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
        return frame, skipped


def _identify(frame: pl.DataFrame, chunk: ChunkLike) -> pl.DataFrame:
    position = (
        pl.col(OFFSET).fill_null(pl.int_range(pl.len(), dtype=pl.Int64))
        if OFFSET in frame.columns
        else pl.int_range(pl.len(), dtype=pl.Int64)
    )
    return frame.with_columns(
        pl.concat_str([pl.lit(f"{chunk.seq:012x}-"), position.cast(pl.String)]).alias(EVENT_ID),
        pl.lit(chunk.received, dtype=RESERVED["@timestamp"]).alias(INGESTED),
    )


def _rejected(chunk: ChunkLike, skip: Skip) -> Rejected:
    return Rejected(
        origin=chunk.origin,
        source_type=chunk.source_type,
        reason=skip.reason,
        location=skip.location,
        spool_seq=chunk.seq,
        raw=raw_record(chunk.payload, skip.location),
    )


def raw_record(payload: bytes, location: str) -> bytes:
    """The bytes a skip's location points at: a line, the line at an offset, else all."""
    found = _LOCATION.match(location)
    if found is None:
        return payload
    kind, number = found.group(1), int(found.group(2))
    if kind == "line":
        lines = payload.split(b"\n")
        return lines[number - 1] if 0 < number <= len(lines) else payload
    if kind == "offset" and 0 <= number < len(payload):
        end = payload.find(b"\n", number)
        return payload[number : end if end >= 0 else len(payload)]
    return payload
