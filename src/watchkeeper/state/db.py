"""Open the state database: one engine, one session factory, the same behaviour on both backends.

SQLite (``sqlite:///path``) is the embedded default: WAL so that readers never wait for the
writer, foreign keys enforced, a busy timeout so that writers queue instead of failing, and
every transaction started ``BEGIN IMMEDIATE`` so that a read-then-write transaction takes the
single write lock up front and cannot fail halfway with "database is locked".
PostgreSQL (``postgresql://…``) is the scale option, always through psycopg 3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool, StaticPool

from watchkeeper.errors import UsageError

BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for the write lock before giving up."""

POOL_SIZE = 5
MAX_OVERFLOW = 10
PG_CONNECT_TIMEOUT_S = 10


def normalize_url(url: str | URL) -> URL:
    """Parse a state URL and pin the driver: pysqlite for SQLite, psycopg 3 for PostgreSQL."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError as exc:
        raise UsageError(f"not a database URL: {exc}") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise UsageError(f"SQLite is used through the standard sqlite3 module, not {driver!r}")
        return parsed.set(drivername="sqlite")
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "psycopg"):
            raise UsageError(
                f"PostgreSQL is used through psycopg 3 (postgresql+psycopg://), not {driver!r}"
            )
        return parsed.set(drivername="postgresql+psycopg")
    raise UsageError(
        f"unsupported state database {parsed.drivername!r}: use sqlite:///PATH or postgresql://…"
    )


def is_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def make_engine(url: str | URL, *, foreign_keys: bool = True, pooled: bool = True) -> Engine:
    """An engine with Watchkeeper's connection settings (see the module docstring).

    ``foreign_keys=False`` is for migrations only: SQLite's batch mode recreates tables, and
    with enforcement on, dropping a referenced table would cascade into its children.
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, foreign_keys=foreign_keys, pooled=pooled)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if pooled:
        kwargs.update(pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW, pool_recycle=1800)
    else:
        kwargs["poolclass"] = NullPool
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    return create_engine(parsed, connect_args=connect_args, **kwargs)


def _sqlite_engine(url: URL, *, foreign_keys: bool, pooled: bool) -> Engine:
    memory = is_memory_sqlite(url)
    kwargs: dict[str, Any] = {}
    if memory:
        # One shared connection, or every checkout would see its own empty database.
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    elif pooled:
        kwargs.update(pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW)
    else:
        kwargs["poolclass"] = NullPool
    engine = create_engine(url, **kwargs)

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not open transactions by itself: "begin" below does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS:d}")
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()

    def on_begin(connection: Any) -> None:
        reading = connection.get_execution_options().get(READ_ONLY)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)
    return engine


READ_ONLY = "watchkeeper_read_only"
"""Execution option of read-only sessions (a plain, deferred BEGIN on SQLite)."""


class StateDB:
    """The state database: an engine and a factory of transactional sessions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._readers = sessionmaker(
            engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back on error.

        Do not open a second one inside it on the same thread: on SQLite it would wait for
        the first one's write lock until the busy timeout. Pass the open session down instead.
        """
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only: on SQLite it takes no write lock, so it never waits
        for a writer (WAL readers see the last commit). Write with :meth:`session`."""
        with self._readers() as session, session.begin():
            yield session

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"StateDB({self.engine.url.render_as_string(hide_password=True)!r})"


def open_state(url: str | URL) -> StateDB:
    """Open the state database at ``url`` (not migrated: see :func:`watchkeeper.state.migrate`)."""
    return StateDB(make_engine(url))


MIGRATIONS = Path(__file__).parent / "migrations"
"""Alembic's script folder, shipped inside the package: users need no ``alembic.ini``."""


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration built in code, optionally bound to an open connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration shipped with this version of Watchkeeper."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise UsageError("no migrations shipped")  # a broken installation
    return head


def current_revision(url: str | URL) -> str | None:
    """The migration the database at ``url`` is at, or None when it was never migrated."""
    engine = make_engine(url, pooled=False)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def migrate(url: str | URL, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (Alembic ``upgrade``)."""
    _run(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str | URL, revision: str) -> None:
    """Take the database at ``url`` back to ``revision`` (``base`` empties it)."""
    _run(url, lambda config: command.downgrade(config, revision))


def _run(url: str | URL, step: Callable[[Config], None]) -> None:
    engine = make_engine(url, foreign_keys=False, pooled=False)
    try:
        with engine.begin() as connection:
            step(alembic_config(connection))
            if connection.dialect.name == "sqlite":
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise UsageError(f"migration left rows with dangling foreign keys: {broken}")
    finally:
        engine.dispose()


def write_migration(url: str | URL, message: str, rev_id: str) -> None:
    """For developers: migrate a scratch database to head, then write the migration that
    brings it to the tables as declared now (Alembic autogenerate; review it by hand)."""
    migrate(url)

    def revise(config: Config) -> None:
        command.revision(config, message=message, autogenerate=True, rev_id=rev_id)

    _run(url, revise)
