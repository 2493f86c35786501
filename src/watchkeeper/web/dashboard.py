"""The dashboard: alert volume, open alerts and cases, MTTD and MTTR week by week, events
per second by source, and the noisiest rules, on one page with no script. Needs
``alerts:read``, like the queue it leads to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from watchkeeper.api.deps import ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.cases.escalation import SlaWatch
from watchkeeper.kpi import Period, compute
from watchkeeper.kpi.overview import open_alerts_by_level, open_cases_by_severity, weekly
from watchkeeper.ops.rates import EventRates
from watchkeeper.web.figures import (
    CHART_HEIGHT,
    CHART_WIDTH,
    day_bars,
    polyline,
    trend_points,
)
from watchkeeper.web.pages import _page

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Principal, Depends(allow(Permission.ALERTS_READ))]
VOLUME_DAYS = 14
TREND_WEEKS = 8
NOISY = 5


def event_rates(request: Request) -> EventRates:
    """The server's sampler of events per second, made on first use and kept on the app."""
    state = request.app.state
    rates: EventRates | None = getattr(state, "event_rates", None)
    if rates is None:
        rates = EventRates(state.services.metrics.events_in)
        state.event_rates = rates
    return rates


@router.get("/dashboard")
def dashboard_page(request: Request, services: ServicesDep, who: Viewer) -> HTMLResponse:
    now = datetime.now(UTC)
    with services.db.read() as session:
        recent = compute(session, Period.of(now - timedelta(days=VOLUME_DAYS), now), top=NOISY)
        by_level = open_alerts_by_level(session)
        by_severity = open_cases_by_severity(session)
        weeks = weekly(session, now, TREND_WEEKS)
    trends = {}
    for key, name in (("mttd", "Time to detect (MTTD)"), ("mttr", "Time to close (MTTR)")):
        values = [(f"week of {w.since.date().isoformat()}", getattr(w.timings, key).mean)
                  for w in weeks]
        points = trend_points(values)
        trends[key] = {"name": name, "points": points, "line": polyline(points)}
    overdue = SlaWatch(services.cases).overdue(now) if who.can(Permission.CASES_READ) else []
    return _page(request, "dashboard.html", who, report=recent, bars=day_bars(recent.volume),
                 overdue=overdue,
                 by_level=by_level, by_severity=by_severity, weeks=weeks, trends=trends,
                 rates=event_rates(request).read(), chart_width=CHART_WIDTH,
                 chart_height=CHART_HEIGHT, volume_days=VOLUME_DAYS,
                 can_cases=who.can(Permission.CASES_READ),
                 can_rules=who.can(Permission.RULES_READ))
