"""Rule unit tests: events beside a rule that must, or must not, match it.

Beside ``rule.yml`` a file ``rule.tests.yml`` lists the cases::

    tests:
      - name: whoami run from a shell
        match: true
        event: {Channel: Microsoft-Windows-Sysmon/Operational, EventID: 1,
                Image: 'C:\\Windows\\System32\\whoami.exe'}
      - name: the same binary name elsewhere is fine
        match: false
        event: {...}

Each event runs through the same engine as a hunt, logsource routing included,
so a case proves the rule works on real-looking events, not just its condition.
An event without ``event.dataset`` gets the one its ``Channel`` implies.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from watchkeeper.detection.engine import Engine
from watchkeeper.detection.logsource import LogSourceMapping
from watchkeeper.detection.rules import RuleLoader
from watchkeeper.errors import UsageError
from watchkeeper.events.model import DATASET, frame_from_records
from watchkeeper.parsers.windows import dataset_for_channel

TEST_SUFFIXES = (".tests.yml", ".tests.yaml")


@dataclass(frozen=True, slots=True)
class CaseResult:
    tests_file: str
    name: str
    expected: bool | None
    actual: bool | None
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and self.expected == self.actual


@dataclass(slots=True)
class TestReport:
    results: list[CaseResult] = field(default_factory=list)
    untested: list[str] = field(default_factory=list)
    """Rule files under the given paths that have no tests file."""

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": sum(r.passed for r in self.results),
            "failed": [
                {
                    "tests_file": r.tests_file,
                    "name": r.name,
                    "expected": r.expected,
                    "actual": r.actual,
                    "error": r.error,
                }
                for r in self.failed
            ],
            "untested": self.untested,
        }


def find_test_files(paths: Sequence[str | Path]) -> tuple[list[Path], list[Path]]:
    """(tests files, rule files without one) under ``paths``."""
    tests: list[Path] = []
    rules: list[Path] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise UsageError(f"path does not exist: {path}")
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.name.endswith(TEST_SUFFIXES):
                tests.append(file)
            elif file.suffix in (".yml", ".yaml"):
                rules.append(file)
    tested = {_rule_file_of(t) for t in tests}
    return tests, [r for r in rules if r not in tested]


def _rule_file_of(tests_file: Path) -> Path | None:
    stem = tests_file.name.rsplit(".tests.", 1)[0]
    for suffix in (".yml", ".yaml"):
        candidate = tests_file.with_name(stem + suffix)
        if candidate.exists():
            return candidate
    return None


def run_rule_tests(paths: Sequence[str | Path], mapping: LogSourceMapping) -> TestReport:
    tests, untested = find_test_files(paths)
    report = TestReport(untested=[str(p) for p in untested])
    for tests_file in tests:
        report.results.extend(_run_file(tests_file, mapping))
    return report


def _run_file(tests_file: Path, mapping: LogSourceMapping) -> Iterator[CaseResult]:
    where = str(tests_file)
    rule_file = _rule_file_of(tests_file)
    if rule_file is None:
        yield CaseResult(where, "(file)", None, None, "no rule file of the same name beside it")
        return
    ruleset = RuleLoader().load([rule_file])
    if ruleset.failed or len(ruleset.rules) != 1:
        reason = "; ".join(f.reason for f in ruleset.failed) or "the rule file must hold one rule"
        yield CaseResult(where, "(file)", None, None, f"rule does not load: {reason}")
        return
    try:
        cases = _cases(tests_file)
    except UsageError as error:
        yield CaseResult(where, "(file)", None, None, str(error))
        return
    engine = Engine(ruleset.rules, mapping)
    if engine.unrouted:
        logsource = ruleset.rules[0].logsource
        yield CaseResult(where, "(file)", None, None, f"no logsource mapping covers {logsource}")
        return
    for name, expected, event in cases:
        record = {k: v for k, v in event.items() if k != DATASET}
        dataset = event.get(DATASET) or dataset_for_channel(event.get("Channel"))
        frame = frame_from_records([record], {DATASET: [dataset]})
        actual = engine.evaluate(frame).height > 0
        yield CaseResult(where, name, expected, actual)


def _cases(tests_file: Path) -> list[tuple[str, bool, Mapping[str, Any]]]:
    try:
        document = yaml.safe_load(tests_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise UsageError(f"cannot read tests: {error}") from None
    items = document.get("tests") if isinstance(document, dict) else None
    if not isinstance(items, list) or not items:
        raise UsageError("a tests file needs a non-empty list under 'tests'")
    cases: list[tuple[str, bool, Mapping[str, Any]]] = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise UsageError(f"test {number} is not a mapping")
        name = str(item.get("name") or f"test {number}")
        match = item.get("match")
        event = item.get("event")
        if not isinstance(match, bool):
            raise UsageError(f"{name}: 'match' must be true or false")
        if not isinstance(event, dict) or not event:
            raise UsageError(f"{name}: 'event' must be a mapping of fields")
        cases.append((name, match, event))
    return cases
