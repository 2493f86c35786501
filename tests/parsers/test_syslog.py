"""Syslog parser: golden files, the year of RFC 3164 stamps, and the shared line reader."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
import pytest

from tests.parsers.golden import DATA, check_golden, chunk_lines
from watchkeeper.events.model import ORIGINAL, TIMESTAMP
from watchkeeper.parsers.auditd import AuditdParser
from watchkeeper.parsers.base import ParsedChunk, Parser
from watchkeeper.parsers.cloudtrail import CloudTrailParser
from watchkeeper.parsers.suricata import SuricataParser
from watchkeeper.parsers.syslog import (
    SyslogParser,
    infer_year,
    parse_structured_data,
    read_line_batches,
)
from watchkeeper.parsers.zeek import ZeekParser

FOLDER = DATA / "syslog"
CASES = sorted(path.name for path in FOLDER.iterdir() if not path.name.endswith(".expected.jsonl"))
OURS: list[type[Parser]] = [
    SyslogParser,
    AuditdParser,
    CloudTrailParser,
    ZeekParser,
    SuricataParser,
]


class Trickle(io.RawIOBase):
    """A stream that hands out at most ``size`` bytes per read, as pipes and sockets do."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data = data
        self.size = size
        self.pos = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        out = self.data[self.pos : self.pos + self.size]
        self.pos += len(out)
        return out


def parse(
    data: bytes, source: str, batch_size: int = 1000, *, keep_original: bool = False
) -> list[ParsedChunk]:
    parser = SyslogParser(year=2023, keep_original=keep_original)
    return list(parser.parse(io.BytesIO(data), source, batch_size))


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    path = FOLDER / case
    check_golden(path, parse(path.read_bytes(), case))


@pytest.mark.parametrize("case", CASES)
def test_sniff_claims_only_syslog(case: str) -> None:
    head = (FOLDER / case).read_bytes()[:65536]
    scores = {parser.name: parser.sniff(head, case) for parser in OURS}
    assert scores.pop("syslog") >= 65
    assert set(scores.values()) == {0}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("batch_size", [1, 2, 3])
def test_small_batches_and_trickled_reads_change_nothing(case: str, batch_size: int) -> None:
    data = (FOLDER / case).read_bytes()
    whole = chunk_lines(parse(data, case))
    chunks = list(SyslogParser(year=2023).parse(Trickle(data, 5), case, batch_size))
    assert all(chunk.frame.height <= batch_size for chunk in chunks)
    assert chunk_lines(chunks) == whole


def test_rfc3164_year_rolls_over_at_new_year() -> None:
    frame = pl.concat([chunk.frame for chunk in parse((FOLDER / "rfc3164.log").read_bytes(), "x")])
    years = [stamp.year for stamp in frame[TIMESTAMP]]
    assert years == [2023, 2023, 2023] + [2024] * 7


def test_a_late_december_line_after_new_year_goes_back_a_year() -> None:
    data = (
        b"Dec 31 23:59:59 h a: 1\nJan  1 00:00:01 h a: 2\n"
        b"Dec 31 23:59:58 h a: 3\nJan  1 00:00:02 h a: 4\n"
    )
    frame = parse(data, "x", batch_size=1)
    years = [chunk.frame[TIMESTAMP][0].year for chunk in frame]
    assert years == [2023, 2024, 2023, 2024]


@pytest.mark.parametrize(
    ("month", "day", "now", "expected"),
    [
        (11, 14, dt.datetime(2024, 11, 14, 12, tzinfo=dt.UTC), 2024),
        (12, 31, dt.datetime(2025, 1, 2, tzinfo=dt.UTC), 2024),  # read in January
        (11, 15, dt.datetime(2024, 11, 14, 12, tzinfo=dt.UTC), 2024),  # clock skew of a day
        (11, 20, dt.datetime(2024, 11, 14, 12, tzinfo=dt.UTC), 2023),  # far future: last year
        (2, 29, dt.datetime(2025, 3, 1, tzinfo=dt.UTC), 2024),  # no 29 February in 2025
    ],
)
def test_infer_year(month: int, day: int, now: dt.datetime, expected: int) -> None:
    assert infer_year(month, day, now) == expected


def test_default_year_is_the_current_one_for_a_line_of_today() -> None:
    now = dt.datetime.now(dt.UTC)
    line = f"{now:%b} {now.day:2} 00:00:00 host app: hi\n".encode()
    [chunk] = list(SyslogParser().parse(io.BytesIO(line), "x"))
    assert chunk.frame[TIMESTAMP][0].year == now.year


def test_structured_data_escapes_and_repeated_names() -> None:
    sd = r'[a@1 x="q\"b\]s\\n\t"][b y=""][a@1 x="second"]'
    assert parse_structured_data(sd) == {"sd.a@1.x": 'q"b]s\\n\\t', "sd.b.y": ""}


def test_keep_original_keeps_the_line_without_its_end() -> None:
    data = b"<13>Nov 14 22:13:20 h app: hi\r\nNov 14 22:13:21 h app: there\n"
    [chunk] = parse(data, "x", keep_original=True)
    assert chunk.frame[ORIGINAL].to_list() == [
        "<13>Nov 14 22:13:20 h app: hi",
        "Nov 14 22:13:21 h app: there",
    ]
    [plain] = parse(data, "x")
    assert ORIGINAL not in plain.frame.columns


def test_line_reader_skips_overlong_lines_and_keeps_counting() -> None:
    data = b"\xef\xbb\xbfshort\n" + b"x" * 40 + b"\nok\r\n\n" + b"y" * 25 + b"\nlast"
    for size in (1, 3, 16, 1 << 20):
        batches = list(read_line_batches(Trickle(data, size), "f", 10, max_line=16))
        frame = pl.concat([batch.frame for batch in batches])
        assert frame.rows() == [("short", 1, 3), ("ok", 3, 50), ("last", 6, 81)], size
        skipped = [skip for batch in batches for skip in batch.skipped]
        assert [skip.location for skip in skipped] == ["line 2", "line 5"], size
        assert skipped[0].reason == "line longer than 16 bytes"


def test_line_reader_batches_hold_at_most_batch_size_lines() -> None:
    data = b"".join(b"line %d\n" % n for n in range(1, 26))
    batches = list(read_line_batches(io.BytesIO(data), "f", 10))
    assert [batch.frame.height for batch in batches] == [10, 10, 5]
    assert batches[2].frame["number"].to_list() == list(range(21, 26))
