"""Response automation as one service: the playbook library, runs, approvals, containment,
triggers and connectors of a server, built once and passed around."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from watchkeeper.alerts.model import AlertRow
from watchkeeper.audit.service import AuditLog
from watchkeeper.cases.service import CaseService
from watchkeeper.config import ResponseSettings, Settings
from watchkeeper.errors import (
    AuthenticationError,
    NotFoundError,
    UsageError,
    WatchkeeperError,
)
from watchkeeper.response.actions.base import ActionRegistry, Lookups
from watchkeeper.response.approvals import ApprovalDesk
from watchkeeper.response.calls import Caller
from watchkeeper.response.connectors import ConnectorStore
from watchkeeper.response.containment import Ledger
from watchkeeper.response.dryrun import dry_run
from watchkeeper.response.effects import Desks
from watchkeeper.response.interpreter import Interpreter
from watchkeeper.response.loader import Library, LoadedPlaybook, PlaybookError, load_library
from watchkeeper.response.runs import RunService, Start, checked_inputs
from watchkeeper.response.triggers import Dispatcher
from watchkeeper.response.webhooks import verify
from watchkeeper.state.db import StateDB

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Webhook:
    timestamp: str | None
    signature: str | None
    body: bytes


class Response:
    def __init__(self, settings: ResponseSettings, db: StateDB, audit: AuditLog,
                 cases: CaseService, actions: ActionRegistry, connectors: ConnectorStore,
                 lookups: Lookups | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.settings = settings
        self.actions = actions
        self.connectors = connectors
        self.clock = clock
        self.caller = Caller(actions, connectors, lookups, clock)
        self.approvals = ApprovalDesk(db, audit)
        self.ledger = Ledger(db, audit, self.caller)
        self.desks = Desks(db, audit, self.caller, self.approvals, self.ledger, cases)
        self._lock = threading.Lock()
        self._signature: tuple[tuple[str, float, int], ...] = ()
        self._library = Library(load_library([], actions, builtins=False))
        self.reload(force=True)
        self.runs = RunService(self.desks, self.library, lease_s=settings.lease_s, clock=clock)
        self.dispatcher = Dispatcher(db, self.runs, self.library, self.active, clock)

    def library(self) -> Library:
        return self._library

    @property
    def errors(self) -> list[PlaybookError]:
        return self._library.errors

    def reload(self, force: bool = False) -> bool:
        """Load the playbooks again if a file changed; whether they were. A broken file is
        reported and left out; the others stay usable."""
        signature = _signature(self.settings.playbooks)
        with self._lock:
            if not force and signature == self._signature:
                return False
            report = load_library(self.settings.playbooks, self.actions,
                                  builtins=self.settings.builtin_playbooks)
            self._library = Library(report)
            self._signature = signature
        for error in report.errors:
            log.warning("playbook not loaded", extra={"where": error.location,
                                                      "problems": error.problems})
        return True

    def active(self, loaded: LoadedPlaybook) -> bool:
        """Whether the playbook's automatic triggers fire: a built-in one when
        ``enable_builtin`` names it, one of the user's when it says ``enabled``."""
        if loaded.builtin:
            return loaded.name in self.settings.enable_builtin
        return loaded.playbook.enabled

    def start_manual(self, actor: str, name: str, inputs: dict[str, Any],
                     case_id: int | None = None, alert_id: int | None = None,
                     walk: bool = True) -> dict[str, Any]:
        """Start a run by hand (from a case, the API or the command line); with ``walk``,
        walk it as far as it goes now."""
        loaded = self._library.get(name)
        self._exists(case_id, alert_id)
        trigger: dict[str, Any] = {"manual": {"by": actor}}
        if case_id is not None:
            trigger["case"] = {"id": case_id}
        run = self.runs.start(Start(loaded.name, actor, "manual", trigger, inputs,
                                    alert_id=alert_id, case_id=case_id))
        assert run is not None
        return (self.runs.advance(run["id"]) if walk else None) or run

    def _exists(self, case_id: int | None, alert_id: int | None) -> None:
        if case_id is not None:
            self.desks.cases.get(case_id)  # NotFoundError when there is none
        if alert_id is not None:
            with self.desks.db.read() as session:
                if session.get(AlertRow, alert_id) is None:
                    raise NotFoundError(f"no alert {alert_id}")

    def webhook(self, name: str, delivery: Webhook) -> dict[str, Any]:
        """Start a run from a signed webhook delivery (one run per delivery); the body, a
        JSON object, gives the run's inputs."""
        refused = AuthenticationError("the webhook's signature does not match")
        # every failure before the signature is checked gets the same answer as a bad
        # signature: a caller learns nothing of which playbooks or secrets exist
        loaded = self._library.playbooks.get(name)
        if loaded is None or not self.active(loaded):
            raise refused
        hooks = [t.webhook for t in loaded.playbook.triggers if t.webhook is not None]
        key = None
        for hook in hooks:
            try:
                secret = self.connectors.get(hook.secret).secrets.get("signing_key")
            except WatchkeeperError:
                secret = None
            if secret is None:
                log.warning("webhook secret missing", extra={"playbook": name,
                                                             "connector": hook.secret})
                continue
            try:
                key = verify(secret, delivery.timestamp, delivery.signature, delivery.body,
                             self.clock())
                break
            except AuthenticationError:
                continue
        if key is None:
            raise refused
        try:
            inputs = orjson.loads(delivery.body) if delivery.body.strip() else {}
        except orjson.JSONDecodeError as error:
            raise UsageError(f"a webhook body is a JSON object: {error}") from None
        if not isinstance(inputs, dict):
            raise UsageError("a webhook body is a JSON object")
        declared = {k: v for k, v in inputs.items() if k in loaded.playbook.inputs}
        run = self.runs.start(Start(loaded.name, f"webhook:{name}", "webhook",
                                    {"webhook": inputs}, declared,
                                    dedup_key=f"webhook:{name}:{key}"))
        if run is None:
            raise AuthenticationError("this webhook delivery was already received")
        return run

    def dry_run(self, name: str, trigger: dict[str, Any], inputs: dict[str, Any],
                ) -> dict[str, Any]:
        loaded = self._library.get(name)
        values = checked_inputs(loaded.playbook, inputs)
        interpreter = Interpreter(lambda other: self._library.get(other).playbook)
        return dry_run(interpreter, loaded.playbook, self.caller, trigger, values)


def _signature(paths: list[Path]) -> tuple[tuple[str, float, int], ...]:
    found: list[tuple[str, float, int]] = []
    for path in paths:
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            try:
                stat = file.stat()
            except OSError:
                continue
            found.append((str(file), stat.st_mtime, stat.st_size))
    return tuple(found)


def open_response(settings: Settings, db: StateDB, audit: AuditLog,
                  cases: CaseService | None = None, lookups: Lookups | None = None) -> Response:
    """The response service of a data folder: for the server, and for commands that work
    beside it (the state database is shared; runs are leased, so the two never walk one
    run at once)."""
    from watchkeeper.cases.sla import SlaPolicy
    from watchkeeper.cases.templates import load_templates
    from watchkeeper.response.actions import default_actions
    from watchkeeper.response.secrets import load_secret_box

    key = settings.response.secret_key
    connectors = ConnectorStore(db, audit, load_secret_box(
        settings.data_dir, key.get_secret_value() if key else None))
    if cases is None:
        cases = CaseService(db, audit, load_templates(settings.cases.templates),
                            SlaPolicy.from_settings(settings.cases))
    return Response(settings.response, db, audit, cases, default_actions(), connectors,
                    lookups)
