"""Calling one action: inputs checked against its model, its connector found, a deadline
set, outputs checked; the same path for a playbook step, a rollback and a dry run."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from watchkeeper.errors import UsageError, WatchkeeperError
from watchkeeper.response.actions.base import (
    Action,
    ActionFailed,
    ActionRegistry,
    Connector,
    Lookups,
    Plan,
)

ACTION_THREADS = 8
"""Actions running at once at most; a call waiting for a thread counts against its timeout."""


class ConnectorSource(Protocol):
    def get(self, name: str) -> Connector: ...


class NoConnectors:
    """A connector source with none configured."""

    def get(self, name: str) -> Connector:
        raise UsageError(f"no connector named {name!r}")


class NoLookups:
    """Lookups for a process with nothing to look in (tests, the command line)."""

    def asset(self, host: str | None, ip: str | None) -> dict[str, Any] | None:
        return None

    def search_events(self, query: str, hours: float, limit: int) -> list[dict[str, Any]]:
        return []

    def indicator(self, value: str) -> list[dict[str, Any]]:
        return []


@dataclass(frozen=True)
class CallContext:
    """What an action sees of the call (see :class:`ActionContext`)."""

    idempotency_key: str
    timeout_s: float
    now: datetime
    lookups: Lookups
    connector_name: str | None
    connectors: ConnectorSource | None
    ttl_s: float | None = None
    """How long a containment action is to last (a firewall may expire it by itself)."""

    def connector(self, types: tuple[str, ...]) -> Connector:
        if self.connector_name is None or self.connectors is None:
            raise UsageError(f"this action needs a connector ({' or '.join(types)})")
        found = self.connectors.get(self.connector_name)
        if found.type not in types:
            raise UsageError(f"connector {found.name!r} is of type {found.type}; this action "
                             f"acts through {' or '.join(types)}")
        return found


@dataclass(frozen=True)
class Called:
    action: Action[Any, Any]
    inputs: dict[str, Any]
    """As validated (defaults filled in)."""
    outputs: dict[str, Any]
    before: dict[str, Any]
    undo_inputs: dict[str, Any] | None
    plan: Plan | None = None


def validated_inputs(action: Action[Any, Any], inputs: dict[str, Any]) -> Any:
    try:
        return action.Inputs.model_validate(inputs)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'inputs'}: {e['msg']}"
                             for e in error.errors())
        raise ActionFailed(f"{action.name}: invalid inputs: {problems}",
                           retryable=False) from None


def validated_outputs(action: Action[Any, Any], outputs: Any) -> dict[str, Any]:
    try:
        model = outputs if isinstance(outputs, action.Outputs) else \
            action.Outputs.model_validate(outputs)
    except ValidationError as error:
        raise ActionFailed(f"{action.name} returned outputs that do not fit its model: "
                           f"{error.errors()[0]['msg']}", retryable=False) from None
    dumped: dict[str, Any] = model.model_dump(mode="json")
    return dumped


class Caller:
    def __init__(self, actions: ActionRegistry, connectors: ConnectorSource | None,
                 lookups: Lookups | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.actions = actions
        self.connectors = connectors
        self.lookups: Lookups = lookups or NoLookups()
        self.clock = clock
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=ACTION_THREADS, thread_name_prefix="action")

    def call(self, name: str, connector: str | None, inputs: dict[str, Any], *, key: str,
             timeout_s: float, dry_run: bool = False, ttl_s: float | None = None) -> Called:
        """Run ``name`` (or, with ``dry_run``, ask it what it would do) within ``timeout_s``.

        Raises ActionFailed (the action failed; ``retryable`` says if trying again may help)
        or another WatchkeeperError (a mistake in the playbook or the configuration)."""
        action = self.actions.get(name)
        model = validated_inputs(action, inputs)
        ctx = CallContext(key, timeout_s, self.clock(), self.lookups, connector,
                          self.connectors, ttl_s)
        if dry_run:
            plan = action.plan(ctx, model)
            return Called(action, model.model_dump(mode="json"), dict(plan.outputs), {}, None,
                          plan)
        before = _bounded(self._pool, lambda: action.before(ctx, model), timeout_s, name)
        result = _bounded(self._pool, lambda: action.run(ctx, model), timeout_s, name)
        outputs = validated_outputs(action, result)
        undo = None
        if action.undo:
            undo = action.undo_inputs(model, action.Outputs.model_validate(outputs))
        return Called(action, model.model_dump(mode="json"), outputs, dict(before), undo)


def _bounded(pool: concurrent.futures.Executor, job: Callable[[], Any], timeout_s: float,
             name: str) -> Any:
    """``job()``, or ActionFailed once ``timeout_s`` has passed. Connectors set their own
    timeouts too; this is the backstop for one that does not return."""
    future = pool.submit(job)
    try:
        return future.result(timeout=timeout_s)
    except concurrent.futures.TimeoutError:
        raise ActionFailed(f"{name} did not finish within {timeout_s:g} s") from None
    except WatchkeeperError:
        raise
    except (OSError, ValueError) as error:
        raise ActionFailed(f"{name} failed: {type(error).__name__}: {error}") from None
