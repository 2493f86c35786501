"""The two stores of a data folder, opened from the settings: light to import, so that
the CLI's user, token, audit and search commands start fast."""

from __future__ import annotations

from typing import TYPE_CHECKING

from watchkeeper.config import Settings
from watchkeeper.state.db import StateDB, migrate, open_state

if TYPE_CHECKING:
    from watchkeeper.store.base import EventStore


def open_state_db(settings: Settings) -> StateDB:
    """The state database, migrated to the current schema."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.resolved_state_url)
    return open_state(settings.resolved_state_url)


def open_events(settings: Settings, *, read_only: bool = False) -> EventStore:
    """The event store; ``read_only`` for readers beside a running server (the CLI)."""
    from watchkeeper.store import open_event_store

    return open_event_store(
        settings.events_url or str(settings.events_dir.resolve()), read_only=read_only
    )
