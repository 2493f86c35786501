"""CloudTrail parser: golden files, streaming of the Records array, and bad records."""

from __future__ import annotations

import io

import orjson
import pytest

from tests.parsers.golden import LINE_FORMATS, FormatChecks, Trickle, chunk_lines, parse_bytes
from watchkeeper.parsers import cloudtrail
from watchkeeper.parsers.cloudtrail import CloudTrailParser


class TestCloudTrailInputs(FormatChecks):
    folder = "cloudtrail"
    parser = CloudTrailParser
    sniff_score = 80
    reads = ((1, 1), (7, 2), (100, 3))
    records_are_lines = False


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
    assert chunk_lines(parse_bytes(CloudTrailParser(), b'{"Records": []}', "f.json")) == []
    assert chunk_lines(parse_bytes(CloudTrailParser(), b"", "f.json")) == []
    assert chunk_lines(parse_bytes(CloudTrailParser(), b"  \n", "f.json")) == []


@pytest.mark.parametrize(
    "head",
    [
        b'{"Event": {"System": {"EventID": 4624, "Channel": "Security"}}}\n',
        b'{"EventID": 4688, "Channel": "Security", "NewProcessName": "C:\\\\x.exe"}\n',
        b'{"@timestamp": "2023-11-14T22:13:20Z", "event": {"code": "1"}, "ecs": {"version": 8}}\n',
    ],
)
def test_windows_json_is_nobody_s_here(head: bytes) -> None:
    assert {parser.sniff(head, "events.json") for parser in LINE_FORMATS} == {0}
