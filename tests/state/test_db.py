"""Opening the state database: URLs, connection settings, transactions."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.statefixtures import StateBackends
from watchkeeper.errors import UsageError
from watchkeeper.state.db import BUSY_TIMEOUT_MS, StateDB, normalize_url, open_state


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://wk@db.example/wk", "postgresql+psycopg"),
        ("postgres://wk@db.example/wk", "postgresql+psycopg"),
        ("postgresql+psycopg://wk@db.example/wk", "postgresql+psycopg"),
        ("sqlite:///state.db", "sqlite"),
        ("sqlite+pysqlite:///state.db", "sqlite"),
    ],
)
def test_urls_get_the_supported_driver(given: str, driver: str) -> None:
    assert normalize_url(given).drivername == driver


@pytest.mark.parametrize(
    "given",
    [
        "postgresql+psycopg2://wk@db.example/wk",
        "mysql://root@localhost/wk",
        "sqlite+aiosqlite:///state.db",
        "not a url",
    ],
)
def test_unsupported_urls_are_refused(given: str) -> None:
    with pytest.raises(UsageError):
        normalize_url(given)


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    db = open_state(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with db.session() as session:
            pragma = {
                name: session.execute(text(f"PRAGMA {name}")).scalar_one()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
    finally:
        db.close()
    assert pragma == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": BUSY_TIMEOUT_MS}


def test_postgres_uses_psycopg_3(state_backends: StateBackends) -> None:
    db = open_state(state_backends.postgres_server().set(drivername="postgresql"))
    try:
        assert db.engine.dialect.driver == "psycopg"
        with db.session() as session:
            assert session.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        db.close()


def test_repr_hides_the_password() -> None:
    db = open_state("postgresql://wk:hunter2hunter2@db.example/wk")
    try:
        assert "hunter2" not in repr(db)
    finally:
        db.close()


def _make_counter(db: StateDB) -> None:
    with db.session() as session:
        session.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        session.execute(text("INSERT INTO counter VALUES (1, 0)"))


def _count(db: StateDB) -> int:
    with db.session() as session:
        return int(session.execute(text("SELECT n FROM counter")).scalar_one())


@pytest.fixture
def counter_db(state_url: str) -> Iterator[StateDB]:
    db = open_state(state_url)
    _make_counter(db)
    yield db
    db.close()


def test_session_commits_at_the_end_of_the_block(counter_db: StateDB) -> None:
    with counter_db.session() as session:
        session.execute(text("UPDATE counter SET n = 5"))
    assert _count(counter_db) == 5


def test_session_rolls_back_on_error(counter_db: StateDB) -> None:
    def failing_change() -> None:
        with counter_db.session() as session:
            session.execute(text("UPDATE counter SET n = 5"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing_change()
    assert _count(counter_db) == 0


def test_sqlite_read_then_write_transactions_queue_instead_of_failing(tmp_path: Path) -> None:
    # Deferred transactions would fail with "database is locked" when both read first.
    db = open_state(f"sqlite:///{tmp_path / 'state.db'}")
    _make_counter(db)
    failures: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(25):
                with db.session() as session:
                    n = session.execute(text("SELECT n FROM counter")).scalar_one()
                    session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failures == []
        assert _count(db) == 75
    finally:
        db.close()


def test_in_memory_sqlite_keeps_its_tables_across_sessions() -> None:
    db = open_state("sqlite://")
    try:
        _make_counter(db)
        assert _count(db) == 0
    finally:
        db.close()


def test_a_read_session_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    """The pipeline holds the write lock for a batch; the alert queue must still answer."""
    db = open_state(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with db.session() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            session.execute(text("INSERT INTO t VALUES (1)"))
        holding, release = threading.Event(), threading.Event()

        def writer() -> None:
            with db.session() as session:
                session.execute(text("INSERT INTO t VALUES (2)"))
                holding.set()
                release.wait(10)

        thread = threading.Thread(target=writer)
        thread.start()
        assert holding.wait(10)
        started = time.monotonic()
        with db.read() as session:
            seen = session.execute(text("SELECT count(*) FROM t")).scalar()
        waited = time.monotonic() - started
        release.set()
        thread.join()
        assert seen == 1  # the last commit, not the writer's open transaction
        assert waited < 2
    finally:
        db.close()
