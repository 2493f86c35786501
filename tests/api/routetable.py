"""Every route of the app, the permission it needs, and a minimal valid call of it.

The matrix tests walk the app's own routes and look each one up here, so that a route
added without an entry fails them. ``PUBLIC`` routes need no credentials at all;
``SIGNED_IN`` ones need a person's session or API token but no particular permission.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.routing import APIRoute

from tests.serverfixtures import ROOT, Api
from watchkeeper.alerts.service import AlertFilter
from watchkeeper.api.case_evidence import evidence_of
from watchkeeper.api.shifts import shifts_of
from watchkeeper.auth.principal import SYSTEM
from watchkeeper.auth.roles import Permission
from watchkeeper.cases.service import NewCase
from watchkeeper.intel.model import IndicatorIn
from watchkeeper.response.run_model import ContainmentRow
from watchkeeper.vulns.model import Finding, Package, Severity

P = Permission
PUBLIC = "public"
SIGNED_IN = "signed in"
Need = Permission | str


@dataclass(frozen=True)
class Entry:
    """What a route needs, and a call of it whose inputs are valid.

    Path placeholders are filled by :meth:`World.value`; ``form`` marks a web UI form post.
    """

    need: Need
    json: Any = None
    form: dict[str, str] | None = None
    query: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    """A multipart upload."""


EVENT_LINE = b'{"EventID": 4624, "Channel": "Security", "Computer": "matrix"}\n'
EXCEPTION = {"reason": "matrix", "match": {"host.name": "matrix.invalid"}}
ROSTER_SHIFT = {"name": "matrix", "start": "00:00", "end": "00:00"}
SPAN = {"start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"}
PLAYBOOK = "matrix"
"""A playbook of the server's (``tests/data/playbooks``): it waits on an approval."""
INTEL_FEED = ROOT / "tests" / "data" / "intel" / "stix" / "bundle.json"

TABLE: dict[tuple[str, str], Entry] = {
    # operations
    ("GET", "/healthz"): Entry(PUBLIC),
    ("GET", "/metrics"): Entry(SIGNED_IN),
    # signing in, users, tokens
    ("POST", "/api/v1/auth/login"): Entry(PUBLIC),
    ("POST", "/api/v1/auth/logout"): Entry(SIGNED_IN),
    ("GET", "/api/v1/auth/me"): Entry(SIGNED_IN),
    ("GET", "/api/v1/users"): Entry(P.USERS_MANAGE),
    ("POST", "/api/v1/users"): Entry(P.USERS_MANAGE, json={"username": "made", "role": "viewer"}),
    ("PATCH", "/api/v1/users/{user_id}"): Entry(P.USERS_MANAGE, json={"role": "viewer"}),
    ("POST", "/api/v1/users/{user_id}/password"): Entry(
        P.USERS_MANAGE, json={"password": "another long pass phrase"}
    ),
    ("GET", "/api/v1/tokens"): Entry(SIGNED_IN),
    ("POST", "/api/v1/tokens"): Entry(SIGNED_IN, json={"name": "matrix"}),
    ("DELETE", "/api/v1/tokens/{token_id}"): Entry(SIGNED_IN),
    # alerts
    ("GET", "/api/v1/alerts"): Entry(P.ALERTS_READ),
    ("GET", "/api/v1/alerts/{alert_id}"): Entry(P.ALERTS_READ),
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): Entry(P.ALERTS_TRIAGE, json={}),
    ("POST", "/api/v1/alerts/{alert_id}/close"): Entry(
        P.ALERTS_TRIAGE, json={"verdict": "benign"}
    ),
    ("POST", "/api/v1/alerts/{alert_id}/reopen"): Entry(P.ALERTS_TRIAGE, json={}),
    ("POST", "/api/v1/alerts/bulk"): Entry(
        P.ALERTS_TRIAGE, json={"ids": [1], "action": "acknowledge"}
    ),
    # cases
    ("GET", "/api/v1/cases"): Entry(P.CASES_READ),
    ("POST", "/api/v1/cases"): Entry(P.CASES_MANAGE, json={"title": "matrix"}),
    ("POST", "/api/v1/cases/from-alert/{alert_id}"): Entry(P.CASES_MANAGE),
    ("GET", "/api/v1/cases/templates"): Entry(P.CASES_READ),
    ("GET", "/api/v1/cases/sla"): Entry(P.CASES_READ),
    ("GET", "/api/v1/notifications"): Entry(P.CASES_READ),
    ("GET", "/api/v1/cases/{case_id}"): Entry(P.CASES_READ),
    ("PATCH", "/api/v1/cases/{case_id}"): Entry(P.CASES_MANAGE, json={"assignee": "matrix"}),
    ("POST", "/api/v1/cases/{case_id}/alerts"): Entry(P.CASES_MANAGE, json={"alert_ids": [1]}),
    ("POST", "/api/v1/cases/{case_id}/tasks"): Entry(P.CASES_MANAGE, json={"title": "matrix"}),
    ("POST", "/api/v1/cases/{case_id}/tasks/{task_id}"): Entry(
        P.CASES_MANAGE, json={"status": "done"}
    ),
    ("POST", "/api/v1/cases/{case_id}/comments"): Entry(P.CASES_MANAGE, json={"body": "matrix"}),
    ("GET", "/api/v1/cases/{case_id}/timeline"): Entry(P.CASES_READ),
    ("PUT", "/api/v1/cases/{case_id}/review"): Entry(
        P.CASES_MANAGE, json={"what_happened": "matrix"}),
    ("GET", "/api/v1/cases/{case_id}/report"): Entry(P.CASES_READ, query={"format": "html"}),
    ("GET", "/api/v1/cases/{case_id}/observables"): Entry(P.CASES_READ),
    ("POST", "/api/v1/cases/{case_id}/observables"): Entry(
        P.CASES_MANAGE, json={"kind": "ip", "value": "192.0.2.1"}),
    ("GET", "/api/v1/cases/{case_id}/evidence"): Entry(P.CASES_READ),
    ("POST", "/api/v1/cases/{case_id}/evidence"): Entry(
        P.CASES_MANAGE, files={"file": ("matrix.txt", b"matrix", "text/plain")}),
    ("GET", "/api/v1/cases/{case_id}/evidence/{evidence_id}"): Entry(P.CASES_READ),
    ("GET", "/api/v1/cases/{case_id}/killchain"): Entry(P.CASES_READ),
    # rules and exceptions
    ("GET", "/api/v1/rules"): Entry(P.RULES_READ),
    ("PATCH", "/api/v1/rules/{rule_id}"): Entry(P.RULES_MANAGE, json={"enabled": True}),
    ("POST", "/api/v1/rules/reload"): Entry(P.RULES_MANAGE),
    ("GET", "/api/v1/rules/exceptions/"): Entry(P.RULES_READ),
    ("POST", "/api/v1/rules/exceptions/"): Entry(P.EXCEPTIONS_MANAGE, json=EXCEPTION),
    ("DELETE", "/api/v1/rules/exceptions/{exception_id}"): Entry(P.EXCEPTIONS_MANAGE),
    # assets
    ("GET", "/api/v1/assets"): Entry(P.EVENTS_READ),
    ("PUT", "/api/v1/assets"): Entry(P.ASSETS_MANAGE, json={"name": "matrix-host"}),
    ("GET", "/api/v1/assets/proposed"): Entry(P.EVENTS_READ),
    ("POST", "/api/v1/assets/import"): Entry(P.ASSETS_MANAGE,
                                             body=b"name,criticality\nmatrix-csv,high\n"),
    ("DELETE", "/api/v1/assets/{asset_id}"): Entry(P.ASSETS_MANAGE),
    # dead letters
    ("GET", "/api/v1/dead-letters"): Entry(P.DEADLETTERS_READ),
    ("GET", "/api/v1/dead-letters/{letter_id}"): Entry(P.DEADLETTERS_READ),
    ("POST", "/api/v1/dead-letters/{letter_id}/replay"): Entry(P.DEADLETTERS_REPLAY, json={}),
    # events
    ("GET", "/api/v1/events"): Entry(P.EVENTS_READ, query={"q": "EventID:1102"}),
    ("GET", "/api/v1/events/histogram"): Entry(P.EVENTS_READ, query=SPAN),
    ("GET", "/api/v1/events/{event_id}"): Entry(P.EVENTS_READ),
    # ingest: no role holds it, only ingest tokens
    ("POST", "/api/v1/ingest"): Entry(P.INGEST, query={"type": "winlog-json"}, body=EVENT_LINE),
    ("POST", "/api/v1/ingest/{source_type}"): Entry(P.INGEST, body=EVENT_LINE),
    # audit
    ("GET", "/api/v1/audit"): Entry(P.AUDIT_READ),
    ("GET", "/api/v1/audit/verify"): Entry(P.AUDIT_READ),
    # SOC metrics
    ("GET", "/api/v1/metrics"): Entry(P.METRICS_READ),
    ("GET", "/api/v1/briefing"): Entry(P.METRICS_READ, query={"kind": "weekly"}),
    # shifts and handovers
    ("GET", "/api/v1/shifts"): Entry(P.CASES_READ),
    ("PUT", "/api/v1/shifts"): Entry(P.SHIFTS_MANAGE, json={"shifts": [ROSTER_SHIFT]}),
    ("GET", "/api/v1/handovers"): Entry(P.CASES_READ, query={"q": "shift"}),
    ("POST", "/api/v1/handovers"): Entry(P.HANDOVERS_WRITE, json={}),
    ("GET", "/api/v1/handovers/{handover_id}"): Entry(P.CASES_READ, query={"format": "html"}),
    ("POST", "/api/v1/handovers/{handover_id}/acknowledge"): Entry(P.HANDOVERS_WRITE),
    # the web UI
    ("GET", "/"): Entry(PUBLIC),
    ("GET", "/login"): Entry(PUBLIC),
    ("POST", "/login"): Entry(PUBLIC),
    ("GET", "/alerts"): Entry(P.ALERTS_READ),
    ("GET", "/alerts/{alert_id}"): Entry(P.ALERTS_READ),
    ("POST", "/alerts/{alert_id}/acknowledge"): Entry(P.ALERTS_TRIAGE, form={}),
    ("POST", "/alerts/{alert_id}/close"): Entry(P.ALERTS_TRIAGE, form={"verdict": "benign"}),
    ("POST", "/alerts/{alert_id}/promote"): Entry(P.CASES_MANAGE, form={}),
    ("GET", "/cases"): Entry(P.CASES_READ),
    ("GET", "/cases/{case_id}"): Entry(P.CASES_READ),
    ("POST", "/cases/{case_id}/status"): Entry(P.CASES_MANAGE, form={"status": "in_progress"}),
    ("POST", "/cases/{case_id}/tasks"): Entry(P.CASES_MANAGE, form={"title": "matrix"}),
    ("POST", "/cases/{case_id}/comments"): Entry(P.CASES_MANAGE, form={"body": "matrix"}),
    ("POST", "/cases/{case_id}/review"): Entry(P.CASES_MANAGE, form={"what_happened": "m"}),
    ("GET", "/rules"): Entry(P.RULES_READ),
    ("POST", "/rules/{rule_id}/{action}"): Entry(P.RULES_MANAGE, form={}),
    ("POST", "/rules/exceptions"): Entry(
        P.EXCEPTIONS_MANAGE, form={"reason": "matrix", "match": json.dumps(EXCEPTION["match"])}
    ),
    ("POST", "/rules/exceptions/{exception_id}/delete"): Entry(P.EXCEPTIONS_MANAGE, form={}),
    ("GET", "/search"): Entry(P.EVENTS_READ, query={"q": "EventID:1102", "range": "all"}),
    ("GET", "/dead-letters"): Entry(P.DEADLETTERS_READ),
    ("GET", "/kpi"): Entry(P.METRICS_READ),
    ("POST", "/dead-letters/{letter_id}/replay"): Entry(P.DEADLETTERS_REPLAY, form={}),
    ("GET", "/dashboard"): Entry(P.ALERTS_READ),
    ("POST", "/alerts/bulk"): Entry(P.ALERTS_TRIAGE, form={"ids": "1", "action": "acknowledge"}),
    ("GET", "/admin/users"): Entry(P.USERS_MANAGE),
    ("POST", "/admin/users"): Entry(P.USERS_MANAGE, form={"username": "webmade", "role": "viewer"}),
    ("POST", "/admin/users/{user_id}/role"): Entry(P.USERS_MANAGE, form={"role": "viewer"}),
    ("POST", "/admin/users/{user_id}/active"): Entry(P.USERS_MANAGE, form={"active": "yes"}),
    ("GET", "/admin/tokens"): Entry(P.TOKENS_MANAGE),
    ("POST", "/admin/tokens"): Entry(P.TOKENS_MANAGE, form={"name": "matrix", "owner_id": "1"}),
    ("POST", "/admin/tokens/{token_id}/revoke"): Entry(P.TOKENS_MANAGE, form={}),
    ("GET", "/handover"): Entry(P.CASES_READ),
    ("POST", "/handover"): Entry(P.HANDOVERS_WRITE, form={}),
    ("POST", "/handover/{handover_id}/acknowledge"): Entry(P.HANDOVERS_WRITE, form={}),
    # response automation
    ("GET", "/api/v1/playbooks"): Entry(P.PLAYBOOKS_READ),
    ("GET", "/api/v1/playbooks/schema"): Entry(P.PLAYBOOKS_READ),
    ("GET", "/api/v1/playbooks/actions"): Entry(P.PLAYBOOKS_READ),
    ("GET", "/api/v1/playbooks/metrics"): Entry(P.PLAYBOOKS_READ),
    ("GET", "/api/v1/playbooks/{name}"): Entry(P.PLAYBOOKS_READ),
    ("POST", "/api/v1/playbooks/{name}/runs"): Entry(P.ACTIONS_RUN, json={}),
    ("POST", "/api/v1/playbooks/{name}/dry-run"): Entry(P.ACTIONS_RUN, json={}),
    ("POST", "/api/v1/playbooks/{name}/webhook"): Entry(PUBLIC),
    ("GET", "/api/v1/playbook-runs"): Entry(P.PLAYBOOKS_READ),
    ("GET", "/api/v1/playbook-runs/{run_id}"): Entry(P.PLAYBOOKS_READ),
    ("POST", "/api/v1/playbook-runs/{run_id}/cancel"): Entry(P.ACTIONS_RUN),
    ("GET", "/api/v1/approvals"): Entry(P.PLAYBOOKS_READ),
    ("GET", "/api/v1/approvals/{approval_id}"): Entry(P.PLAYBOOKS_READ),
    ("POST", "/api/v1/approvals/{approval_id}/decision"): Entry(
        P.APPROVALS_DECIDE, json={"decision": "approve"}),
    ("GET", "/api/v1/containment"): Entry(P.PLAYBOOKS_READ),
    ("POST", "/api/v1/containment/{containment_id}/rollback"): Entry(P.ACTIONS_RUN, json={}),
    ("GET", "/api/v1/connectors"): Entry(P.CONNECTORS_MANAGE),
    ("GET", "/api/v1/connectors/{name}"): Entry(P.CONNECTORS_MANAGE),
    ("PUT", "/api/v1/connectors/{name}"): Entry(
        P.CONNECTORS_MANAGE, json={"type": "http", "config": {
            "base_url": "https://fw.example", "auth": {"type": "bearer"}}}),
    ("DELETE", "/api/v1/connectors/{name}"): Entry(P.CONNECTORS_MANAGE),
    ("GET", "/playbooks"): Entry(P.PLAYBOOKS_READ),
    ("GET", "/playbooks/{name}"): Entry(P.PLAYBOOKS_READ),
    ("POST", "/playbooks/{name}/run"): Entry(P.ACTIONS_RUN, form={}),
    ("POST", "/playbooks/{name}/dry-run"): Entry(P.ACTIONS_RUN, form={}),
    ("GET", "/runs"): Entry(P.PLAYBOOKS_READ, query={"playbook": PLAYBOOK, "status": "waiting"}),
    ("GET", "/runs/{run_id}"): Entry(P.PLAYBOOKS_READ),
    ("POST", "/runs/{run_id}/cancel"): Entry(P.ACTIONS_RUN, form={}),
    ("GET", "/approvals"): Entry(P.PLAYBOOKS_READ, query={"status": "all"}),
    ("POST", "/approvals/{approval_id}/decide"): Entry(
        P.APPROVALS_DECIDE, form={"decision": "approve", "comment": "matrix"}),
    ("GET", "/containment"): Entry(P.PLAYBOOKS_READ),
    ("POST", "/containment/{containment_id}/rollback"): Entry(
        P.ACTIONS_RUN, form={"reason": "matrix"}),
    ("POST", "/cases/{case_id}/playbooks"): Entry(P.ACTIONS_RUN, form={"playbook": PLAYBOOK}),
    ("GET", "/api/v1/vulns/findings"): Entry(P.VULNS_READ),
    ("GET", "/api/v1/vulns/trends"): Entry(P.VULNS_READ),
    ("POST", "/api/v1/vulns/import"): Entry(
        P.VULNS_MANAGE, query={"source": "repo:matrix", "format": "pip-audit"},
        body=b'{"dependencies": []}'),
    ("PUT", "/api/v1/vulns/feeds/{name}"): Entry(
        P.VULNS_MANAGE, body=b"cve,epss,percentile\nCVE-2018-18074,0.01,0.5\n"),
    ("POST", "/api/v1/vulns/findings/{key}/decisions"): Entry(
        P.VULNS_MANAGE, json={"kind": "suppress", "reason": "matrix"}),
    ("POST", "/api/v1/vulns/decisions/{decision_id}/revoke"): Entry(P.VULNS_MANAGE),
    ("GET", "/vulns"): Entry(P.VULNS_READ, query={"status": "all", "min_severity": "low",
                                                  "decided": "true"}),
    ("GET", "/vulns/{key}"): Entry(P.VULNS_READ),
    ("POST", "/vulns/{key}/decisions"): Entry(
        P.VULNS_MANAGE, form={"kind": "vex", "reason": "matrix", "vex_state": "affected"}),
    ("POST", "/vulns/decisions/{decision_id}/revoke"): Entry(P.VULNS_MANAGE, form={}),
    # threat-intel sharing: TAXII 2.1 and the STIX export
    ("GET", "/taxii2/"): Entry(P.INTEL_SHARE),
    ("GET", "/taxii2/api/"): Entry(P.INTEL_SHARE),
    ("GET", "/taxii2/api/collections/"): Entry(P.INTEL_SHARE),
    ("GET", "/taxii2/api/collections/{collection_id}/"): Entry(P.INTEL_SHARE),
    ("GET", "/taxii2/api/collections/{collection_id}/objects/"): Entry(P.INTEL_SHARE),
    ("GET", "/taxii2/api/collections/{collection_id}/objects/{object_id}/"): Entry(
        P.INTEL_SHARE),
    ("GET", "/taxii2/api/collections/{collection_id}/objects/{object_id}/versions/"): Entry(
        P.INTEL_SHARE),
    ("GET", "/taxii2/api/collections/{collection_id}/manifest/"): Entry(P.INTEL_SHARE),
    ("GET", "/api/v1/intel/export"): Entry(P.INTEL_SHARE, query={"max_tlp": "green"}),
    # threat-intel pages
    ("GET", "/intel"): Entry(P.INTEL_READ, query={"q": "203", "kind": "ipv4",
                                                 "state": "all"}),
    ("GET", "/intel/{indicator_id}"): Entry(P.INTEL_READ),
    ("POST", "/intel/{indicator_id}/sightings"): Entry(
        P.INTEL_MANAGE, form={"kind": "seen", "note": "matrix"}),
    ("POST", "/intel/{indicator_id}/allow"): Entry(P.INTEL_MANAGE, form={"reason": "matrix"}),
    # threat intelligence
    ("GET", "/api/v1/intel/indicators"): Entry(P.INTEL_READ, query={"q": "203.0.113"}),
    ("GET", "/api/v1/intel/indicators/{indicator_id}"): Entry(P.INTEL_READ),
    ("POST", "/api/v1/intel/indicators"): Entry(
        P.INTEL_MANAGE, json={"kind": "ipv4", "value": "203.0.113.8"}),
    ("POST", "/api/v1/intel/import"): Entry(
        P.INTEL_MANAGE, query={"source": "matrix", "format": "text"}, body=b"203.0.113.9\n"),
    ("POST", "/api/v1/intel/indicators/{indicator_id}/sightings"): Entry(
        P.INTEL_MANAGE, json={"kind": "seen"}),
    ("GET", "/api/v1/intel/lookup"): Entry(P.INTEL_READ, query={"value": "203.0.113.8"}),
    ("GET", "/api/v1/intel/stats"): Entry(P.INTEL_READ),
    ("GET", "/api/v1/intel/allowlist"): Entry(P.INTEL_READ),
    ("POST", "/api/v1/intel/allowlist"): Entry(
        P.INTEL_MANAGE, json={"kind": "domain", "value": "matrix.example.org", "reason": "m"}),
    ("DELETE", "/api/v1/intel/allowlist/{allow_id}"): Entry(P.INTEL_MANAGE),
    ("GET", "/api/v1/intel/feeds"): Entry(P.INTEL_MANAGE),
    ("POST", "/api/v1/intel/feeds"): Entry(
        P.CONNECTORS_MANAGE, json={"name": "matrix-add", "type": "stix", "url": str(INTEL_FEED)}),
    ("GET", "/api/v1/intel/feeds/{name}"): Entry(P.INTEL_MANAGE),
    ("PATCH", "/api/v1/intel/feeds/{name}"): Entry(P.CONNECTORS_MANAGE, json={"enabled": False}),
    ("DELETE", "/api/v1/intel/feeds/{name}"): Entry(P.CONNECTORS_MANAGE),
    ("POST", "/api/v1/intel/feeds/{name}/run"): Entry(P.INTEL_MANAGE),
    # last: it ends the session it is sent with
    ("POST", "/logout"): Entry(P.ALERTS_READ, form={}),
}


def app_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """``(method, path)`` of every API and page route of ``app`` (not mounts or the docs)."""
    # Newer FastAPI versions keep included routers whole; their helper walks into them.
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    routes: list[Any] = list(walk(app.routes) if walk is not None else app.routes)
    for route in routes:
        if isinstance(getattr(route, "original_route", route), APIRoute):
            for method in sorted(route.methods or ()):
                yield method, str(route.path)


def is_web_form(method: str, path: str) -> bool:
    return method != "GET" and not path.startswith("/api/")


@dataclass
class World:
    """The objects the calls act on: shared ones made once, and fresh ones made per call
    for the calls that delete what they are given."""

    api: Api
    alert_id: int
    web_alert_id: int
    letter_id: int
    web_letter_id: int
    event_id: str
    rule_id: str
    user_id: int
    made: dict[str, int] = field(default_factory=dict)
    current: str = ""
    """The route template being filled in."""
    serial: int = 0

    @classmethod
    def build(cls, api: Api) -> World:
        """Needs the example Windows log ingested; adds two dead letters and a spare user."""
        api.ingest(b"{not json\n{nor this\n", "winlog-json")
        services = api.services
        alerts, _ = services.alerts.list(AlertFilter())
        letters, _ = services.dead_letters.list(10, 0)
        spare = services.auth.create_user(SYSTEM, "spare", "viewer", None)
        return cls(
            api=api,
            alert_id=int(alerts[0]["id"]),
            web_alert_id=int(alerts[1]["id"]),
            letter_id=int(letters[0]["id"]),
            web_letter_id=int(letters[1]["id"]),
            event_id=str(services.alerts.get(alerts[0]["id"])["event_ids"][0]),
            rule_id=str(services.rules.describe()[0]["id"]),
            user_id=spare.id,
        )

    def value(self, name: str, role: str, web: bool) -> str:
        services = self.api.services
        match name:
            case "alert_id":
                return str(self.web_alert_id if web else self.alert_id)
            case "letter_id":
                return str(self.web_letter_id if web else self.letter_id)
            case "event_id" | "rule_id" | "user_id":
                return str(getattr(self, name))
            case "case_id" | "task_id":
                return str(self.case()[name])
            case "evidence_id":
                return str(self.evidence())
            case "source_type":
                return "winlog-json"
            case "action":
                return "enable"
            case "exception_id":
                made = services.rules.add_exception("system", None, "to delete", {"a": "b"})
                return str(made["id"])
            case "asset_id":
                return str(services.assets.put("system", f"host-{role}-{web}")["id"])
            case "name" if "/connectors/" in self.current:
                return self.connector(role, web)
            case "name" if "/intel/feeds/" in self.current:
                return self.intel_feed(role)
            case "indicator_id" if web:
                return str(self.indicator())
            case "indicator_id" | "allow_id":
                return str(self.intel_object(name, role))
            case "name" if "/vulns/feeds/" in self.current:
                return "epss"
            case "name":
                return PLAYBOOK
            case "run_id":
                return str(self.waiting_run())
            case "approval_id":
                [approval] = services.response.approvals.find(run_id=self.waiting_run())
                return str(approval["id"])
            case "key":
                return self.finding_key()
            case "decision_id":
                made = services.vulns.store.decide(
                    "system", self.finding_key(), "suppress", "to revoke")
                return str(made["id"])
            case "containment_id":
                return str(self.containment())
            case "handover_id":
                return str(shifts_of(services).generate("system")["id"])
            case "token_id":
                owner = self.api.user_ids[role]
                return services.auth.issue_token(SYSTEM, owner, "api", "to revoke")[0].id
            case "collection_id" | "object_id":
                return self.shared_intel()[name]
        raise AssertionError(f"no value for the path parameter {name!r}")

    def case(self) -> dict[str, int]:
        """One case with one task, made on first use and shared by every call."""
        if not self.made:
            services = self.api.services
            case = services.cases.create("system", NewCase(title="matrix case"))
            task = services.cases.add_task("system", case["id"], "matrix task")
            self.made.update(case_id=case["id"], task_id=task["id"])
        return self.made

    def waiting_run(self) -> int:
        """A fresh run of the matrix playbook, waiting on its approval."""
        run = self.api.services.response.start_manual("system", PLAYBOOK, {})
        assert run["status"] == "waiting", run
        return int(run["id"])

    def connector(self, role: str, web: bool) -> str:
        """A fresh connector per call (the calls that delete it need one each)."""
        name = f"matrix-{role}-{secrets.token_hex(4)}"
        self.api.services.response.connectors.put(
            "system", name, "http", {"base_url": "https://fw.example", "auth": {"type": "bearer"}},
            {"token": "t0ken"})
        return name

    def intel_feed(self, role: str) -> str:
        """A fresh file feed per call (the calls that delete it need one each)."""
        name = f"matrix-{role}-{secrets.token_hex(4)}"
        self.api.services.intel_feeds.add("system", name, "stix", str(INTEL_FEED))
        return name

    def intel_object(self, name: str, role: str) -> int:
        """The matrix indicator, or a fresh allowlist entry per call."""
        intel = self.api.services.intel
        if name == "allow_id":
            value = f"{role}-{secrets.token_hex(4)}.example.org"
            return int(intel.allow("system", "domain", value, "to remove")["id"])
        intel.add("system", IndicatorIn.of("domain", "matrix.example.net", "analyst:system"))
        return intel.search("matrix.example.net", kind="domain", limit=1)[0][0].id

    def finding_key(self) -> str:
        """The key of one vulnerability finding, ingested on first use."""
        finding = Finding("vulnerability", "CVE-2018-18074", "matrix", Severity.HIGH,
                          "matrix/requirements.txt", "watchkeeper",
                          package=Package("PyPI", "requests", "2.19.0"))
        self.api.services.vulns.store.ingest(
            "system", [finding], "repo:matrix")
        return finding.key

    def containment(self) -> int:
        """A fresh containment entry; its undo action does not exist, so rolling it back
        ends ``rollback_failed``, on the record like any rollback."""
        services = self.api.services
        self.serial += 1
        with services.db.session() as session:
            row = ContainmentRow(
                run_id=None, case_id=None, key=f"matrix:{self.serial}", action="matrix.block",
                connector=None, target="192.0.2.1", inputs={}, outputs={}, before={},
                undo_action="matrix.unblock", undo_inputs={}, status="active",
                created_at=datetime.now(UTC))
            session.add(row)
            session.flush()
            return row.id

    def evidence(self) -> int:
        """One evidence file of the shared case, made on first use."""
        if "evidence_id" not in self.made:
            made = evidence_of(self.api.services).add(
                "system", self.case()["case_id"], "matrix.txt", "text/plain",
                io.BytesIO(b"matrix"))
            self.made["evidence_id"] = made["id"]
        return self.made["evidence_id"]

    def indicator(self) -> int:
        """A fresh indicator per call: allowlisting one takes it out of the game."""
        from watchkeeper.intel.model import FeedResult, IndicatorIn

        self.serial += 1
        made = IndicatorIn.of("domain", f"m{self.serial}.matrix.example", "matrix")
        report = self.api.services.intel.ingest("system", FeedResult([made], []), "matrix")
        return report.new_ids[0]

    def shared_intel(self) -> dict[str, str]:
        """The TAXII indicators collection and one indicator shared in it."""
        from watchkeeper.intel.export import stix_id
        from watchkeeper.intel.model import FeedResult, IndicatorIn
        from watchkeeper.intel.sharedstix import COLLECTIONS

        shared = IndicatorIn.of("ipv4", "203.0.113.9", "matrix", tlp="green")
        self.api.services.intel.ingest("system", FeedResult([shared], []), "matrix")
        return {"collection_id": next(c.id for c in COLLECTIONS.values()
                                      if c.key == "indicators"),
                "object_id": stix_id("indicator", "ipv4:203.0.113.9")}

    def path(self, template: str, role: str) -> str:
        web = not template.startswith("/api/")
        self.current = template
        return template.format_map(_Lazy(lambda name: self.value(name, role, web)))


class _Lazy(dict[str, str]):
    """Path parameters made only when the template names them."""

    def __init__(self, make: Callable[[str], str]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: str) -> str:
        return self._make(key)
