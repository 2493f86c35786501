"""Feeds pulled on a schedule: configured in the state database, secrets sealed, each run
recorded on the feed and in the audit log.

A run fetches, parses with the type's parser (the feed's name is the indicators'
source), ingests, and moves the feed's cursor so that the next run is incremental. Any
failure of one feed — unreachable, too large, not JSON, an HTTP error — is recorded as
its ``last_error`` and leaves its cursor where it was; the other feeds still run.
Secret values are never listed, audited, logged or put in an error.
"""

from __future__ import annotations

import builtins
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select

from watchkeeper.audit.service import AuditLog
from watchkeeper.errors import (
    ConflictError,
    NotFoundError,
    UsageError,
    WatchkeeperError,
)
from watchkeeper.intel import feedconfig
from watchkeeper.intel.feedfetch import Fetcher, child
from watchkeeper.intel.feeds import (
    parse_stix,
    parse_text,
    pull_misp_api,
    read_misp_feed,
)
from watchkeeper.intel.model import FeedResult
from watchkeeper.intel.service import IntelService
from watchkeeper.intel.store_model import FeedRow
from watchkeeper.intel.taxii import pull_taxii
from watchkeeper.response.secrets import SecretBox
from watchkeeper.state.db import StateDB

if TYPE_CHECKING:
    from watchkeeper.config import Settings

log = logging.getLogger(__name__)
SCHEDULER = "system"
"""Who scheduled runs act as in the audit log."""
KEEP = object()
"""``update(secret=KEEP)``: leave the stored secret as it is."""
MAX_ERROR = 2000


class TaxiiPuller(Protocol):
    def __call__(self, url: str, collection: str, *, source: str,
                 added_after: str | None = None, token: str | None = None,
                 username: str | None = None, password: str | None = None,
                 verify: bool = True, timeout: float = 30.0, max_pages: int = 100,
                 max_bytes: int = 64 << 20) -> FeedResult: ...


def public(row: FeedRow) -> dict[str, Any]:
    """A feed as listed: ``has_secret`` instead of the secret."""
    due = (row.last_run_at + timedelta(seconds=row.interval_s)) if row.last_run_at else None
    return {"name": row.name, "type": row.type, "url": row.url, "options": dict(row.options),
            "has_secret": row.secret is not None, "interval_s": row.interval_s,
            "enabled": row.enabled, "cursor": row.cursor, "last_run_at": row.last_run_at,
            "last_ok_at": row.last_ok_at, "last_error": row.last_error,
            "last_counts": dict(row.last_counts or {}), "next_run_at": due if row.enabled
            else None, "created_by": row.created_by, "created_at": row.created_at}


def _audited(row: FeedRow) -> dict[str, Any]:
    return {"type": row.type, "url": row.url, "options": dict(row.options),
            "has_secret": row.secret is not None, "interval_s": row.interval_s,
            "enabled": row.enabled}


class FeedService:
    def __init__(self, db: StateDB, audit: AuditLog, intel: IntelService, box: SecretBox,
                 max_bytes: int, *, timeout: float = 30.0, fetcher: Fetcher | None = None,
                 taxii_puller: TaxiiPuller | None = None,
                 misp_client_factory: Callable[..., Any] | None = None) -> None:
        self.db = db
        self.audit = audit
        self.intel = intel
        self.box = box
        self.timeout = timeout
        self.fetcher = fetcher or Fetcher(max_bytes, timeout)
        self.taxii_puller = taxii_puller
        self.misp_client_factory = misp_client_factory
        self._running: set[str] = set()
        self._guard = threading.Lock()

    # configuration -------------------------------------------------------------------

    def add(self, actor: str, name: str, type: str, url: str, *,
            options: dict[str, Any] | None = None, secret: str | None = None,
            interval_s: int = 3600, enabled: bool = True) -> dict[str, Any]:
        feedconfig.check_name(name)
        feedconfig.check_type(type)
        checked = feedconfig.check_options(type, dict(options or {}), bool(secret))
        location = feedconfig.check_url_for(type, url)
        feedconfig.check_interval(interval_s)
        with self.db.session() as session:
            if self._row(session, name) is not None:
                raise ConflictError(f"feed {name!r} exists")
            row = FeedRow(name=name, type=type, url=location, options=checked,
                          secret=self._seal(secret), interval_s=interval_s, enabled=enabled,
                          last_counts={}, created_by=actor, created_at=datetime.now(UTC))
            session.add(row)
            session.flush()
            self.audit.append(session, actor, "intel.feed.add", "intel_feed", name,
                              after=_audited(row))
            return public(row)

    def update(self, actor: str, name: str, *, url: str | None = None,
               options: dict[str, Any] | None = None, secret: object = KEEP,
               interval_s: int | None = None, enabled: bool | None = None) -> dict[str, Any]:
        """Change what is given; ``secret=None`` removes the secret. A new URL or new
        options start the feed over (its cursor is cleared)."""
        with self.db.session() as session:
            row = self._existing(session, name)
            before = _audited(row)
            sealed = row.secret if secret is KEEP else self._seal(secret)  # type: ignore[arg-type]
            new_options = dict(row.options) if options is None else dict(options)
            feedconfig.check_options(row.type, new_options, sealed is not None)
            location = row.url if url is None else feedconfig.check_url_for(row.type, url)
            if interval_s is not None:
                row.interval_s = feedconfig.check_interval(interval_s)
            if location != row.url or new_options != row.options:
                row.cursor = None
            row.url, row.options, row.secret = location, new_options, sealed
            if enabled is not None:
                row.enabled = enabled
            after = _audited(row)
            if secret is not KEEP:
                after["secret_changed"] = True
            self.audit.append(session, actor, "intel.feed.update", "intel_feed", name,
                              before=before, after=after)
            return public(row)

    def remove(self, actor: str, name: str) -> None:
        """Remove the feed; the indicators it brought stay (their source keeps its name)."""
        with self.db.session() as session:
            row = self._existing(session, name)
            before = _audited(row)
            session.delete(row)
            self.audit.append(session, actor, "intel.feed.remove", "intel_feed", name,
                              before=before)

    def list(self) -> list[dict[str, Any]]:
        with self.db.session() as session:
            return [public(r) for r in session.scalars(select(FeedRow).order_by(FeedRow.name))]

    def get(self, name: str) -> dict[str, Any]:
        with self.db.session() as session:
            return public(self._existing(session, name))

    # runs ----------------------------------------------------------------------------

    def run_due(self, now: datetime | None = None) -> builtins.list[dict[str, Any]]:
        """Run every enabled feed whose interval has passed since its last run."""
        now = now or datetime.now(UTC)
        with self.db.session() as session:
            due = [row.name for row in session.scalars(
                select(FeedRow).where(FeedRow.enabled.is_(True)).order_by(FeedRow.name))
                if row.last_run_at is None
                or row.last_run_at + timedelta(seconds=row.interval_s) <= now]
        done: builtins.list[dict[str, Any]] = []
        for name in due:
            try:
                done.append(self.run(SCHEDULER, name, now=now))
            except ConflictError:
                continue  # being pulled by hand right now
            except Exception:  # one feed's trouble (even its bookkeeping) stops no other
                log.exception("intel feed run could not be recorded", extra={"feed": name})
        return done

    def run(self, actor: str, name: str, *, now: datetime | None = None) -> dict[str, Any]:
        """Pull the feed now; the answer is the feed as listed, after the run. One pull of a
        feed at a time: another is refused with :class:`ConflictError`."""
        with self._guard:
            if name in self._running:
                raise ConflictError(f"feed {name!r} is being pulled already")
            self._running.add(name)
        try:
            return self._run(actor, name, now)
        finally:
            with self._guard:
                self._running.discard(name)

    def _run(self, actor: str, name: str, now: datetime | None) -> dict[str, Any]:
        started = now or datetime.now(UTC)
        with self.db.session() as session:
            row = self._existing(session, name)
            feed: dict[str, Any] = {"type": row.type, "url": row.url, "options": dict(row.options),
                    "cursor": row.cursor}
            secret = self.box.open(row.secret)["secret"] if row.secret else None
        report: dict[str, Any] | None = None
        cursor = feed["cursor"]
        try:
            result = self._pull(name, feed, secret)
            report = self.intel.ingest(actor, result, name).as_dict()
            cursor = result.cursor or cursor
            error = None
        except Exception as exc:  # any failure of one feed is its last_error, nothing more
            error = _reason(exc, secret)
            log.warning("intel feed failed", extra={"feed": name, "error": error})
        with self.db.session() as session:
            row = self._existing(session, name)
            row.last_run_at = started
            row.last_error = error
            if report is not None:
                row.last_ok_at, row.cursor, row.last_counts = started, cursor, report
            counts = {k: v for k, v in (report or {}).items() if k != "problems"}
            self.audit.append(session, actor, "intel.feed.run", "intel_feed", name,
                              after={"ok": error is None, "error": error, "counts": counts})
            return public(row)

    def _pull(self, name: str, feed: dict[str, Any], secret: str | None) -> FeedResult:
        kind, url, options, cursor = feed["type"], feed["url"], feed["options"], feed["cursor"]
        headers = {options.get("auth_header", "Authorization"): secret} if secret else {}
        max_bytes = self.fetcher.max_bytes
        if kind == "stix":
            return parse_stix(self.fetcher.read(url, headers), name, max_bytes=max_bytes)
        if kind in ("csv", "text"):
            return parse_text(self.fetcher.read(url, headers), name, feedconfig.mapping(options),
                              max_bytes=max_bytes)
        if kind == "misp-feed":
            return self._misp_feed(name, url, headers, cursor)
        if kind == "misp-api":
            since = int(cursor) if cursor and cursor.isdigit() else None
            return pull_misp_api(url, secret or "", since=since,
                                 verify_tls=options.get("verify_tls", True),
                                 timeout=self.timeout, source=name,
                                 client_factory=self.misp_client_factory)
        puller: TaxiiPuller = self.taxii_puller or pull_taxii
        username = options.get("username")
        return puller(url, options["collection"], source=name, added_after=cursor,
                      token=None if username else secret, username=username,
                      password=secret if username else None,
                      verify=options.get("verify_tls", True), timeout=self.timeout,
                      max_pages=options.get("max_pages", 100), max_bytes=max_bytes)

    def _misp_feed(self, name: str, url: str, headers: dict[str, str],
                   cursor: str | None) -> FeedResult:
        """The events changed since the cursor (see :func:`read_misp_feed`); one that
        cannot be fetched fails the run, so that the cursor stays and it is fetched next
        time."""
        since = int(cursor) if cursor and cursor.isdigit() else None
        return read_misp_feed(lambda file: self.fetcher.read(child(url, file), headers), name,
                              since, where=name, unreadable_fails=True)

    # helpers -------------------------------------------------------------------------

    def _seal(self, secret: str | None) -> str | None:
        if secret is None:
            return None
        if not secret.strip():
            raise UsageError("a feed secret cannot be empty")
        return self.box.seal({"secret": secret})

    @staticmethod
    def _row(session: Any, name: str) -> FeedRow | None:
        found: FeedRow | None = session.scalar(select(FeedRow).where(FeedRow.name == name))
        return found

    def _existing(self, session: Any, name: str) -> FeedRow:
        row = self._row(session, name)
        if row is None:
            raise NotFoundError(f"no feed {name!r}")
        return row


def _reason(exc: Exception, secret: str | None) -> str:
    """Why a run failed, in one line, with the secret (if an error repeated it) hidden."""
    if isinstance(exc, WatchkeeperError):
        text = str(exc)
    elif isinstance(exc, ModuleNotFoundError):
        text = f"this feed type is not available: {exc}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    if secret:
        text = text.replace(secret, "***")
    return text[:MAX_ERROR]


def open_feed_service(settings: Settings, db: StateDB, audit: AuditLog,
                      intel: IntelService, box: SecretBox | None = None) -> FeedService:
    """The feed service of a data folder, with the secrets key of its connectors."""
    if box is None:
        from watchkeeper.response.secrets import load_secret_box

        key = settings.response.secret_key
        box = load_secret_box(settings.data_dir, key.get_secret_value() if key else None)
    return FeedService(db, audit, intel, box, settings.intel.max_feed_mb << 20)
