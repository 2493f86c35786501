"""``watchkeeper scan``'s core: finding sources run over a folder, a baseline, a verdict.

A :class:`FindingSource` is anything that turns a folder into findings: the IaC policies
today, package extraction matched against OSV next. :func:`scan` runs each, merges what
they return, and marks which findings are new against a baseline (a list of finding keys).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from watchkeeper.errors import UsageError
from watchkeeper.vulns.model import Finding, Severity


@dataclass(frozen=True)
class RuleInfo:
    """What a source can report, described once (SARIF's rules, the docs' reference)."""

    id: str
    title: str
    severity: Severity
    help: str
    """What it checks and how to fix it, in plain text or Markdown."""
    help_uri: str | None = None


@dataclass(frozen=True)
class Suppressed:
    """A finding its author marked as accepted, and why."""

    finding: Finding
    reason: str


@dataclass(frozen=True)
class Problem:
    """A file a source could not read; it is skipped and the rest is scanned."""

    source: str
    location: str
    message: str


@dataclass
class SourceResult:
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rules: dict[str, RuleInfo] = field(default_factory=dict)


class FindingSource(Protocol):
    """Turns a file or folder into findings; ``name`` appears in problems and reports."""

    @property
    def name(self) -> str: ...

    def scan(self, root: Path) -> SourceResult: ...


@dataclass
class ScanResult:
    root: Path
    findings: list[Finding]
    """Active (not suppressed) findings, most severe first."""
    suppressed: list[Suppressed]
    problems: list[Problem]
    rules: dict[str, RuleInfo]
    baseline: frozenset[str] = frozenset()

    def is_new(self, finding: Finding) -> bool:
        return finding.key not in self.baseline

    def failing(self, threshold: Severity) -> list[Finding]:
        """New findings at or above ``threshold``: what makes ``watchkeeper scan`` exit 1."""
        return [f for f in self.findings
                if f.severity.rank >= threshold.rank and self.is_new(f)]


def scan(root: Path, sources: Iterable[FindingSource],
         baseline: Collection[str] = ()) -> ScanResult:
    if not root.exists():
        raise UsageError(f"no such file or folder: {root}")
    merged = SourceResult()
    for source in sources:
        result = source.scan(root)
        merged.findings.extend(result.findings)
        merged.suppressed.extend(result.suppressed)
        merged.problems.extend(result.problems)
        merged.rules.update(result.rules)
    unique = {f.key: f for f in merged.findings}
    ordered = sorted(unique.values(), key=lambda f: (-f.severity.rank, f.location, f.rule))
    return ScanResult(root, ordered, merged.suppressed, merged.problems, merged.rules,
                      frozenset(baseline))


def default_sources(osv_database: Path | None = None) -> list[FindingSource]:
    """The sources ``watchkeeper scan`` runs: infrastructure-as-code policies and, given
    an OSV database, the dependencies matched against it."""
    from watchkeeper.vulns.dependencies import DependencySource
    from watchkeeper.vulns.iac import IacSource, default_registry

    sources: list[FindingSource] = [IacSource(default_registry(plugins=True))]
    if osv_database is not None:
        sources.append(DependencySource(osv_database))
    return sources


def load_baseline(path: Path) -> frozenset[str]:
    """Keys from a file ``--write-baseline`` wrote: a JSON list of strings."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read the baseline: {error.strerror}",
                         location=str(path)) from error
    except ValueError as error:
        raise UsageError(f"the baseline is not JSON: {error}", location=str(path)) from error
    if not isinstance(data, list) or not all(isinstance(k, str) for k in data):
        raise UsageError("the baseline must be a JSON list of finding keys",
                         location=str(path))
    return frozenset(data)


def baseline_text(findings: Sequence[Finding]) -> str:
    """The baseline for these findings: their keys, sorted, one per line of a JSON list."""
    return json.dumps(sorted({f.key for f in findings}), indent=2) + "\n"
