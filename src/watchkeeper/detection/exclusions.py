"""Exclusions: known-good activity taken out of rules without editing the rules.

An exclusions file lists, for one rule, several rules or all of them, a Sigma
detection that describes events the rule must not report::

    exclusions:
      - rules: [5f2c5a0e-7b0e-4b57-9a55-4a4f0f7a1c01]   # ids or titles; '*' for every rule
        reason: the backup agent runs whoami every hour
        match:                                          # a Sigma detection map (AND) …
          ParentImage|endswith: '\\backup-agent.exe'
      - rules: '*'
        reason: the vulnerability scanner
        match: [{Computer: scanner-01}, {Computer: scanner-02}]   # … or a list of maps (OR)

Each one becomes ``rule condition and not (match)``. Exclusions that name no loaded
rule are reported, so that stale entries do not pile up unseen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from watchkeeper.detection import ir
from watchkeeper.detection.convert import Converter
from watchkeeper.detection.rules import POLICY, Rule
from watchkeeper.errors import UsageError


@dataclass(frozen=True, slots=True)
class Exclusion:
    rules: frozenset[str] | None
    """Rule ids or titles; None for every rule."""
    reason: str
    condition: ir.Node
    where: str

    def applies_to(self, rule: Rule) -> bool:
        return self.rules is None or rule.id in self.rules or rule.title in self.rules


def load_exclusions(paths: Sequence[Path]) -> list[Exclusion]:
    exclusions: list[Exclusion] = []
    for path in paths:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise UsageError(f"cannot read exclusions: {error}", location=str(path)) from None
        items = document.get("exclusions") if isinstance(document, dict) else None
        if not isinstance(items, list):
            raise UsageError(
                "an exclusions file needs a list under 'exclusions'", location=str(path)
            )
        for number, item in enumerate(items, 1):
            exclusions.append(parse_exclusion(item, f"{path}: exclusion {number}"))
    return exclusions


def parse_exclusion(item: Any, where: str) -> Exclusion:
    """One exclusion from its mapping form (a file entry or an API body)."""
    if not isinstance(item, dict):
        raise UsageError("an exclusion must be a mapping", location=where)
    names = item.get("rules", item.get("rule"))
    if names == "*":
        rules = None
    elif isinstance(names, str):
        rules = frozenset({names})
    elif isinstance(names, list) and names and all(isinstance(n, str) for n in names):
        rules = frozenset(names)
    else:
        raise UsageError(
            "'rules' must be a rule id or title, a list of them, or '*'", location=where
        )
    match = item.get("match")
    if not isinstance(match, dict | list) or not match:
        raise UsageError("'match' must be a Sigma detection map or a list of maps", location=where)
    document = {
        "title": "exclusion",
        "logsource": {"product": "any"},
        "detection": {"exclusion": match, "condition": "exclusion"},
    }
    try:
        sigma_rule = SigmaRule.from_dict(document, policy=POLICY)
        condition = Converter().condition(sigma_rule.detection.parsed_condition)
    except (SigmaError, ValueError, TypeError) as error:
        raise UsageError(f"'match' is not a valid detection: {error}", location=where) from None
    return Exclusion(rules, str(item.get("reason") or ""), condition, where)


def apply_exclusions(
    rules: Sequence[Rule], exclusions: Sequence[Exclusion]
) -> tuple[list[Rule], list[Exclusion]]:
    """The rules with their exclusions folded into their conditions, and the exclusions
    that apply to no rule."""
    used: set[int] = set()
    result = []
    for rule in rules:
        mine = [i for i, e in enumerate(exclusions) if e.applies_to(rule)]
        used.update(mine)
        if mine:
            excluded = ir.Or(tuple(exclusions[i].condition for i in mine))
            rule = replace(rule, condition=ir.simplify(ir.And((rule.condition, ir.Not(excluded)))))
        result.append(rule)
    stale = [e for i, e in enumerate(exclusions) if i not in used]
    return result, stale
