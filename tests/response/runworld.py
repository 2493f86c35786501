"""A run service over a real state database, fake actions and a clock the test moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.response.fakes import Connectors, Remote, registry
from watchkeeper.audit.service import AuditLog
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Role, permissions_for
from watchkeeper.cases.service import CaseService
from watchkeeper.response.approvals import ApprovalDesk
from watchkeeper.response.calls import Caller
from watchkeeper.response.containment import Ledger
from watchkeeper.response.effects import Desks
from watchkeeper.response.loader import Library, LoadReport, load_text
from watchkeeper.response.runs import RunService
from watchkeeper.state.db import StateDB

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

CONTAIN = """
name: contain-source
title: Contain the source of an alert
triggers:
  - alert: {levels: [high, critical], where: {source_ip: "*"}}
steps:
  - id: lookup
    action: fake.lookup
    with: {host: "{{ trigger.alert.entities.host }}"}
  - id: approve
    approval:
      prompt: >-
        Block {{ trigger.alert.entities.source_ip }} seen on
        {{ trigger.alert.entities.host }}?
      approvers: {roles: [responder]}
      four_eyes: true
      timeout: 1h
  - id: block
    action: fake.block_ip
    connector: edge
    with: {ip: "{{ trigger.alert.entities.source_ip }}", comment: "run {{ run.id }}"}
    ttl: 2h
    retry: {attempts: 3, backoff: 10s}
  - id: open
    case: {title: "Blocked {{ trigger.alert.entities.source_ip }}", severity: high}
  - id: followup
    task: {title: "Check {{ trigger.alert.entities.host }}", role: analyst, due_in: 4h}
outputs:
  blocked: "{{ steps.block.target }}"
"""


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    db: StateDB
    runs: RunService
    desks: Desks
    remote: Remote
    clock: Clock
    library: Library
    extra: dict[str, object] = field(default_factory=dict)

    def service(self) -> RunService:
        """A second process's run service over the same database (a restart)."""
        return RunService(self.desks, lambda: self.library, clock=self.clock)


def person(name: str, role: Role) -> Principal:
    return Principal(user_id=None, username=name, role=role, permissions=permissions_for(role),
                     via="token")


def make_world(db: StateDB, *texts: str) -> World:
    remote = Remote()
    actions = registry(remote)
    clock = Clock()
    audit = AuditLog(db)
    caller = Caller(actions, Connectors("edge"), clock=clock)
    desks = Desks(db, audit, caller, ApprovalDesk(db, audit), Ledger(db, audit, caller),
                  CaseService(db, audit))
    report = LoadReport()
    names = []
    for text in texts or (CONTAIN,):
        loaded = load_text(text, "test", actions, names)
        names.append(loaded.name)
        report.playbooks[loaded.name] = loaded
    library = Library(report)
    return World(db, RunService(desks, lambda: library, clock=clock), desks, remote, clock,
                  library)
