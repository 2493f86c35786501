"""What an infrastructure-as-code policy is, and the registry that holds them.

A policy names one misconfiguration: an id (``WK-TF-001``), a title, a severity, the fix,
the resource kinds it looks at, and a check. A check receives one *subject* (a Terraform
resource with its module, a Kubernetes workload, a Dockerfile) and yields violations, each
with the line to fix; the scanner turns violations into :class:`Finding` objects.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from watchkeeper.errors import UsageError
from watchkeeper.vulns.model import Severity

S = TypeVar("S")

ENTRY_POINT_GROUP = "watchkeeper.iac_policies"
"""Third-party policies: each entry point is a callable returning an iterable of policies."""


class Target(StrEnum):
    """The kind of file a policy reads."""

    TERRAFORM = "terraform"
    KUBERNETES = "kubernetes"
    DOCKERFILE = "dockerfile"
    ANY = "any"
    """Policies about the scan itself (suppression comments), not one format."""


@dataclass(frozen=True)
class Violation:
    """One place where a subject breaks a policy."""

    line: int
    message: str
    """What is wrong here, naming the attribute or instruction: shown beside the title."""


@dataclass(frozen=True)
class Policy(Generic[S]):
    """One documented misconfiguration check."""

    id: str
    title: str
    severity: Severity
    target: Target
    kinds: tuple[str, ...]
    """Resource types (``aws_s3_bucket``), workload kinds (``Deployment``) or ``Dockerfile``."""
    checks: str
    """What the check looks at, in a sentence or two (the reference's "what it checks")."""
    fix: str
    check: Callable[[S], Iterable[Violation]]

    def applies_to(self, kind: str) -> bool:
        return kind in self.kinds


class PolicyRegistry:
    """Policies by id; built-in ones and third-party ones are added the same way."""

    def __init__(self, policies: Iterable[Policy[Any]] = ()) -> None:
        self._policies: dict[str, Policy[Any]] = {}
        for policy in policies:
            self.add(policy)

    def add(self, policy: Policy[Any]) -> None:
        if policy.id in self._policies:
            raise UsageError(f"two IaC policies share the id {policy.id}")
        self._policies[policy.id] = policy

    def get(self, policy_id: str) -> Policy[Any]:
        return self._policies[policy_id]

    def __contains__(self, policy_id: object) -> bool:
        return policy_id in self._policies

    def __iter__(self) -> Iterator[Policy[Any]]:
        return iter(sorted(self._policies.values(), key=lambda p: p.id))

    def __len__(self) -> int:
        return len(self._policies)

    def for_target(self, target: Target) -> list[Policy[Any]]:
        return [policy for policy in self if policy.target is target]

    def load_entry_points(self) -> None:
        """Add the policies third-party packages declare under ``watchkeeper.iac_policies``."""
        for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            for policy in entry.load()():
                self.add(policy)


def default_registry(*, plugins: bool = False) -> PolicyRegistry:
    """The built-in policies, and with ``plugins`` the ones installed packages add."""
    from watchkeeper.vulns.iac.policies import builtin_policies

    registry = PolicyRegistry(builtin_policies())
    if plugins:
        registry.load_entry_points()
    return registry
