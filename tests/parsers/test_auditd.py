"""Linux audit parser: golden files, hex decoding, enriched and ``ausearch -i`` forms."""

from __future__ import annotations

import io

import polars as pl
import pytest

from tests.parsers.golden import DATA, check_golden, chunk_lines
from watchkeeper.events.model import DATASET, LINE, OFFSET, ORIGINAL, SOURCE, TIMESTAMP
from watchkeeper.parsers.auditd import AuditdParser
from watchkeeper.parsers.base import ParsedChunk, Parser
from watchkeeper.parsers.cloudtrail import CloudTrailParser
from watchkeeper.parsers.suricata import SuricataParser
from watchkeeper.parsers.syslog import SyslogParser
from watchkeeper.parsers.zeek import ZeekParser

FOLDER = DATA / "auditd"
CASES = sorted(path.name for path in FOLDER.iterdir() if not path.name.endswith(".expected.jsonl"))
OURS: list[type[Parser]] = [
    SyslogParser,
    AuditdParser,
    CloudTrailParser,
    ZeekParser,
    SuricataParser,
]


def parse(
    data: bytes, source: str, batch_size: int = 1000, *, keep_original: bool = False
) -> list[ParsedChunk]:
    parser = AuditdParser(keep_original=keep_original)
    return list(parser.parse(io.BytesIO(data), source, batch_size))


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    path = FOLDER / case
    check_golden(path, parse(path.read_bytes(), case))


@pytest.mark.parametrize("case", CASES)
def test_sniff_claims_only_auditd(case: str) -> None:
    head = (FOLDER / case).read_bytes()[:65536]
    scores = {parser.name: parser.sniff(head, case) for parser in OURS}
    assert scores.pop("auditd") >= 90
    assert set(scores.values()) == {0}


@pytest.mark.parametrize("case", CASES)
def test_batches_are_bounded_and_change_nothing(case: str) -> None:
    data = (FOLDER / case).read_bytes()
    chunks = parse(data, case, batch_size=2)
    assert all(chunk.frame.height <= 2 for chunk in chunks)
    assert chunk_lines(chunks) == chunk_lines(parse(data, case))


@pytest.mark.parametrize("case", CASES)
def test_offsets_and_originals_point_at_the_records(case: str) -> None:
    data = (FOLDER / case).read_bytes()
    frame = pl.concat([chunk.frame for chunk in parse(data, case, keep_original=True)])
    assert frame.height > 0
    lines = data.split(b"\n")
    for offset, number, original in frame.select(OFFSET, LINE, ORIGINAL).iter_rows():
        raw = original.encode()
        assert data[offset : offset + len(raw)] == raw
        assert lines[number - 1] == raw


def fields(line: str) -> dict[str, str]:
    """The original fields of the one event ``line`` gives (reserved columns left out)."""
    [chunk] = parse(line.encode() + b"\n", "x")
    assert not chunk.skipped
    [row] = chunk.frame.drop(TIMESTAMP, DATASET, SOURCE, OFFSET, LINE).to_dicts()
    return {key: value for key, value in row.items() if value is not None}


def test_syscall_arguments_stay_hex_but_execve_arguments_are_decoded() -> None:
    assert fields("type=SYSCALL msg=audit(1.5:1): a0=4142 a1=ff comm=4142 exe=41") == {
        "type": "SYSCALL",
        "serial": "1",
        "a0": "4142",
        "a1": "ff",
        "comm": "AB",
        "exe": "A",
    }
    execve = fields('type=EXECVE msg=audit(1.0:2): argc=2 a0="4142" a1=4142 a2=41x2')
    assert execve["a0"] == "4142"  # quoted: text, even when it looks like hex
    assert execve["a1"] == "AB"
    assert execve["a2"] == "41x2"  # not hex: left as it is


def test_hex_that_is_not_utf8_is_decoded_with_replacement_characters() -> None:
    assert fields("type=SYSCALL msg=audit(1.0:2): comm=4142 exe=FF41")["exe"] == "\ufffdA"


def test_the_stamp_keeps_its_milliseconds() -> None:
    [chunk] = parse(b"type=X msg=audit(1700000000.5:1): a=1\n", "x")
    assert chunk.frame[TIMESTAMP][0].isoformat() == "2023-11-14T22:13:20.500000+00:00"


def test_proctitle_arguments_are_joined_with_spaces() -> None:
    line = "type=PROCTITLE msg=audit(1.0:2): proctitle=6C73002D6C61002F746D70"
    assert fields(line)["proctitle"] == "ls -la /tmp"


def test_enriched_fields_keep_their_upper_case_names() -> None:
    line = 'type=SYSCALL msg=audit(1.0:2): uid=0 key="k"\x1dUID="root" AUID="alice"'
    assert fields(line) == {
        "type": "SYSCALL",
        "serial": "2",
        "uid": "0",
        "key": "k",
        "UID": "root",
        "AUID": "alice",
    }


def test_the_header_wins_over_a_field_of_the_same_name() -> None:
    line = "type=USER_ERR msg=audit(1.0:2): pid=1 msg='type=forged serial=9 res=failed'"
    assert fields(line) == {"type": "USER_ERR", "serial": "2", "pid": "1", "res": "failed"}


def test_a_repeated_key_keeps_its_last_value() -> None:
    assert fields("type=X msg=audit(1.0:2): a=1 b=2 a=3")["a"] == "3"


def test_lines_that_are_no_records() -> None:
    data = b"----\ntime->Tue Nov 14 22:13:20 2023\nNov 14 22:13:20 host sshd[1]: hello\n"
    [chunk] = parse(data, "x")
    assert chunk.frame.height == 0
    assert [(skip.location, skip.reason) for skip in chunk.skipped] == [
        ("line 3", "not an audit record")
    ]
