"""Golden-file checks for parsers: ``tests/data/<format>/<case>`` beside ``<case>.expected.jsonl``.

The expected file holds one JSON object per parsed event (null fields left out,
times in ISO 8601) followed by one ``{"skipped": {...}}`` object per skip. Set
``WATCHKEEPER_REGEN_GOLDEN=1`` to write the expected files anew, then review the diff.

:class:`FormatChecks` holds the checks every input of a line-oriented format must
pass; a test module subclasses it for its format.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import orjson
import polars as pl
import pytest

from watchkeeper.events.model import LINE, OFFSET, ORIGINAL
from watchkeeper.parsers.auditd import AuditdParser
from watchkeeper.parsers.base import ParsedChunk, Parser
from watchkeeper.parsers.cloudtrail import CloudTrailParser
from watchkeeper.parsers.suricata import SuricataParser
from watchkeeper.parsers.syslog import SyslogParser
from watchkeeper.parsers.zeek import ZeekParser

DATA = Path(__file__).resolve().parent.parent / "data"
LINE_FORMATS: list[type[Parser]] = [
    SyslogParser,
    AuditdParser,
    CloudTrailParser,
    ZeekParser,
    SuricataParser,
]
"""The parsers of line-oriented logs: none may claim another's inputs."""


def cases(folder: str) -> list[Path]:
    """The inputs in ``tests/data/<folder>``: not the expected files, nor the scripts."""
    return sorted(
        path
        for path in (DATA / folder).iterdir()
        if not path.name.endswith(".expected.jsonl") and path.suffix != ".py"
    )


class Trickle(io.RawIOBase):
    """A stream that hands out at most ``size`` bytes per read, as pipes and sockets do."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data = data
        self.size = size
        self.pos = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self.size if size < 0 else min(size, self.size)
        out = self.data[self.pos : self.pos + size]
        self.pos += len(out)
        return out


def parse_bytes(
    parser: Parser, data: bytes, source: str = "x", batch_size: int = 1000
) -> list[ParsedChunk]:
    """Every batch ``parser`` reads from ``data``."""
    return list(parser.parse(io.BytesIO(data), source, batch_size))


def frame_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for row in frame.iter_rows(named=True):
        clean: dict[str, Any] = {}
        for key in sorted(row):
            value = row[key]
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                value = value.isoformat()
            clean[key] = value
        rows.append(clean)
    return rows


def chunk_lines(chunks: list[ParsedChunk]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for chunk in chunks:
        lines.extend(frame_rows(chunk.frame))
    for chunk in chunks:
        for skip in chunk.skipped:
            where = {"source": skip.source, "location": skip.location, "reason": skip.reason}
            lines.append({"skipped": where})
    return lines


def check_golden(case: Path, chunks: list[ParsedChunk]) -> None:
    """Compare parsed ``chunks`` of ``case`` with its expected file (or write it anew)."""
    expected_path = case.with_name(case.name + ".expected.jsonl")
    actual = chunk_lines(chunks)
    if os.environ.get("WATCHKEEPER_REGEN_GOLDEN") == "1":
        expected_path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in actual))
    assert expected_path.exists(), f"no golden file {expected_path}; regenerate and review it"
    expected = [orjson.loads(line) for line in expected_path.read_bytes().splitlines() if line]
    assert actual == expected


class FormatChecks:
    """The checks for every input in ``tests/data/<folder>``, one test per input.

    Subclasses set ``folder``, ``parser`` (a parser class, or a partial of one) and
    ``sniff_score``, the least the parser must give its own inputs (the other
    :data:`LINE_FORMATS` must give 0); ``reads`` lists the (read size, batch size)
    pairs that must give what one read and large batches give (read size None: the
    whole input at once). ``records_are_lines`` when each record is a whole line.
    """

    folder: ClassVar[str]
    parser: ClassVar[Callable[..., Parser]]
    sniff_score: ClassVar[int]
    reads: ClassVar[Sequence[tuple[int | None, int]]] = ((None, 2),)
    records_are_lines: ClassVar[bool] = True

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "case" in metafunc.fixturenames:
            metafunc.parametrize("case", cases(self.folder), ids=lambda path: path.name)
        if "read_size" in metafunc.fixturenames:
            metafunc.parametrize(("read_size", "batch_size"), self.reads)

    def parse(
        self,
        data: bytes,
        source: str,
        batch_size: int = 1000,
        *,
        keep_original: bool = False,
        read_size: int | None = None,
    ) -> list[ParsedChunk]:
        parser = type(self).parser(keep_original=keep_original)
        if read_size is None:
            return parse_bytes(parser, data, source, batch_size)
        return list(parser.parse(Trickle(data, read_size), source, batch_size))

    def test_golden(self, case: Path) -> None:
        check_golden(case, self.parse(case.read_bytes(), case.name))

    def test_sniff_claims_only_this_format(self, case: Path) -> None:
        head = case.read_bytes()[:65536]
        scores = {parser.name: parser.sniff(head, case.name) for parser in LINE_FORMATS}
        assert scores.pop(self.folder) >= self.sniff_score
        assert set(scores.values()) == {0}

    def test_small_reads_and_batches_change_nothing(
        self, case: Path, read_size: int | None, batch_size: int
    ) -> None:
        data = case.read_bytes()
        chunks = self.parse(data, case.name, batch_size, read_size=read_size)
        assert all(chunk.frame.height <= batch_size for chunk in chunks)
        assert chunk_lines(chunks) == chunk_lines(self.parse(data, case.name))

    def test_offsets_lines_and_originals_point_at_the_records(self, case: Path) -> None:
        data = case.read_bytes()
        chunks = self.parse(data, case.name, keep_original=True)
        frame = pl.concat([chunk.frame for chunk in chunks])
        assert frame.height > 0
        lines = data.split(b"\n")
        for offset, number, original in frame.select(OFFSET, LINE, ORIGINAL).iter_rows():
            assert data[:offset].count(b"\n") + 1 == number
            if self.records_are_lines:  # the whole line, as text, without a final \r
                line = lines[number - 1].removesuffix(b"\r")
                assert data[offset : offset + len(line)] == line
                assert line.decode("utf-8", "replace") == original
            else:
                raw = original.encode()
                assert data[offset : offset + len(raw)] == raw
