"""``/api/v1/metrics``: the SOC's metrics over a period (docs/metrics.md)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from watchkeeper.api.deps import ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.kpi import Period, compute
from watchkeeper.kpi.cases import case_report

router = APIRouter(prefix="/api/v1/metrics", tags=["kpi"])
Reader = Annotated[Principal, Depends(allow(Permission.METRICS_READ))]


@router.get("")
def kpi(
    services: ServicesDep,
    _: Reader,
    since: datetime | None = None,
    until: datetime | None = None,
    level: str | None = None,
) -> dict[str, Any]:
    """MTTD, MTTA and MTTR overall, by level and by rule; alerts per day; the noisiest
    rules and tuning advice, for alerts created in [since, until) (default: 30 days);
    ``cases``: MTTC and MTTR of the cases opened then, by severity and team."""
    period = Period.of(since, until)
    with services.db.read() as session:
        return {**asdict(compute(session, period, level)),
                "cases": asdict(case_report(session, period, services.cases.sla))}
