"""Packages against OSV records: one finding per (package, vulnerability).

Each record is read and its ranges parsed once per call, however many packages name
it; withdrawn records match nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from watchkeeper.vulns.model import Finding, Package
from watchkeeper.vulns.osv.model import Affected, Record
from watchkeeper.vulns.osv.names import ecosystems_meet, normalize_name
from watchkeeper.vulns.osv.ranges import CompiledAffected, KeyCache, compile_affected
from watchkeeper.vulns.osv.severity import Rating, rate
from watchkeeper.vulns.versions import InvalidVersion

TOOL = "watchkeeper"


@dataclass(frozen=True, slots=True)
class _Prepared:
    record: Record
    rating: Rating
    entries: tuple[tuple[Affected, CompiledAffected], ...]


def match_records(
    packages: Iterable[Package],
    ids_of: Callable[[str, str], list[str]],
    record_of: Callable[[str], Record | None],
    *,
    errors: list[InvalidVersion] | None = None,
) -> list[Finding]:
    """Match ``packages`` against the records ``ids_of(ecosystem, name)`` names,
    read with ``record_of(id)``."""
    prepared: dict[str, _Prepared | None] = {}
    keys: KeyCache = {}
    ids_cache: dict[tuple[str, str], list[str]] = {}
    findings: list[Finding] = []
    for package in packages:
        lookup = (package.ecosystem, package.name)
        if lookup not in ids_cache:
            ids_cache[lookup] = ids_of(*lookup)
        name = normalize_name(package.ecosystem, package.name)
        reported = False
        for record_id in ids_cache[lookup]:
            if record_id not in prepared:
                prepared[record_id] = _prepare(record_of(record_id), keys)
            ready = prepared[record_id]
            if ready is None:
                continue
            try:
                fixed = _fixes_if_affected(ready, package, name)
            except InvalidVersion as error:
                # another record may still list the exact version: go on, report once
                if errors is not None and not reported:
                    error.location = package.location or None
                    errors.append(error)
                reported = True
                continue
            if fixed is not None:
                findings.append(_finding(ready, package, fixed))
    return findings


def _prepare(record: Record | None, keys: KeyCache) -> _Prepared | None:
    if record is None or record.withdrawn:
        return None
    entries = tuple(
        (entry, compile_affected(entry, keys))
        for entry in record.affected
        if entry.package is not None
    )
    return _Prepared(record, rate(record), entries)


def _fixes_if_affected(ready: _Prepared, package: Package, name: str) -> tuple[str, ...] | None:
    """The fixed versions of the entries that affect the package, or None if none does."""
    hit = False
    fixed: list[str] = []
    unreadable: InvalidVersion | None = None
    for entry, compiled in ready.entries:
        assert entry.package is not None
        if not ecosystems_meet(package.ecosystem, entry.package.ecosystem):
            continue
        if normalize_name(entry.package.ecosystem, entry.package.name) != name:
            continue
        try:
            included = compiled.includes(package.version)
        except InvalidVersion as error:
            unreadable = unreadable or error  # another entry may list the exact version
            continue
        if included:
            hit = True
            fixed.extend(version for version in entry.fixed if version not in fixed)
    if not hit and unreadable is not None:
        raise unreadable
    return tuple(fixed) if hit else None


def _finding(ready: _Prepared, package: Package, fixed: tuple[str, ...]) -> Finding:
    record = ready.record
    title = record.summary or (record.details.strip().splitlines() or [record.id])[0]
    return Finding(
        kind="vulnerability",
        rule=record.id,
        title=title,
        severity=ready.rating.severity,
        location=package.location,
        tool=TOOL,
        aliases=record.aliases,
        package=package,
        fixed_in=fixed,
        description=record.details,
        cvss_vector=ready.rating.vector,
        cvss_score=ready.rating.score,
        references=tuple(reference.url for reference in record.references),
        extra={"modified": record.modified},
    )
