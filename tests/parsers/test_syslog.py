"""Syslog parser: golden files, and the year of RFC 3164 stamps."""

from __future__ import annotations

import datetime as dt
import io
from functools import partial

import polars as pl
import pytest

from tests.parsers.golden import DATA, FormatChecks, parse_bytes
from watchkeeper.events.model import ORIGINAL, TIMESTAMP
from watchkeeper.parsers.base import ParsedChunk
from watchkeeper.parsers.syslog import SyslogParser, infer_year, parse_structured_data


class TestSyslogInputs(FormatChecks):
    folder = "syslog"
    parser = partial(SyslogParser, year=2023)
    sniff_score = 65
    reads = ((5, 1), (5, 2), (5, 3))


def parse(
    data: bytes, source: str, batch_size: int = 1000, *, keep_original: bool = False
) -> list[ParsedChunk]:
    parser = SyslogParser(year=2023, keep_original=keep_original)
    return parse_bytes(parser, data, source, batch_size)


def test_rfc3164_year_rolls_over_at_new_year() -> None:
    data = (DATA / "syslog" / "rfc3164.log").read_bytes()
    frame = pl.concat([chunk.frame for chunk in parse(data, "x")])
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
