"""Vulnerability management in a running Watchkeeper: reports imported into the finding
store, prioritized with the asset inventory and the EPSS and KEV feeds, and what is urgent
on an exposed critical asset escalated to a case and the patch playbook."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchkeeper.assets.service import AssetService
from watchkeeper.audit.service import AuditLog
from watchkeeper.cases.service import CaseService, NewCase
from watchkeeper.errors import UsageError, WatchkeeperError
from watchkeeper.state.db import StateDB
from watchkeeper.vulns.dedup import merge_findings
from watchkeeper.vulns.importers import import_report
from watchkeeper.vulns.model import Finding
from watchkeeper.vulns.priority import Context, Epss, Kev, read_epss, read_kev
from watchkeeper.vulns.store import FindingStore, IngestReport

log = logging.getLogger(__name__)
FEEDS = {"epss": "epss.csv", "kev": "kev.json"}
MAX_FEED_BYTES = 64 << 20
PATCH_PLAYBOOK = "critical-vulnerability"
ESCALATION_ACTOR = "system:vulns"
VEX_STATES = {
    "not_affected": "not_affected", "false_positive": "not_affected",
    "resolved": "fixed", "resolved_with_pedigree": "fixed", "fixed": "fixed",
    "exploitable": "affected", "affected": "affected",
    "in_triage": "under_investigation", "under_investigation": "under_investigation",
}
"""CycloneDX and OpenVEX states → the VEX states a decision records."""

StartPlaybook = Callable[[str, str, dict[str, Any], int], Any]
"""(actor, playbook, inputs, case id): start a playbook run for a case."""


@dataclass
class ImportOutcome:
    ingest: IngestReport
    skipped: list[tuple[str, str]] = field(default_factory=list)
    vex_applied: int = 0
    assets_seen: list[str] = field(default_factory=list)
    assets_missing: list[dict[str, Any]] = field(default_factory=list)
    escalated: list[dict[str, Any]] = field(default_factory=list)


class VulnService:
    def __init__(self, db: StateDB, audit: AuditLog, assets: AssetService, cases: CaseService,
                 folder: Path, start_playbook: StartPlaybook | None = None) -> None:
        self.store = FindingStore(db, audit)
        self.assets = assets
        self.cases = cases
        self.folder = folder
        self.start_playbook = start_playbook
        self._feeds: dict[str, tuple[float, dict[str, Any]]] = {}

    # feeds ---------------------------------------------------------------------------

    def put_feed(self, name: str, data: bytes) -> dict[str, Any]:
        """Store a new copy of a feed (FIRST's EPSS CSV, CISA's KEV JSON), checked first."""
        if name not in FEEDS:
            raise UsageError(f"unknown feed {name!r} (known: {', '.join(FEEDS)})")
        if len(data) > MAX_FEED_BYTES:
            raise UsageError(f"a feed is {MAX_FEED_BYTES} bytes at most")
        entries = read_epss(data) if name == "epss" else read_kev(data)
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / FEEDS[name]
        partial = target.with_suffix(".partial")
        partial.write_bytes(data)
        os.replace(partial, target)
        return {"feed": name, "entries": len(entries), "rescored": self.reprioritize()}

    def _feed(self, name: str) -> dict[str, Any]:
        path = self.folder / FEEDS[name]
        try:
            stamp = path.stat().st_mtime
        except OSError:
            return {}
        cached = self._feeds.get(name)
        if cached is None or cached[0] != stamp:
            data = path.read_bytes()
            loaded: dict[str, Any] = dict(read_epss(data) if name == "epss" else read_kev(data))
            self._feeds[name] = cached = (stamp, loaded)
        return cached[1]

    def context_for(self) -> Callable[[Finding, str | None], Context]:
        """Each finding's priority context: its CVSS, the feeds' figures for its ids, and
        the inventory's criticality and exposure of the asset it is on."""
        epss: dict[str, Epss] = self._feed("epss")
        kev: dict[str, Kev] = self._feed("kev")
        inventory = {a["name"]: a for a in self.assets.list()}

        def context(finding: Finding, asset: str | None) -> Context:
            return self._context([finding.rule, *finding.aliases], finding.cvss_score,
                                 finding.cvss_vector, inventory.get(asset or ""), epss, kev)

        return context

    @staticmethod
    def _context(ids: list[str], score: float | None, vector: str | None,
                 record: dict[str, Any] | None, epss: dict[str, Epss],
                 kev: dict[str, Kev]) -> Context:
        upper = [i.upper() for i in ids]
        return Context(cvss_score=score, cvss_vector=vector,
                       epss=next((epss[i] for i in upper if i in epss), None),
                       kev=next((kev[i] for i in upper if i in kev), None),
                       asset_criticality=record["criticality"] if record else None,
                       exposure=record["exposure"] if record else None)

    def reprioritize(self) -> int:
        """Score the open findings again, after a feed or the inventory changed."""
        epss: dict[str, Epss] = self._feed("epss")
        kev: dict[str, Kev] = self._feed("kev")
        inventory = {a["name"]: a for a in self.assets.list()}
        return self.store.reprioritize(lambda row: self._context(
            [row.rule, *row.aliases], row.cvss_score, row.cvss_vector,
            inventory.get(row.asset or ""), epss, kev))

    # reports -------------------------------------------------------------------------

    def import_report(self, actor: str, data: bytes, *, source: str,
                      format: str | None = None, asset: str | None = None,
                      complete: bool = True, add_hosts: bool = False) -> ImportOutcome:
        """Import a scanner's report for ``source``: findings merged across tools and kept
        by key; VEX statements recorded as decisions on the stored findings they name;
        hosts a network scan found listed, and the ones the inventory lacks proposed, or
        added with ``add_hosts`` (for a caller who may manage assets). A report with records
        left out is not complete: it fixes nothing."""
        result = import_report(data, source=source, format=format)
        findings = merge_findings(result.findings)
        if findings or not result.vex:
            ingest = self.store.ingest(
                actor, findings, source, complete=complete and not result.skipped,
                asset=asset, context=self.context_for(), tools=[format] if format else ())
        else:
            ingest = IngestReport(source)
        outcome = ImportOutcome(ingest, list(result.skipped))
        outcome.assets_seen, outcome.assets_missing = self._hosts(result.assets)
        if add_hosts:
            for host in outcome.assets_missing:
                self.assets.put(actor, host["name"], "medium", host["ip"], None,
                                "discovered by network scan", kind="host")
                host["added"] = True
        for statement in result.vex:
            state = VEX_STATES.get(statement.state)
            if state is None:
                outcome.skipped.append((statement.vuln_id,
                                        f"VEX state {statement.state!r} is not known"))
                continue
            outcome.vex_applied += len(self.store.apply_vex(
                actor, [statement.vuln_id, *statement.aliases], statement.identity, state,
                statement.detail or statement.justification or "VEX statement"))
        outcome.escalated = self.escalate(ingest.urgent)
        return outcome

    def _hosts(self, hosts: list[Any]) -> tuple[list[str], list[dict[str, Any]]]:
        """The hosts a network scan found, and those the inventory lacks (proposed for a
        person with ``assets:manage`` to add)."""
        known = self.assets.list()
        names = {a["name"] for a in known}
        ips = {a["ip"] for a in known if a["ip"]}
        seen, missing = [], []
        for host in hosts:
            name = (host.hostnames[0] if host.hostnames else host.address).lower()
            seen.append(name)
            if name not in names and host.address not in ips:
                missing.append({"name": name, "ip": host.address,
                                "services": [f"{s.port}/{s.protocol}" for s in host.services
                                             if s.state == "open"]})
        return sorted(set(seen)), missing

    def escalate(self, keys: list[str]) -> list[dict[str, Any]]:
        """A case for each urgent finding (once per key, never for one suppressed, accepted
        or cleared by VEX), and the patch playbook started on it when its triggers are on.
        Both act as ``system:vulns``: the playbook asks its own approvals."""
        actor = ESCALATION_ACTOR
        made = []
        for key in keys:
            finding = self.store.get(key)
            if finding["case_id"] is not None or self.store.in_force(key) is not None:
                continue
            why = ("in CISA's Known Exploited Vulnerabilities catalog"
                   if finding["priority_inputs"].get("kev") else "SSVC decision Act")
            case = self.cases.create(actor, NewCase(
                title=f"{finding['rule']} on {finding['asset']}: patch now"[:500],
                severity="critical",
                description=(f"{finding['title']}\n\n{finding['rule']} in "
                             f"{finding['package'] or finding['location']} "
                             f"{finding['version'] or ''} on internet-facing critical asset "
                             f"{finding['asset']}: {why}; risk {finding['risk']}, fix by "
                             f"{finding['due_at']:%Y-%m-%d}."),
                tags=("vulnerability", finding["rule"].lower())))
            self.store.link_case(key, case["id"])
            run = None
            if self.start_playbook is not None:
                try:
                    run = self.start_playbook(actor, PATCH_PLAYBOOK, {
                        "asset": finding["asset"], "cve": finding["rule"],
                        "severity": "critical"}, case["id"])
                except WatchkeeperError as error:
                    log.warning("patch playbook not started", extra={"case": case["id"],
                                                                      "error": str(error)})
            made.append({"key": key, "case_id": case["id"],
                         "run_id": run["id"] if isinstance(run, dict) else None})
        return made
