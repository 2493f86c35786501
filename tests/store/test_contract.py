"""The EventStore contract, run against the Parquet store and the in-memory fake alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.store.helpers import T0, UTC_US, events, ids_of
from watchkeeper.errors import ConflictError, UsageError, WatchkeeperError
from watchkeeper.store import EventStore, MemoryEventStore, ParquetEventStore

RESERVED_TYPES = {
    "@timestamp": "TIMESTAMP WITH TIME ZONE",
    "event.id": "VARCHAR",
    "event.ingested": "TIMESTAMP WITH TIME ZONE",
    "event.dataset": "VARCHAR",
    "log.file.path": "VARCHAR",
    "log.offset": "BIGINT",
    "log.line": "BIGINT",
    "event.original": "VARCHAR",
}


def test_empty_store_answers_queries_with_the_reserved_columns(store: EventStore) -> None:
    assert store.committed_seq() == -1
    assert store.count() == 0
    assert store.columns() == RESERVED_TYPES
    frame = store.query('SELECT * FROM events WHERE "event.dataset" = ?', ["syslog"])
    assert frame.height == 0
    assert frame.columns == list(RESERVED_TYPES)
    assert frame.schema["@timestamp"] == UTC_US
    assert store.get(["nope"]).height == 0


def test_round_trip_unites_differing_columns_with_nulls(store: EventStore) -> None:
    store.write(events(["a", "b"], Image=["C:\\x.exe", None]), 0, 1)
    store.write(events(["c"], fields={"host.name": ["dc1"], "EventID": ["4624"]}), 2, 2)
    store.write(events(["d"], dataset="syslog"), 3, 3)
    assert store.committed_seq() == 3
    assert store.count() == 4
    assert store.columns() == {**RESERVED_TYPES, "Image": "VARCHAR", "host.name": "VARCHAR",
                               "EventID": "VARCHAR"}
    frame = store.query(
        'SELECT "event.id", "Image", "host.name", "EventID", "event.dataset", "log.offset", '
        '"@timestamp" FROM events ORDER BY "event.id"', [])
    assert frame.rows() == [
        ("a", "C:\\x.exe", None, None, "windows.sysmon", 0, T0),
        ("b", None, None, None, "windows.sysmon", 1, T0 + timedelta(minutes=1)),
        ("c", None, "dc1", "4624", "windows.sysmon", 0, T0),
        ("d", None, None, None, "syslog", 0, T0),
    ]
    assert frame.schema["@timestamp"] == UTC_US
    assert frame.schema["log.offset"] == pl.Int64


def test_a_replayed_range_is_a_no_op(store: EventStore) -> None:
    store.write(events(["a", "b"]), 10, 12)
    store.write(events(["a", "b"]), 10, 12)
    store.write(events(["x"]), 11, 11)
    store.write(events(["y"]), 0, 5)
    assert store.count() == 2
    assert store.committed_seq() == 12
    with pytest.raises(ConflictError, match="replay from 13"):
        store.write(events(["z"]), 12, 14)
    assert store.committed_seq() == 12
    store.write(events(["c"]), 20, 20)
    assert ids_of(store.query("SELECT * FROM events", [])) == ["a", "b", "c"]


def test_an_empty_batch_moves_the_checkpoint(store: EventStore) -> None:
    store.write(pl.DataFrame(), 0, 4)
    assert store.committed_seq() == 4
    assert store.count() == 0
    store.write(events(["a"]), 3, 4)
    assert store.count() == 0


@pytest.mark.parametrize(("first", "last"), [(-1, 2), (5, 4), (0, 10**16), (True, 3)])
def test_bad_spool_ranges_are_refused(store: EventStore, first: int, last: int) -> None:
    with pytest.raises(UsageError, match="spool"):
        store.write(events(["a"]), first, last)
    assert store.committed_seq() == -1


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        (events(["a"]).drop("event.id"), "lacks the column"),
        (events(["a", "b"]).with_columns(pl.lit(None, pl.String).alias("event.dataset")),
         "2 event"),
        (events(["a"]).with_columns(pl.lit(7).alias("EventID")), "EventID"),
        (events(["a"]).with_columns(pl.col("log.offset").cast(pl.String)), "log.offset"),
    ],
)
def test_batches_the_pipeline_cannot_produce_are_refused(
    store: EventStore, batch: pl.DataFrame, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        store.write(batch, 0, 0)
    assert store.committed_seq() == -1
    assert store.count() == 0


def test_missing_reserved_columns_are_stored_as_nulls(store: EventStore) -> None:
    store.write(events(["a"], Image=["x"]).drop("@timestamp", "log.line", "event.original"),
                0, 0)
    frame = store.get(["a"])
    assert frame.row(0, named=True)["@timestamp"] is None
    assert frame.row(0, named=True)["Image"] == "x"
    assert frame.schema["log.line"] == pl.Int64


HOSTILE = [
    "'; DROP VIEW events; --",
    '" OR 1=1 --',
    "%",
    "a\\'b",
    "dc1\x00",
    "ümlaut ✓",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_only_ever_values(store: EventStore, value: str) -> None:
    store.write(events(["a", "b"], fields={"host.name": [value, "dc1"]}), 0, 1)
    frame = store.query('SELECT "event.id" FROM events WHERE "host.name" = ?', [value])
    assert frame["event.id"].to_list() == ["a"]
    like = store.query('SELECT count(*) AS n FROM events WHERE "host.name" LIKE ?', [value])
    assert like["n"].item() == (2 if value == "%" else 1)
    assert store.count() == 2


@pytest.mark.parametrize(
    "sql",
    [
        "DROP VIEW events",
        "SELECT 1; SELECT 2",
        "COPY (SELECT * FROM events) TO 'out.csv'",
        "SET lock_configuration = false",
        "SELECT * FROM events WHERE",
    ],
)
def test_only_one_select_runs(store: EventStore, sql: str) -> None:
    store.write(events(["a"]), 0, 0)
    with pytest.raises(UsageError):
        store.query(sql, [])
    assert store.count() == 1


def test_files_outside_the_store_cannot_be_read(store: EventStore, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n")
    with pytest.raises(UsageError, match="refused"):
        store.query("SELECT * FROM read_csv(?)", [str(secret)])


def test_unknown_fields_and_bad_values_are_usage_errors(store: EventStore) -> None:
    store.write(events(["a"]), 0, 0)
    with pytest.raises(UsageError, match="refused"):
        store.query('SELECT "no.such.field" FROM events', [])
    with pytest.raises(UsageError, match="refused"):
        store.query('SELECT * FROM events WHERE "@timestamp" > ?::TIMESTAMPTZ', ["yesterday"])
    with pytest.raises(WatchkeeperError):
        store.query('SELECT * FROM events WHERE "event.id" = ?', [])


def test_get_returns_known_ids_in_any_order(store: EventStore) -> None:
    store.write(events(["a", "b", "c"]), 0, 0)
    store.write(events(["d"]), 1, 1)
    assert ids_of(store.get(["d", "zz", "a", "a"])) == ["a", "d"]
    assert store.get([]).height == 0


def test_names_that_differ_only_by_case_are_one_field(store: EventStore) -> None:
    store.write(events(["a"], Image=["x"]), 0, 0)
    store.write(events(["b", "c"], image=["y", None], IMAGE=["z", "w"]), 1, 1)
    store.write(events(["d"], fields={"Event.Dataset": ["shadow"]}), 2, 2)
    assert [name for name in store.columns() if name.lower() == "image"] == ["image"]
    assert "Event.Dataset" not in store.columns()
    frame = store.query('SELECT "event.id", image FROM events ORDER BY 1', [])
    assert frame.rows() == [("a", "x"), ("b", "y"), ("c", "w"), ("d", None)]
    assert store.get(["d"])["event.dataset"].to_list() == ["windows.sysmon"]


def test_compaction_keeps_every_event_once(store: EventStore) -> None:
    for seq in range(6):
        day = T0 + timedelta(days=seq // 3)
        store.write(events([f"e{seq}-{i}" for i in range(3)], ingested=day,
                           Image=[f"i{seq}"] * 3), seq, seq)
    before = store.query('SELECT * FROM events ORDER BY "event.id"', [])
    assert store.compact() > 0
    assert store.compact() == 0
    assert store.count() == 18
    assert_frame_equal(store.query('SELECT * FROM events ORDER BY "event.id"', []), before)


def _three_days(store: EventStore) -> None:
    old, older, recent = T0, T0 + timedelta(days=1), T0 + timedelta(days=40)
    store.write(events(["s1", "s2"], dataset="windows.sysmon", ingested=old), 0, 0)
    store.write(events(["k1"], dataset="windows.security", ingested=old), 1, 1)
    store.write(events(["s3"], dataset="windows.sysmon", ingested=older), 2, 2)
    store.write(pl.concat([events(["m1"], dataset="windows.sysmon", ingested=older),
                           events(["m2"], dataset="syslog", ingested=older)]), 3, 3)
    store.write(events(["r1"], dataset="windows.sysmon", ingested=recent), 4, 4)


def test_retention_removes_by_dataset_and_day(store: EventStore) -> None:
    _three_days(store)
    now = T0 + timedelta(days=45)
    report = store.enforce_retention(now, 30, {"windows.security": 365, "syslog": 50})
    assert report.rows_removed == {"windows.sysmon": 4}
    assert report.days_removed == ()
    assert report.files_removed == 2
    assert report.files_rewritten == 1
    assert ids_of(store.query("SELECT * FROM events", [])) == ["k1", "m2", "r1"]
    report = store.enforce_retention(now, 30, {"windows.security": 3})
    assert report.rows_removed == {"syslog": 1, "windows.security": 1}
    assert report.days_removed == (T0.date(), (T0 + timedelta(days=1)).date())
    assert ids_of(store.query("SELECT * FROM events", [])) == ["r1"]
    assert store.committed_seq() == 4


def test_retention_keeps_a_day_until_its_days_have_passed(store: EventStore) -> None:
    store.write(events(["a"], ingested=T0.replace(hour=23, minute=59)), 0, 0)
    kept = store.enforce_retention(T0 + timedelta(days=30, hours=11, minutes=59), 30, {})
    assert (kept.total_rows, store.count()) == (0, 1)
    gone = store.enforce_retention(T0 + timedelta(days=31) - timedelta(hours=12), 30, {})
    assert (gone.total_rows, store.count()) == (1, 0)


def test_committed_seq_survives_retention_of_everything(store: EventStore) -> None:
    store.write(events(["a"]), 0, 7)
    store.enforce_retention(T0 + timedelta(days=2), 0, {})
    assert store.count() == 0
    assert store.committed_seq() == 7
    store.write(events(["b"]), 5, 7)
    assert store.count() == 0


@pytest.mark.parametrize(
    ("now", "default", "per_dataset", "message"),
    [
        (datetime(2025, 3, 1), 30, {}, "aware"),
        (T0, -1, {}, "default"),
        (T0, 30, {"syslog": -2}, "syslog"),
        (T0, 30, {"syslog": True}, "syslog"),
    ],
)
def test_bad_retention_settings_are_refused(
    store: EventStore, now: datetime, default: int, per_dataset: dict[str, int], message: str
) -> None:
    store.write(events(["a"]), 0, 0)
    with pytest.raises(UsageError, match=message):
        store.enforce_retention(now, default, per_dataset)
    assert store.count() == 1


def test_a_closed_store_refuses_work(store: EventStore) -> None:
    store.close()
    store.close()
    with pytest.raises(UsageError, match="closed"):
        store.query("SELECT 1", [])
    with pytest.raises(UsageError, match="closed"):
        store.write(events(["a"]), 0, 0)


QUERIES: list[tuple[str, list[object]]] = [
    ('SELECT * FROM events ORDER BY "event.id"', []),
    ('SELECT "host.name", count(*) AS n FROM events GROUP BY 1 ORDER BY 1 NULLS FIRST', []),
    ('SELECT "event.id" FROM events WHERE lower("Image") LIKE ? ORDER BY 1', ["%power%"]),
    ('SELECT "event.id" FROM events WHERE "@timestamp" >= ? AND "@timestamp" < ? ORDER BY 1',
     [T0 + timedelta(minutes=1), T0 + timedelta(minutes=3)]),
    ('SELECT "event.id", "@timestamp" FROM events ORDER BY "@timestamp" DESC, 1 LIMIT ?', [3]),
    ('SELECT "event.dataset", min("log.offset") AS o FROM events GROUP BY ALL ORDER BY 1', []),
]


def test_fake_and_parquet_store_give_the_same_answers(tmp_path: Path) -> None:
    batches = [
        events(["a", "b", "c"], Image=["C:\\powershell.exe", "x", None],
               fields={"host.name": ["dc1", "dc2", "dc1"]}),
        events(["d"], dataset="syslog", start=T0 - timedelta(hours=1),
               fields={"host.name": ["fw"]}),
        events(["e", "f"], ingested=T0 + timedelta(days=1), image=["PowerShell", "cmd"]),
    ]
    real = ParquetEventStore(tmp_path / "events", threads=1, compact_min_files=2)
    fake = MemoryEventStore()
    try:
        for seq, batch in enumerate(batches):
            real.write(batch, seq, seq)
            fake.write(batch, seq, seq)
        assert real.columns() == fake.columns()
        for sql, params in QUERIES:
            assert_frame_equal(real.query(sql, params), fake.query(sql, params))
        real.compact()
        fake.compact()
        policy = (datetime(2025, 3, 2, 1, tzinfo=UTC), 0, {"syslog": 5})
        assert real.enforce_retention(*policy) == fake.enforce_retention(*policy)
        for sql, params in QUERIES:
            assert_frame_equal(real.query(sql, params), fake.query(sql, params))
    finally:
        real.close()
        fake.close()
