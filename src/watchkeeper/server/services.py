"""Every service of a running server, built once from the settings and passed around.

The web layer reads them from ``app.state.services``; the CLI builds the ones it needs.
Adapters are chosen here, from the settings' URLs, and nowhere else.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from watchkeeper.alerts.service import AlertService
from watchkeeper.assets.service import AssetService
from watchkeeper.audit.service import AuditLog
from watchkeeper.auth.service import AuthService
from watchkeeper.auth.sessions import SessionSettings
from watchkeeper.cases.observables import ObservableService
from watchkeeper.cases.service import CaseService
from watchkeeper.cases.sla import SlaPolicy
from watchkeeper.cases.templates import load_templates
from watchkeeper.config import Settings
from watchkeeper.deadletters.service import DeadLetters
from watchkeeper.errors import UsageError
from watchkeeper.events.normalize import Normalizer
from watchkeeper.ingest.counters import ReceiverCounters
from watchkeeper.ingest.spool import Spool
from watchkeeper.intel.feedrunner import FeedService, open_feed_service
from watchkeeper.intel.service import IntelService
from watchkeeper.ops.metrics import Metrics
from watchkeeper.parsers import default_registry
from watchkeeper.pipeline.decode import Decoder
from watchkeeper.pipeline.service import Pipeline
from watchkeeper.response.lookups import ServerLookups
from watchkeeper.response.service import Response, open_response
from watchkeeper.response.timeline import case_items
from watchkeeper.rules.service import RuleService
from watchkeeper.server.stores import open_events, open_state_db
from watchkeeper.state.db import StateDB
from watchkeeper.store.base import EventStore
from watchkeeper.vulns.service import StartPlaybook, VulnService

LOCK_NAME = "server.lock"


class DataDirLock:
    """One server (or import) writes a data folder at a time."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / LOCK_NAME
        self._file: IO[str] | None = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            self._file = None
            raise UsageError(
                f"another Watchkeeper process is using {data_dir} (lock {self.path})"
            ) from None
        self._file.truncate(0)
        self._file.write(str(os.getpid()))
        self._file.flush()

    @staticmethod
    def held(data_dir: Path) -> bool:
        path = data_dir / LOCK_NAME
        if not path.exists():
            return False
        with open(path, "a+", encoding="utf-8") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(probe, fcntl.LOCK_UN)
        return False

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


@dataclass
class Services:
    settings: Settings
    db: StateDB
    audit: AuditLog
    auth: AuthService
    alerts: AlertService
    cases: CaseService
    rules: RuleService
    assets: AssetService
    dead_letters: DeadLetters
    store: EventStore
    spool: Spool
    decoder: Decoder
    metrics: Metrics
    pipeline: Pipeline
    response: Response
    vulns: VulnService
    intel: IntelService
    intel_feeds: FeedService
    lock: DataDirLock
    http_counts: ReceiverCounters = field(default_factory=ReceiverCounters)
    receiver_counts: dict[str, ReceiverCounters] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings) -> Services:
        lock = DataDirLock(settings.data_dir)
        try:
            return cls._build(settings, lock)
        except BaseException:
            lock.release()
            raise

    @classmethod
    def _build(cls, settings: Settings, lock: DataDirLock) -> Services:
        db = open_state_db(settings)
        audit = AuditLog(db)
        assets = AssetService(db, audit)
        dead_letters = DeadLetters(db, audit)
        rules = RuleService(
            db, audit, settings.rules, settings.alerts, settings.data_dir / "cache" / "rules"
        )
        store = open_events(settings)
        spool = Spool(
            settings.spool_dir,
            fsync=settings.pipeline.fsync,
            max_backlog_bytes=settings.pipeline.spool_max_backlog_mb << 20,
        )
        decoder = Decoder(default_registry())
        metrics = Metrics()
        intel = IntelService(db, audit, settings.intel)
        if settings.intel.enabled:
            intel.refresh()
        pipeline = Pipeline(
            spool=spool,
            store=store,
            db=db,
            rules=rules,
            decoder=decoder,
            normalizer=Normalizer(),
            assets=assets,
            dead_letters=dead_letters,
            metrics=metrics,
            batch_size=settings.pipeline.batch_size,
            max_latency_s=settings.pipeline.max_latency_ms / 1000,
            intel=intel if settings.intel.enabled else None,
        )
        cases = CaseService(db, audit, load_templates(settings.cases.templates),
                            SlaPolicy.from_settings(settings.cases))
        response = open_response(settings, db, audit, cases, ServerLookups(assets, store, intel))
        services = cls(
            settings=settings,
            db=db,
            audit=audit,
            auth=AuthService(
                db, audit, sessions=SessionSettings(secure_cookie=settings.cookies_secure)
            ),
            alerts=AlertService(db, audit),
            cases=cases,
            rules=rules,
            assets=assets,
            dead_letters=dead_letters,
            store=store,
            spool=spool,
            decoder=decoder,
            metrics=metrics,
            pipeline=pipeline,
            response=response,
            vulns=VulnService(db, audit, assets, cases, settings.data_dir / "vulns",
                              _patch_starter(response)),
            intel=intel,
            intel_feeds=open_feed_service(settings, db, audit, intel, response.connectors.box),
            lock=lock,
        )
        services.receiver_counts["http"] = services.http_counts
        services.alerts.close_hooks.append(intel.alert_closed)
        lookups = ServerLookups(assets, store, intel)
        services.cases.link_hooks.append(
            ObservableService(db, audit, store, lookups.indicator).refresh)
        services.cases.timeline_hooks.append(case_items)
        metrics.watch_receivers(
            lambda: {name: c.as_dict() for name, c in services.receiver_counts.items()}
        )
        return services

    def replay(self, source_type: str, origin: str, raw: bytes) -> int:
        """Put raw input back into the spool (dead-letter replay)."""
        return self.spool.append(source_type, origin, raw)

    def close(self) -> None:
        self.pipeline.stop()
        self.dead_letters.flush()
        self.spool.close()
        self.store.close()
        self.db.close()
        self.lock.release()


def _patch_starter(response: Response) -> StartPlaybook:
    """Start a playbook on a case when its triggers are on (enabled, or a built-in named in
    ``enable_builtin``); the workers walk it."""

    def start(actor: str, name: str, inputs: dict[str, Any], case_id: int) -> Any:
        loaded = response.library().playbooks.get(name)
        if loaded is None or not response.active(loaded):
            return None
        return response.start_manual(actor, name, inputs, case_id=case_id, walk=False)

    return start
