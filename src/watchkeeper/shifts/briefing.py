"""Daily and weekly briefings: what the SOC saw and did over a day or a week, for managers
and the next shifts, from the same sources as a handover (alerts, cases, audited changes)
plus the SOC's metrics.

A briefing is computed when asked for and not stored: the same period gives the same
figures, except for what was changed in the state database since.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchkeeper.alerts.model import AlertRow
from watchkeeper.cases.model import CaseRow
from watchkeeper.cases.service import OPEN_STATUSES
from watchkeeper.cases.service import SEVERITIES as CASE_SEVERITIES
from watchkeeper.detection.rules import LEVELS as RULE_LEVELS
from watchkeeper.errors import UsageError
from watchkeeper.kpi.model import Durations, Period
from watchkeeper.kpi.service import compute
from watchkeeper.reports import NONE_RECORDED, STYLE, duration, md
from watchkeeper.shifts.snapshot import notable_changes

SPANS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
LEVELS = tuple(reversed(RULE_LEVELS))
"""Worst first, as a briefing lists them."""
SEVERITIES = tuple(reversed(CASE_SEVERITIES))
TOP_RULES = 5


def briefing(session: Session, kind: str, now: datetime) -> dict[str, Any]:
    """The briefing of the day (or week) that ends at ``now``: JSON-ready sections."""
    if kind not in SPANS:
        raise UsageError(f"unknown briefing {kind!r} (known: {', '.join(SPANS)})")
    start = now - SPANS[kind]
    in_period = (AlertRow.created_at >= start, AlertRow.created_at < now)
    by_level = dict(session.execute(
        select(AlertRow.level, func.count()).where(*in_period).group_by(AlertRow.level)).all())
    opened = session.execute(select(func.count()).select_from(CaseRow).where(
        CaseRow.created_at >= start, CaseRow.created_at < now)).scalar_one()
    resolved = session.execute(select(func.count()).select_from(CaseRow).where(
        CaseRow.resolved_at >= start, CaseRow.resolved_at < now)).scalar_one()
    open_cases = dict(session.execute(
        select(CaseRow.severity, func.count())
        .where(CaseRow.status.in_(OPEN_STATUSES))
        .group_by(CaseRow.severity)).all())
    report = compute(session, Period.of(start, now))
    return {
        "kind": kind,
        "period": {"start": start, "end": now},
        "alerts": {level: int(by_level.get(level, 0)) for level in LEVELS},
        "cases": {"opened": int(opened), "resolved": int(resolved),
                  "open": {s: int(open_cases.get(s, 0)) for s in SEVERITIES}},
        "timings": {name: _durations(getattr(report.overall, name))
                    for name in ("mttd", "mtta", "mttr")},
        "noisiest": [
            {"rule_title": r.rule_title, "count": r.count,
             "false_alarm_rate": r.false_alarm_rate}
            for r in report.noisiest[:TOP_RULES]
        ],
        "changes": notable_changes(session, start, now),
    }


def _durations(found: Durations) -> dict[str, Any]:
    return {"count": found.count, "mean": found.mean, "median": found.median}


def sections(content: dict[str, Any]) -> list[tuple[str, list[str]]]:
    alerts, cases, timings = content["alerts"], content["cases"], content["timings"]
    raised = [f"{count} {level}" for level, count in alerts.items() if count]
    names = {"mttd": "time to detect", "mtta": "time to acknowledge", "mttr": "time to close"}
    return [
        ("Alerts raised", [", ".join(raised)] if raised else []),
        ("Cases", [f"{cases['opened']} opened, {cases['resolved']} resolved",
                   "open now: " + ", ".join(f"{n} {s}" for s, n in cases["open"].items())]),
        ("Response times", [
            f"{names[key]}: mean {duration(t['mean'])}, median {duration(t['median'])} "
            f"({t['count']} alerts)"
            for key, t in timings.items() if t["count"]
        ]),
        ("Noisiest rules", [
            f"{r['rule_title']}: {r['count']} alerts"
            + ("" if r["false_alarm_rate"] is None
               else f", {r['false_alarm_rate']:.0%} false alarms")
            for r in content["noisiest"]
        ]),
        ("Notable changes", [f"{c['actor']}: {c['summary']}" for c in content["changes"]]),
    ]


def title(content: dict[str, Any]) -> str:
    period = content["period"]
    return (f"{content['kind'].capitalize()} briefing, {period['start']:%Y-%m-%d %H:%M} to "
            f"{period['end']:%Y-%m-%d %H:%M} UTC")


def to_markdown(content: dict[str, Any]) -> str:
    out = [f"# {md(title(content))}", ""]
    for name, lines in sections(content):
        out += [f"## {name}", ""]
        out += [f"- {md(line)}" for line in lines] or [NONE_RECORDED]
        out.append("")
    return "\n".join(out)


def to_html(content: dict[str, Any]) -> str:
    """A page to print or mail: no scripts, no outside resources, every value escaped."""
    e = html.escape
    body = [f"<h1>{e(title(content))}</h1>"]
    for name, lines in sections(content):
        body.append(f"<h2>{e(name)}</h2>")
        body.append("<ul>" + "".join(f"<li>{e(line)}</li>" for line in lines) + "</ul>"
                    if lines else f"<p>{NONE_RECORDED}</p>")
    return ('<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{e(title(content))}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")
