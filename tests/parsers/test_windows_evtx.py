"""EVTX: golden files (two real SigmaHQ samples and damaged files built from them)."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import BinaryIO

import evtx
import orjson
import polars as pl
import pytest

from tests.parsers.golden import DATA, cases, check_golden, chunk_lines
from watchkeeper.events.model import DATASET, ORIGINAL, TIMESTAMP
from watchkeeper.parsers.base import ParsedChunk
from watchkeeper.parsers.evtx import EvtxParser
from watchkeeper.parsers.winfields import flatten_json, xml_event

EVTX = DATA / "evtx"
CASES = cases("evtx")


def _open(path: Path) -> BinaryIO:
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")  # type: ignore[return-value]


def _parse(path: Path, **options: bool) -> list[ParsedChunk]:
    with _open(path) as stream:
        return list(EvtxParser(**options).parse(stream, path.name, batch_size=2))


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.name)
def test_golden(case: Path) -> None:
    check_golden(case, _parse(case))


def _skips(name: str) -> list[tuple[str, str]]:
    return [(s.location, s.reason) for c in _parse(EVTX / name) for s in c.skipped]


def _record_ids(name: str) -> list[str]:
    return [row["EventRecordID"] for c in _parse(EVTX / name) for row in c.frame.to_dicts()]


def test_three_chunks_read_in_order_in_batches_of_two() -> None:
    chunks = _parse(EVTX / "three_chunks.evtx.gz")
    assert [chunk.frame.height for chunk in chunks] == [2, 1]
    frame = pl.concat([chunk.frame for chunk in chunks], how="diagonal")
    assert frame["log.offset"].to_list() == [0, 1, 2]
    assert frame[DATASET].to_list() == [
        "windows.sysmon", "windows.microsoft_windows_wmi_activity_operational", "windows.sysmon",
    ]
    assert not any(chunk.skipped for chunk in chunks)


@pytest.mark.parametrize(
    ("name", "location", "reason"),
    [
        ("bad_chunk_magic.evtx.gz", "chunk 1", "Invalid EVTX chunk header magic"),
        ("bad_string_cache.evtx.gz", "chunk 1", "Failed to build string cache"),
        ("zeroed_record_header.evtx.gz", "chunk 1", "no record of this chunk could be read"),
        ("truncated_chunk.evtx.gz", "chunk 2", "chunk truncated"),
    ],
)
def test_a_damaged_chunk_is_one_skip_and_the_others_are_read(
    name: str, location: str, reason: str
) -> None:
    skips = _skips(name)
    assert len(skips) == 1
    assert skips[0][0] == location
    assert reason in skips[0][1]
    assert len(_record_ids(name)) == 2


@pytest.mark.parametrize("name", ["bad_file_header.evtx.gz", "truncated_file_header.evtx.gz"])
def test_an_unreadable_file_header_is_a_file_skip(name: str) -> None:
    chunks = _parse(EVTX / name)
    assert sum(chunk.frame.height for chunk in chunks) == 0
    assert [skip.location for chunk in chunks for skip in chunk.skipped] == ["file"]


def test_fields_follow_the_sigma_names() -> None:
    (row,) = _parse(EVTX / "sysmon_process_creation.evtx")[0].frame.to_dicts()
    assert row["EventID"] == "1"
    assert row["Channel"] == "Microsoft-Windows-Sysmon/Operational"
    assert row["Provider_Name"] == "Microsoft-Windows-Sysmon"
    assert row["ProcessID"] == "3208"
    assert row["UserID"] == "S-1-5-18"
    assert row["Image"] == "C:\\Windows\\System32\\bitsadmin.exe"
    assert row["ProcessId"] == "7732"
    assert row[TIMESTAMP].isoformat() == "2025-12-10T04:33:20.562782+00:00"
    assert row["log.file.path"] == "sysmon_process_creation.evtx"
    assert row["log.line"] is None
    assert ORIGINAL not in row


def test_userdata_leaves_become_fields() -> None:
    (row,) = _parse(EVTX / "wmi_userdata.evtx")[0].frame.to_dicts()
    assert row["ClientProcessId"] == "25920"
    assert row["Operation"].startswith("Start IWbemServices::ExecMethod")
    assert "xmlns" not in row


def test_keep_original_holds_the_record_json() -> None:
    (chunk,) = _parse(EVTX / "wmi_userdata.evtx", keep_original=True)
    original = orjson.loads(chunk.frame[ORIGINAL][0])
    assert original["Event"]["System"]["EventRecordID"] == 5314


def test_a_file_object_that_is_not_a_real_file_is_spooled() -> None:
    data = (EVTX / "sysmon_process_creation.evtx").read_bytes()
    chunks = list(EvtxParser().parse(io.BytesIO(data), "memory.evtx"))
    assert chunks[0].frame["EventRecordID"].to_list() == ["18463"]


@pytest.mark.parametrize("name", ["sysmon_process_creation.evtx", "wmi_userdata.evtx"])
def test_evtx_xml_and_json_renderings_give_the_same_fields(name: str) -> None:
    """The library's own XML and JSON renderings of each record flatten alike."""
    path = str(EVTX / name)
    from_evtx = [
        {k: v for k, v in row.items() if not k.startswith(("@", "event.", "log."))}
        for chunk in _parse(EVTX / name) for row in chunk.frame.to_dicts()
    ]
    json_records = evtx.PyEvtxParser(path).records_json()
    xml_records = evtx.PyEvtxParser(path).records()
    as_json = [flatten_json(orjson.loads(record["data"])) for record in json_records]
    as_xml = [xml_event(record["data"].split("?>", 1)[1].encode()) for record in xml_records]
    assert [event.fields for event in as_json] == from_evtx
    assert as_xml == as_json


def test_golden_lines_hold_no_path_of_this_machine() -> None:
    for case in CASES:
        text = case.with_name(case.name + ".expected.jsonl").read_text()
        assert str(DATA) not in text
    (line,) = chunk_lines(_parse(EVTX / "wmi_userdata.evtx"))
    assert line["log.file.path"] == "wmi_userdata.evtx"
