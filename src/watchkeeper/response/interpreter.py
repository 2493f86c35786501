"""Running a playbook: durable by replay.

A run is interpreted from its first step every time it is picked up. A step already in
the run's journal is not done again: its recorded outputs are put back into the context
and the walk goes on. So a run resumes after a restart, an approval or a timer exactly
where it stopped, and an action that finished is never repeated; one that was cut off
mid-call is tried again under the same idempotency key. Everything the walk reads comes
from the trigger, the inputs and the journal, so the walk takes the same path each time.

The interpreter does nothing by itself: :class:`Effects` acts (for real, as a dry run,
or from a test's mocks) and :class:`Journal` remembers (in the state database, or in
memory for tests).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from watchkeeper.errors import UsageError, WatchkeeperError
from watchkeeper.response.actions.base import ActionFailed
from watchkeeper.response.model import (
    ActionStep,
    ApprovalStep,
    BranchStep,
    CaseStep,
    ForEachStep,
    NotifyStep,
    Playbook,
    PlaybookStep,
    SetCaseStep,
    Step,
    TaskStep,
    WaitStep,
)
from watchkeeper.response.templating import TemplateFailure, Templates

MAX_DEPTH = 5
"""Playbooks calling playbooks, at most this deep (a cycle stops here)."""

Status = Literal["started", "done", "failed", "skipped", "waiting", "retrying"]
"""``started``: an action was called and its answer is not recorded (the process stopped):
the next walk calls it again, under the same idempotency key."""


@dataclass
class StepRecord:
    """What the journal keeps of one step of a run (one iteration, inside a loop)."""

    path: str
    step_id: str
    kind: str
    status: Status
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    attempts: int = 0
    wake_at: datetime | None = None
    """For a waiting or retrying step: when to look again."""


@dataclass(frozen=True)
class Pending:
    """An approval not decided yet; look again at ``wake_at`` (its deadline) or sooner."""

    wake_at: datetime


@dataclass(frozen=True)
class Decided:
    decision: Literal["approved", "rejected"]
    by: list[str] = field(default_factory=list)
    timed_out: bool = False


class Journal(Protocol):
    def get(self, path: str) -> StepRecord | None: ...

    def put(self, record: StepRecord) -> None: ...


class Effects(Protocol):
    """Where a run's steps touch the world."""

    def now(self) -> datetime: ...

    def act(self, step: ActionStep, path: str, inputs: dict[str, Any],
            attempt: int) -> dict[str, Any]:
        """Run (or plan, or mock) the action; raises ActionFailed or a WatchkeeperError."""
        ...

    def approval(self, step: ApprovalStep, path: str, prompt: str) -> Pending | Decided:
        """Ask once (the first call creates the request), then tell where it stands."""
        ...

    def case(self, step: CaseStep, path: str, spec: dict[str, Any]) -> dict[str, Any]: ...

    def task(self, step: TaskStep, path: str, spec: dict[str, Any]) -> dict[str, Any]: ...

    def set_case(self, step: SetCaseStep, path: str, changes: dict[str, Any]) -> dict[str, Any]:
        ...

    def notify(self, step: NotifyStep, path: str, spec: dict[str, Any]) -> dict[str, Any]: ...


class Suspended(Exception):
    """The run waits (approval, timer, retry); pick it up again at ``wake_at``."""

    def __init__(self, wake_at: datetime, reason: str) -> None:
        super().__init__(reason)
        self.wake_at = wake_at
        self.reason = reason


class Stopped(Exception):
    """The run ends here: ``status`` is ``failed`` or ``rejected``."""

    def __init__(self, status: Literal["failed", "rejected"], reason: str,
                 path: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.path = path


@dataclass
class Outcome:
    status: Literal["succeeded", "failed", "rejected", "waiting"]
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_step: str | None = None
    wake_at: datetime | None = None
    waiting_for: str | None = None
    path: list[str] = field(default_factory=list)
    """Step ids in the order they ran (skipped ones left out)."""


class Interpreter:
    """Walks one run of ``playbook``; ``resolve`` finds the playbooks it calls."""

    def __init__(self, resolve: Callable[[str], Playbook], templates: Templates | None = None,
                 ) -> None:
        self._resolve = resolve
        self._templates = templates or Templates()

    def run(self, playbook: Playbook, journal: Journal, effects: Effects, *,
            trigger: Mapping[str, Any], inputs: Mapping[str, Any],
            run_info: Mapping[str, Any],
            resolve: Callable[[str], Playbook] | None = None) -> Outcome:
        """One walk; ``resolve`` (default: the interpreter's) finds the playbooks it calls,
        at the versions the run pinned."""
        walk = _Walk(self, journal, effects, run_info)
        if resolve is not None:
            walk.resolve = resolve
        try:
            context = walk.context(trigger, bind_inputs(playbook, inputs))
        except UsageError as error:
            return Outcome("failed", error=str(error))
        try:
            walk.steps(playbook.steps, context, "", depth=0)
            outputs = self._templates.render(playbook.outputs, context, "outputs")
        except Suspended as wait:
            return Outcome("waiting", wake_at=wait.wake_at, waiting_for=wait.reason,
                           path=walk.path)
        except Stopped as stop:
            return Outcome(stop.status, error=stop.reason, error_step=stop.path, path=walk.path)
        except TemplateFailure as error:
            return Outcome("failed", error=str(error), path=walk.path)
        return Outcome("succeeded", outputs=outputs, path=walk.path)


class _Walk:
    def __init__(self, interpreter: Interpreter, journal: Journal, effects: Effects,
                 run_info: Mapping[str, Any]) -> None:
        self.templates = interpreter._templates
        self.resolve = interpreter._resolve
        self.journal = journal
        self.effects = effects
        self.run_info = dict(run_info)
        self.path: list[str] = []

    def context(self, trigger: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {"trigger": dict(trigger), "inputs": dict(inputs), "steps": {},
                "run": self.run_info}

    def steps(self, steps: list[Step], context: dict[str, Any], prefix: str,
              depth: int) -> None:
        for step in steps:
            path = f"{prefix}{step.id}"
            try:
                context["steps"][step.id] = self.step(step, context, path, depth)
            except TemplateFailure as error:
                # a broken template is the playbook's fault: on_error does not apply
                raise Stopped("failed", str(error), path) from None

    def step(self, step: Step, context: dict[str, Any], path: str,
             depth: int) -> dict[str, Any]:
        record = self.journal.get(path)
        if record is not None and record.status in ("done", "skipped"):
            if record.status == "done":
                self.path.append(step.id)
            if isinstance(step, BranchStep | ForEachStep | PlaybookStep):
                # children are replayed from their own records: walk them again
                return self._compound(step, context, path, depth, record)
            if isinstance(step, ApprovalStep):
                _stop_if_rejected(step, record.outputs, path)
            return _visible(record)
        if record is not None and record.status == "failed":
            self.path.append(step.id)
            if isinstance(step, ActionStep) and step.on_error == "continue":
                return _visible(record)
            raise Stopped("failed", record.error or "failed", path)
        if step.when is not None and record is None and not self.templates.condition(
                step.when, context, f"{path}.when"):
            self.journal.put(StepRecord(path, step.id, step.kind, "skipped"))
            return {"skipped": True}
        if isinstance(step, BranchStep | ForEachStep | PlaybookStep):
            self.path.append(step.id)
            return self._compound(step, context, path, depth, record)
        return self._simple(step, context, path, record)

    def _compound(self, step: BranchStep | ForEachStep | PlaybookStep, context: dict[str, Any],
                  path: str, depth: int, record: StepRecord | None) -> dict[str, Any]:
        if isinstance(step, BranchStep):
            if record is None:
                taken = "then" if self.templates.condition(step.if_, context,
                                                           f"{path}.if") else "else"
                record = StepRecord(path, step.id, step.kind, "done", {"branch": taken})
                self.journal.put(record)
            branch = step.then if record.outputs["branch"] == "then" else step.else_
            self.steps(branch, context, f"{path}.", depth)
            return dict(record.outputs)
        if isinstance(step, ForEachStep):
            if record is None:
                items = self.templates.render(step.foreach, context, f"{path}.foreach")
                if not isinstance(items, list):
                    raise Stopped("failed", f"foreach needs a list, got {type(items).__name__}",
                                  path)
                if len(items) > step.max_items:
                    raise Stopped("failed", f"{len(items)} items, more than max_items "
                                  f"({step.max_items})", path)
                record = StepRecord(path, step.id, step.kind, "done",
                                    {"items": items, "count": len(items)})
                self.journal.put(record)
            results = []
            for index, item in enumerate(record.outputs["items"]):
                inner = {**context, "item": item, "loop": {"index": index},
                         "steps": dict(context["steps"])}
                self.steps(step.steps, inner, f"{path}[{index}].", depth)
                results.append({s.id: inner["steps"][s.id] for s in step.steps})
            return {"count": record.outputs["count"], "results": results}
        return self._playbook(step, context, path, depth, record)

    def _playbook(self, step: PlaybookStep, context: dict[str, Any], path: str, depth: int,
                  record: StepRecord | None) -> dict[str, Any]:
        if depth + 1 >= MAX_DEPTH:
            raise Stopped("failed", f"playbooks call each other more than {MAX_DEPTH} deep",
                          path)
        try:
            called = self.resolve(step.playbook)
        except WatchkeeperError as error:
            raise Stopped("failed", str(error), path) from None
        rendered = self.templates.render(step.with_, context, f"{path}.with")
        try:
            inputs = bind_inputs(called, rendered)
        except UsageError as error:
            raise Stopped("failed", f"playbook {called.name!r}: {error}", path) from None
        inner = {"trigger": context["trigger"], "inputs": inputs, "steps": {},
                 "run": self.run_info}
        self.steps(called.steps, inner, f"{path}>", depth + 1)
        outputs: dict[str, Any] = self.templates.render(called.outputs, inner,
                                                        f"{path}.outputs")
        if record is None:
            self.journal.put(StepRecord(path, step.id, step.kind, "done", outputs))
        return outputs

    def _simple(self, step: Step, context: dict[str, Any], path: str,
                record: StepRecord | None) -> dict[str, Any]:
        now = self.effects.now()
        if isinstance(step, WaitStep):
            if record is None:
                record = StepRecord(path, step.id, step.kind, "waiting",
                                    wake_at=now + timedelta(seconds=step.wait))
                self.journal.put(record)
            assert record.wake_at is not None
            if now < record.wake_at:
                raise Suspended(record.wake_at, f"wait at {path}")
            return self._done(step, path, {"waited_s": step.wait})
        if isinstance(step, ApprovalStep):
            prompt = self.templates.render(step.approval.prompt, context, f"{path}.prompt")
            answer = self.effects.approval(step, path, str(prompt))
            if isinstance(answer, Pending):
                self.journal.put(StepRecord(path, step.id, step.kind, "waiting",
                                            wake_at=answer.wake_at))
                raise Suspended(answer.wake_at, f"approval at {path}")
            outputs = {"decision": answer.decision, "by": answer.by,
                       "timed_out": answer.timed_out}
            self._done(step, path, outputs)
            _stop_if_rejected(step, outputs, path)
            return outputs
        if isinstance(step, ActionStep):
            return self._action(step, context, path, record, now)
        spec_of: dict[type, tuple[str, Callable[..., dict[str, Any]]]] = {
            CaseStep: ("case", self.effects.case),
            TaskStep: ("task", self.effects.task),
            SetCaseStep: ("set_case", self.effects.set_case),
            NotifyStep: ("notify", self.effects.notify),
        }
        attribute, effect = spec_of[type(step)]
        value = getattr(step, attribute)
        spec = value if isinstance(value, dict) else value.model_dump(exclude_none=True)
        rendered = self.templates.render(spec, context, f"{path}.{attribute}")
        try:
            outputs = effect(step, path, rendered)
        except WatchkeeperError as error:
            self.journal.put(StepRecord(path, step.id, step.kind, "failed", error=str(error)))
            raise Stopped("failed", str(error), path) from None
        return self._done(step, path, outputs)

    def _action(self, step: ActionStep, context: dict[str, Any], path: str,
                record: StepRecord | None, now: datetime) -> dict[str, Any]:
        attempts = record.attempts if record is not None else 0
        if record is not None and record.status == "retrying":
            assert record.wake_at is not None
            if now < record.wake_at:
                raise Suspended(record.wake_at, f"retry at {path}")
        inputs = self.templates.render(step.with_, context, f"{path}.with")
        attempt = attempts + 1
        try:
            outputs = self.effects.act(step, path, inputs, attempt)
        except ActionFailed as error:
            if error.retryable and attempt < step.retry.attempts:
                wake = now + timedelta(seconds=step.retry.delay(attempt))
                self.journal.put(StepRecord(path, step.id, step.kind, "retrying",
                                            error=str(error), attempts=attempt, wake_at=wake))
                raise Suspended(wake, f"retry at {path}") from None
            return self._failed(step, path, str(error), attempt)
        except WatchkeeperError as error:
            return self._failed(step, path, str(error), attempt)
        self.path.append(step.id)
        self.journal.put(StepRecord(path, step.id, step.kind, "done", outputs,
                                    attempts=attempt))
        return dict(outputs)

    def _failed(self, step: ActionStep, path: str, message: str,
                attempt: int) -> dict[str, Any]:
        self.path.append(step.id)
        record = StepRecord(path, step.id, step.kind, "failed", error=message, attempts=attempt)
        self.journal.put(record)
        if step.on_error == "continue":
            return _visible(record)
        raise Stopped("failed", message, path)

    def _done(self, step: Step, path: str, outputs: dict[str, Any]) -> dict[str, Any]:
        self.path.append(step.id)
        self.journal.put(StepRecord(path, step.id, step.kind, "done", outputs))
        return dict(outputs)


def _visible(record: StepRecord) -> dict[str, Any]:
    """What later steps see of a recorded step."""
    if record.status == "skipped":
        return {"skipped": True}
    if record.status == "failed":
        return {"failed": True, "error": record.error}
    return dict(record.outputs)


def _stop_if_rejected(step: ApprovalStep, outputs: Mapping[str, Any], path: str) -> None:
    """A rejection that stops the run stops every replay of it too."""
    if outputs.get("decision") == "rejected" and step.approval.on_reject == "stop":
        raise Stopped("rejected", "timed out and rejected by default" if outputs.get(
            "timed_out") else "rejected by " + ", ".join(outputs.get("by") or []), path)


_INPUT_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "list": (list,), "object": (dict,)}


def bind_inputs(playbook: Playbook, given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` with the declared defaults filled in; a UsageError names every declared
    input that is missing or of the wrong type. Undeclared inputs pass through."""
    bound = dict(given)
    problems = []
    for name, spec in playbook.inputs.items():
        value = bound.get(name)
        if value is None:
            if spec.required:
                problems.append(f"inputs.{name}: required")
            bound[name] = spec.default
        elif not isinstance(value, _INPUT_TYPES[spec.type]) or (
                isinstance(value, bool) and spec.type in ("integer", "number")):
            problems.append(f"inputs.{name}: expected {spec.type}, "
                            f"got {type(value).__name__}")
    if problems:
        raise UsageError("; ".join(problems))
    return bound
