from __future__ import annotations

import asyncio
import datetime as dt
import errno
import os
import threading
import time
from pathlib import Path

import pytest

from watchkeeper.errors import (
    OverloadedError,
    PayloadTooLarge,
    UsageError,
    WatchkeeperError,
)
from watchkeeper.ingest.spool import Spool

from .helpers import read_all


def segments(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("seg-*.wal"))


def test_append_then_read_gives_the_chunks_back_in_order(spool: Spool) -> None:
    before = dt.datetime.now(dt.UTC)
    first = spool.append("syslog", "syslog+udp://10.0.0.5:514", b"<13>one\n<13>two\n")
    second = spool.append("winlog-json", "http:collector", b'{"EventID": 1}\n')
    chunks = spool.read(0, 1 << 20)
    assert [chunk.seq for chunk in chunks] == [first, second] == [1, 2]
    assert chunks[0].source_type == "syslog"
    assert chunks[0].origin == "syslog+udp://10.0.0.5:514"
    assert chunks[0].payload == b"<13>one\n<13>two\n"
    assert chunks[1].source_type == "winlog-json"
    assert chunks[1].payload == b'{"EventID": 1}\n'
    assert before <= chunks[0].received <= dt.datetime.now(dt.UTC)
    assert chunks[0].received.tzinfo is dt.UTC
    assert spool.read(1, 1 << 20) == chunks[1:]
    assert spool.read(2, 1 << 20) == []
    assert spool.last_seq() == 2


def test_read_honours_max_bytes_but_gives_at_least_one_chunk(spool: Spool) -> None:
    for index in range(10):
        spool.append("syslog", "test", bytes([65 + index]) * 100)
    assert len(spool.read(0, 1)) == 1
    assert len(spool.read(0, 250)) == 3
    assert [chunk.seq for chunk in spool.read(7, 1 << 20)] == [8, 9, 10]


def test_seq_and_chunks_survive_reopening(tmp_path: Path) -> None:
    with Spool(tmp_path) as spool:
        spool.append("syslog", "a", b"one\n")
        spool.append("syslog", "a", b"two\n")
    with Spool(tmp_path) as spool:
        assert spool.last_seq() == 2
        assert spool.append("syslog", "a", b"three\n") == 3
        assert [chunk.payload for chunk in read_all(spool)] == [b"one\n", b"two\n", b"three\n"]


def test_a_folder_is_opened_by_one_spool_at_a_time(tmp_path: Path) -> None:
    with Spool(tmp_path), pytest.raises(UsageError, match="open in another"):
        Spool(tmp_path)


def test_concurrent_appends_share_fsyncs_and_each_seq_is_read_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fsyncs = 0
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        nonlocal fsyncs
        fsyncs += 1
        time.sleep(0.002)  # a disk: appends queue up meanwhile
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    acknowledged: dict[int, bytes] = {}
    lock = threading.Lock()

    def producer(thread: int) -> None:
        for index in range(150):
            payload = f"thread {thread} line {index}\n".encode()
            seq = spool.append("syslog", f"t{thread}", payload)
            with lock:
                acknowledged[seq] = payload

    with Spool(tmp_path, segment_bytes=8 << 10) as spool:
        threads = [threading.Thread(target=producer, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        chunks = read_all(spool)
    assert len(acknowledged) == 1200
    assert [chunk.seq for chunk in chunks] == sorted(acknowledged)
    assert {chunk.seq: chunk.payload for chunk in chunks} == acknowledged
    assert fsyncs < 1200 / 2  # group commit: one fsync served several appends


def test_many_appends_in_flight_cost_a_few_fsyncs(
        spool: Spool, monkeypatch: pytest.MonkeyPatch) -> None:
    fsyncs = 0
    gate = threading.Event()
    real_fsync = os.fsync

    def gated_fsync(fd: int) -> None:
        nonlocal fsyncs
        fsyncs += 1
        gate.wait(5)  # the disk is busy until every append is queued
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", gated_fsync)

    async def main() -> list[int]:
        tasks = [asyncio.create_task(spool.append_async("syslog", "tcp", b"m%d\n" % n))
                 for n in range(1000)]
        await asyncio.sleep(0)  # every task has queued its record
        gate.set()
        return list(await asyncio.gather(*tasks))

    assert sorted(asyncio.run(main())) == list(range(1, 1001))
    assert fsyncs <= 3


def test_append_async_awaits_without_blocking_the_loop(
        spool: Spool, monkeypatch: pytest.MonkeyPatch) -> None:
    disk = threading.Event()
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        disk.wait(5)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)

    async def main() -> list[int]:
        appends = asyncio.gather(*(spool.append_async("syslog", "udp", b"x%d\n" % n)
                                   for n in range(100)))
        for _ in range(20):  # the loop goes on while the appends wait for the disk
            await asyncio.sleep(0.001)
        assert not appends.done()
        disk.set()
        return list(await appends)

    assert sorted(asyncio.run(main())) == list(range(1, 101))
    assert [chunk.seq for chunk in read_all(spool)] == list(range(1, 101))


def test_release_deletes_whole_segments_below_the_seq(tmp_path: Path) -> None:
    with Spool(tmp_path, segment_bytes=1024, max_backlog_bytes=6400) as spool:
        for index in range(40):
            spool.append("syslog", "test", b"%03d" % index + b"x" * 97)
        before = segments(tmp_path)
        backlog = spool.backlog_bytes
        assert len(before) > 5
        spool.release(20)
        after = segments(tmp_path)
        assert len(after) < len(before)
        assert spool.backlog_bytes < backlog
        remaining = read_all(spool)
        assert remaining[0].seq <= 21  # nothing not yet released is gone
        assert [chunk.seq for chunk in remaining][-1] == 40
        assert [chunk.seq for chunk in spool.read(20, 1 << 20)][:1] == [21]
        spool.release(40)
        assert segments(tmp_path) == after[-1:]  # the active segment stays
        assert spool.append("syslog", "test", b"again") == 41


def test_a_full_spool_refuses_appends_until_released(tmp_path: Path) -> None:
    with Spool(tmp_path, max_backlog_bytes=2000) as spool:
        seq = 0
        while not spool.full():
            seq = spool.append("syslog", "test", b"y" * 300)
        with pytest.raises(OverloadedError) as refused:
            spool.append("syslog", "test", b"y" * 300)
        assert refused.value.http_status == 429
        assert refused.value.retry_after >= 1
        assert spool.full()
        assert 2000 <= spool.backlog_bytes <= 2000 + 400
        assert spool.append("syslog", "test", b"at shutdown", force=True) == seq + 1
        spool.release(seq + 1)
        assert not spool.full()
        assert spool.backlog_bytes == 0
        assert spool.append("syslog", "test", b"z") == seq + 2


def test_refusals(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_chunk_bytes=100)
    with pytest.raises(PayloadTooLarge):
        spool.append("syslog", "test", b"x" * 101)
    with pytest.raises(UsageError):
        spool.append("", "test", b"x")
    spool.close()
    spool.close()
    with pytest.raises(UsageError, match="closed"):
        spool.append("syslog", "test", b"x")
    with pytest.raises(UsageError):
        Spool(tmp_path / "other", segment_bytes=0)


def test_wait_returns_when_a_chunk_is_durable(spool: Spool) -> None:
    assert spool.wait(0, timeout=0.05) is False
    timer = threading.Timer(0.05, spool.append, args=("syslog", "test", b"late"))
    timer.start()
    try:
        assert spool.wait(0, timeout=5) is True
    finally:
        timer.join()
    assert spool.wait(1, timeout=0.01) is False


def test_a_failed_disk_write_is_refused_and_the_spool_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write
    failures = iter([True])

    def full_disk(fd: int, data: bytes | memoryview) -> int:
        if next(failures, False):
            real_write(fd, bytes(data[:10]))  # a partial write, then the error
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    with Spool(tmp_path) as spool:
        spool.append("syslog", "test", b"before")
        monkeypatch.setattr(os, "write", full_disk)
        with pytest.raises(WatchkeeperError, match="could not write") as failed:
            spool.append("syslog", "test", b"lost")
        assert isinstance(failed.value.__cause__, OSError)
        assert spool.append("syslog", "test", b"after") == 3
    with Spool(tmp_path) as spool:
        assert [chunk.payload for chunk in read_all(spool)] == [b"before", b"after"]
        assert spool.corrupt_records == 0
