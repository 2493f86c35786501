"""What an action is: typed inputs and outputs, what it would do (dry run), what undoes it.

An action is a class registered under a dotted name (``firewall.block_ip``). The engine
validates a step's rendered ``with:`` against ``Inputs`` before anything runs, checks the
result against ``Outputs``, and, for a containment action, records ``before()`` and the
inputs of its ``undo`` action so that the change can be rolled back later, by a person or
when its TTL runs out. Third parties add actions through the ``watchkeeper.actions``
entry point group; the built-in ones use the same registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from importlib.metadata import entry_points
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from watchkeeper.errors import UsageError, WatchkeeperError


class ActionKind(StrEnum):
    CONTAINMENT = "containment"
    ENRICHMENT = "enrichment"
    COMMUNICATION = "communication"
    OPERATIONS = "operations"


class ActionFailed(WatchkeeperError):
    """An action that ran and failed: the remote refused, timed out, or answered nonsense.

    ``retryable`` says whether trying again may help (a timeout, a 503), as opposed to a
    refusal that will not change (a 400, a missing account)."""

    http_status = 502

    def __init__(self, message: str, *, retryable: bool = True,
                 location: str | None = None) -> None:
        super().__init__(message, location=location)
        self.retryable = retryable


class ActionInputs(BaseModel):
    """Base of every action's inputs: unknown keys are a mistake, not something to ignore.
    Attribute docstrings become the fields' descriptions (in the schema and the docs)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class ActionOutputs(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


@dataclass(frozen=True)
class Connector:
    """A configured endpoint an action acts through: a firewall API, an EDR, a mail relay.

    ``secrets`` are decrypted only for the call and never logged, audited or returned."""

    name: str
    type: str
    config: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    allow_private: bool = False
    """Outbound calls may go to loopback, private and link-local addresses."""


@dataclass(frozen=True)
class Plan:
    """What an action would do, reported by a dry run instead of doing it."""

    summary: str
    targets: list[str] = field(default_factory=list)
    """What it would touch: addresses, hosts, accounts, recipients (the blast radius)."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """Outputs assumed for the steps after it."""


class Lookups(Protocol):
    """What enrichment actions read from the running Watchkeeper (assets, events, cases)."""

    def asset(self, host: str | None, ip: str | None) -> dict[str, Any] | None: ...

    def search_events(self, query: str, hours: float, limit: int) -> list[dict[str, Any]]: ...

    def indicator(self, value: str) -> list[dict[str, Any]]: ...


class ActionContext(Protocol):
    """What an action gets besides its inputs."""

    @property
    def idempotency_key(self) -> str:
        """The same for every try of one step of one run: remotes that honour an
        ``Idempotency-Key`` header act once however often the step is retried."""
        ...

    @property
    def timeout_s(self) -> float: ...

    @property
    def ttl_s(self) -> float | None:
        """How long a containment step is to last, when it has a TTL."""
        ...

    @property
    def now(self) -> datetime: ...

    @property
    def lookups(self) -> Lookups: ...

    def connector(self, types: tuple[str, ...]) -> Connector:
        """The step's connector, if its type is one of ``types``; else a UsageError."""
        ...


In = TypeVar("In", bound=ActionInputs)
Out = TypeVar("Out", bound=ActionOutputs)


class Action(Generic[In, Out]):
    """One kind of thing a playbook can do. Subclasses set the class variables and
    implement :meth:`run` and :meth:`plan`."""

    name: ClassVar[str]
    title: ClassVar[str]
    kind: ClassVar[ActionKind]
    Inputs: ClassVar[type[ActionInputs]]
    Outputs: ClassVar[type[ActionOutputs]]
    connector_types: ClassVar[tuple[str, ...]] = ()
    """Connector types it can act through; empty: it needs none."""
    undo: ClassVar[str | None] = None
    """The action that reverses this one; every containment action names one."""
    pure: ClassVar[bool] = False
    """It reads nothing outside its inputs and changes nothing: playbook tests run it for
    real instead of asking for a mock."""

    def run(self, ctx: ActionContext, inputs: In) -> Out:
        raise NotImplementedError

    def plan(self, ctx: ActionContext, inputs: In) -> Plan:
        raise NotImplementedError

    def before(self, ctx: ActionContext, inputs: In) -> dict[str, Any]:
        """The state this action is about to change, recorded before it acts."""
        return {}

    def undo_inputs(self, inputs: In, outputs: Out) -> dict[str, Any]:
        """The inputs of :attr:`undo` that reverse this call."""
        return inputs.model_dump(mode="json")

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """Name, kind, inputs, outputs and undo: for docs, the API and ``playbook actions``."""
        return {
            "name": cls.name,
            "title": cls.title,
            "kind": cls.kind.value,
            "connector_types": list(cls.connector_types),
            "undo": cls.undo,
            "inputs": cls.Inputs.model_json_schema(),
            "outputs": cls.Outputs.model_json_schema(),
            "description": (cls.__doc__ or "").strip(),
        }


class ActionRegistry:
    """Action name → action. Registering two actions under one name is an error."""

    def __init__(self) -> None:
        self._actions: dict[str, Action[Any, Any]] = {}

    def register(self, action: Action[Any, Any]) -> None:
        name = action.name
        if name in self._actions and type(self._actions[name]) is not type(action):
            raise UsageError(f"two actions are registered as {name!r}")
        if action.kind is ActionKind.CONTAINMENT and not action.undo:
            raise UsageError(f"containment action {name!r} declares no undo")
        self._actions[name] = action

    def names(self) -> list[str]:
        return sorted(self._actions)

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def get(self, name: str) -> Action[Any, Any]:
        try:
            return self._actions[name]
        except KeyError:
            raise UsageError(f"unknown action {name!r} (known: {', '.join(self.names())})"
                             ) from None

    def check_undo(self) -> None:
        """Every declared undo names a registered action."""
        for action in self._actions.values():
            if action.undo and action.undo not in self._actions:
                raise UsageError(f"{action.name!r} names undo {action.undo!r}, "
                                 "which is not registered")

    def load_entry_points(self) -> None:
        for entry in entry_points(group="watchkeeper.actions"):
            loaded = entry.load()
            self.register(loaded() if isinstance(loaded, type) else loaded)
