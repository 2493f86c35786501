"""CloudTrail parser: golden files, streaming of the Records array, and bad records."""

from __future__ import annotations

import io

import orjson
import polars as pl
import pytest

from tests.parsers.golden import DATA, check_golden, chunk_lines
from watchkeeper.events.model import LINE, OFFSET, ORIGINAL
from watchkeeper.parsers import cloudtrail
from watchkeeper.parsers.auditd import AuditdParser
from watchkeeper.parsers.base import ParsedChunk, Parser
from watchkeeper.parsers.cloudtrail import CloudTrailParser
from watchkeeper.parsers.suricata import SuricataParser
from watchkeeper.parsers.syslog import SyslogParser
from watchkeeper.parsers.zeek import ZeekParser

FOLDER = DATA / "cloudtrail"
CASES = sorted(path.name for path in FOLDER.iterdir() if not path.name.endswith(".expected.jsonl"))
OURS: list[type[Parser]] = [
    SyslogParser,
    AuditdParser,
    CloudTrailParser,
    ZeekParser,
    SuricataParser,
]


class Trickle(io.RawIOBase):
    """A stream that hands out at most ``size`` bytes per read, and counts what it gave."""

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


def parse(
    data: bytes, source: str, batch_size: int = 1000, *, keep_original: bool = False
) -> list[ParsedChunk]:
    parser = CloudTrailParser(keep_original=keep_original)
    return list(parser.parse(io.BytesIO(data), source, batch_size))


def record(number: int, **extra: object) -> dict[str, object]:
    return {
        "eventVersion": "1.08",
        "eventTime": f"2023-11-14T22:{number // 60 % 60:02}:{number % 60:02}Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "requestParameters": {"bucketName": "b", "key": f"k{number}"},
        "eventID": f"id-{number}",
        **extra,
    }


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    path = FOLDER / case
    check_golden(path, parse(path.read_bytes(), case))


@pytest.mark.parametrize("case", CASES)
def test_sniff_claims_only_cloudtrail(case: str) -> None:
    head = (FOLDER / case).read_bytes()[:65536]
    scores = {parser.name: parser.sniff(head, case) for parser in OURS}
    assert scores.pop("cloudtrail") >= 80
    assert set(scores.values()) == {0}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(("read_size", "batch_size"), [(1, 1), (7, 2), (100, 3)])
def test_small_reads_and_batches_change_nothing(case: str, read_size: int, batch_size: int) -> None:
    data = (FOLDER / case).read_bytes()
    parser = CloudTrailParser()
    chunks = list(parser.parse(Trickle(data, read_size), case, batch_size))
    assert all(chunk.frame.height <= batch_size for chunk in chunks)
    assert chunk_lines(chunks) == chunk_lines(parse(data, case))


@pytest.mark.parametrize("case", CASES)
def test_offsets_lines_and_originals_point_at_the_records(case: str) -> None:
    data = (FOLDER / case).read_bytes()
    frame = pl.concat([chunk.frame for chunk in parse(data, case, keep_original=True)])
    assert frame.height > 0
    for offset, line, original in frame.select(OFFSET, LINE, ORIGINAL).iter_rows():
        raw = original.encode()
        assert data[offset : offset + len(raw)] == raw
        assert data[:offset].count(b"\n") + 1 == line


def test_the_records_array_is_streamed() -> None:
    data = orjson.dumps({"Records": [record(number) for number in range(20_000)]})
    assert len(data) > 3 * cloudtrail.BLOCK_SIZE
    stream = Trickle(data, 4096)
    chunks = CloudTrailParser().parse(stream, "big.json", 100)
    first = next(chunks)
    assert first.frame.height == 100
    assert stream.pos <= cloudtrail.BLOCK_SIZE + 4096  # the first line looked for, no more
    assert sum(chunk.frame.height for chunk in chunks) == 19_900


def test_a_record_over_the_limit_is_skipped_and_reading_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cloudtrail, "MAX_RECORD", 400)
    monkeypatch.setattr(cloudtrail, "BLOCK_SIZE", 64)
    huge = record(2, requestParameters={"policy": "x" * 2000})
    data = orjson.dumps({"Records": [record(1), huge, record(3)]})
    [chunk] = list(CloudTrailParser().parse(io.BytesIO(data), "f.json"))
    assert chunk.frame["eventID"].to_list() == ["id-1", "id-3"]
    assert [(skip.location, skip.reason) for skip in chunk.skipped] == [
        ("record 2", "record larger than 400 characters")
    ]


def test_surrogate_escapes_pairs_read_and_lone_ones_skipped() -> None:
    pair = record(1, userAgent="smile \\ud83d\\ude00")
    lone = record(2, userAgent="broken \\ud800 here")
    text = orjson.dumps({"Records": [pair, lone, record(3)]}).replace(b"\\\\u", b"\\u")
    [chunk] = list(CloudTrailParser().parse(io.BytesIO(text), "f.json"))
    assert chunk.frame["userAgent"].to_list() == ["smile \U0001f600", None]
    assert chunk.frame["eventID"].to_list() == ["id-1", "id-3"]
    assert [skip.location for skip in chunk.skipped] == ["record 2"]


def test_empty_records_and_empty_file() -> None:
    assert chunk_lines(parse(b'{"Records": []}', "f.json")) == []
    assert chunk_lines(parse(b"", "f.json")) == []
    assert chunk_lines(parse(b"  \n", "f.json")) == []


@pytest.mark.parametrize(
    "head",
    [
        b'{"Event": {"System": {"EventID": 4624, "Channel": "Security"}}}\n',
        b'{"EventID": 4688, "Channel": "Security", "NewProcessName": "C:\\\\x.exe"}\n',
        b'{"@timestamp": "2023-11-14T22:13:20Z", "event": {"code": "1"}, "ecs": {"version": 8}}\n',
    ],
)
def test_windows_json_is_nobody_s_here(head: bytes) -> None:
    assert {parser.sniff(head, "events.json") for parser in OURS} == {0}
