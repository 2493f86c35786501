"""Inline suppression comments: ``# watchkeeper:ignore=WK-TF-001 the reason``.

A directive on the line of a finding, or alone on the comment lines just above it, turns
that finding into a suppressed one that keeps its reason. Several ids may be listed with
commas. A directive without a reason still suppresses, but is itself reported (WK-SUP-001)
so that unexplained exceptions show up in review.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from watchkeeper.vulns.iac.model import Policy, Target, Violation
from watchkeeper.vulns.model import Severity

_DIRECTIVE = re.compile(
    r"(?:#|//)\s*watchkeeper:ignore=([A-Za-z0-9_-]+(?:\s*,\s*[A-Za-z0-9_-]+)*)(.*)$"
)
_COMMENT_ONLY = re.compile(r"^\s*(#|//)")


@dataclass(frozen=True)
class Directive:
    line: int
    ids: frozenset[str]
    reason: str
    covers: frozenset[int]
    """The lines it applies to: its own, and the first non-comment line below when it
    stands alone on a comment line."""

    @property
    def kind(self) -> str:
        return "suppression"

    @property
    def address(self) -> str:
        return f"watchkeeper:ignore={','.join(sorted(self.ids))}"

    def suppresses(self, policy_id: str, line: int) -> bool:
        return line in self.covers and policy_id in self.ids


def directives(text: str) -> list[Directive]:
    lines = text.splitlines()
    found: list[Directive] = []
    for index, line in enumerate(lines):
        match = _DIRECTIVE.search(line)
        if match is None:
            continue
        ids = frozenset(part.strip() for part in match.group(1).split(","))
        reason = match.group(2).strip().lstrip("-:—").strip()
        covers = {index + 1}
        if _COMMENT_ONLY.match(line):
            below = index + 1
            while below < len(lines) and _COMMENT_ONLY.match(lines[below]):
                below += 1
            covers.add(below + 1)
        found.append(Directive(index + 1, ids, reason, frozenset(covers)))
    return found


def check_reason(directive: Directive) -> Iterator[Violation]:
    if not directive.reason:
        yield Violation(directive.line,
                        f"suppression of {', '.join(sorted(directive.ids))} gives no reason")


POLICY: Policy[Directive] = Policy(
    "WK-SUP-001", "Suppression without a reason", Severity.LOW, Target.ANY, ("suppression",),
    "A watchkeeper:ignore comment with no text after the policy ids. It still suppresses.",
    "Say why the finding does not apply after the ids: "
    "# watchkeeper:ignore=WK-TF-001 public website, no private data.",
    check_reason,
)
