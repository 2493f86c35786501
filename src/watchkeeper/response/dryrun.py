"""Dry runs: a playbook walked against live data with no effect, each action reporting what
it would do (its blast radius) instead of doing it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from watchkeeper.response.calls import Caller
from watchkeeper.response.interpreter import Decided, Interpreter, Pending
from watchkeeper.response.model import (
    ActionStep,
    ApprovalStep,
    CaseStep,
    NotifyStep,
    Playbook,
    SetCaseStep,
    TaskStep,
)
from watchkeeper.response.testing import MemoryJournal

MAX_WAKES = 1000


@dataclass
class DryRunEffects:
    caller: Caller
    clock: datetime = field(default_factory=lambda: datetime.now(UTC))
    planned: list[dict[str, Any]] = field(default_factory=list)

    def now(self) -> datetime:
        return self.clock

    def act(self, step: ActionStep, path: str, inputs: dict[str, Any],
            attempt: int) -> dict[str, Any]:
        called = self.caller.call(step.action, step.connector, inputs, key=f"dry-run:{path}",
                                  timeout_s=step.timeout, dry_run=True, ttl_s=step.ttl)
        assert called.plan is not None
        self.planned.append({
            "step": path, "action": step.action, "kind": called.action.kind.value,
            "connector": step.connector, "inputs": called.inputs,
            "summary": called.plan.summary, "targets": called.plan.targets,
            "undo": called.action.undo, "ttl_s": step.ttl})
        return dict(called.plan.outputs)

    def approval(self, step: ApprovalStep, path: str, prompt: str) -> Pending | Decided:
        self._would(path, "approval", f"ask {_approvers(step)}: {prompt}")
        return Decided("approved", ["(dry run)"])

    def case(self, step: CaseStep, path: str, spec: dict[str, Any]) -> dict[str, Any]:
        self._would(path, "case", f"open a case: {spec.get('title')}")
        return {"case_id": 0, "created": True}

    def task(self, step: TaskStep, path: str, spec: dict[str, Any]) -> dict[str, Any]:
        self._would(path, "task", f"add a task: {spec.get('title')}")
        return {"task_id": 0, "case_id": 0}

    def set_case(self, step: SetCaseStep, path: str, changes: dict[str, Any]) -> dict[str, Any]:
        self._would(path, "set_case", f"set case fields {sorted(changes)}")
        return {"case_id": 0, "status": changes.get("status", "")}

    def notify(self, step: NotifyStep, path: str, spec: dict[str, Any]) -> dict[str, Any]:
        self._would(path, "notify", f"notify {spec.get('role')}: {spec.get('message')}")
        return {"notification_id": 0, "role": spec.get("role")}

    def _would(self, path: str, kind: str, summary: str) -> None:
        self.planned.append({"step": path, "kind": kind, "summary": summary, "targets": []})


def _approvers(step: ApprovalStep) -> str:
    who = step.approval.approvers
    names = [*(f"role {r}" for r in who.roles), *who.users]
    return (" and ".join(names) or "nobody") + (" (four eyes)" if step.approval.four_eyes
                                                else "")


def dry_run(interpreter: Interpreter, playbook: Playbook, caller: Caller,
            trigger: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """Walk ``playbook`` to its end with approvals granted and waits skipped; what every
    step would do, in order."""
    journal = MemoryJournal()
    effects = DryRunEffects(caller)
    for _ in range(MAX_WAKES):
        outcome = interpreter.run(playbook, journal, effects, trigger=trigger, inputs=inputs,
                                  run_info={"id": 0, "playbook": playbook.name,
                                            "dry_run": True})
        if outcome.status != "waiting" or outcome.wake_at is None:
            break
        effects.clock = max(effects.clock, outcome.wake_at)
    targets = sorted({t for item in effects.planned for t in item["targets"]})
    return {"playbook": playbook.name, "status": outcome.status, "error": outcome.error,
            "error_step": outcome.error_step, "path": outcome.path, "steps": effects.planned,
            "blast_radius": targets, "outputs": outcome.outputs}
