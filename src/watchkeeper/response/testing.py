"""Playbook tests: a playbook's own ``tests:`` run through the real interpreter with fake
effects, so nothing outside the process is touched.

:class:`MockEffects` stands in for the world. An action step's rendered inputs are
checked against the action's ``Inputs``; its outputs come from the test's ``mocks`` (a
pure action without a mock runs for real). Approvals are decided as the test says, after
a virtual minute (or at their deadline, for ``timeout``); the run is resumed at each wake
time by a virtual clock, so waits, approvals and replay are exercised as in production.
Cases, tasks, case changes and notifications are recorded and get fake ids.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from watchkeeper.errors import UsageError
from watchkeeper.response.actions.base import ActionFailed, ActionRegistry, Connector, Lookups
from watchkeeper.response.interpreter import Decided, Interpreter, Outcome, Pending, StepRecord
from watchkeeper.response.loader import Library, LoadedPlaybook
from watchkeeper.response.model import (
    ActionStep,
    ApprovalStep,
    CaseStep,
    NotifyStep,
    Playbook,
    PlaybookTest,
    SetCaseStep,
    TaskStep,
    walk,
)

START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
"""Where a test run's virtual clock starts."""
MAX_RESUMES = 1000
"""A test run picked up more often than this is reported as never finishing."""


class MemoryJournal:
    """A run's journal in a dict; records are copied in and out, as a database would."""

    def __init__(self) -> None:
        self.records: dict[str, StepRecord] = {}

    def get(self, path: str) -> StepRecord | None:
        record = self.records.get(path)
        return copy.deepcopy(record) if record is not None else None

    def put(self, record: StepRecord) -> None:
        self.records[record.path] = copy.deepcopy(record)


class MockFailure(Exception):
    """A mistake in a playbook or its test, found while running it: ends the test. Not a
    WatchkeeperError, so that ``on_error: continue`` cannot hide it."""


@dataclass(frozen=True)
class ActionCall:
    step: str
    path: str
    action: str
    inputs: dict[str, Any]


@dataclass(frozen=True)
class Recorded:
    """A case, task, case change or notification a test run asked for."""

    kind: str
    path: str
    spec: dict[str, Any]


class _Context:
    """What a pure action gets when a test runs it for real: no lookups, no connector."""

    def __init__(self, path: str, timeout_s: float, now: datetime) -> None:
        self.idempotency_key = f"test:{path}"
        self.timeout_s = timeout_s
        self.ttl_s: float | None = None
        self.now = now

    @property
    def lookups(self) -> Lookups:
        raise MockFailure("a pure action asked for lookups")

    def connector(self, types: tuple[str, ...]) -> Connector:
        raise MockFailure("a pure action asked for a connector")


class MockEffects:
    """The effects of a playbook test (see the module docstring)."""

    def __init__(self, actions: ActionRegistry, test: PlaybookTest, *, start: datetime = START,
                 case_templates: Collection[str] | None = None) -> None:
        self.clock = start
        self.calls: dict[str, ActionCall] = {}
        self.recorded: list[Recorded] = []
        self.prompts: dict[str, str] = {}
        self._actions = actions
        self._test = test
        self._templates = case_templates
        self._asked: dict[str, datetime] = {}

    def now(self) -> datetime:
        return self.clock

    def act(self, step: ActionStep, path: str, inputs: dict[str, Any],
            attempt: int) -> dict[str, Any]:
        if step.action not in self._actions:
            raise MockFailure(f"{path}: unknown action {step.action!r}")
        action = self._actions.get(step.action)
        self.calls[path] = ActionCall(step.id, path, step.action, inputs)
        try:
            validated = action.Inputs.model_validate(inputs)
        except ValidationError as error:
            raise MockFailure(f"{path}: inputs refused by {step.action}: "
                              f"{_reasons(error)}") from None
        key = path if path in self._test.mocks else step.id
        if key not in self._test.mocks:
            if not action.pure:
                raise MockFailure(f"{path}: no mock for {step.action} "
                                  f"(give mocks.{step.id} its outputs)")
            context = _Context(path, step.timeout, self.clock)
            return dict(action.run(context, validated).model_dump(mode="json"))
        mock = self._test.mocks[key]
        if isinstance(mock, dict) and set(mock) == {"error"}:
            raise ActionFailed(str(mock["error"]), retryable=False)
        try:
            return dict(action.Outputs.model_validate(mock).model_dump(mode="json"))
        except ValidationError as error:
            raise MockFailure(f"mocks.{key}: not outputs of {step.action}: "
                              f"{_reasons(error)}") from None

    def approval(self, step: ApprovalStep, path: str, prompt: str) -> Pending | Decided:
        self.prompts[path] = prompt
        choice = self._test.approvals.get(path, self._test.approvals.get(step.id, "approve"))
        asked = self._asked.setdefault(path, self.clock)
        timeout = step.approval.timeout
        due = asked + timedelta(seconds=timeout if choice == "timeout" else min(60.0, timeout))
        if self.clock < due:
            return Pending(due)
        if choice == "timeout":
            return Decided("approved" if step.approval.default == "approve" else "rejected",
                           timed_out=True)
        if choice == "reject":
            return Decided("rejected", by=["approver-1"])
        return Decided("approved", by=["approver-1", "approver-2"] if step.approval.four_eyes
                       else ["approver-1"])

    def case(self, step: CaseStep, path: str, spec: dict[str, Any]) -> dict[str, Any]:
        template = spec.get("template")
        if template and self._templates is not None and template not in self._templates:
            raise UsageError(f"unknown case template {template!r} "
                             f"(known: {', '.join(sorted(self._templates))})")
        return {"case_id": self._record("case", path, spec)}

    def task(self, step: TaskStep, path: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {"task_id": self._record("task", path, spec)}

    def set_case(self, step: SetCaseStep, path: str, changes: dict[str, Any]) -> dict[str, Any]:
        self._record("set_case", path, changes)
        return {"changed": sorted(changes)}

    def notify(self, step: NotifyStep, path: str, spec: dict[str, Any]) -> dict[str, Any]:
        self._record("notify", path, spec)
        return {"notified": spec.get("role")}

    def _record(self, kind: str, path: str, spec: dict[str, Any]) -> int:
        self.recorded.append(Recorded(kind, path, spec))
        return sum(1 for r in self.recorded if r.kind == kind)


def _reasons(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
                     for e in error.errors())


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest class

    playbook: str
    test: str
    passed: bool
    differences: list[str] = field(default_factory=list)
    outcome: Outcome | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"playbook": self.playbook, "test": self.test, "passed": self.passed,
                "differences": self.differences,
                "status": self.outcome.status if self.outcome else None}


def run_tests(loaded: LoadedPlaybook, library: Library, actions: ActionRegistry, *,
              only: str | None = None) -> list[TestResult]:
    """Run the tests of ``loaded`` (only the one named ``only``, if given); ``library``
    resolves the playbooks it calls."""
    from watchkeeper.cases.templates import load_templates

    templates = load_templates().names
    interpreter = Interpreter(lambda name: library.get(name).playbook)
    return [run_test(loaded, test, interpreter, actions, templates)
            for test in loaded.playbook.tests if only is None or test.name == only]


def run_test(loaded: LoadedPlaybook, test: PlaybookTest, interpreter: Interpreter,
             actions: ActionRegistry, case_templates: Collection[str] | None = None,
             ) -> TestResult:
    """One test of ``loaded``, run to its end on a virtual clock."""
    playbook = loaded.playbook
    differences = _check_test(playbook, test)
    journal = MemoryJournal()
    effects = MockEffects(actions, test, case_templates=case_templates)
    run_info = {"id": "test", "playbook": playbook.name, "version": loaded.version,
                "started_by": "test", "dry_run": False}
    outcome: Outcome | None = None
    try:
        for _ in range(MAX_RESUMES):
            outcome = interpreter.run(playbook, journal, effects, trigger=test.trigger,
                                      inputs=test.inputs, run_info=run_info)
            if outcome.status != "waiting" or outcome.wake_at is None:
                break
            effects.clock = max(effects.clock, outcome.wake_at)
    except MockFailure as failure:
        differences.append(str(failure))
        outcome = None
    if outcome is not None:
        differences.extend(compare(test, outcome, list(effects.calls.values())))
    return TestResult(playbook.name, test.name, not differences, differences, outcome)


def _check_test(playbook: Playbook, test: PlaybookTest) -> list[str]:
    steps = walk(playbook.steps)
    approvals = {s.id for s in steps if isinstance(s, ApprovalStep)}
    action_ids = {s.id for s in steps if isinstance(s, ActionStep)}
    problems = [f"approvals.{key}: no approval step {key!r}" for key in test.approvals
                if key.rsplit(".", 1)[-1] not in approvals and ">" not in key]
    problems.extend(f"mocks.{key}: no action step {key!r}" for key in test.mocks
                    if key.rsplit(".", 1)[-1] not in action_ids and ">" not in key)
    return problems


def compare(test: PlaybookTest, outcome: Outcome, calls: list[ActionCall]) -> list[str]:
    """How the run differs from what ``test`` expects, one readable line per difference."""
    expect = test.expect
    found: list[str] = []
    if outcome.status != expect.status:
        reason = f" ({outcome.error_step or 'run'}: {outcome.error})" if outcome.error else ""
        found.append(f"status: expected {expect.status}, got {outcome.status}{reason}")
    if expect.path is not None and expect.path != outcome.path:
        found.append(f"path: expected {expect.path}, got {outcome.path}")
    for key, value in expect.outputs.items():
        if key not in outcome.outputs:
            found.append(f"outputs.{key}: expected {value!r}, but there is no such output")
        elif outcome.outputs[key] != value:
            found.append(f"outputs.{key}: expected {value!r}, got {outcome.outputs[key]!r}")
    if expect.actions is not None:
        found.extend(_compare_calls(expect.actions, calls))
    return found


def _compare_calls(expected: list[dict[str, Any]], calls: list[ActionCall]) -> list[str]:
    if len(expected) != len(calls):
        ran = ", ".join(f"{c.path} ({c.action})" for c in calls) or "none"
        return [f"actions: expected {len(expected)}, got {len(calls)}: {ran}"]
    found = []
    for index, (want, call) in enumerate(zip(expected, calls, strict=True)):
        where = f"actions[{index}]"
        if "step" in want and want["step"] not in (call.step, call.path):
            found.append(f"{where}.step: expected {want['step']!r}, got {call.path!r}")
        if "action" in want and want["action"] != call.action:
            found.append(f"{where}.action: expected {want['action']!r}, got {call.action!r}")
        for key, value in (want.get("with") or {}).items():
            if key not in call.inputs:
                found.append(f"{where}.with.{key}: expected {value!r}, but {call.path} "
                             "was given no such input")
            elif call.inputs[key] != value:
                found.append(f"{where}.with.{key}: expected {value!r}, "
                             f"got {call.inputs[key]!r}")
    return found
