"""Daily and weekly briefings: exact figures from seeded alerts and cases, escaped output."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from watchkeeper.alerts.model import AlertRow
from watchkeeper.audit.service import AuditLog
from watchkeeper.cases.service import CaseService, NewCase
from watchkeeper.errors import UsageError
from watchkeeper.shifts.briefing import briefing, to_html, to_markdown
from watchkeeper.state.db import StateDB

NOW = datetime.now(UTC).replace(microsecond=0)


def _alert(n: int, level: str, created: datetime, title: str = "Rule") -> AlertRow:
    return AlertRow(
        rule_id=f"r-{level}", rule_title=title, level=level, tags=[], tactics=[],
        group_key=f"k{n}", entities={"host": f"h{n}"}, host=f"h{n}", risk_score=50,
        status="new", first_seen=created - timedelta(minutes=10), last_seen=created,
        count=1, first_event_id=f"e{n}", first_ingested=created, created_at=created,
        updated_at=created)


def test_a_daily_and_a_weekly_briefing(state_db: StateDB) -> None:
    with state_db.session() as session:
        session.add_all([
            _alert(1, "critical", NOW - timedelta(hours=2), "<script>alert(1)</script>"),
            _alert(2, "high", NOW - timedelta(hours=5)),
            _alert(3, "high", NOW - timedelta(days=3)),
            _alert(4, "low", NOW - timedelta(days=9)),
        ])
    cases = CaseService(state_db, AuditLog(state_db))
    first = cases.create("ann", NewCase(title="one", severity="critical"))
    cases.create("ann", NewCase(title="two", severity="low"))
    cases.update("ann", first["id"], {"status": "resolved"})
    end = datetime.now(UTC) + timedelta(seconds=1)  # after the cases were made
    with state_db.read() as session:
        daily = briefing(session, "daily", end)
        weekly = briefing(session, "weekly", end)
    assert daily["alerts"] == {"critical": 1, "high": 1, "medium": 0, "low": 0,
                               "informational": 0}
    assert weekly["alerts"]["high"] == 2
    assert weekly["alerts"]["low"] == 0, "nine days ago is outside the week"
    assert daily["cases"] == {"opened": 2, "resolved": 1,
                              "open": {"critical": 0, "high": 0, "medium": 0, "low": 1}}
    assert daily["timings"]["mttd"] == {"count": 2, "mean": 600.0, "median": 600.0}
    assert [r["count"] for r in weekly["noisiest"]] == [2, 1]
    markdown = to_markdown(daily)
    assert markdown.startswith("# Daily briefing, ")
    assert "- 1 critical, 1 high" in markdown
    assert "- 2 opened, 1 resolved" in markdown
    assert "time to detect: mean 10m" in markdown
    page = to_html(daily)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_an_unknown_kind_is_refused(state_db: StateDB) -> None:
    with state_db.read() as session, pytest.raises(UsageError, match="unknown briefing 'monthly'"):
        briefing(session, "monthly", NOW)
