"""What a hunt runs: inputs, rules and which of them, time range, output."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from watchkeeper.detection.rules import LEVELS, Rule
from watchkeeper.errors import UsageError


@dataclass(slots=True)
class HuntOptions:
    paths: Sequence[str | Path]
    rules: Sequence[str | Path]
    filters: Sequence[str | Path] = ()
    mappings: Sequence[Path] = ()
    placeholders: Path | None = None
    exclusions: Sequence[Path] = ()
    min_level: str | None = None
    statuses: Sequence[str] = ()
    tags: Sequence[str] = ()
    time_from: dt.datetime | None = None
    time_to: dt.datetime | None = None
    log_format: str | None = None
    batch_size: int = 50_000
    workers: int = 2
    rule_cache: Path | None = None
    """Folder of the rule-set cache; None: no cache."""


def parse_time(text: str, option: str) -> dt.datetime:
    """ISO 8601 date or date-time; naive values are UTC."""
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option}: {text!r} is not an ISO 8601 date or time (e.g. 2024-05-01T12:00:00Z)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def select_rules(rules: Sequence[Rule], options: HuntOptions) -> list[Rule]:
    """The rules that pass ``--min-level``, ``--status`` and ``--tags``."""
    selected = list(rules)
    if options.min_level:
        if options.min_level not in LEVELS:
            raise UsageError(
                f"--min-level: {options.min_level!r} is not one of {', '.join(LEVELS)}"
            )
        floor = LEVELS.index(options.min_level)
        selected = [r for r in selected if _level_rank(r.level) >= floor]
    if options.statuses:
        wanted = {s.lower() for s in options.statuses}
        selected = [r for r in selected if r.status in wanted]
    if options.tags:
        prefixes = [t.lower() for t in options.tags]
        selected = [r for r in selected if any(_tag_matches(tag, prefixes) for tag in r.tags)]
    return selected


def _level_rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else 0


NAMESPACES = ("attack.", "car.", "cve.", "detection.", "stp.", "tlp.")


def _tag_matches(tag: str, prefixes: list[str]) -> bool:
    """``attack.t1059`` selects ``attack.t1059`` and its sub-techniques ``attack.t1059.001``;
    a tag given without namespace (``t1059``, ``execution``) is read as an ATT&CK tag."""
    tag = tag.lower()
    for prefix in prefixes:
        full = prefix if prefix.startswith(NAMESPACES) else f"attack.{prefix}"
        if tag == full or tag.startswith(full + "."):
            return True
    return False
