"""``watchkeeper scan``'s dependency source: the packages of lockfiles, SBOMs, package
databases and images under a path, matched against a local OSV database."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from watchkeeper.errors import UsageError
from watchkeeper.vulns.osv import OsvStore
from watchkeeper.vulns.packages import extract
from watchkeeper.vulns.packages.trees import IMAGE_PREFIX
from watchkeeper.vulns.scan import Problem, RuleInfo, SourceResult
from watchkeeper.vulns.versions import InvalidVersion


class DependencySource:
    name = "dependencies"

    def __init__(self, database: Path | None) -> None:
        self.database = database

    def scan(self, root: Path) -> SourceResult:
        result = SourceResult()
        if self.database is None or not self.database.is_file():
            where = str(self.database) if self.database else "(none given)"
            result.problems.append(Problem(self.name, where, (
                "no OSV database: dependencies are not checked; build one with "
                "`watchkeeper vulns osv-import ZIP...` and pass it with --osv-db")))
            return result
        found = extract([root])
        result.problems.extend(Problem(self.name, s.location, s.reason) for s in found.skipped)
        base = root if root.is_dir() else root.parent
        errors: list[InvalidVersion] = []
        try:
            with OsvStore(self.database) as store:
                findings = store.match(found.packages, errors=errors)
        except sqlite3.DatabaseError as error:
            raise UsageError(f"not an OSV database: {self.database} ({error})") from None
        for finding in findings:
            location = _relative(finding.location, base)
            moved = replace(finding, location=location, package=(
                replace(finding.package, location=location) if finding.package else None))
            result.findings.append(moved)
            result.rules.setdefault(finding.rule, RuleInfo(
                finding.rule, finding.title or finding.rule, finding.severity,
                f"{finding.rule}: {finding.title}. Fixed in "
                f"{', '.join(finding.fixed_in) or 'no release yet'}.",
                f"https://osv.dev/vulnerability/{finding.rule}"))
        result.problems.extend(Problem(self.name, "versions", str(e)) for e in errors)
        return result


def _relative(location: str, base: Path) -> str:
    if location.startswith(IMAGE_PREFIX):
        return location  # a path inside an image, not on disk
    try:
        return str(Path(location).resolve().relative_to(base.resolve()))
    except (ValueError, OSError):
        return location
