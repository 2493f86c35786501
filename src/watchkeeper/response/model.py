"""The playbook model: what a playbook YAML file may say, checked before anything runs.

A playbook is a list of steps. Each step is one of: an action, a branch (``if``), a loop
(``foreach``), an approval, a wait, a case to open, a task to add, case fields to set, a
notification, or another playbook. Values are data or templates (``{{ … }}``) rendered in
a sandbox; see :mod:`watchkeeper.response.templating`. The JSON Schema published in
``docs/playbook.schema.json`` is generated from these classes.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

STEP_ID = r"^[a-z][a-z0-9_]{0,62}$"
NAME = r"^[a-z0-9][a-z0-9._-]{0,99}$"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
MAX_STEPS = 500
"""Steps in one playbook at most, counting nested ones."""


def parse_duration(value: Any) -> float:
    """Seconds from ``90``, ``"90s"``, ``"15m"``, ``"24h"`` or ``"7d"``."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text like 30s, 15m, 24h, 7d")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if match is None:
            raise ValueError(
                f"{value!r} is not a duration (a number of seconds, or 30s, 15m, 24h, 7d)")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError("a duration is a finite number of seconds, not negative")
    return seconds


Duration = Annotated[float, WithJsonSchema({
    "anyOf": [{"type": "number", "minimum": 0},
              {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*$"}],
    "description": "seconds, or text like 30s, 15m, 24h, 7d"})]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Retry(_Strict):
    """Try a failing action again, waiting ``backoff`` then doubling it up to ``max_backoff``."""

    attempts: int = Field(1, ge=1, le=20)
    """Tries in all, the first included."""
    backoff: Duration = 5.0
    max_backoff: Duration = 300.0

    @field_validator("backoff", "max_backoff", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> float:
        return parse_duration(value)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        return float(min(self.backoff * (2 ** (attempt - 1)), self.max_backoff))


class _Step(_Strict):
    id: str = Field(pattern=STEP_ID)
    """Unique in the playbook; later steps read this step's outputs as ``steps.<id>``."""
    title: str | None = Field(None, max_length=200)
    when: str | None = Field(None, max_length=2000)
    """A condition (template expression); the step is skipped when it is false."""

    @property
    def kind(self) -> str:
        raise NotImplementedError

    def children(self) -> list[list[Step]]:
        """Nested step lists (branches, loop bodies)."""
        return []


class ActionStep(_Step):
    action: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
    """A registered action, e.g. ``firewall.block_ip`` (``watchkeeper playbook actions``)."""
    connector: str | None = Field(None, pattern=NAME)
    """The configured connector the action acts through, when it needs one."""
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    """The action's inputs; values may be templates."""
    ttl: Duration | None = None
    """For a containment action: roll it back after this long."""
    timeout: Duration = 60.0
    retry: Retry = Field(default_factory=Retry)
    on_error: Literal["fail", "continue"] = "fail"
    """``continue``: a failure is recorded in ``steps.<id>.error`` and the run goes on."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("ttl", "timeout", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> float | None:
        return None if value is None else parse_duration(value)

    @property
    def kind(self) -> str:
        return "action"


class BranchStep(_Step):
    if_: str = Field(alias="if", max_length=2000)
    then: list[Step] = Field(default_factory=list)
    else_: list[Step] = Field(default_factory=list, alias="else")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("then", "else_", mode="before")
    @classmethod
    def _kinds(cls, value: Any) -> Any:
        return _validated_steps(value)

    @property
    def kind(self) -> str:
        return "branch"

    def children(self) -> list[list[Step]]:
        return [self.then, self.else_]


class ForEachStep(_Step):
    foreach: str | list[Any] = Field(max_length=2000)
    """A template giving a list, or a literal list; each item is ``item`` in the body."""
    steps: list[Step] = Field(min_length=1)
    max_items: int = Field(100, ge=1, le=10_000)
    """More items than this fail the step instead of acting on all of them."""

    @field_validator("steps", mode="before")
    @classmethod
    def _kinds(cls, value: Any) -> Any:
        return _validated_steps(value)

    @property
    def kind(self) -> str:
        return "foreach"

    def children(self) -> list[list[Step]]:
        return [self.steps]


class Approvers(_Strict):
    roles: list[str] = Field(default_factory=list, max_length=10)
    users: list[str] = Field(default_factory=list, max_length=100)


class Approval(_Strict):
    prompt: str = Field(max_length=2000)
    approvers: Approvers = Field(default_factory=lambda: Approvers(roles=["responder"]))
    """Who may decide: anyone holding one of ``roles`` (admins always may) or named ``users``."""
    four_eyes: bool = False
    """Two different people must approve; the person who started the run cannot."""
    timeout: Duration = 3600.0
    default: Literal["approve", "reject"] = "reject"
    """The outcome when nobody decides within ``timeout``."""
    on_reject: Literal["stop", "continue"] = "stop"
    """``stop`` ends the run (status ``rejected``); ``continue`` lets later steps branch on
    ``steps.<id>.decision``."""

    @field_validator("timeout", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> float:
        return parse_duration(value)

    @model_validator(mode="after")
    def _someone(self) -> Approval:
        if not self.approvers.roles and not self.approvers.users:
            raise ValueError("an approval needs approvers: roles or users")
        return self


class ApprovalStep(_Step):
    approval: Approval

    @property
    def kind(self) -> str:
        return "approval"


class WaitStep(_Step):
    wait: Duration

    @field_validator("wait", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> float:
        return parse_duration(value)

    @property
    def kind(self) -> str:
        return "wait"


class CaseSpec(_Strict):
    title: str = Field(max_length=2000)
    severity: str = "medium"
    description: str = Field("", max_length=20_000)
    template: str | None = None
    tags: list[str] = Field(default_factory=list)
    alerts: str | list[int] | None = None
    """Alert ids to link (a template or a list); the triggering alert by default."""


class CaseStep(_Step):
    case: CaseSpec

    @property
    def kind(self) -> str:
        return "case"


class TaskSpec(_Strict):
    title: str = Field(max_length=2000)
    assignee: str | None = None
    role: str | None = None
    due_in: Duration | None = None

    @field_validator("due_in", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> float | None:
        return None if value is None else parse_duration(value)


class TaskStep(_Step):
    task: TaskSpec

    @property
    def kind(self) -> str:
        return "task"


class SetCaseStep(_Step):
    set_case: dict[str, Any] = Field(min_length=1)
    """Case fields to change: status, severity, priority, assignee, team, tags, tlp."""

    @property
    def kind(self) -> str:
        return "set_case"


class NotifySpec(_Strict):
    role: str
    message: str = Field(max_length=5000)


class NotifyStep(_Step):
    notify: NotifySpec

    @property
    def kind(self) -> str:
        return "notify"


class PlaybookStep(_Step):
    playbook: str = Field(pattern=NAME)
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def kind(self) -> str:
        return "playbook"


STEP_TYPES: dict[str, type[_Step]] = {
    "action": ActionStep,
    "if": BranchStep,
    "foreach": ForEachStep,
    "approval": ApprovalStep,
    "wait": WaitStep,
    "case": CaseStep,
    "task": TaskStep,
    "set_case": SetCaseStep,
    "notify": NotifyStep,
    "playbook": PlaybookStep,
}
"""The key that makes a step of each kind."""

Step = (ActionStep | BranchStep | ForEachStep | ApprovalStep | WaitStep | CaseStep | TaskStep
        | SetCaseStep | NotifyStep | PlaybookStep)


def _step_kind(value: Any) -> Any:
    """Pick a step's class by its key, so that a mistake gets one clear message instead of
    one per class the union tried."""
    if not isinstance(value, dict):
        return value
    keys = [key for key in STEP_TYPES if key in value]
    if len(keys) != 1:
        found = "none" if not keys else ", ".join(keys)
        raise ValueError(
            f"a step needs exactly one of {', '.join(STEP_TYPES)} (found {found})")
    return STEP_TYPES[keys[0]].model_validate(value)


class AlertTrigger(_Strict):
    """Runs on each new alert that matches every condition given."""

    rules: list[str] = Field(default_factory=list)
    """Rule ids or titles; ``*`` wildcards allowed."""
    levels: list[Literal["informational", "low", "medium", "high", "critical"]] = Field(
        default_factory=list)
    tags: list[str] = Field(default_factory=list)
    """At least one of these tags (e.g. ``attack.credential_access``)."""
    where: dict[str, str] = Field(default_factory=dict)
    """Entity field → wildcard pattern, e.g. ``{source_ip: "*"}`` (the field is present)."""


class CaseTrigger(_Strict):
    """Runs on each new case that matches every condition given."""

    severities: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    template: str | None = None


class ScheduleTrigger(_Strict):
    cron: str = Field(max_length=200)
    """Five fields, UTC: minute hour day-of-month month day-of-week."""

    @field_validator("cron")
    @classmethod
    def _valid(cls, value: str) -> str:
        from croniter import croniter

        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a five-field cron expression")
        return value


class WebhookTrigger(_Strict):
    secret: str = Field(pattern=NAME)
    """The name of a stored secret; callers sign the body with it (HMAC-SHA256)."""


class Trigger(_Strict):
    alert: AlertTrigger | None = None
    case: CaseTrigger | None = None
    schedule: ScheduleTrigger | None = None
    manual: dict[str, Any] | None = None
    webhook: WebhookTrigger | None = None

    @model_validator(mode="after")
    def _one(self) -> Trigger:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("a trigger is exactly one of alert, case, schedule, manual, webhook")
        return self

    @property
    def kind(self) -> str:
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)


class InputSpec(_Strict):
    type: Literal["string", "integer", "number", "boolean", "list", "object"] = "string"
    required: bool = False
    default: Any = None
    description: str = ""


class TestExpect(_Strict):
    status: str = "succeeded"
    path: list[str] | None = None
    """Step ids in the order they ran (loop bodies once per item)."""
    outputs: dict[str, Any] = Field(default_factory=dict)
    """Playbook outputs that must equal these (others are not checked)."""
    actions: list[dict[str, Any]] | None = None
    """Each action step run, as ``{step, action, with}``, in order."""


class PlaybookTest(_Strict):
    __test__ = False  # not a pytest class

    name: str = Field(max_length=200)
    trigger: dict[str, Any] = Field(default_factory=dict)
    """What ``trigger`` holds in templates: ``{alert: {...}}``, ``{case: {...}}``, …"""
    inputs: dict[str, Any] = Field(default_factory=dict)
    mocks: dict[str, Any] = Field(default_factory=dict)
    """Step id (or ``caller>step`` inside a called playbook) → the outputs its action
    returns, or ``{error: "..."}`` to make it fail."""
    approvals: dict[str, Literal["approve", "reject", "timeout"]] = Field(default_factory=dict)
    """Step id → the decision; approvals not named are approved."""
    expect: TestExpect = Field(default_factory=TestExpect)


class Playbook(_Strict):
    name: str = Field(pattern=NAME)
    title: str = Field(max_length=200)
    description: str = Field("", max_length=20_000)
    tags: list[str] = Field(default_factory=list)
    enabled: bool = True
    triggers: list[Trigger] = Field(default_factory=list)
    inputs: dict[str, InputSpec] = Field(default_factory=dict)
    steps: list[Step] = Field(min_length=1)
    outputs: dict[str, Any] = Field(default_factory=dict)
    tests: list[PlaybookTest] = Field(default_factory=list)

    @field_validator("steps", mode="before")
    @classmethod
    def _kinds(cls, value: Any) -> Any:
        return _validated_steps(value)

    @model_validator(mode="after")
    def _unique_ids(self) -> Playbook:
        seen: set[str] = set()
        count = 0
        for step in walk(self.steps):
            count += 1
            if step.id in seen:
                raise ValueError(f"step id {step.id!r} is used twice")
            seen.add(step.id)
        if count > MAX_STEPS:
            raise ValueError(f"{count} steps: a playbook holds {MAX_STEPS} at most")
        return self

    def step(self, step_id: str) -> Step:
        for step in walk(self.steps):
            if step.id == step_id:
                return step
        raise KeyError(step_id)


def walk(steps: list[Step]) -> list[Step]:
    """Every step, nested ones included, in document order."""
    found: list[Step] = []
    for step in steps:
        found.append(step)
        for branch in step.children():
            found.extend(walk(branch))
    return found


def _validated_steps(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    steps = []
    for index, item in enumerate(value):
        try:
            steps.append(_step_kind(item))
        except ValidationError as error:
            raise ValueError("; ".join(f"[{index}]{where}: {problem}"
                                       for where, problem in error_lines(error))) from None
        except ValueError as error:
            raise ValueError(f"[{index}]: {error}") from None
    return steps


def error_lines(error: ValidationError) -> list[tuple[str, str]]:
    """(where, problem) for each of a validation error's problems, ``where`` written like
    ``.steps[2].with``. A problem raised inside a nested step list already names its own
    place, and is kept whole."""
    lines = []
    for item in error.errors():
        where = ""
        for part in item["loc"]:
            where += f"[{part}]" if isinstance(part, int) else f".{_ALIASES.get(str(part), part)}"
        problem = item["msg"].removeprefix("Value error, ")
        if problem.startswith("["):
            place, _, rest = problem.partition(": ")
            where, problem = where + place, rest
            for extra in rest.split("; ")[1:]:
                lines.append((where, extra))
            problem = rest.split("; ")[0]
        lines.append((where, problem))
    return lines


_ALIASES = {"with_": "with", "if_": "if", "else_": "else"}


BranchStep.model_rebuild()
ForEachStep.model_rebuild()
Playbook.model_rebuild()
