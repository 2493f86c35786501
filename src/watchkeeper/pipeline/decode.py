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

import numpy as np
import polars as pl

from watchkeeper.deadletters.service import Rejected
from watchkeeper.errors import UsageError
from watchkeeper.events.model import EVENT_ID, INGESTED, LINE, OFFSET, RESERVED, SOURCE, Skip
from watchkeeper.parsers import ParserRegistry
from watchkeeper.parsers.base import ParseMemory

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
        self.memory = ParseMemory()
        """What the parsers learn from batch to batch (the schemas of JSON sources)."""

    def check_source_type(self, source_type: str) -> str:
        """The source type if a parser of that name exists (``auto`` always does)."""
        if source_type != AUTO:
            self.registry.get(source_type)
        return source_type

    def decode(self, chunks: Sequence[ChunkLike]) -> Decoded:
        frames: list[pl.DataFrame] = []
        result = Decoded(pl.DataFrame())
        for run in self._runs(chunks):
            joined = self._parse_joined(run) if len(run) > 1 else None
            if joined is None:
                parts = []
                for chunk in run:
                    frame, skipped = self._parse(chunk)
                    parts.append((_identify(frame, chunk) if frame.height else frame,
                                  [_rejected(chunk, skip) for skip in skipped]))
            else:
                parts = [joined]
            for frame, rejected in parts:
                if frame.height:
                    frames.append(frame)
                    source_type = run[0].source_type
                    result.events_by_type[source_type] = (
                        result.events_by_type.get(source_type, 0) + frame.height
                    )
                result.rejected.extend(rejected)
        if frames:
            # one contiguous chunk per column: the stages after this are much faster on it
            result.frame = pl.concat(frames, how="diagonal_relaxed").rechunk()
        return result

    def _runs(self, chunks: Sequence[ChunkLike]) -> list[list[ChunkLike]]:
        """Consecutive chunks that may be read as one stream: same format, and one whose
        parser says each payload is whole records of one line each."""
        runs: list[list[ChunkLike]] = []
        for chunk in chunks:
            if runs and self._joinable(runs[-1][-1], chunk):
                runs[-1].append(chunk)
            else:
                runs.append([chunk])
        return runs

    def _joinable(self, previous: ChunkLike, chunk: ChunkLike) -> bool:
        if chunk.source_type != previous.source_type or chunk.source_type == AUTO:
            return False
        try:
            parser_class = self.registry.get(chunk.source_type)
        except UsageError:
            return False
        return parser_class.joinable(previous.payload) and parser_class.joinable(chunk.payload)

    def _parse_joined(
        self, run: Sequence[ChunkLike]
    ) -> tuple[pl.DataFrame, list[Rejected]] | None:
        """The chunks of ``run`` parsed as one stream (one call instead of many, and no
        concatenation of small frames), each event given back its own chunk's id, origin
        and offset. None when a location cannot be traced back to its chunk: then each
        chunk is parsed alone."""
        payloads = [c.payload if c.payload.endswith(b"\n") else c.payload + b"\n" for c in run]
        starts = np.cumsum([0, *map(len, payloads)])
        line_bases = np.cumsum([0, *(p.count(b"\n") for p in payloads)])
        frame, skipped = self._parse(_Joined(run[0], b"".join(payloads)))
        rejected = []
        for skip in skipped:
            traced = _trace(skip, starts, line_bases)
            if traced is None:
                return None
            rejected.append(_rejected(run[traced[0]], traced[1]))
        if frame.height == 0:
            return frame, rejected
        if OFFSET not in frame.columns or frame[OFFSET].null_count():
            return None
        offsets = frame[OFFSET].to_numpy()
        positions = np.searchsorted(starts, offsets, side="right") - 1
        index = pl.Series(positions)
        local_offsets = pl.Series(offsets - starts[positions], dtype=pl.Int64)
        prefixes = pl.Series([f"{c.seq:012x}-" for c in run], dtype=pl.String)
        received = pl.Series([c.received for c in run], dtype=RESERVED["@timestamp"])
        origins = pl.Series([c.origin for c in run], dtype=pl.String)
        columns = [
            (prefixes.gather(index) + local_offsets.cast(pl.String)).alias(EVENT_ID),
            received.gather(index).alias(INGESTED),
            origins.gather(index).alias(SOURCE),
            local_offsets.alias(OFFSET),
        ]
        if LINE in frame.columns:
            bases = pl.Series(line_bases[:-1], dtype=pl.Int64).gather(index)
            columns.append((frame[LINE] - bases).alias(LINE))
        return frame.with_columns(columns), rejected

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
        parser = parser_class(keep_original=self.keep_original, memory=self.memory)
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


@dataclass(frozen=True, slots=True)
class _Joined:
    """Chunks read as one: the first one's format and origin, all their payloads."""

    first: ChunkLike
    payload: bytes

    @property
    def seq(self) -> int:
        return self.first.seq

    @property
    def source_type(self) -> str:
        return self.first.source_type

    @property
    def origin(self) -> str:
        return self.first.origin

    @property
    def received(self) -> object:
        return self.first.received


def _trace(skip: Skip, starts: np.ndarray, line_bases: np.ndarray) -> tuple[int, Skip] | None:
    """The chunk a skip of a joined read belongs to, and the skip as that chunk's own."""
    found = _LOCATION.match(skip.location)
    if found is None or found.group(1) == "record":
        return None
    kind, number = found.group(1), int(found.group(2))
    bounds = line_bases + 1 if kind == "line" else starts
    index = int(np.searchsorted(bounds, number, side="right")) - 1
    if not 0 <= index < len(bounds) - 1:
        return None
    local = number - int(line_bases[index] if kind == "line" else starts[index])
    return index, Skip(skip.source, f"{kind} {local}", skip.reason)


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
