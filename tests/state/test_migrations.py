"""The migrations build exactly the declared tables, on both backends, and unwind cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from watchkeeper.audit.model import GENESIS_HASH
from watchkeeper.state.db import (
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    migrate,
)
from watchkeeper.state.tables import metadata


def _differences(url: str) -> list[object]:
    engine = make_engine(url, pooled=False)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url, pooled=False)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_head_matches_the_declared_tables(state_url: str) -> None:
    assert current_revision(state_url) is None
    migrate(state_url)
    assert current_revision(state_url) == head_revision()
    assert _differences(state_url) == []
    assert set(metadata.tables) <= _tables(state_url)


def test_migrate_seeds_the_audit_head_and_is_idempotent(state_url: str) -> None:
    migrate(state_url)
    migrate(state_url)
    engine = make_engine(state_url, pooled=False)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, last_id, last_hash FROM audit_head")).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [(1, 0, GENESIS_HASH)]


def test_downgrade_to_base_removes_every_table(state_url: str) -> None:
    migrate(state_url)
    downgrade(state_url, "base")
    assert current_revision(state_url) is None
    assert _tables(state_url) <= {"alembic_version"}
    migrate(state_url)
    assert _differences(state_url) == []


def test_an_empty_database_differs_from_the_tables(state_url: str) -> None:
    # The comparison itself must be able to fail.
    assert _differences(state_url)
