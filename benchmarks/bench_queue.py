"""The alert queue at SIEM volume: how long the pages analysts open take to answer.

    python benchmarks/bench_queue.py [--alerts 1000000] [--repeat 7] [--url DATABASE_URL]

Fills a state database (SQLite in a temporary folder by default, or ``--url``, e.g. the
PostgreSQL of the machine) with ``--alerts`` alerts (500 rules, 5,000 hosts, levels and
risk spread as in a real queue, 2% of them still open) and 2,000 cases holding some of
them, then times, as medians over ``--repeat`` runs, what the web UI and the API ask:

* the open queue, highest risk first, first page of 50 (with its total count),
* the same for one host,
* every alert of one rule, newest first,
* one alert with its event ids,
* the open cases, and one case with its alerts, tasks and comments.

The reference, measured in the same run, is the open queue's SQL alone through the
database driver (no ORM, no counting): the ratio says what the service adds on top.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from watchkeeper.alerts.model import AlertEventRow, AlertRow
from watchkeeper.alerts.service import AlertFilter, AlertService
from watchkeeper.audit.service import AuditLog
from watchkeeper.cases.model import CaseAlertRow, CaseRow
from watchkeeper.cases.service import CaseService
from watchkeeper.state.db import StateDB, migrate, open_state

LEVELS = [("informational", 10), ("low", 30), ("medium", 35), ("high", 20), ("critical", 5)]
START = datetime(2026, 1, 1, tzinfo=UTC)


def median_ms(repeat: int, work: Callable[[], object]) -> float:
    work()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def fill(db: StateDB, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    levels = [name for name, weight in LEVELS for _ in range(weight)]
    alerts_table = AlertRow.metadata.tables["alerts"]
    links_table = AlertEventRow.metadata.tables["alert_events"]
    batch = 20_000
    for first in range(0, count, batch):
        rows, links = [], []
        for n in range(first, min(count, first + batch)):
            level = rng.choice(levels)
            host = f"host-{rng.randrange(5000):04d}"
            seen = START + timedelta(seconds=n * 25)
            status = "new" if rng.random() < 0.02 else "closed"
            rows.append({
                "id": n + 1, "rule_id": f"rule-{rng.randrange(500):03d}",
                "rule_title": f"Rule {n % 500}", "level": level, "tags": [], "tactics": [],
                "group_key": f"{n:064x}", "entities": {"host": host}, "host": host,
                "asset_criticality": None, "risk_score": rng.randrange(5, 100),
                "status": status, "verdict": None if status == "new" else "benign",
                "first_seen": seen, "last_seen": seen, "count": 1,
                "first_event_id": f"{n:012x}-0", "first_ingested": seen, "created_at": seen,
                "updated_at": seen,
            })
            links.append({"alert_id": n + 1, "rule_id": rows[-1]["rule_id"],
                          "event_id": f"{n:012x}-0", "timestamp": seen})
        with db.session() as session:
            session.execute(insert(alerts_table), rows)
            session.execute(insert(links_table), links)
    cases = CaseRow.metadata.tables["cases"]
    held = CaseAlertRow.metadata.tables["case_alerts"]
    with db.session() as session:
        session.execute(insert(cases), [
            {"id": c + 1, "title": f"case {c}", "description": "", "severity": "high",
             "priority": "P2", "status": "in_progress" if c % 3 else "closed",
             "assignee": None, "team": None, "tags": [], "tlp": "amber",
             "created_by": "bench", "created_at": START, "updated_at": START + timedelta(
                 minutes=c)}
            for c in range(2000)])
        session.execute(insert(held), [
            {"alert_id": a, "case_id": 1 + a % 2000, "added_by": "bench", "added_at": START}
            for a in range(1, min(count, 20_000) + 1)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--url", help="a database URL [default: SQLite in a temporary folder]")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wk-queue-") as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'state.db'}"
        migrate(url)
        db = open_state(url)
        if args.url:
            with db.session() as session:
                session.execute(text("TRUNCATE alerts, cases RESTART IDENTITY CASCADE"))
        started = time.perf_counter()
        fill(db, args.alerts)
        print(f"{args.alerts:,} alerts and 2,000 cases written in "
              f"{time.perf_counter() - started:.1f} s ({db.dialect})")
        alerts = AlertService(db, AuditLog(db))
        cases = CaseService(db, AuditLog(db))
        opened = ("new", "acknowledged")
        figures = {
            "open queue, first 50 by risk, with total": lambda: alerts.list(
                AlertFilter(status=opened, limit=50)),
            "open queue of one host": lambda: alerts.list(
                AlertFilter(status=opened, host="host-0042", limit=50)),
            "one rule's alerts, newest first": lambda: alerts.list(
                AlertFilter(rule_id="rule-042", sort="last_seen", limit=50)),
            "one alert with its event ids": lambda: alerts.get(args.alerts // 2),
            "open cases, first 50": lambda: cases.find(("new", "in_progress", "contained")),
            "one case with its alerts": lambda: cases.get(2),
        }
        results = {name: median_ms(args.repeat, work) for name, work in figures.items()}
        sql = text("SELECT * FROM alerts WHERE status IN ('new', 'acknowledged') "
                   "ORDER BY risk_score DESC, last_seen DESC, id DESC LIMIT 50")

        def raw() -> object:
            with db.engine.connect() as connection:
                return connection.execute(sql).fetchall()

        reference = median_ms(args.repeat, raw)
        for name, ms in results.items():
            print(f"{name}: {ms:.1f} ms (median of {args.repeat})")
        queue = results["open queue, first 50 by risk, with total"]
        print(f"reference, the open queue's SQL alone: {reference:.1f} ms; "
              f"service / reference: {queue / reference:.1f}")
        db.close()


if __name__ == "__main__":
    main()
