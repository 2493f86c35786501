"""Findings kept across scans: one row per key, and the decisions taken on keys.

A scan (or an import) of one *source* — a repository, an image name, a host — is
ingested whole: what it reports is added or updated by key, and, for a complete scan, what
it no longer reports is marked fixed. A finding that comes back is reopened, not added
again, and every decision on its key (suppressed, risk accepted until a date, a VEX
statement) still applies: a version bump, a new image tag, a changed description or a
second tool never lose them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from watchkeeper.assets.model import AssetRow
from watchkeeper.audit.service import AuditLog
from watchkeeper.errors import NotFoundError, UsageError
from watchkeeper.state.db import StateDB
from watchkeeper.vulns.model import Finding, Severity
from watchkeeper.vulns.priority import Context, prioritize
from watchkeeper.vulns.store_model import FindingDecisionRow, FindingRow

DECISIONS = ("suppress", "accept", "vex")
VEX_STATES = ("not_affected", "affected", "fixed", "under_investigation")
QUIETING_VEX = ("not_affected", "fixed")
"""VEX states that take a finding out of the open list."""
MAX_LIST = 1000


@dataclass
class IngestReport:
    source: str
    new: int = 0
    updated: int = 0
    reopened: int = 0
    fixed: int = 0
    urgent: list[str] = field(default_factory=list)
    """Keys of open findings with no case yet that are exploited (KEV) or to act on
    (SSVC), on an internet-facing critical asset: each wants a case now."""


class FindingStore:
    def __init__(self, db: StateDB, audit: AuditLog,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db = db
        self.audit = audit
        self.clock = clock

    def ingest(self, actor: str, findings: Iterable[Finding], source: str, *,
               complete: bool = True, asset: str | None = None,
               context: Callable[[Finding, str | None], Context] | None = None,
               tools: Iterable[str] = ()) -> IngestReport:
        """Add or update what ``source`` reports. With ``complete`` (a whole scan of the
        source by these ``tools``, or by the tools of the findings), what the same tools
        reported there before and no longer do is fixed; other tools' findings are not."""
        if not source.strip():
            raise UsageError("a scan needs a source (a repository, an image, a host)")
        now = self.clock()
        merged = _by_key(findings)
        scanned = {t for t in tools} | {t for f in merged.values() for t in _tools(f)}
        report = IngestReport(source)
        with self.db.session() as session:
            rows = _known_rows(session, merged)
            seen: set[str] = set()
            for key, finding in merged.items():
                row = rows.get(key)
                if row is None:
                    row = FindingRow(key=key, first_seen=now, opened_at=now, status="open",
                                     tools=[], sources=[], aliases=[], fixed_in=[])
                    session.add(row)
                    report.new += 1
                elif row.status == "fixed":
                    row.status, row.fixed_at, row.opened_at = "open", None, now
                    report.reopened += 1
                else:
                    report.updated += 1
                seen.add(row.key)
                _fill(row, finding, source, now, new=row.id is None)
                if asset is not None:
                    row.asset = asset.strip().lower()[:255]
                _prioritize(row, context(finding, row.asset) if context else Context(
                    cvss_score=finding.cvss_score, cvss_vector=finding.cvss_vector))
                if _urgent(row) and not _in_force(session, [row.key], now):
                    report.urgent.append(row.key)
            if complete and scanned:
                report.fixed = self._fix_missing(session, source, scanned, seen, now)
            self.audit.append(session, actor, "vuln.ingest", "vuln_source", source, None,
                              {"new": report.new, "updated": report.updated,
                               "reopened": report.reopened, "fixed": report.fixed,
                               "tools": sorted(scanned), "complete": complete})
        return report

    def _fix_missing(self, session: Session, source: str, tools: set[str], seen: set[str],
                     now: datetime) -> int:
        fixed = 0
        gone = {_pair(source, tool) for tool in tools}
        open_rows = session.execute(select(FindingRow).where(
            FindingRow.status == "open")).scalars()
        for row in open_rows:
            if row.key in seen or not gone & set(row.sources):
                continue
            row.sources = [s for s in row.sources if s not in gone]
            if not row.sources:
                row.status, row.fixed_at = "fixed", now
                fixed += 1
        return fixed

    def reprioritize(self, context: Callable[[FindingRow], Context]) -> int:
        """Score every open finding again (the feeds or the inventory changed)."""
        with self.db.session() as session:
            rows = session.execute(select(FindingRow).where(FindingRow.status == "open")
                                   ).scalars().all()
            for row in rows:
                _prioritize(row, context(row))
            return len(rows)

    def apply_vex(self, actor: str, vuln_ids: Iterable[str], identity: tuple[str, str] | None,
                  state: str, reason: str) -> list[str]:
        """A VEX statement on the stored findings it names (by id or alias, and by package
        when it names one): the keys it was recorded on. A decision already in force with
        the same state is not recorded again."""
        ids = {i.upper() for i in vuln_ids}
        now = self.clock()
        with self.db.read() as session:
            rows = session.execute(select(FindingRow).where(
                FindingRow.kind == "vulnerability")).scalars().all()
            keys = [row.key for row in rows
                    if ids & {row.rule.upper(), *(a.upper() for a in row.aliases)}
                    and (identity is None or (row.ecosystem, row.package) == identity)]
            current = _in_force(session, keys, now)
        done = []
        for key in keys:
            held = current.get(key)
            if held and held["kind"] == "vex" and held["vex_state"] == state:
                continue
            self.decide(actor, key, "vex", reason or "VEX statement", vex_state=state)
            done.append(key)
        return done

    def in_force(self, key: str) -> dict[str, Any] | None:
        with self.db.read() as session:
            return _in_force(session, [key], self.clock()).get(key)

    def link_case(self, key: str, case_id: int) -> None:
        with self.db.session() as session:
            row = session.execute(select(FindingRow).where(FindingRow.key == key)
                                  ).scalar_one_or_none()
            if row is None:
                raise NotFoundError(f"no finding with key {key}")
            row.case_id = case_id

    def get(self, key: str) -> dict[str, Any]:
        with self.db.read() as session:
            row = session.execute(select(FindingRow).where(FindingRow.key == key)
                                  ).scalar_one_or_none()
            if row is None:
                raise NotFoundError(f"no finding with key {key}")
            return finding_dict(row)

    def decide(self, actor: str, key: str, kind: str, reason: str, *,
               expires_at: datetime | None = None,
               vex_state: str | None = None) -> dict[str, Any]:
        """Record a decision on a finding key; it applies to the finding whenever it is
        reported again."""
        if kind not in DECISIONS:
            raise UsageError(f"a decision is one of {', '.join(DECISIONS)}, not {kind!r}")
        if not reason.strip():
            raise UsageError("a decision needs a reason")
        if kind == "accept" and expires_at is None:
            raise UsageError("a risk acceptance needs an expiry date")
        if expires_at is not None and expires_at <= self.clock():
            raise UsageError("the expiry date is in the past")
        if kind == "vex" and vex_state not in VEX_STATES:
            raise UsageError(f"a VEX statement's state is one of {', '.join(VEX_STATES)}")
        with self.db.session() as session:
            if session.execute(select(FindingRow.id).where(FindingRow.key == key)
                               ).first() is None:
                raise NotFoundError(f"no finding with key {key}")
            row = FindingDecisionRow(key=key, kind=kind, reason=reason.strip(),
                                     vex_state=vex_state if kind == "vex" else None,
                                     decided_by=actor, decided_at=self.clock(),
                                     expires_at=expires_at)
            session.add(row)
            session.flush()
            found = decision_dict(row)
            self.audit.append(session, actor, "vuln.decide", "vuln_finding", key, None, found)
            return found

    def revoke(self, actor: str, decision_id: int) -> dict[str, Any]:
        with self.db.session() as session:
            row = session.get(FindingDecisionRow, decision_id)
            if row is None or row.revoked_at is not None:
                raise NotFoundError(f"no decision {decision_id} in force")
            before = decision_dict(row)
            row.revoked_at = self.clock()
            after = decision_dict(row)
            self.audit.append(session, actor, "vuln.revoke", "vuln_finding", row.key, before,
                              after)
            return after

    def decisions(self, key: str) -> list[dict[str, Any]]:
        """Every decision taken on ``key``, latest first, each marked ``in_force`` when it
        is the one that applies now (the latest not revoked and not expired)."""
        now = self.clock()
        with self.db.read() as session:
            rows = session.execute(select(FindingDecisionRow).where(
                FindingDecisionRow.key == key).order_by(FindingDecisionRow.decided_at.desc(),
                                                         FindingDecisionRow.id.desc())
            ).scalars().all()
            found = [decision_dict(row) for row in rows]
        current = next((d["id"] for d in found if d["revoked_at"] is None
                        and (d["expires_at"] is None or d["expires_at"] > now)), None)
        return [{**d, "in_force": d["id"] == current} for d in found]

    def find(self, *, status: str | None = "open", include_decided: bool = False,
             min_severity: Severity | None = None, limit: int = 100,
             offset: int = 0) -> list[dict[str, Any]]:
        """Findings, highest risk first, each with the decision in force on it. Suppressed,
        accepted and VEX-cleared findings are left out unless ``include_decided``."""
        now = self.clock()
        with self.db.read() as session:
            query = select(FindingRow)
            if status is not None:
                query = query.where(FindingRow.status == status)
            if min_severity is not None:
                wanted = [s.value for s in Severity if s.rank >= min_severity.rank]
                query = query.where(FindingRow.severity.in_(wanted))
            rows = session.execute(query.order_by(FindingRow.risk.desc().nulls_last(),
                                                  FindingRow.id)).scalars().all()
            decisions = _in_force(session, [row.key for row in rows], now)
        found = []
        for row in rows:
            decision = decisions.get(row.key)
            quiet = decision is not None and (decision["kind"] != "vex"
                                              or decision["vex_state"] in QUIETING_VEX)
            if quiet and not include_decided:
                continue
            found.append({**finding_dict(row), "decision": decision,
                          "overdue": row.status == "open" and row.due_at is not None
                          and row.due_at < now})
        return found[offset:offset + min(limit, MAX_LIST)]

    def trends(self) -> dict[str, Any]:
        """Open findings by severity and by decision, overdue ones, fixed ones."""
        now = self.clock()
        with self.db.read() as session:
            by_severity = dict(session.execute(
                select(FindingRow.severity, func.count()).where(FindingRow.status == "open")
                .group_by(FindingRow.severity)).all())
            by_decision = dict(session.execute(
                select(FindingRow.decision, func.count()).where(FindingRow.status == "open")
                .group_by(FindingRow.decision)).all())
            overdue = session.execute(select(func.count()).where(
                FindingRow.status == "open", FindingRow.due_at < now)).scalar_one()
            fixed = session.execute(select(func.count()).where(
                FindingRow.status == "fixed")).scalar_one()
            teams = session.execute(
                select(AssetRow.team, func.count(),
                       func.sum(case((FindingRow.due_at < now, 1), else_=0)))
                .select_from(FindingRow)
                .join(AssetRow, AssetRow.name == FindingRow.asset, isouter=True)
                .where(FindingRow.status == "open").group_by(AssetRow.team)).all()
        return {"open_by_severity": by_severity, "open_by_decision": by_decision,
                "overdue": int(overdue), "fixed": int(fixed),
                "by_team": {team or "(no team)": {"open": int(n), "overdue": int(late or 0)}
                            for team, n, late in teams}}


def _tools(finding: Finding) -> list[str]:
    return [t.strip() for t in finding.tool.split(",") if t.strip()]


def _pair(source: str, tool: str) -> str:
    return f"{source}|{tool}"


def _known_rows(session: Session, merged: dict[str, Finding]) -> dict[str, FindingRow]:
    """The stored row of each finding: by its key, or — when a tool now gives the flaw
    another id first (a CVE published for a GHSA) — by the same package, place and kind
    with an id in common, so that the row and its decisions keep their key."""
    if not merged:
        return {}
    rows = {row.key: row for row in session.execute(select(FindingRow).where(
        FindingRow.key.in_(list(merged)))).scalars()}
    for key, finding in merged.items():
        if key in rows or finding.package is None:
            continue
        ecosystem, name = finding.package.identity
        ids = {finding.rule.upper(), *(a.upper() for a in finding.aliases)}
        for row in session.execute(select(FindingRow).where(
                FindingRow.kind == finding.kind, FindingRow.ecosystem == ecosystem,
                FindingRow.package == name, FindingRow.location == finding.location[:2000])
                ).scalars():
            if ids & {row.rule.upper(), *(a.upper() for a in row.aliases)}:
                rows[key] = row
                break
    return rows


def _by_key(findings: Iterable[Finding]) -> dict[str, Finding]:
    """One finding per key: a key reported twice keeps the higher severity, and every
    tool that reported it."""
    merged: dict[str, Finding] = {}
    for finding in findings:
        known = merged.get(finding.key)
        if known is None:
            merged[finding.key] = finding
            continue
        tools = ",".join(sorted({*_tools(known), *_tools(finding)}))
        kept = finding if finding.severity.rank > known.severity.rank else known
        merged[finding.key] = replace(kept, tool=tools)
    return merged


def _fill(row: FindingRow, finding: Finding, source: str, now: datetime, new: bool) -> None:
    if new:  # what the key was made from; a later report keeps it, and adds its ids
        row.kind, row.rule = finding.kind, finding.rule[:200]
    row.title = finding.title[:1000]
    row.aliases = sorted({*row.aliases, *(a[:200] for a in finding.aliases),
                          finding.rule[:200]} - {row.rule})
    row.severity = finding.severity.value
    row.location = finding.location[:2000]
    if finding.package is not None:
        ecosystem, package = finding.package.identity
        row.ecosystem, row.package = ecosystem[:100], package[:500]
        row.version = finding.package.version[:200]
    row.fixed_in = [v[:200] for v in finding.fixed_in]
    row.tools = sorted({*row.tools, *_tools(finding)})
    row.sources = sorted({*row.sources, *(_pair(source, t) for t in _tools(finding))})
    row.cvss_score = finding.cvss_score
    row.cvss_vector = finding.cvss_vector[:200] if finding.cvss_vector else None
    row.description = finding.description
    row.last_seen = now


def _urgent(row: FindingRow) -> bool:
    inputs = row.priority_inputs
    return (row.status == "open" and row.case_id is None
            and (bool(inputs.get("kev")) or row.decision == "Act")
            and inputs.get("exposure") == "internet"
            and inputs.get("asset_criticality") == "critical")


def _prioritize(row: FindingRow, context: Context) -> None:
    priority = prioritize(context)
    row.risk, row.decision = priority.risk, priority.decision
    row.priority_inputs = priority.inputs
    row.due_at = (row.opened_at or row.first_seen) + priority.due_in


def _in_force(session: Session, keys: list[str], now: datetime) -> dict[str, dict[str, Any]]:
    if not keys:
        return {}
    rows = session.execute(select(FindingDecisionRow).where(
        FindingDecisionRow.key.in_(keys), FindingDecisionRow.revoked_at.is_(None),
        or_(FindingDecisionRow.expires_at.is_(None), FindingDecisionRow.expires_at > now))
        .order_by(FindingDecisionRow.decided_at)).scalars()
    return {row.key: decision_dict(row) for row in rows}  # the latest wins


def finding_dict(row: FindingRow) -> dict[str, Any]:
    return {"key": row.key, "kind": row.kind, "rule": row.rule, "aliases": list(row.aliases),
            "title": row.title, "severity": row.severity, "location": row.location,
            "ecosystem": row.ecosystem, "package": row.package, "version": row.version,
            "fixed_in": list(row.fixed_in), "tools": list(row.tools),
            "sources": sorted({s.rpartition("|")[0] or s for s in row.sources}),
            "status": row.status, "risk": row.risk,
            "ssvc": row.decision, "priority_inputs": dict(row.priority_inputs),
            "due_at": row.due_at, "first_seen": row.first_seen, "last_seen": row.last_seen,
            "fixed_at": row.fixed_at, "cvss_score": row.cvss_score,
            "cvss_vector": row.cvss_vector, "asset": row.asset, "case_id": row.case_id}


def decision_dict(row: FindingDecisionRow) -> dict[str, Any]:
    return {"id": row.id, "key": row.key, "kind": row.kind, "reason": row.reason,
            "vex_state": row.vex_state, "decided_by": row.decided_by,
            "decided_at": row.decided_at, "expires_at": row.expires_at,
            "revoked_at": row.revoked_at}
