"""Windows event XML and Sysmon for Linux: golden files, damaged and hostile input."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest

from tests.parsers.golden import DATA, cases, check_golden
from watchkeeper.events.model import DATASET, ORIGINAL, TIMESTAMP
from watchkeeper.parsers.base import ParsedChunk, Parser
from watchkeeper.parsers.sysmon_linux import SysmonLinuxParser
from watchkeeper.parsers.winxml import WinXmlParser

WINXML = cases("winxml")
SYSMON_LINUX = cases("sysmon-linux")


def _parse(parser: Parser, path: Path, batch_size: int = 3) -> list[ParsedChunk]:
    with path.open("rb") as stream:
        return list(parser.parse(stream, path.name, batch_size=batch_size))


def _rows(chunks: list[ParsedChunk]) -> list[dict[str, object]]:
    return [row for chunk in chunks for row in chunk.frame.to_dicts()]


def _skips(chunks: list[ParsedChunk]) -> list[tuple[str, str]]:
    return [(skip.location, skip.reason) for chunk in chunks for skip in chunk.skipped]


@pytest.mark.parametrize("case", WINXML, ids=lambda path: path.name)
def test_winxml_golden(case: Path) -> None:
    check_golden(case, _parse(WinXmlParser(), case))


@pytest.mark.parametrize("case", SYSMON_LINUX, ids=lambda path: path.name)
def test_sysmon_linux_golden(case: Path) -> None:
    check_golden(case, _parse(SysmonLinuxParser(), case))


def test_wevtutil_events_follow_the_rules() -> None:
    rows = _rows(_parse(WinXmlParser(), DATA / "winxml" / "wevtutil.xml"))
    process, service, msi, cleared, script, classic, task = rows
    assert process["CommandLine"] == 'net user "admin" /add\r\nsecond line'
    assert process["Empty"] == process["SelfClosing"] == ""
    assert process[TIMESTAMP].isoformat() == "2024-03-01T10:00:00.123456+00:00"
    assert service["EventID"] == "7036"  # Qualifiers dropped
    assert service["Binary"] == "770075006100750073007600"
    assert "Message" not in service  # RenderingInfo is not an original field
    assert msi["Data"] == "Product A\n1.0\x03\n\n0"
    assert msi["UserID"] == "S-1-5-21-1-2-3-1001"
    assert cleared["SubjectUserName"] == "admin"
    assert script["ScriptBlockText"].endswith("<# & #>")
    assert [row[DATASET] for row in rows] == [
        "windows.security", "windows.system", "windows.application", "windows.security",
        "windows.powershell", "windows.powershell_classic",
        "windows.microsoft_windows_taskscheduler_operational",
    ]
    assert classic["Data"].startswith("Available\nNone\n\tNewEngineState")
    assert task["Default SD String:"] == "O:BA"
    assert [row["log.line"] for row in rows] == [1, 2, 2, 2, 2, 2, 3]  # CRLFs inside values
    assert rows[1]["log.offset"] > rows[0]["log.offset"]


def test_broken_elements_are_skipped_and_the_rest_is_read() -> None:
    chunks = _parse(WinXmlParser(), DATA / "winxml" / "broken.xml")
    assert [row["EventRecordID"] for row in _rows(chunks)] == ["1005", "1010", "1011"]
    skips = _skips(chunks)
    assert [location for location, _ in skips] == [
        "line 4", "line 5", "line 7", "line 8", "line 9", "line 11",
    ]
    reasons = " | ".join(reason for _, reason in skips)
    for expected in ("mismatched tag", "another one starts", "undefined entity",
                     "DTDs and entity declarations are refused", "no System element",
                     "the input ends inside it"):
        assert expected in reasons


def test_entities_declared_before_the_events_are_never_expanded() -> None:
    chunks = _parse(WinXmlParser(), DATA / "winxml" / "billion_laughs.xml")
    assert [row["EventRecordID"] for row in _rows(chunks)] == ["1005"]
    assert "undefined entity" in _skips(chunks)[0][1]


def test_utf16_files_are_read() -> None:
    rows = _rows(_parse(WinXmlParser(), DATA / "winxml" / "utf16.xml"))
    assert [row["EventID"] for row in rows] == ["4688", "1102"]
    assert rows[0]["CommandLine"] == 'net user "admin" /add\r\nsecond line'


def test_keep_original_holds_the_element() -> None:
    chunks = _parse(WinXmlParser(keep_original=True), DATA / "winxml" / "wevtutil.xml")
    original = chunks[0].frame[ORIGINAL][0]
    assert original.startswith("<Event xmlns=")
    assert original.endswith("</Event>")


@pytest.mark.parametrize("cut", [1, 7, 100, 500, 1000, 2000])
def test_truncated_input_ends_with_a_skip_not_a_hang(cut: int) -> None:
    data = (DATA / "winxml" / "wevtutil.xml").read_bytes()[:cut]
    chunks = list(WinXmlParser().parse(io.BytesIO(data), "cut.xml"))
    assert sum(chunk.frame.height for chunk in chunks) == data.count(b"</Event>")
    skips = _skips(chunks)
    assert len(skips) == (1 if cut >= 7 else 0)
    assert all("the input ends inside it" in reason for _, reason in skips)


def test_an_element_larger_than_the_limit_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("watchkeeper.parsers.winxml.MAX_ELEMENT", 100)
    monkeypatch.setattr("watchkeeper.parsers.winxml.iter_blocks",
                        lambda stream: iter(lambda: stream.read(64), b""))
    data = (DATA / "winxml" / "wevtutil.xml").read_bytes()
    chunks = list(WinXmlParser().parse(io.BytesIO(data), "big.xml"))
    skips = _skips(chunks)
    assert len(skips) == 7
    assert all("longer than 100 bytes" in reason for _, reason in skips)


def test_winxml_sniffs_windows_xml_only() -> None:
    head = (DATA / "winxml" / "wevtutil.xml").read_bytes()
    assert WinXmlParser.sniff(head, "x.xml") == 95
    assert WinXmlParser.sniff((DATA / "winxml" / "utf16.xml").read_bytes(), "x") == 95
    assert WinXmlParser.sniff(b"<html><body>", "x.xml") == 0
    syslog = (DATA / "sysmon-linux" / "syslog.log").read_bytes()
    assert WinXmlParser.sniff(syslog, "syslog") == 0
    assert SysmonLinuxParser.sniff(syslog, "syslog") == 95
    assert SysmonLinuxParser.sniff(head, "x.xml") == 0


def test_sysmon_linux_events() -> None:
    chunks = _parse(SysmonLinuxParser(), DATA / "sysmon-linux" / "syslog.log")
    rows = _rows(chunks)
    assert [row["EventID"] for row in rows] == ["1", "3", "11"]
    assert {row[DATASET] for row in rows} == {"linux.sysmon"}
    assert rows[0]["UserID"] == "0"
    assert rows[0]["CommandLine"] == "curl -s http://x/a.sh"
    assert rows[2]["TargetFilename"] == "/tmp/a.sh & b"
    assert [row["log.line"] for row in rows] == [1, 3, 6]
    assert rows[0][TIMESTAMP].isoformat() == "2024-03-01T10:00:00.123456+00:00"
    assert _skips(chunks) == [
        ("line 4", "malformed XML element: mismatched tag: line 1, column 73"),
        ("line 7", "truncated <Event> element: the line ends inside it"),
        ("line 2", "2 line(s) without a Sysmon <Event> were ignored"),
    ]


def test_sysmon_linux_reads_journald_json() -> None:
    chunks = _parse(SysmonLinuxParser(keep_original=True), DATA / "sysmon-linux" / "journal.json")
    (row,) = _rows(chunks)
    assert row["EventID"] == "3"
    assert orjson.loads(str(row[ORIGINAL]))["SYSLOG_IDENTIFIER"] == "sysmon"


@pytest.mark.parametrize("block", [1, 13, 64])
def test_elements_cut_across_blocks_are_read_alike(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _parse(WinXmlParser(), DATA / "winxml" / "broken.xml")
    monkeypatch.setattr("watchkeeper.parsers.winxml.iter_blocks",
                        lambda stream: iter(lambda: stream.read(block), b""))
    pieces = _parse(WinXmlParser(), DATA / "winxml" / "broken.xml")
    assert _rows(pieces) == _rows(whole)
    assert _skips(pieces) == _skips(whole)
