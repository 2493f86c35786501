"""Spool chunks to events: ids that a replay reproduces, and what no parser could read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from watchkeeper.parsers import default_registry
from watchkeeper.pipeline.decode import Decoder, raw_record

LINE = b"<38>Nov 29 16:40:01 web01 sshd[123]: Failed password for root from 203.0.113.9\n"


@dataclass
class FakeChunk:
    seq: int
    payload: bytes
    source_type: str = "syslog"
    origin: str = "syslog+tcp://10.0.0.5:5000"
    received: datetime = datetime(2026, 11, 29, tzinfo=UTC)


def decode(*chunks: FakeChunk):  # type: ignore[no-untyped-def]
    return Decoder(default_registry()).decode(list(chunks))


def test_event_ids_come_from_the_chunk_and_the_offset() -> None:
    first = decode(FakeChunk(7, LINE + LINE), FakeChunk(8, LINE)).frame
    again = decode(FakeChunk(7, LINE + LINE), FakeChunk(8, LINE)).frame
    ids = first["event.id"].to_list()
    assert ids == again["event.id"].to_list()
    assert len(set(ids)) == 3, "identical lines are still distinct events"
    assert ids[0].startswith("000000000007-")
    assert ids[2].startswith("000000000008-")
    assert first["event.ingested"].to_list() == [datetime(2026, 11, 29, tzinfo=UTC)] * 3
    assert first["log.file.path"].to_list() == ["syslog+tcp://10.0.0.5:5000"] * 3
    assert first["event.original"][0] == LINE.decode().rstrip("\n")


def test_a_bad_record_is_rejected_with_its_bytes_and_the_rest_kept() -> None:
    body = (b'{"EventID": 1, "Channel": "Security"}\n{broken\n'
            b'{"EventID": 2, "Channel": "Security"}\n')
    found = decode(FakeChunk(3, body, source_type="winlog-json"))
    assert found.frame.height == 2
    [rejected] = found.rejected
    assert (rejected.raw, rejected.spool_seq, rejected.location) == (b"{broken", 3, "line 2")
    assert rejected.source_type == "winlog-json"


def test_unknown_source_type_and_unclaimed_input_are_rejected_whole() -> None:
    found = decode(FakeChunk(1, b"whatever", source_type="nope"),
                   FakeChunk(2, b"\x00\x01\x02 binary", source_type="auto"))
    assert found.frame.height == 0
    assert found.rejected[0].reason.startswith("unknown log format 'nope'")
    assert found.rejected[1].reason == "no parser claims it"
    assert [r.raw for r in found.rejected] == [b"whatever", b"\x00\x01\x02 binary"]


def test_auto_detects_the_format() -> None:
    found = decode(FakeChunk(1, b'{"EventID": 4624, "Channel": "Security"}\n', source_type="auto"))
    assert found.frame["event.dataset"].to_list() == ["windows.security"]


def test_raw_record_locations() -> None:
    payload = b"one\ntwo\nthree"
    assert raw_record(payload, "line 2") == b"two"
    assert raw_record(payload, "offset 4") == b"two"
    assert raw_record(payload, "line 9") == payload
    assert raw_record(payload, "chunk") == payload


def _one_by_one(chunks: list[FakeChunk]):  # type: ignore[no-untyped-def]
    """What each chunk decodes to alone: the reference for reading them as one stream."""
    decoder = Decoder(default_registry())
    parts = [decoder.decode([chunk]) for chunk in chunks]
    return parts


def test_json_chunks_read_as_one_stream_give_what_each_gives_alone() -> None:
    bodies = [
        b'{"EventID": 1, "Channel": "Security", "User": "a"}\n{broken\n'
        b'{"EventID": 2, "Channel": "Security"}\n',
        b'\n{"EventID": 3, "Channel": "System", "Extra": [1, 2]}\r\n   \n',
        b'{"EventID": 4, "Channel": "Security", "User": "b"}',  # no end of line
        b'"a string"\n{"EventID": 5, "Channel": "Security", "Image": "C:\\\\x.exe"}\n',
    ]
    chunks = [FakeChunk(10 + i, body, source_type="winlog-json", origin=f"http:{i}",
                        received=datetime(2026, 11, 29, i, tzinfo=UTC))
              for i, body in enumerate(bodies)]
    decoder = Decoder(default_registry())
    assert len(decoder._runs(chunks)) == 1, "all four are read in one call"
    joined = decoder.decode(chunks)
    alone = _one_by_one(chunks)
    columns = ["event.id", "event.ingested", "log.file.path", "log.offset", "log.line",
               "EventID", "User", "Extra", "Image", "event.original"]
    expected = [row for part in alone for row in part.frame.select(
        [c for c in columns if c in part.frame.columns]).to_dicts()]
    got = joined.frame.select(columns).to_dicts()
    assert [{k: v for k, v in row.items() if v is not None} for row in got] == [
        {k: v for k, v in row.items() if v is not None} for row in expected]
    assert [row["event.id"] for row in got] == [
        "00000000000a-0", "00000000000a-59", "00000000000b-1", "00000000000c-0",
        "00000000000d-11"]
    assert [(r.spool_seq, r.location, r.raw, r.origin) for r in joined.rejected] == [
        (r.spool_seq, r.location, r.raw, r.origin) for part in alone for r in part.rejected]
    assert [(r.spool_seq, r.location) for r in joined.rejected] == [(10, "line 2"), (13, "line 1")]
    assert joined.events_by_type == {"winlog-json": 5}


def test_chunks_that_are_not_json_lines_are_read_alone() -> None:
    array = FakeChunk(1, b'[{"EventID": 1, "Channel": "Security"}]', source_type="winlog-json")
    lines = FakeChunk(2, b'{"EventID": 2, "Channel": "Security"}\n', source_type="winlog-json")
    bom = FakeChunk(3, b'\xef\xbb\xbf{"EventID": 3, "Channel": "Security"}\n',
                    source_type="winlog-json")
    other = FakeChunk(4, LINE)
    decoder = Decoder(default_registry())
    assert [len(run) for run in decoder._runs([array, lines, bom, other])] == [1, 1, 1, 1]
    found = decoder.decode([array, lines, bom, other])
    assert found.frame["event.id"].to_list() == [
        "000000000001-1", "000000000002-0", "000000000003-0", "000000000004-0"]


def test_elasticsearch_hits_are_not_read_with_other_chunks() -> None:
    hit = FakeChunk(1, b'{"_index": "x", "_id": "1", "_source": {"@timestamp": '
                       b'"2026-11-29T00:00:00Z", "event": {"kind": "event"}}}\n',
                    source_type="ecs-json")
    plain = FakeChunk(2, b'{"@timestamp": "2026-11-29T00:00:00Z", "_id": "keep", '
                         b'"fields": {"env": "prod"}}\n', source_type="ecs-json")
    decoder = Decoder(default_registry())
    assert [len(run) for run in decoder._runs([hit, plain])] == [1, 1]
    frame = decoder.decode([hit, plain]).frame
    assert frame.filter(frame["event.id"] == "000000000002-0")["fields.env"].to_list() == [
        "prod"], "the plain document keeps its own fields"
