"""``watchkeeper serve``: the API and web UI, the receivers, the pipeline and the schedules,
in one process.

Stopping (Ctrl-C or SIGTERM): the web server stops taking requests, the receivers stop
and write what they took to the spool, the pipeline stores what the spool holds (up to
a deadline; the rest stays in the spool for the next start), then everything closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import ssl
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import uvicorn

from watchkeeper.api.app import create_app
from watchkeeper.api.case_evidence import grouping_of
from watchkeeper.cases.escalation import SlaWatch
from watchkeeper.config import Settings
from watchkeeper.errors import UsageError
from watchkeeper.ingest.syslog import BoundPorts, SyslogServer, server_tls_context
from watchkeeper.ingest.tail import FileTailer, TailSource
from watchkeeper.intel.retrohunt import retro_hunt
from watchkeeper.server.services import Services

log = logging.getLogger(__name__)
COMPACT_EVERY_S = 60.0
INTEL_RETIRE_EVERY_S = 600.0
"""How often indicators whose score decayed under the threshold stop matching."""


@dataclass
class Running:
    """What a started server listens on (tests read the ports bound to port 0)."""

    services: Services
    syslog: BoundPorts
    http_port: int


class Server:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.services = Services.open(settings)
        self.syslog = SyslogServer(
            self.services.spool,
            host=settings.syslog.host,
            udp_port=settings.syslog.udp_port,
            tcp_port=settings.syslog.tcp_port,
            tls_port=settings.syslog.tls_port,
            tls=_syslog_tls(settings),
            dead_letters=self.services.dead_letters,
            max_message_bytes=settings.syslog.max_message_bytes,
        )
        self.services.receiver_counts.update(self.syslog.counters)
        self.tailer = (
            FileTailer(
                self.services.spool,
                [TailSource(item.path, item.format) for item in settings.files],
                settings.data_dir / "tail-offsets.json",
            )
            if settings.files
            else None
        )
        self.app = create_app(self.services)
        self.http = _HttpServer(
            uvicorn.Config(
                self.app,
                host=settings.http.host,
                port=settings.http.port,
                ssl_certfile=settings.http.tls_cert,
                ssl_keyfile=settings.http.tls_key,
                log_config=None,
                access_log=False,
                lifespan="off",
                server_header=False,
            )
        )
        self._tasks: list[asyncio.Task[None]] = []
        self.started = asyncio.Event()
        self.running: Running | None = None

    async def run(self) -> None:
        """Serve until the web server is told to exit (signal, or :meth:`shutdown`)."""
        services = self.services
        try:
            services.pipeline.start()
            ports = await self.syslog.start()
            if self.tailer is not None:
                self.tailer.start()
            self._tasks = [
                asyncio.create_task(self._every(self.settings.rules.reload_interval_s,
                                                self._reload_rules)),
                asyncio.create_task(self._every(self.settings.retention.interval_minutes * 60,
                                                self._retention)),
                asyncio.create_task(self._every(COMPACT_EVERY_S, self._compact)),
                asyncio.create_task(self._every(self.settings.cases.sla_check_interval_s,
                                                self._check_slas)),
                asyncio.create_task(self._announce(ports)),
            ]
            response = self.settings.response
            await asyncio.to_thread(self.services.response.dispatcher.prime)
            self._tasks += [
                asyncio.create_task(self._every(response.worker_interval_s, self._advance_runs)),
                asyncio.create_task(self._every(response.dispatch_interval_s, self._dispatch)),
                asyncio.create_task(self._every(response.containment_check_interval_s,
                                                self._expire_containment)),
                asyncio.create_task(self._every(response.reload_interval_s,
                                                self._reload_playbooks)),
            ]
            if self.settings.intel.enabled:
                self._tasks += [
                    asyncio.create_task(self._every(self.settings.intel.refresh_interval_s,
                                                    self._intel)),
                    asyncio.create_task(self._every(INTEL_RETIRE_EVERY_S, self._retire)),
                    asyncio.create_task(self._every(self.settings.intel.feed_check_interval_s,
                                                    self._run_feeds)),
                ]
            if self.settings.cases.grouping:
                self._tasks.append(asyncio.create_task(
                    self._every(self.settings.cases.grouping_interval_s, self._group_alerts)))
            await self.http.serve()
        finally:
            await self._stop()

    def shutdown(self) -> None:
        self.http.should_exit = True

    async def _announce(self, ports: BoundPorts) -> None:
        while not self.http.started:
            await asyncio.sleep(0.02)
        sockets = [s for server in self.http.servers for s in server.sockets]
        port = sockets[0].getsockname()[1] if sockets else self.settings.http.port
        self.running = Running(self.services, ports, port)
        log.info(
            "watchkeeper serving",
            extra={"http": f"{self.settings.http.host}:{port}", "syslog_udp": ports.udp,
                   "syslog_tcp": ports.tcp, "syslog_tls": ports.tls},
        )
        if sys.stderr.isatty():
            scheme = "https" if self.settings.http.tls_cert else "http"
            receivers = ", ".join(
                f"{name} {port}" for name, port in
                (("UDP", ports.udp), ("TCP", ports.tcp), ("TLS", ports.tls)) if port
            )
            print(
                f"\nWatchkeeper is running: web UI and API at "
                f"{scheme}://{self.settings.http.host}:{port} · syslog {receivers or 'off'} · "
                f"{len(self.services.rules.active.rules)} rules · Ctrl-C stops it\n",
                file=sys.stderr, flush=True,
            )
        self.started.set()

    async def _stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.syslog.stop()
        if self.tailer is not None:
            await asyncio.to_thread(self.tailer.stop)
        await asyncio.to_thread(self.services.close)
        log.info("watchkeeper stopped", extra={"stored_seq": self.services.pipeline.position})

    async def _every(self, seconds: float, job: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception:
                log.exception("scheduled job failed", extra={"job": job.__name__})

    async def _reload_rules(self) -> None:
        await asyncio.to_thread(self.services.rules.reload_if_changed)

    async def _retention(self) -> None:
        retention = self.settings.retention
        report = await asyncio.to_thread(
            self.services.store.enforce_retention,
            datetime.now(UTC), retention.default_days, retention.per_dataset,
        )
        if report.total_rows:
            log.info("retention removed events", extra={"rows": report.total_rows})

    async def _group_alerts(self) -> None:
        done = await asyncio.to_thread(
            grouping_of(self.services).group_open_alerts, datetime.now(UTC))
        if done:
            log.info("related alerts grouped into cases", extra={"changes": len(done)})

    async def _dispatch(self) -> None:
        started = await asyncio.to_thread(self.services.response.dispatcher.dispatch)
        if started:
            log.info("playbook runs started", extra={"runs": started})

    async def _advance_runs(self) -> None:
        await asyncio.to_thread(self.services.response.runs.work)

    async def _expire_containment(self) -> None:
        done = await asyncio.to_thread(self.services.response.ledger.expire, datetime.now(UTC))
        if done:
            log.info("expired containment rolled back", extra={"entries": len(done)})

    async def _reload_playbooks(self) -> None:
        await asyncio.to_thread(self.services.response.reload)

    async def _intel(self) -> None:
        """New indicators: hunt them through stored events, then let the pipeline match
        them (and drop what was retired or allowlisted)."""
        intel = self.services.intel
        await asyncio.to_thread(intel.refresh)
        report = await asyncio.to_thread(retro_hunt, intel, self.services.store,
                                         self.settings.intel.retro_hunt_days)
        if report.alerts:
            log.info("retro-hunt alerts", extra={"alerts": report.alerts})

    async def _retire(self) -> None:
        retired = await asyncio.to_thread(self.services.intel.retire)
        if retired:
            log.info("decayed or expired indicators retired", extra={"indicators": retired})

    async def _run_feeds(self) -> None:
        """Pull the feeds that are due; each failure is on its feed (``last_error``)."""
        runs = await asyncio.to_thread(self.services.intel_feeds.run_due)
        failed = [run["name"] for run in runs if run["last_error"]]
        if runs:
            log.info("intel feeds pulled", extra={"feeds": len(runs), "failed": failed})

    async def _compact(self) -> None:
        await asyncio.to_thread(self.services.store.compact)

    async def _check_slas(self) -> None:
        watch = SlaWatch(self.services.cases, self.settings.cases.sla_escalate_to)
        made = await asyncio.to_thread(watch.check_slas, datetime.now(UTC))
        if made:
            log.info("SLA breaches escalated", extra={"notifications": len(made)})


class _HttpServer(uvicorn.Server):
    """uvicorn's server, except that a stop signal (Ctrl-C, SIGTERM) only ends serving.

    uvicorn raises the signal again once it has stopped, which would kill the process (or
    cancel the main task) before the receivers, the pipeline and the stores are stopped.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        stops = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in stops}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _syslog_tls(settings: Settings) -> ssl.SSLContext | None:
    syslog = settings.syslog
    if syslog.tls_port is None:
        return None
    if syslog.tls_cert is None or syslog.tls_key is None:
        raise UsageError("syslog.tls_port needs syslog.tls_cert and syslog.tls_key")
    return server_tls_context(syslog.tls_cert, syslog.tls_key)


def serve(settings: Settings) -> None:
    asyncio.run(Server(settings).run())
