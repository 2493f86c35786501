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

StartPlaybook = Callable[[str, str, dict[str, Any], int], Any]
"""(actor, playbook, inputs, case id): start a playbook run for a case."""


@dataclass
class ImportOutcome:
    ingest: IngestReport
    skipped: list[tuple[str, str]] = field(default_factory=list)
    vex_applied: int = 0
    assets_seen: list[str] = field(default_factory=list)
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
        return {"feed": name, "entries": len(entries)}

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

    def context_for(self, asset: str | None) -> Callable[[Finding], Context]:
        """Each finding's priority context: its CVSS, the feeds' figures for its CVE ids,
        and the inventory's criticality and exposure of ``asset``."""
        epss: dict[str, Epss] = self._feed("epss")
        kev: dict[str, Kev] = self._feed("kev")
        record = None
        if asset:
            wanted = asset.strip().lower()
            record = next((a for a in self.assets.list() if a["name"] == wanted), None)

        def context(finding: Finding) -> Context:
            ids = [i.upper() for i in (finding.rule, *finding.aliases)]
            return Context(
                cvss_score=finding.cvss_score, cvss_vector=finding.cvss_vector,
                epss=next((epss[i] for i in ids if i in epss), None),
                kev=next((kev[i] for i in ids if i in kev), None),
                asset_criticality=record["criticality"] if record else None,
                exposure=record["exposure"] if record else None)

        return context

    # reports -------------------------------------------------------------------------

    def import_report(self, actor: str, data: bytes, *, source: str,
                      format: str | None = None, asset: str | None = None,
                      complete: bool = True) -> ImportOutcome:
        """Import a scanner's report for ``source``: findings merged across tools, VEX
        statements turned into decisions, hosts an nmap scan found listed."""
        result = import_report(data, source=source, format=format)
        findings = merge_findings(result.findings)
        ingest = self.store.ingest(actor, findings, source, complete=complete, asset=asset,
                                   context=self.context_for(asset))
        outcome = ImportOutcome(ingest, list(result.skipped),
                                assets_seen=self._add_hosts(actor, result.assets))
        for statement in result.vex:
            for finding in findings:
                if statement.applies_to(finding):
                    self.store.decide(actor, finding.key, "vex",
                                      statement.detail or statement.justification
                                      or "VEX statement", vex_state=statement.state)
                    outcome.vex_applied += 1
        outcome.escalated = self.escalate(actor, ingest.urgent)
        return outcome

    def _add_hosts(self, actor: str, hosts: list[Any]) -> list[str]:
        """Hosts a network scan found that the inventory lacks, added (criticality medium,
        exposure unknown) for a person to complete; the names of all hosts seen."""
        known = {(a["name"], a["ip"]) for a in self.assets.list()}
        names, ips = {n for n, _ in known}, {ip for _, ip in known if ip}
        seen = []
        for host in hosts:
            name = (host.hostnames[0] if host.hostnames else host.address).lower()
            seen.append(name)
            if name in names or host.address in ips:
                continue
            self.assets.put(actor, name, "medium", host.address, None,
                            "discovered by nmap", kind="host")
            names.add(name)
        return sorted(set(seen))

    def escalate(self, actor: str, keys: list[str]) -> list[dict[str, Any]]:
        """A case for each urgent finding (once per key), and the patch playbook started on
        it when one is configured."""
        made = []
        for key in keys:
            finding = self.store.get(key)
            if finding["case_id"] is not None:
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
