"""The Parquet store on disk: layout, commits, crash leftovers, readers beside the writer."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from tests.store.helpers import T0, events, ids_of
from watchkeeper.errors import ConflictError, UsageError, WatchkeeperError
from watchkeeper.store import ParquetEventStore
from watchkeeper.store.layout import PartFile, scan


def parts(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.glob("day=*/part-*.parquet"))


def test_each_batch_is_one_file_under_its_ingestion_day(parquet: ParquetEventStore) -> None:
    midnight = T0.replace(hour=0, minute=0)
    batch = pl.concat([events(["a"], ingested=midnight - timedelta(seconds=1)),
                       events(["b"], ingested=midnight)])
    parquet.write(batch, 3, 9)
    parquet.write(events(["c"]), 10, 10)
    assert parts(parquet.root) == [
        "day=2025-03-01/part-0000000000000003-0000000000000009.parquet",
        "day=2025-03-01/part-0000000000000010-0000000000000010.parquet",
    ]
    assert not (parquet.root / "checkpoint").exists()


def test_committed_seq_comes_back_after_a_restart(tmp_path: Path) -> None:
    root = tmp_path / "events"
    with ParquetEventStore(root, threads=1) as store:
        store.write(events(["a"]), 0, 4)
        store.write(pl.DataFrame(), 5, 8)
    with ParquetEventStore(root, threads=1) as store:
        assert store.committed_seq() == 8
        store.write(events(["a"]), 0, 4)
        store.write(events(["b"]), 9, 9)
        assert ids_of(store.query("SELECT * FROM events", [])) == ["a", "b"]


def test_crash_leftovers_are_ignored_by_readers_and_removed_by_the_writer(
    tmp_path: Path,
) -> None:
    root = tmp_path / "events"
    with ParquetEventStore(root, threads=1) as store:
        store.write(events(["a"]), 0, 0)
    day = root / "day=2025-03-01"
    half = day / ".tmp-0123-part-0000000000000001-0000000000000001.parquet"
    half.write_bytes(b"PAR1 half a file")
    (root / ".tmp-4567-checkpoint").write_text("99")
    (root / ".trash-89ab-day=2025-02-01").mkdir()
    with ParquetEventStore(root, threads=1, read_only=True) as reader:
        assert reader.count() == 1
        assert reader.committed_seq() == 0
    assert half.exists()
    with ParquetEventStore(root, threads=1) as writer:
        assert writer.committed_seq() == 0
        assert writer.count() == 1
    assert sorted(p.name for p in root.iterdir()) == [".lock", "day=2025-03-01"]
    assert [p.name for p in day.iterdir()] == ["part-0000000000000000-0000000000000000.parquet"]


def test_one_writer_at_a_time_and_readers_beside_it(tmp_path: Path) -> None:
    root = tmp_path / "events"
    with ParquetEventStore(root, threads=1) as writer:
        with pytest.raises(ConflictError, match="read_only"):
            ParquetEventStore(root, threads=1)
        reader = ParquetEventStore(root, threads=1, read_only=True)
        assert reader.count() == 0
        writer.write(events(["a", "b"]), 0, 0)
        assert reader.count() == 2
        assert reader.committed_seq() == 0
        for refused in (lambda: reader.write(events(["c"]), 1, 1), reader.compact,
                        lambda: reader.enforce_retention(T0, 1, {})):
            with pytest.raises(UsageError, match="read-only"):
                refused()
        reader.close()
    with ParquetEventStore(root, threads=1) as again:
        assert again.count() == 2


def test_a_reader_in_another_process_sees_committed_batches(tmp_path: Path) -> None:
    root = tmp_path / "events"
    script = (
        "import sys\n"
        "from watchkeeper.store import ParquetEventStore\n"
        "with ParquetEventStore(sys.argv[1], read_only=True, threads=1) as store:\n"
        "    print(store.count(), store.committed_seq(),"
        " store.query('SELECT \"Image\" FROM events WHERE \"event.id\" = ?', ['b']).item())\n"
    )
    with ParquetEventStore(root, threads=1) as writer:
        writer.write(events(["a", "b"], Image=["x", "y"]), 0, 5)
        done = subprocess.run([sys.executable, "-c", script, str(root)], capture_output=True,
                              text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "5", "y"]


def test_a_missing_folder_reads_as_an_empty_store(tmp_path: Path) -> None:
    with ParquetEventStore(tmp_path / "nothing", read_only=True) as reader:
        assert (reader.count(), reader.committed_seq()) == (0, -1)
    assert not (tmp_path / "nothing").exists()


def _small_batches(store: ParquetEventStore, count: int, day_offset: int = 0) -> None:
    start = store.committed_seq() + 1
    for seq in range(start, start + count):
        ingested = T0 + timedelta(days=day_offset)
        when = T0 - timedelta(hours=seq)
        store.write(events([f"e{seq}-{i}" for i in range(5)], ingested=ingested, start=when,
                           Image=[f"img{seq}"] * 5), seq, seq)


def test_compaction_merges_neighbours_into_one_sorted_file(parquet: ParquetEventStore) -> None:
    _small_batches(parquet, 6)
    assert parquet.compact() == 6
    (merged,) = parquet.root.glob("day=*/part-*.parquet")
    assert merged.name == "part-0000000000000000-0000000000000005.parquet"
    frame = pl.read_parquet(merged)
    assert frame.height == 30
    assert frame["@timestamp"].is_sorted(descending=True)
    assert parquet.count() == 30
    assert parquet.query('SELECT count(DISTINCT "event.id") AS n FROM events', []).item() == 30


def test_a_crash_between_merge_and_delete_counts_nothing_twice(
    parquet: ParquetEventStore, tmp_path: Path
) -> None:
    _small_batches(parquet, 4)
    saved = tmp_path / "saved"
    shutil.copytree(parquet.root / "day=2025-03-01", saved)
    parquet.compact()
    for part in saved.iterdir():
        shutil.copy(part, parquet.root / "day=2025-03-01" / part.name)
    assert len(parts(parquet.root)) == 5
    assert parquet.count() == 20
    assert parquet.query('SELECT count(DISTINCT "event.id") AS n FROM events', []).item() == 20
    parquet.compact()
    assert len(parts(parquet.root)) == 1


def test_a_reader_whose_files_were_merged_away_reads_again(
    parquet: ParquetEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_batches(parquet, 4)
    assert parquet.count() == 20
    catalog = parquet._catalog
    stale = catalog.snapshot()
    assert parquet.compact() == 4
    real = catalog.snapshot
    calls = []

    def listing_taken_before_compaction() -> object:
        calls.append(1)
        return stale if len(calls) == 1 else real()

    monkeypatch.setattr(catalog, "snapshot", listing_taken_before_compaction)
    assert parquet.count() == 20
    assert ids_of(parquet.get(["e0-0", "e3-4"])) == ["e0-0", "e3-4"]
    assert len(calls) == 3


def test_a_reader_gives_up_when_files_keep_vanishing(
    parquet: ParquetEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_batches(parquet, 4)
    stale = parquet._catalog.snapshot()
    parquet.compact()
    monkeypatch.setattr(parquet._catalog, "snapshot", lambda: stale)
    with pytest.raises(WatchkeeperError, match="kept changing during 5 tries"):
        parquet.query("SELECT * FROM events", [])


def test_small_files_of_the_open_day_wait_for_enough_of_them(
    parquet: ParquetEventStore,
) -> None:
    _small_batches(parquet, 2, day_offset=0)
    _small_batches(parquet, 3, day_offset=1)
    assert parquet.compact() == 2
    assert len(parts(parquet.root)) == 4
    _small_batches(parquet, 1, day_offset=1)
    assert parquet.compact() == 4
    assert len(parts(parquet.root)) == 2
    assert parquet.count() == 30


def test_retention_rewrites_a_file_as_a_new_version(parquet: ParquetEventStore) -> None:
    parquet.write(pl.concat([events(["a"], dataset="syslog"), events(["b"])]), 0, 0)
    parquet.write(events(["c"], ingested=T0 + timedelta(days=9)), 1, 1)
    report = parquet.enforce_retention(T0 + timedelta(days=10), 5, {"syslog": 2})
    assert report.rows_removed == {"syslog": 1, "windows.sysmon": 1}
    assert report.days_removed == (T0.date(),)
    report = parquet.enforce_retention(T0 + timedelta(days=10), 0, {"windows.sysmon": 30})
    assert report.files_rewritten == 0
    parquet.write(pl.concat([events(["d"], dataset="syslog"), events(["e"])]), 2, 2)
    report = parquet.enforce_retention(T0 + timedelta(days=20), 30, {"syslog": 1})
    assert (report.files_rewritten, report.rows_removed) == (1, {"syslog": 1})
    assert parts(parquet.root) == [
        "day=2025-03-01/part-0000000000000002-0000000000000002-v1.parquet",
        "day=2025-03-10/part-0000000000000001-0000000000000001.parquet",
    ]
    assert ids_of(parquet.query("SELECT * FROM events", [])) == ["c", "e"]
    assert parquet.committed_seq() == 2


def test_an_older_version_left_by_a_crash_is_not_read(parquet: ParquetEventStore) -> None:
    parquet.write(pl.concat([events(["a"], dataset="syslog"), events(["b"])]), 0, 0)
    (old,) = parquet.root.glob("day=*/part-*.parquet")
    kept = old.read_bytes()
    parquet.enforce_retention(T0 + timedelta(days=3), 30, {"syslog": 1})
    old.write_bytes(kept)
    assert ids_of(parquet.query("SELECT * FROM events", [])) == ["b"]


def test_a_corrupt_file_is_named_not_read(parquet: ParquetEventStore) -> None:
    parquet.write(events(["a"]), 0, 0)
    bad = parquet.root / "day=2025-03-02" / "part-0000000000000001-0000000000000001.parquet"
    bad.parent.mkdir()
    bad.write_bytes(b"not parquet at all")
    for read in (parquet.count, parquet.columns, lambda: parquet.get(["a"])):
        with pytest.raises(WatchkeeperError, match="not a readable Parquet file") as caught:
            read()
        assert caught.value.location == str(bad)
    parquet.write(events(["b"]), 2, 2)
    bad.unlink()
    assert ids_of(parquet.query("SELECT * FROM events", [])) == ["a", "b"]


def test_a_file_with_foreign_column_types_is_named(parquet: ParquetEventStore) -> None:
    parquet.write(events(["a"]), 0, 0)
    foreign = parquet.root / "day=2025-03-01" / "part-0000000000000001-0000000000000001.parquet"
    events(["b"]).with_columns(pl.lit(4624).alias("EventID")).write_parquet(foreign)
    with pytest.raises(WatchkeeperError, match="'EventID' is Int32") as caught:
        parquet.count()
    assert caught.value.location == str(foreign)


def test_overlapping_ranges_are_refused_by_name(parquet: ParquetEventStore) -> None:
    parquet.write(events(["a"]), 0, 5)
    parquet.write(events(["b"]), 6, 9)
    day = parquet.root / "day=2025-03-01"
    shutil.copy(day / "part-0000000000000006-0000000000000009.parquet",
                day / "part-0000000000000004-0000000000000007.parquet")
    with pytest.raises(WatchkeeperError, match="overlaps part-0000000000000000"):
        parquet.count()


def test_a_damaged_checkpoint_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "events"
    root.mkdir()
    (root / "checkpoint").write_text("twelve\n")
    with pytest.raises(WatchkeeperError, match="not a number") as caught:
        ParquetEventStore(root, threads=1)
    assert caught.value.location == str(root / "checkpoint")


def test_listing_sorts_by_day_and_range_and_skips_foreign_names(tmp_path: Path) -> None:
    for name in ("day=2025-03-02/part-0000000000000009-0000000000000009.parquet",
                 "day=2025-03-01/part-0000000000000001-0000000000000004-v2.parquet",
                 "day=2025-03-01/part-0000000000000001-0000000000000004.parquet",
                 "day=2025-03-01/part-1-2.parquet", "day=2025-02-30/x.parquet",
                 "day=2025-03-01/notes.txt",
                 "other/part-0000000000000000-0000000000000000.parquet"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    listed: list[PartFile] = scan(tmp_path)
    assert [(f.day.day, f.first, f.last, f.version) for f in listed] == [
        (1, 1, 4, 2), (1, 1, 4, 0), (2, 9, 9, 0)]


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="compact_min_files"):
        ParquetEventStore(tmp_path / "a", compact_min_files=1)
    with pytest.raises(UsageError, match="threads"):
        ParquetEventStore(tmp_path / "b", threads=0)
    with pytest.raises(UsageError, match="engine settings"):
        ParquetEventStore(tmp_path / "c", memory_limit="lots")


def test_a_failed_write_stores_nothing_and_can_be_retried(parquet: ParquetEventStore) -> None:
    blocker = parquet.root / "day=2025-03-01"
    blocker.write_text("not a folder")
    with pytest.raises(WatchkeeperError, match="cannot store the batch") as caught:
        parquet.write(events(["a"]), 0, 0)
    assert caught.value.location == str(parquet.root)
    assert parquet.committed_seq() == -1
    blocker.unlink()
    parquet.write(events(["a"]), 0, 0)
    assert (parquet.committed_seq(), parquet.count()) == (0, 1)
    assert [p.name for p in blocker.iterdir()] == [
        "part-0000000000000000-0000000000000000.parquet"]
