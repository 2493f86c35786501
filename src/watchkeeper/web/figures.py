"""What the metrics page draws: durations as people read them, and a day-by-day bar chart
as plain SVG geometry (rendered by the template, so the page needs no script)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from watchkeeper.kpi import DayCount
from watchkeeper.reports import duration

CHART_WIDTH = 720
CHART_HEIGHT = 120
GAP = 2


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    """``2026-01-02: 3 alerts``, for the bar's tooltip and screen readers."""


def day_bars(volume: Sequence[DayCount], width: int = CHART_WIDTH,
             height: int = CHART_HEIGHT) -> list[Bar]:
    """One bar per day, the busiest day as tall as the chart; a quiet day has no height."""
    if not volume:
        return []
    peak = max(day.count for day in volume) or 1
    step = width / len(volume)
    bars = []
    for n, day in enumerate(volume):
        tall = round(height * day.count / peak, 2)
        noun = "alert" if day.count == 1 else "alerts"
        bars.append(Bar(x=round(n * step, 2), y=round(height - tall, 2),
                        width=round(max(step - GAP, 1), 2), height=tall,
                        label=f"{day.day.isoformat()}: {day.count} {noun}"))
    return bars


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    label: str
    """``week of 2026-01-05: 4m 10s``, for the point's tooltip and screen readers."""


def trend_points(values: Sequence[tuple[str, float | None]], width: int = CHART_WIDTH,
                 height: int = CHART_HEIGHT, pad: int = 6) -> list[Point]:
    """A point per (label, seconds) with a value, the largest at the top of the chart;
    a week without a value has no point (the line joins its neighbours)."""
    peak = max((v for _, v in values if v is not None), default=0.0) or 1.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    return [Point(x=round(pad + n * step, 2),
                  y=round(pad + (height - 2 * pad) * (1 - value / peak), 2),
                  label=f"{name}: {duration(value)}")
            for n, (name, value) in enumerate(values) if value is not None]


def polyline(points: Sequence[Point]) -> str:
    """The ``points`` attribute of an SVG polyline through ``points``."""
    return " ".join(f"{p.x},{p.y}" for p in points)
