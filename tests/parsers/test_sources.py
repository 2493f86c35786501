"""Inputs: folders, gzip, zip, damaged archives, and read_paths over all of them."""

from __future__ import annotations

import gzip
import os
import zipfile
from pathlib import Path

import pytest

from tests.parsers.golden import DATA, cases, check_golden
from watchkeeper.errors import UsageError
from watchkeeper.parsers import (
    InputFile,
    ParsedChunk,
    ParserRegistry,
    default_registry,
    evtx,
    iter_inputs,
    jsonlog,
    read_paths,
    sysmon_linux,
    winxml,
)


def windows_registry() -> ParserRegistry:
    """The parsers of this part of the project, so that these tests need no other."""
    registry = ParserRegistry()
    for module in (evtx, winxml, jsonlog, sysmon_linux):
        for parser in module.PARSERS:
            registry.register(parser)
    return registry


@pytest.fixture
def in_data(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in tests/data, so that sources are relative names as a user would type them."""
    monkeypatch.chdir(DATA)
    return DATA


def _read(*paths: str, **options: object) -> list[ParsedChunk]:
    return list(read_paths(list(paths), registry=windows_registry(), **options))  # type: ignore[arg-type]


def test_golden_sources(in_data: Path) -> None:
    check_golden(in_data / "sources" / "input", _read("sources/input", batch_size=1))


def test_inputs_are_walked_sorted_without_hidden_entries(in_data: Path) -> None:
    names = [(item.name, item.error is None) for item in iter_inputs(["sources/input"])]
    assert names == [
        ("sources/input/bundle.zip!broken.gz", True),
        ("sources/input/bundle.zip!inner.zip!deep/e.ndjson", True),
        ("sources/input/bundle.zip!logs/c.ndjson", True),
        ("sources/input/bundle.zip!logs/d.ndjson.gz", True),
        ("sources/input/corrupt.ndjson.gz", True),
        ("sources/input/corrupt.zip", False),
        ("sources/input/tree/a.ndjson", True),
        ("sources/input/tree/empty.ndjson", True),
        ("sources/input/tree/notes.txt", True),
        ("sources/input/tree/sub/b.ndjson.gz", True),
        ("sources/input/tree/sub/c.log", True),
    ]


def test_every_event_of_every_archive_is_read(in_data: Path) -> None:
    chunks = _read("sources/input")
    images = sorted(row["Image"] for chunk in chunks for row in chunk.frame.to_dicts()
                    if row["log.file.path"] != "sources/input/corrupt.ndjson.gz")
    assert images == ["a", "b", "b2", "gzip in zip", "gzip without .gz", "zip in zip", "zip member"]
    sources = {row["log.file.path"] for chunk in chunks for row in chunk.frame.to_dicts()}
    assert "sources/input/bundle.zip!inner.zip!deep/e.ndjson" in sources


def test_damaged_and_unknown_inputs_are_skips(in_data: Path) -> None:
    skips = {skip.source: skip.reason for chunk in _read("sources/input") for skip in chunk.skipped}
    assert skips["sources/input/corrupt.zip"].startswith("corrupt zip archive")
    assert "gzip data is cut" in skips["sources/input/corrupt.ndjson.gz"]
    assert "cannot read" in skips["sources/input/bundle.zip!broken.gz"]
    assert skips["sources/input/tree/notes.txt"].startswith("unknown log format")
    assert skips["sources/input/tree/empty.ndjson"] == "empty file"


def test_the_good_part_of_a_cut_gzip_is_kept(in_data: Path) -> None:
    chunks = _read("sources/input/corrupt.ndjson.gz", batch_size=10)
    assert sum(chunk.frame.height for chunk in chunks) == 73
    assert [skip.location for chunk in chunks for skip in chunk.skipped] == ["line 74", "file"]


def test_a_missing_path_is_a_usage_error_before_anything_is_read(in_data: Path) -> None:
    seen: list[str] = []
    with pytest.raises(UsageError, match="no-such-file"):
        read_paths(["sources/input/tree/a.ndjson", "no-such-file"], registry=windows_registry(),
                   on_input=lambda item: seen.append(item.name))
    assert seen == []


def test_an_unknown_format_name_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown log format 'nope'"):
        read_paths([str(DATA / "sources" / "input")], registry=windows_registry(), format="nope")


def test_a_batch_size_below_one_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="batch size"):
        read_paths([str(DATA / "sources" / "input")], registry=windows_registry(), batch_size=0)


def test_on_input_gets_each_input_with_its_size(in_data: Path) -> None:
    seen: list[InputFile] = []
    _read("sources/input/tree", on_input=seen.append)
    assert [(item.name, item.size) for item in seen][:2] == [
        ("sources/input/tree/a.ndjson", os.path.getsize("sources/input/tree/a.ndjson")),
        ("sources/input/tree/empty.ndjson", 0),
    ]


def test_format_forces_the_parser(in_data: Path) -> None:
    chunks = _read("sources/input/tree/notes.txt", format="winlog-json")
    (reason,) = [skip.reason for chunk in chunks for skip in chunk.skipped]
    assert reason.startswith("bad JSON: unexpected character")


def test_unreadable_entries_are_skips(tmp_path: Path) -> None:
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    os.mkfifo(tmp_path / "pipe")
    chunks = list(read_paths([str(tmp_path / "dangling"), str(tmp_path / "pipe")],
                             registry=windows_registry()))
    reasons = [skip.reason for chunk in chunks for skip in chunk.skipped]
    assert reasons[0].startswith("cannot open")
    assert reasons[1] == "not a regular file"


def test_a_symbolic_link_loop_is_walked_once(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.ndjson").write_bytes(b'{"EventID": 1}\n')
    (tmp_path / "logs" / "again").symlink_to(tmp_path)
    names = [item.name for item in iter_inputs([tmp_path])]
    assert names == [str(tmp_path / "logs" / "a.ndjson")]


def test_encrypted_zip_members_are_skips(tmp_path: Path) -> None:
    archive = tmp_path / "locked.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("a.ndjson", b'{"EventID": 1}\n')
    data = bytearray(archive.read_bytes())
    data[6] |= 0x1  # the local header's "encrypted" flag
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 0x1  # and the central directory's
    archive.write_bytes(bytes(data))
    (item,) = iter_inputs([archive])
    assert item.error == "encrypted zip member"


def test_a_zip_member_is_streamed_not_loaded(tmp_path: Path) -> None:
    archive = tmp_path / "big.zip"
    line = b'{"EventID": 1, "Channel": "Security", "Image": "' + b"x" * 900 + b'"}\n'
    with (zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle,
          bundle.open("big.ndjson", "w") as member):
        for _ in range(2000):
            member.write(line)
    inputs = iter_inputs([archive])
    item = next(inputs)  # an input is opened before the iterator moves on (zip is open)
    with item.open() as stream:
        assert len(stream.read(1000)) == 1000
    assert next(inputs, None) is None
    chunks = list(read_paths([archive], registry=windows_registry(), batch_size=500))
    assert [chunk.frame.height for chunk in chunks] == [500, 500, 500, 500]


def test_gzip_is_found_by_its_magic_bytes(tmp_path: Path) -> None:
    path = tmp_path / "events.log"
    path.write_bytes(gzip.compress(b'{"EventID": 4624, "Channel": "Security"}\n'))
    (chunk,) = read_paths([path], registry=windows_registry())
    assert chunk.frame["EventID"].to_list() == ["4624"]


def test_default_registry_registers_builtins_then_entry_points(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("watchkeeper.parsers.builtin_parsers",
                        lambda: list(jsonlog.PARSERS) + list(evtx.PARSERS))
    registry = default_registry()
    assert {"evtx", "evtx-json", "winlog-json", "ecs-json"} <= set(registry.names())
    head = (DATA / "evtx" / "wmi_userdata.evtx").read_bytes()[:65536]
    assert registry.detect(head, "x.evtx") is evtx.EvtxParser


@pytest.mark.parametrize(
    "folder", ["evtx", "winxml", "evtx-json", "winlog-json", "ecs-json", "sysmon-linux"]
)
def test_the_full_registry_detects_each_windows_input_as_its_format(folder: str) -> None:
    """No other built-in parser claims these inputs (the damaged EVTX header aside)."""
    registry = default_registry()
    for path in cases(folder):
        if "file_header" in path.name:
            continue
        data = path.read_bytes()
        head = (gzip.decompress(data) if path.suffix == ".gz" else data)[:65536]
        parser = registry.detect(head, path.name)
        assert parser is not None, path.name
        assert parser.name == folder, path.name
