"""Alerts with known times, written as the alert writer would."""

from __future__ import annotations

from datetime import datetime, timedelta

from watchkeeper.alerts.model import AlertRow


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def alert(rule: str, level: str, host: str | None, first_seen: datetime, detect: float, *,
          ack: float | None = None, close: float | None = None,
          verdict: str | None = None) -> AlertRow:
    """An alert created ``detect`` seconds after its first event, acknowledged and closed
    ``ack`` and ``close`` seconds after it was created."""
    created = first_seen + s(detect)
    status = "closed" if close is not None else "acknowledged" if ack is not None else "new"
    return AlertRow(
        rule_id=rule, rule_title=f"Title of {rule}", level=level, group_key="g" * 64,
        host=host, entities={"host": host}, risk_score=50, status=status, verdict=verdict,
        first_seen=first_seen, last_seen=first_seen, first_event_id="e",
        first_ingested=first_seen, created_at=created, updated_at=created,
        acknowledged_at=None if ack is None else created + s(ack),
        closed_at=None if close is None else created + s(close),
    )
