"""EVTX-JSON, flat Windows JSON and ECS JSON: golden files, layouts, both decoding paths."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import polars as pl
import pytest

from tests.parsers.golden import DATA, cases, check_golden, frame_rows
from watchkeeper.events.model import DATASET, ORIGINAL, TIMESTAMP, stringify
from watchkeeper.parsers.base import ParsedChunk, Parser
from watchkeeper.parsers.evtx import EvtxParser
from watchkeeper.parsers.jsonframe import polars_frame, python_frame
from watchkeeper.parsers.jsonlines import flatten
from watchkeeper.parsers.jsonlog import EcsJsonParser, EvtxJsonParser, WinlogJsonParser
from watchkeeper.parsers.lines import LineBatch

PARSERS: dict[str, type[Parser]] = {
    "evtx-json": EvtxJsonParser, "winlog-json": WinlogJsonParser, "ecs-json": EcsJsonParser,
}
CASES = [path for folder in PARSERS for path in cases(folder)]


def _parse(parser: Parser, path: Path, batch_size: int = 3) -> list[ParsedChunk]:
    with path.open("rb") as stream:
        return list(parser.parse(stream, path.name, batch_size=batch_size))


def _rows(chunks: list[ParsedChunk]) -> list[dict[str, object]]:
    return [row for chunk in chunks for row in chunk.frame.to_dicts()]


def _fields(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Rows without where they were read, and without the nulls of other rows' columns."""
    return [{k: v for k, v in row.items() if not k.startswith("log.") and v is not None}
            for row in rows]


def _skips(chunks: list[ParsedChunk]) -> list[tuple[str, str]]:
    return [(skip.location, skip.reason) for chunk in chunks for skip in chunk.skipped]


@pytest.mark.parametrize("case", CASES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_golden(case: Path) -> None:
    check_golden(case, _parse(PARSERS[case.parent.name](), case))


@pytest.mark.parametrize(
    "name", ["sigma_events.jsonl", "sigma_events_array.json", "evtx_dump_pretty.json"]
)
def test_evtx_json_layouts_give_what_evtx_gives(name: str) -> None:
    from_json = _rows(_parse(EvtxJsonParser(), DATA / "evtx-json" / name))
    from_evtx = []
    for evtx_name in ("sysmon_process_creation.evtx", "wmi_userdata.evtx"):
        from_evtx += _rows(_parse(EvtxParser(), DATA / "evtx" / evtx_name))

    assert _fields(from_json) == _fields(from_evtx)


def test_separate_attributes_layout_is_read_alike() -> None:
    separate = _rows(_parse(EvtxJsonParser(), DATA / "evtx-json" / "separate_attributes.jsonl"))
    nested = _rows(_parse(EvtxJsonParser(), DATA / "evtx-json" / "sigma_events.jsonl"))[:1]
    assert _fields(separate) == _fields(nested)


def test_evtx_json_broken_lines() -> None:
    chunks = _parse(EvtxJsonParser(), DATA / "evtx-json" / "broken.jsonl")
    assert [row["log.line"] for row in _rows(chunks)] == [1, 7]
    assert [location for location, _ in _skips(chunks)] == [
        "line 3", "line 4", "line 5", "line 6", "line 8",
    ]


def test_a_truncated_array_keeps_its_complete_documents() -> None:
    chunks = _parse(EvtxJsonParser(), DATA / "evtx-json" / "truncated_array.json")
    assert len(_rows(chunks)) == 1
    assert _skips(chunks)[0][1] == "truncated JSON document: the input ends inside it"


def test_winlogbeat_names_become_sigma_names() -> None:
    rows = _rows(_parse(WinlogJsonParser(), DATA / "winlog-json" / "winlogbeat.ndjson"))
    sysmon, logon, script = rows
    assert sysmon["EventID"] == "1"
    assert sysmon["Image"] == "C:\\Windows\\System32\\bitsadmin.exe"
    assert sysmon["Channel"] == "Microsoft-Windows-Sysmon/Operational"
    assert sysmon["Computer"] == "ws01.corp.example.com"
    assert sysmon["ProcessID"] == "3208"
    assert sysmon["ThreadID"] == "1724"
    assert sysmon["UserID"] == "S-1-5-18"
    assert sysmon["winlog.keywords"] == '["Audit Success"]'  # names, not the mask
    assert "Keywords" not in sysmon
    assert sysmon["process.args"] == '["bitsadmin","/transfer"]'
    assert "winlog.event_data.Image" not in sysmon
    assert sysmon[DATASET] == "windows.sysmon"
    assert logon["LogonType"] == "10"
    assert logon[DATASET] == "windows.security"
    assert script["Extra"] == "u"  # winlog.user_data.*
    assert script[DATASET] == "windows.powershell"  # the channel wins over event.dataset
    assert script[TIMESTAMP].isoformat() == "2024-03-01T09:00:02.500000+00:00"
    assert ORIGINAL not in script  # the document's event.original gives way


def test_dotted_and_nested_winlogbeat_documents_are_the_same() -> None:
    nested = _rows(_parse(WinlogJsonParser(), DATA / "winlog-json" / "winlogbeat.ndjson"))[:2]
    dotted = _rows(_parse(WinlogJsonParser(), DATA / "winlog-json" / "dotted.ndjson"))
    strip = ("log.file.path", "log.offset", "log.line")
    assert [{k: v for k, v in r.items() if k not in strip and v is not None} for r in dotted] == [
        {k: v for k, v in r.items() if k not in strip and v is not None} for r in nested
    ]


def test_nxlog_names_and_times() -> None:
    first, second = _rows(_parse(WinlogJsonParser(), DATA / "winlog-json" / "nxlog.ndjson"))
    assert first["Computer"] == "ws02.corp.example.com"
    assert first["Provider_Name"] == "Microsoft-Windows-Security-Auditing"
    assert first["EventRecordID"] == "90210"
    assert first["Keywords"] == "-9214364837600034816"
    assert first[TIMESTAMP].isoformat() == "2024-03-01T11:00:00+00:00"
    assert second["Initiated"] == "true"
    assert second["Score"] == "1.5"
    assert second["Ratio"] == "2"
    assert second["log.offset"] == len((DATA / "winlog-json" / "nxlog.ndjson").read_bytes()
                                       .split(b"\n")[0]) + 1


def test_bad_lines_are_reported_and_the_good_lines_of_the_batch_kept() -> None:
    chunks = _parse(WinlogJsonParser(), DATA / "winlog-json" / "broken.ndjson", batch_size=100)
    rows = _rows(chunks)
    assert [row["log.line"] for row in rows] == [1, 6, 7, 8]
    assert rows[2]["TargetUserName"] == "caf\ufffd"  # invalid UTF-8 replaced, event kept
    assert rows[3]["CommandLine"] == 'cmd.exe /k "echo [x] {y}"'
    assert [location for location, _ in _skips(chunks)] == ["line 4", "line 5", "line 9"]


def test_the_fast_and_the_slow_path_agree() -> None:
    """Polars' reader (the hot path) and the line-by-line fallback give the same rows."""
    path = DATA / "winlog-json" / "winlogbeat.ndjson"
    fast = _rows(_parse(WinlogJsonParser(), path))
    lines = path.read_bytes().splitlines()
    with_bad = b"\n".join([lines[0], b"{bad", lines[1], lines[2]])
    slow_chunks = list(WinlogJsonParser().parse(io.BytesIO(with_bad), path.name))
    slow = _rows(slow_chunks)
    assert _skips(slow_chunks) == [("line 2", _skips(slow_chunks)[0][1])]
    strip = ("log.offset", "log.line")
    assert [{k: v for k, v in r.items() if k not in strip} for r in slow] == [
        {k: v for k, v in r.items() if k not in strip} for r in fast
    ]


def test_clashing_types_are_written_as_stringify_writes_them() -> None:
    rows = _rows(_parse(WinlogJsonParser(), DATA / "winlog-json" / "mixed_types.ndjson"))
    assert [row.get("Data.a") for row in rows] == ["1", None, None]
    assert [row.get("Data") for row in rows] == [None, "[1,2]", "text"]


def test_the_python_frame_builder_agrees_with_polars() -> None:
    """The line-by-line builder gives what Polars' reader gives for flattened documents."""
    lines = (DATA / "winlog-json" / "winlogbeat.ndjson").read_bytes().splitlines()
    documents = [flatten(orjson.loads(line)) for line in lines]
    flat = [{key: value if type(value) in (str, int) else stringify(value)
             for key, value in document.items() if value is not None and value != {}}
            for document in documents]
    fast = polars_frame([orjson.dumps(document) for document in flat])
    slow = python_frame(LineBatch(lines, list(range(len(lines))), list(range(len(lines)))), "x")
    assert fast.to_dicts() == slow.select(fast.columns).to_dicts()
    assert set(fast.columns) == set(slow.columns)


def test_keep_original_holds_the_line() -> None:
    chunks = _parse(WinlogJsonParser(keep_original=True), DATA / "winlog-json" / "nxlog.ndjson")
    originals = pl.concat([chunk.frame for chunk in chunks])[ORIGINAL].to_list()
    assert [orjson.loads(text)["RecordNumber"] for text in originals] == [90210, 9]


def test_ecs_documents() -> None:
    process, network, agent = _rows(_parse(EcsJsonParser(), DATA / "ecs-json" / "defend.ndjson"))
    assert process["process.executable"] == "C:\\Windows\\System32\\cmd.exe"
    assert process["process.parent.pid"] == "1000"
    assert process["host.ip"] == '["10.0.0.5","fe80::1"]'
    assert process[DATASET] == "endpoint.events.process"
    assert network[DATASET] == "ecs"
    assert network["threat.enrichments"] == '[{"indicator":{"ip":"93.184.216.34"}}]'
    assert ORIGINAL not in network
    assert agent["Image"] == "C:\\x.exe"
    assert agent[DATASET] == "windows.sysmon"
    assert process[TIMESTAMP].isoformat() == "2024-03-01T10:00:00+00:00"


def test_elasticsearch_hits_are_unwrapped() -> None:
    hits = _rows(_parse(EcsJsonParser(), DATA / "ecs-json" / "hits.json"))
    plain = _rows(_parse(EcsJsonParser(), DATA / "ecs-json" / "defend.ndjson"))[:2]
    strip = ("log.offset", "log.line", "log.file.path")
    assert [{k: v for k, v in r.items() if k not in strip and v is not None} for r in hits] == [
        {k: v for k, v in r.items() if k not in strip and v is not None} for r in plain
    ]


def test_an_unreadable_time_is_null_not_an_error() -> None:
    chunks = _parse(EcsJsonParser(), DATA / "ecs-json" / "broken.ndjson")
    rows = _rows(chunks)
    assert [row["log.line"] for row in rows] == [1, 4, 5]
    assert rows[2][TIMESTAMP] is None
    assert [location for location, _ in _skips(chunks)] == ["line 2", "line 3"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("evtx-json/sigma_events.jsonl", "evtx-json"),
        ("evtx-json/sigma_events_array.json", "evtx-json"),
        ("evtx-json/evtx_dump_pretty.json", "evtx-json"),
        ("winlog-json/winlogbeat.ndjson", "winlog-json"),
        ("winlog-json/dotted.ndjson", "winlog-json"),
        ("winlog-json/nxlog.ndjson", "winlog-json"),
        ("winlog-json/flat_array.json", "winlog-json"),
        ("ecs-json/defend.ndjson", "ecs-json"),
        ("ecs-json/hits.json", "ecs-json"),
    ],
)
def test_sniffing_picks_the_right_json_parser(path: str, expected: str) -> None:
    head = (DATA / path).read_bytes()[:65536]
    scores = {name: parser.sniff(head, path) for name, parser in PARSERS.items()}
    assert max(scores, key=lambda name: scores[name]) == expected
    assert scores[expected] > 0


def test_sniffing_ignores_other_json() -> None:
    head = b'{"timestamp": "2024-01-01T00:00:00Z", "event_type": "alert", "src_ip": "1.2.3.4"}\n'
    assert all(parser.sniff(head, "eve.json") == 0 for parser in PARSERS.values())


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_batches_never_exceed_batch_size(batch_size: int) -> None:
    path = DATA / "winlog-json" / "winlogbeat.ndjson"
    chunks = _parse(WinlogJsonParser(), path, batch_size=batch_size)
    assert all(chunk.frame.height <= batch_size for chunk in chunks)
    assert sum(chunk.frame.height for chunk in chunks) == 3


def test_golden_frames_are_string_columns() -> None:
    chunks = _parse(WinlogJsonParser(), DATA / "winlog-json" / "nxlog.ndjson")
    schema = chunks[0].frame.schema
    assert all(dtype == pl.String for name, dtype in schema.items()
               if not name.startswith(("@", "log.")))
    assert frame_rows(chunks[0].frame)[0]["EventID"] == "4688"
