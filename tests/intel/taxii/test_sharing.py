"""What may be shared, paged by a stable cursor, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from watchkeeper.audit.service import AuditLog
from watchkeeper.config import IntelSettings
from watchkeeper.errors import UsageError
from watchkeeper.intel.model import FeedResult, IndicatorIn
from watchkeeper.intel.service import IntelService
from watchkeeper.intel.sharing import (
    Position,
    all_shareable,
    indicator_page,
    sighting_page,
)
from watchkeeper.state.db import StateDB

TLPS = ("clear", "green", "amber", "amber+strict", "red")


def intel_with(state_db: StateDB) -> IntelService:
    intel = IntelService(state_db, AuditLog(state_db), IntelSettings())
    items = [IndicatorIn.of("ipv4", f"203.0.113.{n}", "feed", tlp=TLPS[n % 5])
             for n in range(1, 26)]
    intel.ingest("system", FeedResult(items, []), "feed")
    return intel


def test_pages_hold_active_indicators_within_the_limit_once_each(state_db: StateDB) -> None:
    intel = intel_with(state_db)
    seen: list[str] = []
    after = None
    with state_db.read() as session:
        while page := indicator_page(session, intel, max_tlp="amber", after=after, limit=4):
            assert len(page) <= 4
            seen.extend(i.value for i in page)
            after = Position(page[-1].updated_at, page[-1].id)
    assert len(seen) == len(set(seen)) == 15  # clear, green and amber of 25
    assert {intel.get(int(v.rsplit(".", 1)[1])).tlp for v in seen} <= {"clear", "green",
                                                                       "amber"}
    batches = list(all_shareable(intel, max_tlp="green"))
    assert sum(len(b) for b, _ in batches) == 10


def test_sightings_of_unshared_indicators_stay_home(state_db: StateDB) -> None:
    intel = intel_with(state_db)
    shared, unshared = intel.lookup("203.0.113.1")[0], intel.lookup("203.0.113.4")[0]
    assert (shared.tlp, unshared.tlp) == ("green", "red")
    intel.sight("alice", shared.id, "seen")
    intel.sight("alice", unshared.id, "seen")
    with state_db.read() as session:
        found = sighting_page(session, max_tlp="amber")
    assert [s.indicator_id for s in found] == [shared.id]


def test_a_position_survives_its_text() -> None:
    from datetime import UTC, datetime

    here = Position(datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC), 42)
    assert Position.decode(here.encode()) == here
    for bad in ("", "x-1", "1-", "-1", "1.5-2"):
        with pytest.raises(UsageError):
            Position.decode(bad)
