"""Fixtures that run a state test on SQLite and on PostgreSQL, each in a database of its own.

Use them from a ``conftest.py``::

    from tests.statefixtures import state_backends, state_db, state_url

    __all__ = ["state_backends", "state_db", "state_url"]

``state_url`` is the URL of an empty database: a SQLite file in the test's folder, or a
PostgreSQL schema made for the test alone (the URL sets ``search_path`` to it) and dropped
afterwards. ``state_db`` is a :class:`StateDB` migrated to head: a copy of a SQLite file
migrated once, or one PostgreSQL schema migrated once and emptied before each test, so a
test may change rows but not tables (a test of the schema itself takes ``state_url``).

PostgreSQL runs when ``WATCHKEEPER_TEST_POSTGRES_URL`` names a server (a database on it the
tests may create schemas in); without it those tests are skipped, unless
``WATCHKEEPER_REQUIRE_SERVICES=1``, which turns a missing or unreachable server into a failure.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest
from sqlalchemy import URL, Table, create_engine, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from watchkeeper.state.db import StateDB, migrate, normalize_url, open_state
from watchkeeper.state.tables import metadata

POSTGRES_ENV = "WATCHKEEPER_TEST_POSTGRES_URL"
REQUIRE_ENV = "WATCHKEEPER_REQUIRE_SERVICES"
BACKENDS = ["sqlite", "postgresql"]

Seed = tuple[Table, list[dict[str, Any]]]


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(reason)


@contextmanager
def postgres_schema(server: URL) -> Iterator[str]:
    """A fresh schema on ``server`` (its URL given), dropped with everything in it afterwards."""
    schema = f"wk_test_{secrets.token_hex(6)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield server.update_query_dict(
                {"options": f"-csearch_path={schema}"}
            ).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text("SET lock_timeout = '10s'"))
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


class StateBackends:
    """The test session's database servers and migrated templates, made on first use."""

    def __init__(self, tmp: pytest.TempPathFactory, cleanup: ExitStack) -> None:
        self._tmp = tmp
        self._cleanup = cleanup
        self._server: URL | None = None
        self._sqlite: Path | None = None
        self._postgres: tuple[str, list[Seed]] | None = None

    def postgres_server(self) -> URL:
        """The server named by the environment, checked once to be reachable (else skip)."""
        if self._server is None:
            raw = os.environ.get(POSTGRES_ENV)
            if not raw:
                _unavailable(f"PostgreSQL tests need {POSTGRES_ENV}")
            url = normalize_url(raw).update_query_dict({"connect_timeout": "5"})
            engine = create_engine(url, poolclass=NullPool)
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
            except OperationalError as exc:
                _unavailable(f"PostgreSQL at {url.render_as_string()} is unreachable: {exc.orig}")
            finally:
                engine.dispose()
            self._server = url
        return self._server

    def sqlite_template(self) -> Path:
        if self._sqlite is None:
            path = self._tmp.mktemp("state") / "migrated.db"
            migrate(f"sqlite:///{path}")
            self._sqlite = path
        return self._sqlite

    def postgres_template(self) -> tuple[str, list[Seed]]:
        """A schema migrated once, and the rows the migrations put in it."""
        if self._postgres is None:
            url = self._cleanup.enter_context(postgres_schema(self.postgres_server()))
            migrate(url)
            engine = create_engine(url, poolclass=NullPool)
            try:
                with engine.connect() as connection:
                    present = set(inspect(connection).get_table_names())
                    seeds = [
                        (table, [dict(row._mapping) for row in connection.execute(table.select())])
                        for table in metadata.sorted_tables
                        if table.name in present
                    ]
            finally:
                engine.dispose()
            self._postgres = (url, seeds)
        return self._postgres


@pytest.fixture(scope="session")
def state_backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StateBackends]:
    with ExitStack() as cleanup:
        yield StateBackends(tmp_path_factory, cleanup)


@pytest.fixture(params=BACKENDS)
def state_url(
    request: pytest.FixtureRequest, tmp_path: Path, state_backends: StateBackends
) -> Iterator[str]:
    """The URL of an empty state database, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    with postgres_schema(state_backends.postgres_server()) as url:
        yield url


def _reset(db: StateDB, seeds: list[Seed]) -> None:
    """Empty every table of the shared schema and put the migrations' own rows back."""
    with db.engine.begin() as connection:
        connection.execute(text("SET LOCAL lock_timeout = '10s'"))
        if seeds:
            names = ", ".join(f'"{table.name}"' for table, _ in seeds)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        for table, rows in seeds:
            if rows:
                connection.execute(table.insert(), rows)


@pytest.fixture(params=BACKENDS)
def state_db(
    request: pytest.FixtureRequest, tmp_path: Path, state_backends: StateBackends
) -> Iterator[StateDB]:
    """A state database at head, empty but for what the migrations put in it; closed after."""
    if request.param == "sqlite":
        shutil.copyfile(state_backends.sqlite_template(), tmp_path / "state.db")
        db = open_state(f"sqlite:///{tmp_path / 'state.db'}")
    else:
        url, seeds = state_backends.postgres_template()
        db = open_state(url)
        _reset(db, seeds)
    yield db
    db.close()
