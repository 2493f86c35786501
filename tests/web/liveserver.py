"""A real ``watchkeeper serve`` in a child process, set up with the CLI as a user sets it up.

``LiveServer.start`` runs ``watchkeeper init`` in a folder, creates the extra users and an
ingest token with ``watchkeeper users add`` and ``tokens create``, then starts
``watchkeeper serve`` on port 0 (every port chosen by the system, so that runs never
collide) and reads the bound HTTP port from the server's "watchkeeper serving" log line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

START_TIMEOUT_S = 30.0
CLI = (sys.executable, "-c", "from watchkeeper.cli.main import main; main()")
# Every port the system's choice, and a pipeline quick to store what it is sent.
SERVER_ENV = {
    "WATCHKEEPER_HTTP__PORT": "0",
    "WATCHKEEPER_SYSLOG__UDP_PORT": "0",
    "WATCHKEEPER_SYSLOG__TCP_PORT": "0",
    "WATCHKEEPER_PIPELINE__MAX_LATENCY_MS": "20",
    "WATCHKEEPER_PIPELINE__FSYNC": "false",
}


class ServerFailed(RuntimeError):
    """The server did not start, or a command setting it up failed; carries its output."""


def _child_env() -> dict[str, str]:
    """The environment less every WATCHKEEPER_* variable of the test run itself."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHKEEPER_")}
    return {**env, **SERVER_ENV}


def run_cli(*args: str, stdin: str | None = None) -> str:
    """Run ``watchkeeper ARGS``; its standard output, or ServerFailed with both outputs."""
    done = subprocess.run(
        [*CLI, *args], input=stdin, capture_output=True, text=True, env=_child_env(),
        timeout=60, check=False,
    )
    if done.returncode != 0:
        raise ServerFailed(f"watchkeeper {' '.join(args)} exited {done.returncode}:\n"
                           f"{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class LiveServer:
    config: Path
    process: subprocess.Popen[str]
    url: str = ""
    log: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @classmethod
    def start(cls, folder: Path, rules: Path, admin_password: str,
              playbooks: Sequence[Path] = ()) -> LiveServer:
        """A configured server over a fresh data folder, serving once this returns; with
        ``playbooks``, folders of playbook files added to its configuration."""
        given = [arg for p in playbooks for arg in ("--playbooks", str(p))]
        run_cli("init", "--dir", str(folder), "--password-stdin", "--rules", str(rules),
                *given, stdin=admin_password + "\n")
        config = folder / "watchkeeper.toml"
        if playbooks:
            own_only = "[response]\nbuiltin_playbooks = false\n"
            text = config.read_text(encoding="utf-8").replace("[response]\n", own_only)
            config.write_text(text, encoding="utf-8")
        process = subprocess.Popen(
            [*CLI, "serve", "--config", str(config)], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_child_env(),
        )
        server = cls(config, process)
        serving = threading.Event()
        server.reader = threading.Thread(target=server._read_log, args=(process.stderr, serving),
                                         daemon=True)
        server.reader.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not serving.wait(0.1):
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise ServerFailed("watchkeeper serve did not start:\n" + "\n".join(server.log))
        return server

    def _read_log(self, stream: IO[str] | None, serving: threading.Event) -> None:
        """Keep the server's log (shown when something fails) and spot its address."""
        if stream is None:
            return
        for line in stream:
            self.log.append(line.rstrip("\n"))
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("message") == "watchkeeper serving":
                self.url = f"http://{entry['http']}"
                serving.set()

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """A ``watchkeeper`` command on this server's configuration."""
        return run_cli(*args, "--config", str(self.config), stdin=stdin)

    def add_user(self, username: str, role: str, password: str) -> None:
        self.cli("users", "add", username, "--role", role, "--password-stdin",
                 stdin=password + "\n")

    def ingest_token(self, owner: str) -> str:
        return self.cli("tokens", "create", "--user", owner, "--kind", "ingest",
                        "--name", "browser-tests").strip()

    def ingest(self, token: str, body: bytes, source_type: str, timeout_s: float = 20.0) -> None:
        """Send ``body`` to the HTTP receiver and wait until the pipeline has stored it."""
        request = urllib.request.Request(
            f"{self.url}/api/v1/ingest/{source_type}", data=body, method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            if answer.status != 202:
                raise ServerFailed(f"ingest answered {answer.status}")
            seq = int(json.load(answer)["seq"])
        deadline = time.monotonic() + timeout_s
        while self.health()["stored_seq"] < seq:
            if time.monotonic() > deadline:
                raise ServerFailed(f"the pipeline did not store seq {seq}:\n" + "\n".join(self.log))
            time.sleep(0.05)

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/healthz", timeout=10) as answer:
            found: dict[str, Any] = json.load(answer)
            return found

    def stop(self) -> None:
        """SIGTERM (the server's own orderly stop), then kill if it hangs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.reader is not None:
            self.reader.join(timeout=10)  # the log ends when the process has ended
        if self.process.stderr is not None:
            self.process.stderr.close()
