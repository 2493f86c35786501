"""What a hunt read, skipped and found, for the end-of-run report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.detection.rules import LEVELS, Rule, RuleFailure
from watchkeeper.events.model import Skip

MAX_SKIP_EXAMPLES = 20


@dataclass(slots=True)
class HuntSummary:
    files: int = 0
    events: int = 0
    events_in_range: int = 0
    skipped: int = 0
    skip_reasons: Counter[str] = field(default_factory=Counter)
    skip_examples: list[Skip] = field(default_factory=list)
    rules_loaded: int = 0
    rules_selected: int = 0
    rules_failed: list[RuleFailure] = field(default_factory=list)
    fallback_rules: int = 0
    stale_exclusions: list[str] = field(default_factory=list)
    """Exclusions that name no loaded rule."""
    matches: int = 0
    by_level: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    rule_titles: dict[str, str] = field(default_factory=dict)
    by_tactic: Counter[str] = field(default_factory=Counter)

    def add_skips(self, skips: list[Skip]) -> None:
        for skip in skips:
            self.skipped += 1
            self.skip_reasons[_reason_kind(skip.reason)] += 1
            if len(self.skip_examples) < MAX_SKIP_EXAMPLES:
                self.skip_examples.append(skip)

    def add_match(self, rule: Rule) -> None:
        self.matches += 1
        self.by_level[rule.level] += 1
        self.by_rule[rule.id] += 1
        self.rule_titles[rule.id] = rule.title
        for tactic in rule.tactics:
            self.by_tactic[tactic] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "events": self.events,
            "events_in_range": self.events_in_range,
            "skipped": {
                "total": self.skipped,
                "by_reason": dict(self.skip_reasons.most_common()),
                "examples": [
                    {"source": s.source, "location": s.location, "reason": s.reason}
                    for s in self.skip_examples
                ],
            },
            "rules": {
                "loaded": self.rules_loaded,
                "selected": self.rules_selected,
                "fallback": self.fallback_rules,
                "stale_exclusions": self.stale_exclusions,
                "failed": [
                    {"path": f.path, "rule_id": f.rule_id, "reason": f.reason}
                    for f in self.rules_failed
                ],
            },
            "matches": {
                "total": self.matches,
                "by_level": {lvl: self.by_level[lvl] for lvl in reversed(LEVELS)},
                "by_rule": [
                    {"rule_id": rid, "rule_title": self.rule_titles[rid], "count": n}
                    for rid, n in self.by_rule.most_common()
                ],
                "by_tactic": dict(self.by_tactic.most_common()),
            },
        }


def _reason_kind(reason: str) -> str:
    """Group skip reasons by their first clause so that the summary stays short."""
    return reason.split(":", 1)[0].strip()[:120]
