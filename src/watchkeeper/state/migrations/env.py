"""Alembic environment: Watchkeeper's tables, SQLite batch mode, a connection passed in by code.

``watchkeeper.state.db.migrate`` hands over an open connection. To add a migration after
changing a model, on a scratch database::

    python -c "from watchkeeper.state.db import write_migration as w; \
               w('sqlite:///scratch.db', 'what changed', '0002')"

then review the new file in ``versions/`` by hand (render_as_batch is on for SQLite).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from watchkeeper.state.db import make_engine
from watchkeeper.state.tables import metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("pass the database with: -x url=sqlite:///PATH")
    engine = make_engine(url, foreign_keys=False, pooled=False)
    try:
        with engine.begin() as opened:
            run_with(opened)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Watchkeeper's migrations run against a live database only")
run_online()
