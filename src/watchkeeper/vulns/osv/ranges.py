"""Does an OSV ``affected`` entry include a version? OSV's evaluation, exactly:

* a version named in ``versions`` is affected, whatever the ranges say (this is the only
  way GIT ranges count: their commits are not versions);
* in each SEMVER or ECOSYSTEM range the events are sorted by version (``introduced: "0"``
  before every version) and walked in order: ``introduced`` at or below the version turns
  "affected" on, ``fixed`` at or below turns it off (fixed is exclusive), ``last_affected``
  strictly below turns it off (inclusive), and a version at or above a ``limit`` is
  outside the range;
* the version is affected if any range includes it.

SEMVER ranges use SemVer precedence (a leading ``v`` tolerated, as Go versions have);
ECOSYSTEM ranges use the ecosystem's rules (``Debian:12`` → dpkg). A range whose own
event versions cannot be read is skipped: it cannot say anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watchkeeper.vulns.osv.model import Affected, Range
from watchkeeper.vulns.versions import (
    Comparator,
    InvalidVersion,
    Key,
    UnsupportedEcosystem,
    comparator,
)
from watchkeeper.vulns.versions.semver import SemVer

SEMVER = SemVer("SEMVER", optional_prefix="v")
_ORDER = {"introduced": 0, "fixed": 1, "last_affected": 2, "limit": 3}


@dataclass(frozen=True, slots=True)
class _Range:
    comparator: Comparator
    events: tuple[tuple[str, Key | None], ...]
    """Sorted (kind, key) pairs; a key of None is ``introduced: "0"``."""
    limits: tuple[Key, ...]

    def includes(self, key: Key) -> bool:
        if any(not key < limit for limit in self.limits):
            return False
        inside = False
        for kind, bound in self.events:
            if kind == "introduced":
                if bound is None or not key < bound:
                    inside = True
            elif bound is None:
                continue
            elif kind == "fixed":
                if not key < bound:
                    inside = False
            elif kind == "last_affected" and bound < key:
                inside = False
        return inside


@dataclass(frozen=True, slots=True)
class CompiledAffected:
    """An ``affected`` entry with its event versions parsed once, for many lookups. The
    explicit ``versions`` list is parsed only when a version is neither listed as written
    nor inside a range (records often list hundreds of versions their ranges cover)."""

    versions: frozenset[str]
    ranges: tuple[_Range, ...]
    ecosystem: Comparator | None
    cache: KeyCache | None = None
    _listed: list[frozenset[Key] | tuple[Key, ...]] = field(default_factory=list)
    """The keys of ``versions`` that the ecosystem's rules can read, once computed (a set
    when the keys hash, as tuples and PEP 440 versions do)."""

    def includes(self, version: str) -> bool:
        """Whether ``version`` is affected; :class:`InvalidVersion` if the ecosystem's
        rules cannot read it and only the ranges could have said."""
        if version in self.versions:
            return True
        keys: dict[int, Key] = {}
        for range_ in self.ranges:
            rules = range_.comparator
            if id(rules) not in keys:
                keys[id(rules)] = rules.key(version)
            if range_.includes(keys[id(rules)]):
                return True
        if self.ecosystem is None or not self.versions:
            return False
        try:
            own = keys.get(id(self.ecosystem)) or self.ecosystem.key(version)
        except InvalidVersion:
            return False  # the ranges, if any, read it: only listed versions are left
        listed = self.listed()
        if isinstance(listed, frozenset):
            return own in listed
        return any(not (own < key or key < own) for key in listed)

    def listed(self) -> frozenset[Key] | tuple[Key, ...]:
        if not self._listed:
            assert self.ecosystem is not None
            found: list[Key] = []
            for version in self.versions:
                try:
                    found.append(_key(self.ecosystem, version, self.cache))
                except InvalidVersion:
                    continue
            try:
                self._listed.append(frozenset(found))
            except TypeError:
                self._listed.append(tuple(found))
        return self._listed[0]


KeyCache = dict[tuple[int, str], Key]
"""Keys already computed, by (id of the comparator, version): one matching run parses
each distinct version string once, however many records name it."""


def _key(rules: Comparator, version: str, cache: KeyCache | None) -> Key:
    if cache is None:
        return rules.key(version)
    slot = (id(rules), version)
    found = cache.get(slot)
    if found is None:
        found = cache[slot] = rules.key(version)
    return found


def compile_affected(entry: Affected, cache: KeyCache | None = None) -> CompiledAffected:
    """Parse the event versions of ``entry`` with the right rules."""
    ecosystem: Comparator | None = None
    if entry.package is not None:
        try:
            ecosystem = comparator(entry.package.ecosystem)
        except UnsupportedEcosystem:
            ecosystem = None
    ranges: list[_Range] = []
    for range_ in entry.ranges:
        rules = SEMVER if range_.type == "SEMVER" else ecosystem
        if range_.type == "GIT" or rules is None:
            continue
        compiled = _compile_range(range_, rules, cache)
        if compiled is not None:
            ranges.append(compiled)
    return CompiledAffected(frozenset(entry.versions), tuple(ranges), ecosystem, cache)


def _compile_range(range_: Range, rules: Comparator, cache: KeyCache | None) -> _Range | None:
    events: list[tuple[str, Key | None]] = []
    limits: list[Key] = []
    try:
        for event in range_.events:
            if event.kind == "introduced" and event.version == "0":
                events.append((event.kind, None))
            elif event.kind == "limit":
                if event.version != "*":
                    limits.append(_key(rules, event.version, cache))
            else:
                events.append((event.kind, _key(rules, event.version, cache)))
    except InvalidVersion:
        return None
    events.sort(key=_SortKey.of)
    return _Range(rules, tuple(events), tuple(limits))


class _SortKey:
    """Orders events by version, ``introduced: "0"`` first, ties by kind."""

    __slots__ = ("bound", "rank")

    def __init__(self, bound: Key | None, rank: int) -> None:
        self.bound, self.rank = bound, rank

    @classmethod
    def of(cls, event: tuple[str, Key | None]) -> _SortKey:
        return cls(event[1], _ORDER[event[0]])

    def __lt__(self, other: _SortKey) -> bool:
        if self.bound is None or other.bound is None:
            if self.bound is None and other.bound is None:
                return self.rank < other.rank
            return self.bound is None
        if self.bound < other.bound:
            return True
        if other.bound < self.bound:
            return False
        return self.rank < other.rank


def affected(entry: Affected, version: str) -> bool:
    """Whether ``version`` of the entry's package is affected (see the module docstring)."""
    return compile_affected(entry).includes(version)
