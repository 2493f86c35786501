"""SOC metrics from the state database: how fast alerts are raised, acknowledged and
closed, how many there are, and which rules raise false alarms (docs/metrics.md)."""

from watchkeeper.kpi.model import (
    Advice,
    DayCount,
    Durations,
    KpiReport,
    Period,
    RuleNoise,
    Timings,
)
from watchkeeper.kpi.service import compute, summarize

__all__ = [
    "Advice", "DayCount", "Durations", "KpiReport", "Period", "RuleNoise", "Timings",
    "compute", "summarize",
]
