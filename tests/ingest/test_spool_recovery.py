from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from watchkeeper.ingest.spool import Spool
from watchkeeper.ingest.wal import HEAD, MAGIC, encode

from .helpers import read_all

NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def fill(folder: Path, count: int, segment_bytes: int = 64 << 20) -> list[bytes]:
    payloads = [b"payload number %d\n" % index for index in range(1, count + 1)]
    with Spool(folder, segment_bytes=segment_bytes) as spool:
        for payload in payloads:
            spool.append("syslog", "test", payload)
    return payloads


def only_segment(folder: Path) -> Path:
    (segment,) = folder.glob("seg-*.wal")
    return segment


def record_offsets(data: bytes) -> list[int]:
    offsets, pos = [], 0
    while pos < len(data):
        offsets.append(pos)
        _, length, _ = HEAD.unpack_from(data, pos)
        pos += HEAD.size + length
    return offsets


@pytest.mark.parametrize("tail", [
    encode(4, NOW, "syslog", "test", b"half of me is missing\n")[:25],
    MAGIC,
    b"\x00" * 3,
    b"random garbage that is no record at all" * 3,
])
def test_a_torn_tail_is_cut_off_and_the_seq_goes_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, tail: bytes) -> None:
    payloads = fill(tmp_path, 3)
    segment = only_segment(tmp_path)
    whole = segment.stat().st_size
    with segment.open("ab") as file:
        file.write(tail)
    with caplog.at_level(logging.WARNING), Spool(tmp_path) as spool:
        assert segment.stat().st_size == whole
        assert [chunk.payload for chunk in read_all(spool)] == payloads
        assert spool.corrupt_records == 0
        assert spool.append("syslog", "test", b"fourth\n") == 4
    assert "cut off" in caplog.text
    with Spool(tmp_path) as spool:
        assert [chunk.payload for chunk in read_all(spool)] == [*payloads, b"fourth\n"]


@pytest.mark.parametrize("where", ["payload", "length", "magic"])
def test_a_damaged_record_in_the_middle_is_skipped_and_counted(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, where: str) -> None:
    payloads = fill(tmp_path, 5)
    segment = only_segment(tmp_path)
    data = bytearray(segment.read_bytes())
    third = record_offsets(bytes(data))[2]
    spot = {"magic": third, "length": third + 5, "payload": third + HEAD.size + 30}[where]
    data[spot] ^= 0xFF
    segment.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING), Spool(tmp_path) as spool:
        chunks = read_all(spool)
        assert [chunk.seq for chunk in chunks] == [1, 2, 4, 5]
        assert [chunk.payload for chunk in chunks] == [payloads[i] for i in (0, 1, 3, 4)]
        assert spool.corrupt_records == 1
        assert spool.append("syslog", "test", b"sixth\n") == 6
        assert [chunk.seq for chunk in spool.read(3, 1 << 20)] == [4, 5, 6]
    assert "damaged" in caplog.text


def test_damage_at_the_end_of_an_older_segment_is_skipped_not_cut(tmp_path: Path) -> None:
    fill(tmp_path, 30, segment_bytes=256)
    older = sorted(tmp_path.glob("seg-*.wal"))[0]
    with older.open("ab") as file:
        file.write(b"trailing damage")
    size = older.stat().st_size
    with Spool(tmp_path, segment_bytes=256) as spool:
        assert [chunk.seq for chunk in read_all(spool)] == list(range(1, 31))
        assert spool.corrupt_records == 1
    assert older.stat().st_size == size


def test_an_empty_folder_starts_at_seq_one_and_other_files_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a segment")
    (tmp_path / "seg-abc.wal").write_text("not a segment either")
    with Spool(tmp_path) as spool:
        assert spool.last_seq() == 0
        assert spool.read(0, 100) == []
        assert spool.append("syslog", "test", b"first") == 1


def test_seq_never_goes_back_after_everything_is_released(tmp_path: Path) -> None:
    fill(tmp_path, 20, segment_bytes=200)
    with Spool(tmp_path, segment_bytes=200) as spool:
        spool.release(20)
        assert len(list(tmp_path.glob("seg-*.wal"))) == 1  # only the active one is kept
        assert spool.read(20, 1 << 20) == []
    with Spool(tmp_path, segment_bytes=200) as spool:
        assert spool.append("syslog", "test", b"next") == 21


def test_replay_after_a_lost_release_reads_from_any_seq_on_disk(tmp_path: Path) -> None:
    fill(tmp_path, 50, segment_bytes=300)
    with Spool(tmp_path, segment_bytes=300) as spool:
        spool.release(10)  # the consumer's checkpoint, not persisted
    with Spool(tmp_path, segment_bytes=300) as spool:
        assert [chunk.seq for chunk in read_all(spool, after=30)] == list(range(31, 51))
        assert spool.read(10, 1)[0].seq == 11
