from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from watchkeeper.errors import UsageError
from watchkeeper.ingest.spool import Spool
from watchkeeper.ingest.tail import FileTailer, TailSource

from .helpers import lines_of, read_all


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def write(path: Path, data: bytes) -> None:
    with path.open("ab") as file:
        file.write(data)


def tailer(spool: Spool, tmp_path: Path, pattern: str, clock: Clock | None = None,
           **options: float) -> FileTailer:
    return FileTailer(spool, [TailSource(pattern, "syslog")], tmp_path / "positions.json",
                      clock=clock or Clock(), **options)  # type: ignore[arg-type]


def test_new_lines_go_to_the_spool_and_the_position_is_saved(
        spool: Spool, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    write(log, b"<13>one\n<13>two\n")
    follower = tailer(spool, tmp_path, str(log))
    assert follower.poll_once() == 2
    (chunk,) = read_all(spool)
    assert (chunk.source_type, chunk.origin, chunk.payload) == (
        "syslog", f"file:{log}", b"<13>one\n<13>two\n")
    saved = json.loads((tmp_path / "positions.json").read_text())
    assert saved["files"][str(log)]["offset"] == 16
    assert saved["files"][str(log)]["ino"] == log.stat().st_ino
    write(log, b"<13>three\n")
    assert follower.poll_once() == 1
    assert follower.poll_once() == 0
    assert lines_of(read_all(spool)) == [b"<13>one", b"<13>two", b"<13>three"]
    assert follower.counters.accepted == 3
    follower.stop()


def test_a_partial_line_waits_for_its_end_or_its_age(spool: Spool, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    clock = Clock()
    follower = tailer(spool, tmp_path, str(log), clock, partial_max_age=5.0)
    write(log, b"<13>complete\n<13>half")
    assert follower.poll_once() == 1
    clock.now += 1
    assert follower.poll_once() == 0
    write(log, b" and the rest\n<13>never ended")
    clock.now += 1
    assert follower.poll_once() == 1
    clock.now += 4
    assert follower.poll_once() == 0
    clock.now += 1.5
    assert follower.poll_once() == 1  # 5 s old: taken as it is
    assert lines_of(read_all(spool)) == [b"<13>complete", b"<13>half and the rest",
                                         b"<13>never ended"]
    follower.stop()


def test_a_restart_goes_on_where_it_stopped(spool: Spool, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    write(log, b"<13>before\n<13>unfinished")
    first = tailer(spool, tmp_path, str(log))
    first.poll_once()
    first.stop()
    write(log, b" line\n<13>while down\n")
    second = tailer(spool, tmp_path, str(log))
    assert second.poll_once() == 2
    second.stop()
    assert lines_of(read_all(spool)) == [b"<13>before", b"<13>unfinished line",
                                         b"<13>while down"]


def test_rename_rotation_finishes_the_old_file_then_reads_the_new(
        spool: Spool, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    clock = Clock()
    follower = tailer(spool, tmp_path, str(log), clock, retire_after=2.0)
    write(log, b"<13>old 1\n")
    follower.poll_once()
    log.rename(tmp_path / "app.log.1")
    write(tmp_path / "app.log.1", b"<13>old 2, written before the writer reopened\n")
    write(log, b"<13>new 1\n")
    follower.poll_once()
    write(tmp_path / "app.log.1", b"<13>old 3, late\n")
    clock.now += 1
    follower.poll_once()
    assert lines_of(read_all(spool)) == [b"<13>old 1", b"<13>old 2, written before the "
                                         b"writer reopened", b"<13>new 1", b"<13>old 3, late"]
    clock.now += 5
    follower.poll_once()  # the old file is let go after a quiet spell
    write(tmp_path / "app.log.1", b"<13>too late\n")
    assert follower.poll_once() == 0
    saved = json.loads((tmp_path / "positions.json").read_text())["files"]
    assert saved[str(log)]["ino"] == log.stat().st_ino
    follower.stop()


def test_copytruncate_reads_the_file_again_from_the_start(spool: Spool, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    write(log, b"<13>a long first line before the copy\n")
    follower = tailer(spool, tmp_path, str(log))
    follower.poll_once()
    with log.open("r+b") as file:
        file.truncate(0)
    write(log, b"<13>after truncation\n")
    assert follower.poll_once() == 1
    assert lines_of(read_all(spool))[-1] == b"<13>after truncation"
    follower.stop()


def test_a_folder_and_a_rename_inside_the_patterns(spool: Spool, tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    write(folder / "a.log", b"<13>a\n")
    write(folder / "b.log", b"<13>b\n")
    write(folder / "old.log.2.gz", b"\x1f\x8b compressed, skipped")
    follower = tailer(spool, tmp_path, str(folder))
    assert follower.poll_once() == 2
    (folder / "a.log").rename(folder / "a.log.1")  # still in the folder: same file
    write(folder / "a.log.1", b"<13>a again\n")
    assert follower.poll_once() == 1
    assert sorted(lines_of(read_all(spool))) == [b"<13>a", b"<13>a again", b"<13>b"]
    origins = {chunk.origin for chunk in read_all(spool)}
    assert f"file:{folder / 'a.log.1'}" in origins
    follower.stop()


def test_a_new_file_in_place_of_a_saved_one_is_read_from_the_start(
        spool: Spool, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    write(log, b"<13>first generation\n")
    first = tailer(spool, tmp_path, str(log))
    first.poll_once()
    first.stop()
    log.unlink()
    write(tmp_path / "keep-inode-busy", b"x")
    write(log, b"<13>second generation, longer than the first\n")
    second = tailer(spool, tmp_path, str(log))
    assert second.poll_once() == 1
    second.stop()
    assert lines_of(read_all(spool))[-1] == b"<13>second generation, longer than the first"


def test_a_file_rewritten_in_place_is_not_taken_for_the_saved_one(
        spool: Spool, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    write(log, b"<13>first content\n")
    first = tailer(spool, tmp_path, str(log))
    first.poll_once()
    first.stop()
    with log.open("r+b") as file:  # same inode, other beginning: as when an inode is reused
        file.write(b"<13>other content\n<13>and more\n")
    second = tailer(spool, tmp_path, str(log))
    assert second.poll_once() == 2
    second.stop()
    assert lines_of(read_all(spool))[-2:] == [b"<13>other content", b"<13>and more"]


def test_a_full_spool_holds_the_position_and_loses_nothing(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    with Spool(tmp_path / "spool", max_backlog_bytes=100) as spool:
        spool.append("syslog", "filler", b"x" * 200)
        follower = tailer(spool, tmp_path, str(log))
        write(log, b"<13>waiting\n")
        assert follower.poll_once() == 0
        assert not (tmp_path / "positions.json").exists()
        spool.release(1)
        assert follower.poll_once() == 1
        assert lines_of(read_all(spool, after=1)) == [b"<13>waiting"]
        follower.stop()


def test_from_end_and_unreadable_positions(spool: Spool, tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    log = tmp_path / "app.log"
    write(log, b"<13>history\n")
    (tmp_path / "positions.json").write_text("{not json")
    follower = FileTailer(spool, [TailSource(str(log), "syslog")], tmp_path / "positions.json",
                          from_end=True)
    assert "unreadable" in caplog.text
    assert follower.poll_once() == 0
    write(log, b"<13>news\n")
    assert follower.poll_once() == 1
    assert lines_of(read_all(spool)) == [b"<13>news"]
    follower.stop()
    with pytest.raises(UsageError):
        FileTailer(spool, [], tmp_path / "p.json", chunk_bytes=0)


def test_the_thread_follows_and_stop_saves(spool: Spool, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    follower = FileTailer(spool, [TailSource(str(tmp_path / "*.log"), "syslog")],
                          tmp_path / "positions.json", interval=0.01)
    follower.start()
    with pytest.raises(UsageError):
        follower.start()
    write(log, b"<13>live\n")
    deadline = time.monotonic() + 5
    while not read_all(spool) and time.monotonic() < deadline:
        time.sleep(0.01)
    follower.stop()
    assert lines_of(read_all(spool)) == [b"<13>live"]
    saved = json.loads((tmp_path / "positions.json").read_text())["files"]
    assert saved[str(log)]["offset"] == os.path.getsize(log)
