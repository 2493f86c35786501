"""The metrics page's durations and bar geometry."""

from __future__ import annotations

from datetime import date

import pytest

from watchkeeper.kpi import DayCount
from watchkeeper.reports import duration
from watchkeeper.web.figures import day_bars


@pytest.mark.parametrize(("seconds", "shown"), [
    (None, "–"), (0, "0s"), (42.4, "42s"), (250, "4m 10s"), (7500, "2h 5m"),
    (273_600, "3d 4h"), (-300, "-5m 0s"),
])
def test_durations_read_as_people_say_them(seconds: float | None, shown: str) -> None:
    assert duration(seconds) == shown


def test_the_busiest_day_is_as_tall_as_the_chart() -> None:
    volume = [DayCount(date(2026, 1, 1), 2), DayCount(date(2026, 1, 2), 0),
              DayCount(date(2026, 1, 3), 4)]
    bars = day_bars(volume, width=300, height=100)
    assert [(b.x, b.y, b.width, b.height) for b in bars] == [
        (0.0, 50.0, 98.0, 50.0), (100.0, 100.0, 98.0, 0.0), (200.0, 0.0, 98.0, 100.0),
    ]
    assert bars[0].label == "2026-01-01: 2 alerts"
    assert day_bars([]) == []
    assert day_bars([DayCount(date(2026, 1, 1), 0)])[0].height == 0
