"""Zeek parser: golden files (JSON and TSV), which log a record belongs to, TSV values."""

from __future__ import annotations

import orjson
import pytest

from tests.parsers.golden import FormatChecks, chunk_lines, parse_bytes
from watchkeeper.events.model import DATASET, LINE, OFFSET
from watchkeeper.parsers.zeek import ZeekParser, log_from_fields, log_from_filename, unescape


class TestZeekInputs(FormatChecks):
    folder = "zeek"
    parser = ZeekParser
    sniff_score = 90


@pytest.mark.parametrize(
    ("source", "log"),
    [
        ("conn.log", "conn"),
        ("logs/2023-11-14/dns.00:00:00-01:00:00.log.gz", "dns"),
        ("archive.zip!zeek/http.log", "http"),
        ("C:\\zeek\\SSL.log", "ssl"),
        ("x509.log", "x509"),
        ("capture.json", None),
        ("conn_summary.log", None),
    ],
)
def test_log_from_filename(source: str, log: str | None) -> None:
    assert log_from_filename(source) == log


def test_log_from_fields() -> None:
    assert log_from_fields(frozenset({"ts", "uid", "conn_state"})) == "conn"
    assert log_from_fields(frozenset({"ts", "uid", "query", "trans_id"})) == "dns"
    assert log_from_fields(frozenset({"ts", "fuid", "seen_bytes"})) == "files"
    assert log_from_fields(frozenset({"ts", "fuid", "action", "path", "name"})) == "smb_files"
    assert log_from_fields(frozenset({"ts", "uid", "helo", "trans_depth"})) == "smtp"
    assert log_from_fields(frozenset({"ts", "uid"})) is None


def test_the_file_name_wins_over_the_fields_and_path_over_both() -> None:
    line = b'{"ts": 1, "uid": "C1", "conn_state": "SF"}\n{"ts": 2, "_path": "weird"}\n'
    frame = parse_bytes(ZeekParser(), line, "dns.log")[0].frame
    assert frame[DATASET].to_list() == ["zeek.dns", "zeek.weird"]


def test_tsv_and_json_of_the_same_record_agree() -> None:
    tsv = (
        b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
        b"#fields\tts\tuid\tlocal_orig\ttunnel_parents\tservice\tnote\n"
        b"#types\ttime\tstring\tbool\tset[string]\tstring\tstring\n"
        b"1700000000.5\tC1\tT\tCa,Cb\t-\tx\\x2cy\n"
    )
    json_line = orjson.dumps(
        {
            "ts": 1700000000.5,
            "uid": "C1",
            "local_orig": True,
            "tunnel_parents": ["Ca", "Cb"],
            "note": "x,y",
        }
    )
    from_tsv = chunk_lines(parse_bytes(ZeekParser(), tsv, "conn.log"))
    from_json = chunk_lines(parse_bytes(ZeekParser(), json_line, "conn.log"))
    for row in from_tsv + from_json:
        del row[OFFSET]
        del row[LINE]
    assert from_tsv == from_json


def test_unescape() -> None:
    assert unescape("plain") == "plain"
    assert unescape("a\\x09b\\xc3\\xa9") == "a\tbé"
    assert unescape("bad \\xff") == "bad \ufffd"
