"""Evaluate one Sigma rule on a few events with both evaluators, which must agree.

``matches(rule_yaml, events)`` returns, per event, whether the rule matched,
after asserting that the vectorized engine and the per-event reference gave the
same answer. Events are flat mappings of original fields; the logsource of the
rule decides ``event.dataset`` unless the event gives one.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from sigma.collection import SigmaCollection

from watchkeeper.detection import reference
from watchkeeper.detection.convert import Converter
from watchkeeper.detection.engine import Engine, lowered_fields
from watchkeeper.detection.rules import POLICY, Rule, RuleLoader
from watchkeeper.events.model import DATASET, frame_from_records, stringify

DEFAULT_LOGSOURCE = "logsource: {product: windows, category: process_creation}"
SYSMON = {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1}


def rule_from_yaml(text: str, placeholders: Mapping[str, Sequence[str]] | None = None) -> Rule:
    document = yaml.safe_load(textwrap.dedent(text))
    document.setdefault("title", "test rule")
    document.setdefault("logsource", {"product": "windows", "category": "process_creation"})
    collection = SigmaCollection.from_dicts([document], collect_errors=False, policy=POLICY)
    loader = RuleLoader(placeholders)
    return loader.convert(collection.rules[0], "<test>")


def detection(body: str) -> str:
    """A rule document around a ``detection:`` body."""
    return "detection:\n" + textwrap.indent(textwrap.dedent(body), "  ")


def field_rule(key: str, value: str) -> str:
    """A one-selection rule ``key: value`` (value written as YAML)."""
    return detection(
        f"""
        selection:
          {key}: {value}
        condition: selection
        """
    )


def matches(
    rule: Rule | str,
    events: Sequence[Mapping[str, Any]],
    placeholders: Mapping[str, Sequence[str]] | None = None,
) -> list[bool]:
    if isinstance(rule, str):
        rule = rule_from_yaml(rule, placeholders)
    records = [{**SYSMON, **event} for event in events]
    datasets = [str(r.pop(DATASET, "windows.sysmon")) for r in records]
    frame = frame_from_records(records, {DATASET: datasets})
    engine = Engine([rule], few_rows=0)  # every rule as a query: the vectorized path
    assert not engine.unrouted, f"rule logsource {rule.logsource} is not routed"
    hit_rows = set(engine.evaluate(frame).get_column("row").to_list())
    columnar = [i in hit_rows for i in range(len(records))]
    expected = [
        reference.matches(rule.condition, {k: stringify(v) for k, v in record.items()})
        for record in records
    ]
    assert columnar == expected, f"engine {columnar} != reference {expected}"
    return columnar


__all__ = [
    "DEFAULT_LOGSOURCE", "Converter", "detection", "field_rule", "lowered_fields", "matches"
]
