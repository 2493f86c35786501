"""A real ``watchkeeper serve`` process for end-to-end tests, on ports picked for it.

The folder, its administrator and two tokens are made once per test session with the
CLI (``watchkeeper init`` and ``watchkeeper tokens create``) and copied for every
server, since each of these commands costs seconds of start-up:

    server = ServerProcess.create(tmp_path, prepared(tmp_path_factory))
    server.start()                      # returns once /healthz answers
    server.ingest(body, "winlog-json")  # with the ingest token
    server.get("/api/v1/alerts")        # with the API token
    server.stop(signal.SIGINT)          # the exit status
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_RULES = ROOT / "examples" / "rules"
CLI = (sys.executable, "-c", "from watchkeeper.cli.main import main; main()")
START_TIMEOUT_S = 60.0
WHOAMI = "Account Discovery With whoami"
CLEARED = "Security Audit Log Cleared"
TemplateValue = str | int | bool | list[str]
T = TypeVar("T")


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Prepared:
    """A folder made by ``watchkeeper init``, and the tokens made for its admin."""

    folder: Path
    ingest_token: str
    api_token: str


@dataclass
class Ports:
    http: int
    udp: int
    tcp: int
    tls: int


def run_cli(*args: str, cwd: Path, timeout_s: float = 120.0) -> subprocess.CompletedProcess[str]:
    """``watchkeeper ARGS`` in a fresh interpreter, outside any outer configuration."""
    return subprocess.run([*CLI, *args], cwd=cwd, env=_environment(), capture_output=True,
                          text=True, timeout=timeout_s, check=False)


def make_certificate(folder: Path) -> Certificate:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True)
    return Certificate(cert, key)


def prepared(factory: pytest.TempPathFactory) -> Prepared:
    """The session's initialised folder, made on first use (kept on disk, not in memory)."""
    base = factory.getbasetemp() / "watchkeeper-initialised"
    tokens = base / "tokens.json"
    if not tokens.exists():
        folder = base / "folder"
        done = run_cli("init", "--dir", str(folder), "--generate-password",
                       "--rules", str(EXAMPLE_RULES), cwd=base.parent)
        assert done.returncode == 0, done.stderr
        assert "password (shown once" in done.stdout
        config = str(folder / "watchkeeper.toml")
        makers = {kind: subprocess.Popen(
            [*CLI, "tokens", "create", "--user", "admin", "--kind", kind,
             "--name", f"e2e {kind}", "--config", config],
            cwd=folder, env=_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True) for kind in ("ingest", "api")}
        made = {}
        for kind, maker in makers.items():
            out, err = maker.communicate(timeout=120)
            assert maker.returncode == 0, err
            made[kind] = out.strip()
        tokens.write_text(json.dumps(made), encoding="utf-8")
    made = json.loads(tokens.read_text(encoding="utf-8"))
    return Prepared(base / "folder", made["ingest"], made["api"])


def pick_ports() -> Ports:
    """Ports free right now (another process may still take one before the server does)."""
    ports = []
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_STREAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(int(probe.getsockname()[1]))
    return Ports(*ports)


class ServerProcess:
    """One data folder and the server processes started on it, one at a time."""

    def __init__(self, folder: Path, tokens: Prepared, settings: dict[str, Any]) -> None:
        self.folder = folder
        self.config = folder / "watchkeeper.toml"
        self.ingest_token, self.api_token = tokens.ingest_token, tokens.api_token
        self.settings = settings
        self.ports = pick_ports()
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.runs = 0
        self.https: Certificate | None = None

    @classmethod
    def create(cls, folder: Path, tokens: Prepared, *, certificate: Certificate | None = None,
               max_message_bytes: int = 512, https: bool = False) -> ServerProcess:
        """A copy of the initialised folder whose configuration is edited for tests;
        ``https``: the API too is served over TLS with ``certificate``."""
        shutil.copytree(tokens.folder, folder, dirs_exist_ok=True)
        generated = tomllib.loads((folder / "watchkeeper.toml").read_text(encoding="utf-8"))
        assert [Path(p) for p in generated["rules"]["paths"]] == [EXAMPLE_RULES.resolve()]
        syslog: dict[str, Any] = {"max_message_bytes": max_message_bytes}
        if certificate is not None:
            syslog |= {"tls_cert": str(certificate.cert), "tls_key": str(certificate.key)}
        settings = {"data_dir": generated["data_dir"], "syslog": syslog,
                    "pipeline": {"max_latency_ms": 50},
                    "rules": {"paths": generated["rules"]["paths"]}}
        made = cls(folder, tokens, settings)
        if https and certificate is not None:
            made.https = certificate
        return made

    # the process ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        scheme = "https" if self.https else "http"
        return f"{scheme}://127.0.0.1:{self.ports.http}"

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """What an HTTP client trusts: the test certificate when the API is on TLS."""
        return ssl.create_default_context(cafile=str(self.https.cert)) if self.https else True

    def start(self, attempts: int = 3) -> None:
        """Start the server and wait for ``/healthz``; new ports when one was taken."""
        for attempt in range(attempts):
            self._write_config()
            if self._launch():
                return
            if attempt + 1 < attempts and "in use" in self.log_text():
                self.ports = pick_ports()
                continue
            raise AssertionError(f"the server did not start:\n{self.log_text()[-4000:]}")

    def stop(self, sig: signal.Signals = signal.SIGINT, timeout_s: float = 30.0) -> int:
        """Send ``sig`` and wait for the process to end; its exit status."""
        process = self._process()
        process.send_signal(sig)
        try:
            return process.wait(timeout_s)
        finally:
            self.cleanup()

    def kill(self) -> None:
        """``kill -9``: no chance to flush or close anything."""
        self.stop(signal.SIGKILL)

    def log_text(self) -> str:
        """Standard output and error of every run so far."""
        if self._log is not None:
            self._log.flush()
        paths = sorted(self.folder.glob("server-*.log"))
        return "".join(p.read_text(encoding="utf-8", errors="replace") for p in paths)

    def cli(self, *args: str, timeout_s: float = 120.0) -> subprocess.CompletedProcess[str]:
        """``watchkeeper ARGS --config <this server's file>``."""
        return run_cli(*args, "--config", str(self.config), cwd=self.folder, timeout_s=timeout_s)

    def _launch(self) -> bool:
        self.runs += 1
        self._log = open(self.folder / f"server-{self.runs:02d}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen([*CLI, "serve", "--config", str(self.config)],
                                        cwd=self.folder, env=_environment(),
                                        stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        with httpx.Client(trust_env=False, timeout=2.0, verify=self.verify) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    self.cleanup()
                    return False
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        self.kill()
        return False

    def _process(self) -> subprocess.Popen[bytes]:
        assert self.process is not None, "the server was not started"
        return self.process

    def cleanup(self) -> None:
        """Kill the server if it still runs; close its log."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def _write_config(self) -> None:
        http: dict[str, Any] = {"host": "127.0.0.1", "port": self.ports.http}
        if self.https:
            http |= {"tls_cert": str(self.https.cert), "tls_key": str(self.https.key)}
        settings = {**self.settings, "http": http}
        syslog = {"host": "127.0.0.1", "udp_port": self.ports.udp, "tcp_port": self.ports.tcp,
                  **settings["syslog"]}
        if "tls_cert" in syslog:
            syslog["tls_port"] = self.ports.tls
        settings["syslog"] = syslog
        self.config.write_text(_toml(settings), encoding="utf-8")

    # the API -------------------------------------------------------------------------

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, trust_env=False, timeout=30.0,
                            verify=self.verify)

    def get(self, path: str, **params: Any) -> Any:
        with self.client(self.api_token) as client:
            answer = client.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def ingest(self, body: bytes, source_type: str) -> int:
        """Send a body with the ingest token; its spool sequence number (202 expected)."""
        with self.client(self.ingest_token) as client:
            answer = client.post(f"/api/v1/ingest/{source_type}", content=body)
        assert answer.status_code == 202, answer.text
        return int(answer.json()["seq"])

    def alerts(self, **filters: Any) -> list[dict[str, Any]]:
        """Every alert that matches ``filters``, read page by page."""
        alerts: list[dict[str, Any]] = []
        while True:
            page = self.get("/api/v1/alerts", limit=1000, offset=len(alerts), sort="first_seen",
                            **filters)
            alerts.extend(page["alerts"])
            if not page["alerts"] or len(alerts) >= page["total"]:
                return alerts

    def search(self, query: str, limit: int = 10_000) -> dict[str, Any]:
        result: dict[str, Any] = self.get("/api/v1/events", q=query, limit=limit)
        return result

    def dead_letters(self) -> list[dict[str, Any]]:
        return list(self.get("/api/v1/dead-letters", limit=1000)["dead_letters"])

    def metrics(self) -> dict[tuple[str, str], float]:
        """``/metrics`` as {(sample name, label value): value} (label: the only one, or "")."""
        with self.client(self.api_token) as client:
            answer = client.get("/metrics")
        assert answer.status_code == 200, answer.text
        return parse_metrics(answer.text)

    def stored_seq(self) -> int:
        with self.client() as client:
            return int(client.get("/healthz").json()["stored_seq"])


def marked_event(n: int, host: str) -> dict[str, Any]:
    """Event number ``n`` of a run, as winlog-json, with the marker field ``TestSeq``: every
    fifth one matches :data:`WHOAMI`, others that are multiples of seven :data:`CLEARED`."""
    event: dict[str, Any] = {"@timestamp": datetime.now(UTC).isoformat(), "Computer": host,
                             "TestSeq": str(n)}
    if n % 5 == 0:
        return event | {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
                        "Image": "C:\\Windows\\System32\\whoami.exe", "CommandLine": "whoami",
                        "ParentImage": "C:\\Windows\\System32\\cmd.exe",
                        "User": f"CORP\\user{n}"}
    if n % 7 == 0:
        return event | {"EventID": 1102, "Channel": "Security", "SubjectUserName": f"user{n}"}
    return event | {"EventID": 4624, "Channel": "Security", "TargetUserName": f"user{n}",
                    "LogonType": "3", "IpAddress": "192.0.2.10"}


def matching_rule(n: int) -> str | None:
    """The title of the example rule that event ``n`` of :func:`marked_event` fires."""
    return WHOAMI if n % 5 == 0 else CLEARED if n % 7 == 0 else None


def ndjson(events: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


def wait_for(probe: Callable[[], T], done: Callable[[T], bool] = bool,
             timeout_s: float = 10.0) -> T:
    """The first answer of ``probe`` that is ``done``, asked until ``timeout_s`` has passed."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = probe()
        if done(answer):
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"not done after {timeout_s} s; last answer: {answer!r}")
        time.sleep(0.02)


def parse_metrics(text: str) -> dict[tuple[str, str], float]:
    values: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            label = next(iter(sample.labels.values()), "")
            values[(sample.name, label)] = sample.value
    return values


def _environment() -> dict[str, str]:
    """This process's environment without settings meant for another Watchkeeper."""
    return {k: v for k, v in os.environ.items() if not k.startswith("WATCHKEEPER_")} | {
        "COLUMNS": "200"}


def _toml(settings: Mapping[str, TemplateValue | Mapping[str, TemplateValue]]) -> str:
    """The settings as TOML: top-level keys first, then one table per mapping."""
    top = [f"{key} = {_value(v)}" for key, v in settings.items() if not isinstance(v, Mapping)]
    tables = [
        f"\n[{name}]\n" + "".join(f"{k} = {_value(v)}\n" for k, v in table.items())
        for name, table in settings.items() if isinstance(table, Mapping)
    ]
    return "\n".join(top) + "\n" + "".join(tables)


def _value(value: TemplateValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(value)
