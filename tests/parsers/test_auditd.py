"""Linux audit parser: golden files, hex decoding, enriched and ``ausearch -i`` forms."""

from __future__ import annotations

from tests.parsers.golden import FormatChecks, parse_bytes
from watchkeeper.events.model import DATASET, LINE, OFFSET, SOURCE, TIMESTAMP
from watchkeeper.parsers.auditd import AuditdParser


class TestAuditdInputs(FormatChecks):
    folder = "auditd"
    parser = AuditdParser
    sniff_score = 90


def fields(line: str) -> dict[str, str]:
    """The original fields of the one event ``line`` gives (reserved columns left out)."""
    [chunk] = parse_bytes(AuditdParser(), line.encode() + b"\n")
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
    [chunk] = parse_bytes(AuditdParser(), b"type=X msg=audit(1700000000.5:1): a=1\n")
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
    [chunk] = parse_bytes(AuditdParser(), data)
    assert chunk.frame.height == 0
    assert [(skip.location, skip.reason) for skip in chunk.skipped] == [
        ("line 3", "not an audit record")
    ]
