"""Differential property test: random rules over random events, vectorized engine against
the per-event reference.

Rules come from a small grammar (three fields, a tiny alphabet with wildcards and escapes,
the string / regex / exists / null / comparison / fieldref / neq / all modifiers, keywords,
and conditions built from and / or / not / ``1 of`` / ``all of``). Several rules run in
one engine, so the prefilter that decides which rules to evaluate on which rows is
exercised too. U+001F, the separator of the engine's keyword column, is kept out of the
alphabets (see the xfail test in test_values.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sigma.collection import SigmaCollection

from watchkeeper.detection import reference
from watchkeeper.detection.engine import Engine
from watchkeeper.detection.fields import FieldAliases
from watchkeeper.detection.logsource import LogSourceMapping
from watchkeeper.detection.rules import Rule, RuleLoader
from watchkeeper.events.model import DATASET, frame_from_records, stringify

FIELDS = ("A", "B", "C")
RULE_TOKENS = ("a", "b", "A", "B", "ab", "1", "2", " ", "*", "?", "\\*", "\\?", "é", "É", "Σ", "\n")
EVENT_ALPHABET = "aAbB12 *?éÉΣσς\n"
REGEX_TOKENS = (
    "a",
    "b",
    "A",
    "B",
    ".",
    "a*",
    "b+",
    "[ab]",
    "[^a]",
    "(a|B)",
    "^",
    "$",
    "\\d",
    "\\s",
    "é",
)
SYSMON = {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": "1"}
LOGSOURCE = {"product": "windows", "category": "process_creation"}


@cache
def routing() -> tuple[LogSourceMapping, FieldAliases]:
    """The built-in mapping and aliases, parsed once (parsing them dominates a small run)."""
    return LogSourceMapping.default(), FieldAliases.default()


# -- rule grammar ----------------------------------------------------------------------------

sigma_strings = st.lists(st.sampled_from(RULE_TOKENS), max_size=4).map("".join)
regexes = st.lists(st.sampled_from(REGEX_TOKENS), min_size=1, max_size=4).map("".join)


@st.composite
def detection_items(draw: st.DrawFn) -> tuple[str, Any]:
    """One ``field|modifiers: value`` pair."""
    field = draw(st.sampled_from(FIELDS))
    kind = draw(
        st.sampled_from(
            ["plain", "plain", "plain", "re", "exists", "null", "compare", "fieldref", "neq"]
        )
    )
    if kind == "plain":
        modifiers = [draw(st.sampled_from(["", "contains", "startswith", "endswith"]))]
        if draw(st.booleans()):
            modifiers.append("cased")
        values = draw(st.lists(sigma_strings, min_size=1, max_size=3))
        if len(values) > 1 and draw(st.booleans()):
            modifiers.append("all")
        key = "|".join([field, *(m for m in modifiers if m)])
        return key, values if len(values) > 1 else values[0]
    if kind == "re":
        flags = draw(st.sampled_from(["", "|i", "|m", "|s", "|i|s"]))
        return f"{field}|re{flags}", draw(regexes)
    if kind == "exists":
        return f"{field}|exists", draw(st.booleans())
    if kind == "null":
        return field, None
    if kind == "compare":
        op = draw(st.sampled_from(["lt", "lte", "gt", "gte"]))
        return f"{field}|{op}", draw(st.integers(min_value=0, max_value=13))
    if kind == "fieldref":
        other = draw(st.sampled_from([f for f in FIELDS if f != field]))
        position = draw(st.sampled_from(["", "|startswith", "|endswith", "|contains"]))
        return f"{field}|fieldref{position}", other
    modifier = draw(st.sampled_from(["", "|contains", "|startswith"]))
    return f"{field}{modifier}|neq", draw(sigma_strings)


@st.composite
def selections(draw: st.DrawFn) -> Any:
    """A map of detection items (AND), sometimes a list of maps (OR)."""
    maps: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        items = draw(st.lists(detection_items(), min_size=1, max_size=3))
        maps.append(dict(items))
    return maps[0] if len(maps) == 1 else maps


plain_keywords = st.lists(
    st.lists(st.sampled_from(["a", "b", "B", "1", "*", "?", "ab", "é"]), min_size=1, max_size=3)
    .map("".join)
    .filter(lambda k: k.strip("*?") != ""),
    min_size=1,
    max_size=2,
)
keywords = st.one_of(
    plain_keywords,
    regexes.map(lambda pattern: {"|re": pattern}),
    plain_keywords.map(lambda values: {"|cased": values}),
)


def conditions(names: list[str]) -> st.SearchStrategy[str]:
    leaves = st.sampled_from([*names, "1 of sel_*", "all of sel_*", "1 of them", "all of them"])
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(inner, inner).map(lambda t: f"({t[0]} and {t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]} or {t[1]})"),
            inner.map(lambda c: f"not ({c})"),
        ),
        max_leaves=5,
    )


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(min_value=1, max_value=3))
    detection: dict[str, Any] = {f"sel_{i}": draw(selections()) for i in range(1, count + 1)}
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        detection["keywords"] = draw(keywords)
    detection["condition"] = draw(conditions(list(detection)))
    return {"title": "random", "logsource": LOGSOURCE, "detection": detection}


# -- events --------------------------------------------------------------------------------

event_values = st.one_of(
    st.none(),
    st.text(alphabet=EVENT_ALPHABET, max_size=5),
    st.sampled_from(
        ["", "1", "2", " 12 ", "3.5", "-1", "13", "ab", "AB", "NaN", "inf", "\uff15", "1\n"]
    ),
)
events = st.fixed_dictionaries({}, optional={name: event_values for name in FIELDS})


def to_rule(document: dict[str, Any]) -> Rule:
    collection = SigmaCollection.from_dicts([document], collect_errors=False)
    return RuleLoader().convert(collection.rules[0], "<random>")


def engine_hits(
    rules_: list[Rule], records: list[dict[str, Any]], few_rows: int = 0
) -> set[tuple[int, int]]:
    """The vectorized engine's hits; with ``few_rows`` 0 every rule runs as a query (the
    default engine hands rules with few candidate rows to the reference evaluator)."""
    mapping, aliases = routing()
    engine = Engine(rules_, mapping, aliases, few_rows=few_rows)
    assert not engine.unrouted
    frame = frame_from_records(records, {DATASET: ["windows.sysmon"] * len(records)})
    return {(row, rule) for row, rule in engine.evaluate(frame).iter_rows()}


def reference_hits(rules_: list[Rule], records: list[dict[str, Any]]) -> set[tuple[int, int]]:
    found = set()
    for row, record in enumerate(records):
        event = {k: stringify(v) for k, v in record.items()}
        for index, rule in enumerate(rules_):
            if reference.matches(rule.condition, event):
                found.add((row, index))
    return found


@settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    documents=st.lists(rules(), min_size=1, max_size=3),
    batch=st.lists(events, min_size=1, max_size=8),
)
def test_engine_agrees_with_reference(
    documents: list[dict[str, Any]], batch: list[dict[str, Any]]
) -> None:
    rules_ = [to_rule(d) for d in documents]
    records = [{**SYSMON, **event} for event in batch]
    expected = reference_hits(rules_, records)
    assert engine_hits(rules_, records) == expected
    assert engine_hits(rules_, records, few_rows=4) == expected, "queries and reference mixed"


def test_generated_rules_cover_the_grammar() -> None:
    """The grammar reaches every kind of test (a guard against a strategy that degenerates)."""
    seen: set[str] = set()

    @settings(max_examples=100, deadline=None, derandomize=True, database=None)
    @given(rules())
    def collect(document: dict[str, Any]) -> None:
        rule = to_rule(document)
        seen.update(type(node).__name__ for node in _walk(rule.condition))
        for node in _walk(rule.condition):
            test = getattr(node, "test", None)
            if test is not None:
                seen.add(type(test).__name__)
                kind = getattr(test, "kind", None)
                if kind is not None:
                    seen.add(f"{type(test).__name__}.{kind.name}")

    collect()
    expected = {
        "And",
        "Or",
        "Not",
        "FieldTest",
        "KeywordTest",
        "RegexMatch",
        "ExistsMatch",
        "NullMatch",
        "CompareMatch",
        "FieldRefMatch",
        "StrMatch.EQ",
        "StrMatch.CONTAINS",
        "StrMatch.PREFIX",
        "StrMatch.SUFFIX",
        "StrMatch.GLOB",
    }
    assert expected <= seen


def _walk(node: Any) -> list[Any]:
    found = [node]
    for child in getattr(node, "children", ()):
        found.extend(_walk(child))
    if hasattr(node, "child"):
        found.extend(_walk(node.child))
    return found
