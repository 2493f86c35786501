"""``rules check``: load rules as a hunt would and report every one that cannot run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchkeeper.detection.engine import Engine
from watchkeeper.detection.logsource import LogSource, LogSourceMapping
from watchkeeper.detection.rules import Rule, RuleFailure, RuleLoader, RuleSet


def unrouted_failures(rules: Sequence[Rule], mapping: LogSourceMapping) -> list[RuleFailure]:
    """Rules whose logsource no mapping entry covers: they could never match, so say so."""
    covered: dict[LogSource, bool] = {}
    failures = []
    for rule in rules:
        if rule.logsource not in covered:
            covered[rule.logsource] = mapping.route(rule.logsource) is not None
        if not covered[rule.logsource]:
            reason = f"no logsource mapping covers {rule.logsource} (add one with --mapping FILE)"
            failures.append(RuleFailure(rule.path, rule.id, reason))
    return failures


def split_routable(
    ruleset: RuleSet, mapping: LogSourceMapping
) -> tuple[list[Rule], list[RuleFailure]]:
    """The rules the mapping routes to events, and every failure: the loader's and one
    for each rule no mapping entry covers."""
    unrouted = unrouted_failures(ruleset.rules, mapping)
    dropped = {(f.path, f.rule_id) for f in unrouted}
    routed = [r for r in ruleset.rules if (r.path, r.id) not in dropped]
    return routed, [*ruleset.failed, *unrouted]


@dataclass(slots=True)
class CheckReport:
    loaded: list[Rule] = field(default_factory=list)
    failed: list[RuleFailure] = field(default_factory=list)
    fallback: list[Rule] = field(default_factory=list)
    """Rules with a test that runs in Python per distinct value (slower, still exact)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "loaded": len(self.loaded),
            "failed": [
                {"path": f.path, "rule_id": f.rule_id, "reason": f.reason} for f in self.failed
            ],
            "fallback": [{"path": r.path, "rule_id": r.id} for r in self.fallback],
        }


def check_rules(
    paths: Sequence[str | Path],
    mapping: LogSourceMapping,
    placeholders: Mapping[str, Sequence[str]] | None = None,
    filters: Sequence[str | Path] = (),
) -> CheckReport:
    loaded, failed = split_routable(RuleLoader(placeholders).load(paths, filters), mapping)
    engine = Engine(loaded, mapping)
    return CheckReport(
        loaded=loaded,
        failed=failed,
        fallback=[loaded[i] for i in sorted(engine.fallback_rules)],
    )
