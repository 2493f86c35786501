"""How the response pages show playbooks, runs and approvals: a trigger in a line, the
steps as a tree, who may decide an approval, and the fields of a start form turned into
a run's inputs. Pure functions of the response model, testable without a server."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.errors import UsageError
from watchkeeper.reports import duration
from watchkeeper.response.containment import UNDOABLE
from watchkeeper.response.loader import LoadedPlaybook
from watchkeeper.response.model import (
    ActionStep,
    ApprovalStep,
    BranchStep,
    CaseStep,
    ForEachStep,
    InputSpec,
    NotifyStep,
    PlaybookStep,
    SetCaseStep,
    Step,
    TaskStep,
    Trigger,
    WaitStep,
)

if TYPE_CHECKING:
    from watchkeeper.server.services import Services

INPUT_FIELD = "input."
"""Prefix of a start form's input fields (``input.sender``), apart from its CSRF field."""
AUTOMATIC = ("alert", "case", "schedule", "webhook")
MAX_INPUT_CHARS = 100_000
_INTEGER = re.compile(r"^[+-]?\d+$")


def compact(value: Any) -> str:
    """A value on one line: text as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def pretty(value: Any) -> str:
    """A value as indented JSON, for inputs, outputs and triggers."""
    return json.dumps(value, default=str, ensure_ascii=False, indent=1, sort_keys=True)


def trigger_summary(trigger: Trigger) -> str:
    """``alert: levels high, critical; tags attack.t1059``, ``schedule: 0 6 * * * (UTC)``."""
    if trigger.alert is not None:
        found = trigger.alert
        parts = [f"{label} {', '.join(values)}" for label, values in (
            ("rules", found.rules), ("levels", found.levels), ("tags", found.tags)) if values]
        parts.extend(f"{key} = {pattern}" for key, pattern in found.where.items())
        return "alert: " + ("; ".join(parts) or "every new alert")
    if trigger.case is not None:
        case = trigger.case
        parts = [f"{label} {', '.join(values)}" for label, values in (
            ("severities", case.severities), ("tags", case.tags)) if values]
        if case.template:
            parts.append(f"template {case.template}")
        return "case: " + ("; ".join(parts) or "every new case")
    if trigger.schedule is not None:
        return f"schedule: {trigger.schedule.cron} (UTC)"
    if trigger.webhook is not None:
        return f"webhook signed with {trigger.webhook.secret}"
    return "manual"


def playbook_state(loaded: LoadedPlaybook, active: bool) -> str:
    """``disabled``, ``active`` (its automatic triggers fire) or ``manual only``."""
    if not loaded.playbook.enabled:
        return "disabled"
    automatic = any(t.kind in AUTOMATIC for t in loaded.playbook.triggers)
    return "active" if automatic and active else "manual only"


@dataclass(frozen=True)
class StepView:
    """One step as the playbook page shows it, with its nested steps."""

    kind: str
    id: str
    title: str | None
    when: str | None
    details: list[tuple[str, str]] = field(default_factory=list)
    branches: list[tuple[str, list[StepView]]] = field(default_factory=list)
    calls: str | None = None
    """The playbook a ``playbook`` step runs."""


def step_tree(steps: list[Step]) -> list[StepView]:
    return [_view(step) for step in steps]


def _view(step: Step) -> StepView:
    details: list[tuple[str, str]] = []
    branches: list[tuple[str, list[StepView]]] = []
    calls = None
    if isinstance(step, ActionStep):
        details.append(("action", step.action))
        if step.connector:
            details.append(("connector", step.connector))
        if step.with_:
            details.append(("with", compact(step.with_)))
        if step.ttl is not None:
            details.append(("ttl", f"rolled back after {duration(step.ttl)}"))
        details.append(("timeout", duration(step.timeout)))
        if step.retry.attempts > 1:
            details.append(("retry", f"{step.retry.attempts} tries, backoff "
                                     f"{duration(step.retry.backoff)}"))
        if step.on_error == "continue":
            details.append(("on error", "continue"))
    elif isinstance(step, ApprovalStep):
        approval = step.approval
        who = [*(f"role {r}" for r in approval.approvers.roles), *approval.approvers.users]
        details.extend([("prompt", approval.prompt), ("approvers", ", ".join(who))])
        if approval.four_eyes:
            details.append(("four eyes", "two people approve; not the one who started the run"))
        details.append(("timeout", f"{duration(approval.timeout)}, then {approval.default}"))
        details.append(("on reject", approval.on_reject))
    elif isinstance(step, BranchStep):
        details.append(("if", step.if_))
        branches = [("then", step_tree(step.then)), ("else", step_tree(step.else_))]
    elif isinstance(step, ForEachStep):
        details.append(("for each", compact(step.foreach)))
        details.append(("at most", str(step.max_items)))
        branches = [("do", step_tree(step.steps))]
    elif isinstance(step, WaitStep):
        details.append(("wait", duration(step.wait)))
    elif isinstance(step, CaseStep):
        details.extend([("title", step.case.title), ("severity", step.case.severity)])
        if step.case.template:
            details.append(("template", step.case.template))
    elif isinstance(step, TaskStep):
        details.append(("title", step.task.title))
        if step.task.assignee or step.task.role:
            details.append(("for", step.task.assignee or f"role {step.task.role}"))
        if step.task.due_in is not None:
            details.append(("due in", duration(step.task.due_in)))
    elif isinstance(step, SetCaseStep):
        details.append(("set", ", ".join(f"{k} = {compact(v)}"
                                         for k, v in step.set_case.items())))
    elif isinstance(step, NotifyStep):
        details.extend([("to", f"role {step.notify.role}"), ("message", step.notify.message)])
    elif isinstance(step, PlaybookStep):
        calls = step.playbook
        if step.with_:
            details.append(("with", compact(step.with_)))
    return StepView(step.kind, step.id, step.title, step.when, details, branches, calls)


def form_inputs(specs: Mapping[str, InputSpec], fields: Mapping[str, str]) -> dict[str, Any]:
    """A run's inputs from a start form's ``input.<name>`` fields: empty ones left out (the
    default applies), the others read as their declared type. ``checked_inputs`` then
    refuses what is missing or mistyped."""
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        raw = fields.get(INPUT_FIELD + name, "").strip()
        if raw:
            values[name] = _typed(name, spec.type, raw)
    return values


def _typed(name: str, kind: str, raw: str) -> Any:
    if kind == "string":
        return raw
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise UsageError(f"input {name!r} must be true or false")
        return raw == "true"
    if kind == "integer" or (kind == "number" and _INTEGER.match(raw)):
        if not _INTEGER.match(raw) or len(raw) > 30:
            raise UsageError(f"input {name!r} must be a whole number (at most 30 digits)")
        return int(raw)
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            raise UsageError(f"input {name!r} must be a number") from None
    if len(raw) > MAX_INPUT_CHARS:
        raise UsageError(f"input {name!r} is longer than {MAX_INPUT_CHARS} characters")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as error:
        raise UsageError(f"input {name!r} must be JSON ({kind}): {error}") from None


def deciders(approval: Mapping[str, Any]) -> str:
    """Who may decide an approval, as the approvals page says it."""
    who = [*(f"role {r}" for r in approval["roles"]), *approval["users"], "admins"]
    text = ", ".join(who)
    if approval["required"] > 1:
        text += (f"; four eyes: {approval['required']} people, "
                 f"not {approval['requested_by']}")
    return text


def may_decide(services: Services, who: Principal, approval: Mapping[str, Any]) -> bool:
    """Whether ``who`` sees the Approve and Reject buttons: the approval is pending, they
    hold the permission and are among its deciders, and have not decided it yet."""
    if approval["status"] != "pending" or not who.can(Permission.APPROVALS_DECIDE):
        return False
    if any(d["actor"] == who.actor for d in approval.get("decisions", [])):
        return False
    return services.response.approvals.may_decide(who, dict(approval))


def seconds_until(moment: datetime | None, now: datetime) -> float | None:
    """Seconds from ``now`` to ``moment`` (negative once past); naive times are UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - now).total_seconds()


def case_response(services: Services, who: Principal, case_id: int) -> dict[str, Any]:
    """The case page's Response section: the case's runs and containment, and the
    playbooks one can start on it from there (those that need no inputs)."""
    if not who.can(Permission.PLAYBOOKS_READ):
        return {"response": None}
    response = services.response
    runs, total = response.runs.find(case_id=case_id, limit=50)
    library = response.library()
    startable = [name for name in library.names()
                 if not any(spec.required for spec in library.playbooks[name].playbook.inputs
                            .values())]
    return {"response": {
        "runs": runs, "total": total, "containment": response.ledger.find(case_id=case_id),
        "startable": startable, "others": len(library.playbooks) - len(startable),
        "can_run": who.can(Permission.ACTIONS_RUN), "undoable": UNDOABLE}}
