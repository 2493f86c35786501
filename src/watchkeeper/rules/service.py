"""Loads the configured rule folders into an engine, applies what analysts set through
the API (rules switched off, exceptions, alert grouping), and rebuilds the engine when
a rule file or one of those settings changes.

The pipeline reads :attr:`RuleService.active` once per batch; a rebuild makes a new
:class:`ActiveRules` off the hot path and swaps the reference, so a batch is always
evaluated by one consistent rule set.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from watchkeeper.alerts.writer import Grouping
from watchkeeper.audit.service import AuditLog
from watchkeeper.config import AlertSettings, RulesSettings
from watchkeeper.detection.cache import RuleCache
from watchkeeper.detection.check import split_routable
from watchkeeper.detection.engine import Engine
from watchkeeper.detection.exclusions import Exclusion, apply_exclusions, parse_exclusion
from watchkeeper.detection.fields import FieldAliases
from watchkeeper.detection.logsource import LogSourceMapping
from watchkeeper.detection.rules import Rule, RuleFailure, RuleLoader, load_placeholders
from watchkeeper.errors import NotFoundError, UsageError
from watchkeeper.rules.model import RuleExceptionRow, RuleSettingRow
from watchkeeper.state.db import StateDB

log = logging.getLogger(__name__)
RULE_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True)
class ActiveRules:
    """One consistent rule set: what the pipeline evaluates a batch with."""

    engine: Engine
    rules: list[Rule]
    """The enabled rules, exceptions folded in, in the engine's order."""
    loaded: list[Rule]
    failed: list[RuleFailure]
    disabled: frozenset[str]
    groupings: dict[str, Grouping]
    default_grouping: Grouping
    exceptions: int
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def grouping(self, rule: Rule) -> Grouping:
        return self.groupings.get(rule.id, self.default_grouping)


class RuleService:
    def __init__(
        self,
        db: StateDB,
        audit: AuditLog,
        settings: RulesSettings,
        alerts: AlertSettings,
        cache_dir: Path | None = None,
    ) -> None:
        self.db = db
        self.audit = audit
        self.settings = settings
        self.default_grouping = Grouping(tuple(alerts.group_by), timedelta(seconds=alerts.window_s))
        self._cache = RuleCache(cache_dir) if cache_dir else None
        self._lock = threading.Lock()
        self._fingerprint: tuple[tuple[str, int, int], ...] = ()
        self.active = self._build()

    def reload(self) -> ActiveRules:
        """Rebuild now (after a settings change, or when files changed)."""
        with self._lock:
            self.active = self._build()
        log.info(
            "rules loaded",
            extra={"rules": len(self.active.rules), "failed": len(self.active.failed)},
        )
        return self.active

    def reload_if_changed(self) -> bool:
        """Rebuild when a rule file was added, removed or changed since the last build."""
        if self._scan() == self._fingerprint:
            return False
        self.reload()
        return True

    def _scan(self) -> tuple[tuple[str, int, int], ...]:
        found: list[tuple[str, int, int]] = []
        extra = [*self.settings.mappings, *filter(None, [self.settings.placeholders])]
        for path in extra:
            if path.is_file():
                stat = path.stat()
                found.append((os.fspath(path), stat.st_mtime_ns, stat.st_size))
        for root in self.settings.paths:
            if root.is_file():
                if root.suffix.lower() in RULE_SUFFIXES:
                    stat = root.stat()
                    found.append((os.fspath(root), stat.st_mtime_ns, stat.st_size))
                continue
            found.extend(_rule_files(os.fspath(root)))
        return tuple(sorted(found))

    def _build(self) -> ActiveRules:
        fingerprint = self._scan()
        placeholders = (
            load_placeholders(self.settings.placeholders) if self.settings.placeholders else None
        )
        ruleset = RuleLoader(placeholders, self._cache).load(self.settings.paths)
        mapping = LogSourceMapping.with_overrides(list(self.settings.mappings))
        routed, failed = split_routable(ruleset, mapping)
        with self.db.session() as session:
            settings = list(session.execute(select(RuleSettingRow)).scalars())
            rows = list(session.execute(select(RuleExceptionRow)).scalars())
        exceptions: list[Exclusion] = []
        broken: list[RuleFailure] = []
        for row in rows:
            try:
                exceptions.append(_exclusion(row))
            except UsageError as error:  # stored by an older version, say: report, go on
                broken.append(RuleFailure(f"exception {row.id}", None, error.message))
        disabled = frozenset(s.rule_id for s in settings if not s.enabled)
        groupings = {
            s.rule_id: Grouping(
                tuple(s.group_by if s.group_by is not None else self.default_grouping.fields),
                timedelta(seconds=s.window_s) if s.window_s else self.default_grouping.window,
            )
            for s in settings
            if s.group_by is not None or s.window_s is not None
        }
        enabled = [rule for rule in routed if rule.id not in disabled]
        rules, _stale = apply_exclusions(enabled, exceptions)
        engine = Engine(rules, mapping, FieldAliases.default())
        self._fingerprint = fingerprint  # only now: a failed build is tried again
        return ActiveRules(
            engine, engine.rules, routed, [*failed, *broken], disabled, groupings,
            self.default_grouping, len(exceptions),
        )

    # what analysts change ------------------------------------------------------------

    def describe(self) -> list[dict[str, Any]]:
        active = self.active
        return [
            {
                "id": rule.id,
                "title": rule.title,
                "level": rule.level,
                "status": rule.status,
                "tags": list(rule.tags),
                "path": rule.path,
                "enabled": rule.id not in active.disabled,
                "group_by": list(active.grouping(rule).fields),
                "window_s": int(active.grouping(rule).window.total_seconds()),
            }
            for rule in active.loaded
        ]

    def set_rule(
        self,
        rule_id: str,
        actor: str,
        *,
        enabled: bool | None = None,
        group_by: Sequence[str] | None = None,
        window_s: int | None = None,
    ) -> dict[str, Any]:
        if rule_id not in {rule.id for rule in self.active.loaded}:
            raise NotFoundError(f"no loaded rule {rule_id}")
        if window_s is not None and window_s < 1:
            raise UsageError("window_s must be at least 1 second")
        with self.db.session() as session:
            row = session.get(RuleSettingRow, rule_id)
            before = _setting(row)
            if row is None:
                row = RuleSettingRow(rule_id=rule_id, enabled=True, updated_by=actor)
                session.add(row)
            if enabled is not None:
                row.enabled = enabled
            if group_by is not None:
                row.group_by = list(group_by)
            if window_s is not None:
                row.window_s = window_s
            row.updated_by, row.updated_at = actor, datetime.now(UTC)
            session.flush()
            self.audit.append(session, actor, "rule.update", "rule", rule_id, before, _setting(row))
        self.reload()
        return next(r for r in self.describe() if r["id"] == rule_id)

    def exceptions(self) -> list[dict[str, Any]]:
        with self.db.read() as session:
            rows = session.execute(select(RuleExceptionRow).order_by(RuleExceptionRow.id))
            return [_exception_dict(row) for row in rows.scalars()]

    def add_exception(
        self, actor: str, rules: list[str] | None, reason: str, match: Any
    ) -> dict[str, Any]:
        if not reason.strip():
            raise UsageError("an exception needs a reason")
        parse_exclusion({"rules": rules or "*", "reason": reason, "match": match}, "exception")
        with self.db.session() as session:
            row = RuleExceptionRow(rules=rules, reason=reason, match=match, created_by=actor)
            session.add(row)
            session.flush()
            created = _exception_dict(row)
            self.audit.append(session, actor, "exception.create", "exception", str(row.id),
                              None, created)
        self.reload()
        return created

    def delete_exception(self, exception_id: int, actor: str) -> None:
        with self.db.session() as session:
            row = session.get(RuleExceptionRow, exception_id)
            if row is None:
                raise NotFoundError(f"no exception {exception_id}")
            before = _exception_dict(row)
            session.execute(delete(RuleExceptionRow).where(RuleExceptionRow.id == exception_id))
            self.audit.append(session, actor, "exception.delete", "exception",
                              str(exception_id), before, None)
        self.reload()


def _exclusion(row: RuleExceptionRow) -> Exclusion:
    item = {"rules": row.rules or "*", "reason": row.reason, "match": row.match}
    return parse_exclusion(item, f"exception {row.id}")


def _exception_dict(row: RuleExceptionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "rules": row.rules,
        "reason": row.reason,
        "match": row.match,
        "created_by": row.created_by,
        "created_at": row.created_at,
    }


def _setting(row: RuleSettingRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"enabled": row.enabled, "group_by": row.group_by, "window_s": row.window_s}


def _rule_files(folder: str) -> list[tuple[str, int, int]]:
    """Path, modification time and size of every rule file under ``folder``: one
    directory read each and one stat per file (directory entries know their type), so that
    looking for changes among thousands of rules every few seconds stays cheap."""
    found: list[tuple[str, int, int]] = []
    pending = [folder]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir():
                    pending.append(entry.path)
                elif entry.is_file() and os.path.splitext(entry.name)[1].lower() in RULE_SUFFIXES:
                    stat = entry.stat()
                    found.append((entry.path, stat.st_mtime_ns, stat.st_size))
    return found
