"""Zeek parser: golden files (JSON and TSV), which log a record belongs to, TSV values."""

from __future__ import annotations

import io

import orjson
import polars as pl
import pytest

from tests.parsers.golden import DATA, check_golden, chunk_lines
from watchkeeper.events.model import DATASET, LINE, OFFSET, ORIGINAL
from watchkeeper.parsers.auditd import AuditdParser
from watchkeeper.parsers.base import ParsedChunk, Parser
from watchkeeper.parsers.cloudtrail import CloudTrailParser
from watchkeeper.parsers.suricata import SuricataParser
from watchkeeper.parsers.syslog import SyslogParser
from watchkeeper.parsers.zeek import ZeekParser, log_from_fields, log_from_filename, unescape

FOLDER = DATA / "zeek"
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
    parser = ZeekParser(keep_original=keep_original)
    return list(parser.parse(io.BytesIO(data), source, batch_size))


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    path = FOLDER / case
    check_golden(path, parse(path.read_bytes(), case))


@pytest.mark.parametrize("case", CASES)
def test_sniff_claims_only_zeek(case: str) -> None:
    head = (FOLDER / case).read_bytes()[:65536]
    scores = {parser.name: parser.sniff(head, case) for parser in OURS}
    assert scores.pop("zeek") >= 90
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
    frame = parse(line, "dns.log")[0].frame
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
    from_tsv = chunk_lines(parse(tsv, "conn.log"))
    from_json = chunk_lines(parse(json_line, "conn.log"))
    for row in from_tsv + from_json:
        del row[OFFSET]
        del row[LINE]
    assert from_tsv == from_json


def test_unescape() -> None:
    assert unescape("plain") == "plain"
    assert unescape("a\\x09b\\xc3\\xa9") == "a\tbé"
    assert unescape("bad \\xff") == "bad \ufffd"
