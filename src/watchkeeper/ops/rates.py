"""Events per second by source type, from the ``watchkeeper_events_in`` counter.

A counter only grows, so a rate needs two readings: :class:`EventRates` keeps the
previous one and answers the rate between the two; on its first reading it answers the
average since the counter of each source type was created in this process (its
``_created`` sample). Each rate says which of the two it is."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import Counter

MIN_INTERVAL_S = 1.0
"""Readings closer than this are too close to divide by: the previous rate stands."""


@dataclass(frozen=True, slots=True)
class SourceRate:
    source_type: str
    total: int
    per_second: float | None
    over_s: float | None
    """The seconds the rate is measured over; None: no time has passed to measure over."""
    since_start: bool
    """True: the average since the first event of this source type in this process."""


def read_counter(counter: Counter) -> tuple[dict[str, float], dict[str, float]]:
    """source type → count, and source type → when its counter was created (epoch s)."""
    totals: dict[str, float] = {}
    created: dict[str, float] = {}
    for metric in counter.collect():
        for sample in metric.samples:
            source = sample.labels.get("source_type", "")
            if sample.name.endswith("_total"):
                totals[source] = sample.value
            elif sample.name.endswith("_created"):
                created[source] = sample.value
    return totals, created


class EventRates:
    """The sampler; one per server (kept on the app's state), safe across threads."""

    def __init__(self, counter: Counter,
                 clock: Callable[[], float] = lambda: datetime.now(UTC).timestamp()) -> None:
        self._counter = counter
        self._clock = clock
        self._lock = threading.Lock()
        self._previous: tuple[float, dict[str, float]] | None = None
        self._last: list[SourceRate] = []

    def read(self) -> list[SourceRate]:
        """The rate of every source type seen, busiest first."""
        with self._lock:
            now = self._clock()
            totals, created = read_counter(self._counter)
            previous = self._previous
            if previous is not None and now - previous[0] < MIN_INTERVAL_S and self._last:
                return self._last
            rates = [self._rate(source, total, now, previous, created.get(source))
                     for source, total in totals.items()]
            rates.sort(key=lambda r: (-(r.per_second or 0.0), -r.total, r.source_type))
            self._previous, self._last = (now, totals), rates
            return rates

    @staticmethod
    def _rate(source: str, total: float, now: float,
              previous: tuple[float, dict[str, float]] | None,
              created: float | None) -> SourceRate:
        if previous is not None and source in previous[1]:
            span = now - previous[0]
            return SourceRate(source, int(total), (total - previous[1][source]) / span,
                              round(span, 1), since_start=False)
        lived = None if created is None else now - created
        if lived is None or lived <= 0:
            return SourceRate(source, int(total), None, None, since_start=True)
        return SourceRate(source, int(total), total / lived, round(lived, 1), since_start=True)
