"""The rule-set cache: same rules back, invalidated by any change, never trusted blindly."""

from __future__ import annotations

from pathlib import Path

from watchkeeper.detection.cache import RuleCache, decode_node, encode_node
from watchkeeper.detection.rules import RuleLoader

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "examples" / "rules"


def test_cached_rules_equal_freshly_loaded_ones(tmp_path: Path) -> None:
    fresh = RuleLoader().load([RULES])
    first = RuleLoader(cache=RuleCache(tmp_path)).load([RULES])
    assert len(list(tmp_path.glob("*.json"))) == 1
    second = RuleLoader(cache=RuleCache(tmp_path)).load([RULES])
    assert first.rules == fresh.rules
    assert second.rules == fresh.rules
    assert second.failed == fresh.failed


def test_every_ir_node_round_trips(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(ROOT))
    from tests.detection.harness import rule_from_yaml

    rule = rule_from_yaml(
        """
        detection:
          a: {CommandLine|contains|all: [x, y], Image|endswith: '\\a.exe'}
          b: {DestinationIp|cidr: [10.0.0.0/8, 'fe80::/10'], Count|gt: 3, Name|re|i: 'a.b'}
          c: {Parent: null, Other|exists: false, Field|fieldref: Other, Path|cased: 'A*b?'}
          d: {UtcTime|hour: 3}
          keywords: ['mimikatz', 'x*y']
          condition: (a or b) and not c or d or keywords
        """
    )
    assert decode_node(encode_node(rule.condition)) == rule.condition


def test_a_changed_rule_is_loaded_again(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    source = RULES / "windows" / "security_audit_log_cleared.yml"
    target = rules / source.name
    target.write_text(source.read_text())
    cache = RuleCache(tmp_path / "cache")
    assert RuleLoader(cache=cache).load([rules]).rules[0].level == "high"
    target.write_text(source.read_text().replace("level: high", "level: low"))
    assert RuleLoader(cache=cache).load([rules]).rules[0].level == "low"


def test_a_corrupt_cache_entry_is_ignored(tmp_path: Path) -> None:
    cache = RuleCache(tmp_path)
    expected = RuleLoader(cache=cache).load([RULES]).rules
    for entry in tmp_path.glob("*.json"):
        entry.write_text('{"rules": [["not", "a rule"]], "failed": []}')
    assert RuleLoader(cache=cache).load([RULES]).rules == expected


def test_rule_sets_with_filters_are_not_cached(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a.yml").write_text((RULES / "windows" / "security_audit_log_cleared.yml").read_text())
    (rules / "f.yml").write_text(
        "title: quiet\nfilter:\n  rules: [8a1e4c2f-93d0-4b2e-b7a5-1f0c9d3e6b03]\n"
        "  selection: {SubjectUserName: backup}\n  condition: not selection\n"
        "logsource: {product: windows, service: security}\n"
    )
    RuleLoader(cache=RuleCache(tmp_path / "cache")).load([rules])
    assert not (tmp_path / "cache").exists()
