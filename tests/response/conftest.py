"""Shared fixtures: a fake action context, a recording HTTP API on 127.0.0.1, the table of
connectors in the state database."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.statefixtures import state_backends, state_db, state_url
from watchkeeper.errors import UsageError
from watchkeeper.response.actions.base import Connector
from watchkeeper.state.db import StateDB

__all__ = ["state_backends", "state_db", "state_url"]


@dataclass
class FakeLookups:
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    indicators: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    searches: list[tuple[str, float, int]] = field(default_factory=list)

    def asset(self, host: str | None, ip: str | None) -> dict[str, Any] | None:
        return self.assets.get(host or "") or self.assets.get(ip or "")

    def search_events(self, query: str, hours: float, limit: int) -> list[dict[str, Any]]:
        self.searches.append((query, hours, limit))
        return self.events[:limit]

    def indicator(self, value: str) -> list[dict[str, Any]]:
        return self.indicators.get(value, [])


@dataclass
class FakeContext:
    """An :class:`ActionContext` for tests: one connector, fixed key, time and timeout."""

    step_connector: Connector | None = None
    idempotency_key: str = "run-7.step-block"
    timeout_s: float = 5.0
    now: datetime = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    lookups: FakeLookups = field(default_factory=FakeLookups)
    ttl_s: float | None = None

    def connector(self, types: tuple[str, ...]) -> Connector:
        if self.step_connector is None:
            raise UsageError("this step names no connector")
        if self.step_connector.type not in types:
            raise UsageError(f"connector type {self.step_connector.type!r} not in {types}")
        return self.step_connector


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=lambda: {"ok": True})
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class ApiServer:
    """A real HTTP server on 127.0.0.1 standing in for a firewall, EDR or ticket API."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.routes: dict[tuple[str, str], Reply] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path
                server.requests.append(Recorded(
                    self.command, path, {k.lower(): v for k, v in self.headers.items()}, body))
                reply = server.routes.get((self.command, path.split("?")[0]), Reply())
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                payload = (reply.body if isinstance(reply.body, bytes)
                           else json.dumps(reply.body).encode())
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


@pytest.fixture
def api() -> Iterator[ApiServer]:
    server = ApiServer()
    yield server
    server.close()


def http_connector(base_url: str, operations: dict[str, Any], *, allow_private: bool = True,
                   auth: dict[str, Any] | None = None, secrets: dict[str, str] | None = None,
                   **config: Any) -> Connector:
    return Connector(name="fw-api", type="http",
                     config={"base_url": base_url, "operations": operations,
                             "auth": auth or {"type": "none"}, **config},
                     secrets=secrets or {}, allow_private=allow_private)


@pytest.fixture
def connectors_db(state_db: StateDB) -> StateDB:
    """The state database, which holds the ``connectors`` table."""
    return state_db
