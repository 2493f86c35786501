"""The server's metrics, in Prometheus text format at ``/metrics``.

One :class:`Metrics` object per server (its own registry, no module-level state).
Receivers keep plain counters of their own; :meth:`Metrics.watch_receivers` reads them
at scrape time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)

GAUGES = frozenset({"open_connections"})
"""Receiver values that go up and down (the others only grow)."""
ReceiverCounts = Callable[[], Mapping[str, Mapping[str, int]]]
"""receiver name → {"received": n, "accepted": n, "rejected": n, "dropped": n, ...}"""


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events_in = Counter(
            "watchkeeper_events_in", "Events parsed, by source type", ["source_type"], registry=r
        )
        self.events_stored = Counter(
            "watchkeeper_events_stored", "Events written to the event store", registry=r
        )
        self.records_rejected = Counter(
            "watchkeeper_records_rejected",
            "Records no parser could read (sent to the dead-letter store)",
            registry=r,
        )
        self.alerts_created = Counter(
            "watchkeeper_alerts_created", "Alerts created", registry=r
        )
        self.matches = Counter("watchkeeper_rule_matches", "Rule matches", registry=r)
        self.batches = Counter("watchkeeper_batches", "Batches processed", registry=r)
        self.batch_errors = Counter(
            "watchkeeper_batch_errors", "Batches that failed and will be retried", registry=r
        )
        self.stage_seconds = Histogram(
            "watchkeeper_stage_seconds",
            "Time per batch in each pipeline stage (detect = rule evaluation)",
            ["stage"],
            registry=r,
        )
        self.alert_latency = Histogram(
            "watchkeeper_ingest_to_alert_seconds",
            "From a matching event's arrival to its alert being stored",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.spool_backlog = Gauge(
            "watchkeeper_spool_backlog_bytes", "Received and not yet stored (queue depth)",
            registry=r,
        )
        self.lag = Gauge(
            "watchkeeper_pipeline_lag_seconds", "Age of the oldest chunk not yet stored",
            registry=r,
        )
        self.rules_loaded = Gauge("watchkeeper_rules_active", "Rules being evaluated", registry=r)

    def watch_receivers(self, counts: ReceiverCounts) -> None:
        self.registry.register(_ReceiverCollector(counts))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _ReceiverCollector(Collector):
    def __init__(self, counts: ReceiverCounts) -> None:
        self.counts = counts

    def collect(self) -> Iterable[Metric]:
        families: dict[str, CounterMetricFamily | GaugeMetricFamily] = {}
        for receiver, counters in self.counts().items():
            for name, value in counters.items():
                family = families.get(name)
                if family is None:
                    kind = GaugeMetricFamily if name in GAUGES else CounterMetricFamily
                    family = kind(
                        f"watchkeeper_receiver_{name}", f"Receiver {name}", labels=["receiver"]
                    )
                    families[name] = family
                family.add_metric([receiver], value)
        return list(families.values())
