"""Sustained ingest into a running ``watchkeeper serve``, and ingest-to-alert latency.

    python benchmarks/bench_serve.py --events EVENTS.jsonl --rules SIGMA/rules/windows \
        [--rules SIGMA/rules/linux] [--count 200000] [--body-lines 2000] [--clients 2]

Starts a real server (its own process, a temporary data folder, fsync on) with the
given rules, then measures:

1. HTTP: ``--count`` Windows events (winlog-json) posted by ``--clients`` senders as
   fast as the server takes them (a 429 is waited out), until all are stored;
2. syslog over TCP: as many generated Linux syslog lines, sent as fast as the socket
   takes them, until all are stored;
3. latency: at half the HTTP rate, for ``--latency-seconds``, one event per second that
   a rule alerts on; the time from sending it to its alert being readable through the
   API (polled every 50 ms), p50 and p99.

For each ingest run: events/s (wall), events per CPU-second of the server process
(what one core sustains), and the server's peak RSS. The reference measured in the same
run is the detection engine alone, in this process, over the same events with the same
rules (events per CPU-second): the ratio says how much the rest of the pipeline
(receiving, spooling, parsing, normalizing, storing, alerting) costs on top of it. The
figures to compare with are printed too: the target (20,000 events/s per core) and
Wazuh's published ~2,000 events/s per core.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGET_PER_CORE = 20_000
WAZUH_PER_CORE = 2_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(*args: str, cwd: Path, stdin: str | None = None) -> str:
    command = [sys.executable, "-c", "from watchkeeper.cli.main import main; main()", *args]
    done = subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


class ServerProcess:
    def __init__(self, folder: Path, rules: list[Path], batch_size: int) -> None:
        self.folder = folder
        self.http_port, self.syslog_port = free_port(), free_port()
        cli("init", "--dir", str(folder), "--generate-password",
            *[arg for r in rules for arg in ("--rules", str(r))], cwd=folder)
        config = folder / "watchkeeper.toml"
        text = config.read_text(encoding="utf-8")
        text = text.replace("port = 8000", f"port = {self.http_port}")
        text = text.replace("udp_port = 5514\ntcp_port = 5514",
                            f"udp_port = {self.syslog_port}\ntcp_port = {self.syslog_port}")
        text += f"\n[pipeline]\nbatch_size = {batch_size}\nmax_latency_ms = 200\n"
        text += "\n[alerts]\ngroup_by = []\n"
        config.write_text(text, encoding="utf-8")
        self.config = config
        self.ingest = cli("tokens", "create", "--config", str(config), "--user", "admin",
                          "--name", "bench", "--kind", "ingest", cwd=folder)
        self.api = cli("tokens", "create", "--config", str(config), "--user", "admin",
                       "--name", "bench-api", cwd=folder)
        self.log = (folder / "serve.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from watchkeeper.cli.main import main; main()",
             "serve", "--config", str(config)],
            cwd=folder, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if self.get("/healthz")["status"] == "ok":
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit("the server did not start; see serve.log")

    def get(self, path: str) -> Any:
        connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        connection.request("GET", path, headers={"Authorization": f"Bearer {self.api}"})
        answer = connection.getresponse()
        body = answer.read()
        connection.close()
        return json.loads(body) if path != "/metrics" else body.decode()

    def stages(self) -> dict[str, float]:
        """Seconds spent so far in each pipeline stage (sums of the server's histogram)."""
        found = {}
        for line in self.get("/metrics").splitlines():
            if line.startswith("watchkeeper_stage_seconds_sum"):
                stage = line.split('stage="', 1)[1].split('"', 1)[0]
                found[stage] = float(line.split()[-1])
        return found

    def stored_events(self) -> float:
        return self.counter("watchkeeper_events_stored_total")

    def counter(self, name: str) -> float:
        for line in self.get("/metrics").splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return 0.0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)
        self.log.close()


def post(server: ServerProcess, bodies: list[bytes]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=120)
    headers = {"Authorization": f"Bearer {server.ingest}", "Content-Type": "application/x-ndjson"}
    for body in bodies:
        while True:
            connection.request("POST", "/api/v1/ingest/winlog-json", body=body, headers=headers)
            answer = connection.getresponse()
            answer.read()
            if answer.status == 202:
                break
            if answer.status != 429:
                raise SystemExit(f"ingest refused: {answer.status}")
            time.sleep(float(answer.getheader("Retry-After") or 1))
    connection.close()


def wait_stored(server: ServerProcess, expected: float, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while server.stored_events() < expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {server.stored_events()} of {expected} events stored")
        time.sleep(0.1)


def run_http(server: ServerProcess, lines: list[bytes], body_lines: int, clients: int) -> dict[
        str, float]:
    bodies = [b"".join(lines[i:i + body_lines]) for i in range(0, len(lines), body_lines)]
    shares = [bodies[i::clients] for i in range(clients)]
    before, cpu0, t0 = server.stored_events(), server.cpu_seconds(), time.perf_counter()
    stages0, batches0 = server.stages(), server.counter("watchkeeper_batches_total")
    threads = [threading.Thread(target=post, args=(server, share)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_stored(server, before + len(lines))
    figures = _figures(server, len(lines), time.perf_counter() - t0, server.cpu_seconds() - cpu0)
    spent = {k: v - stages0.get(k, 0.0) for k, v in server.stages().items()}
    batches = server.counter("watchkeeper_batches_total") - batches0
    print("  time per stage (s): " + ", ".join(f"{k} {v:.1f}" for k, v in spent.items())
          + f"; {batches:.0f} batches of {len(lines) / max(batches, 1):,.0f} events on average")
    return figures


def syslog_lines(count: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    hosts = [f"srv-{i:03d}" for i in range(200)]
    users = ["root", "deploy", "alice", "bob", "backup", "www-data"]
    templates = [
        "sshd[{pid}]: Accepted publickey for {user} from 10.{a}.{b}.{c} port {port} ssh2",
        "sshd[{pid}]: Failed password for invalid user {user} from 203.0.113.{c} port {port}",
        "sudo[{pid}]: {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/apt",
        "CRON[{pid}]: (root) CMD (run-parts /etc/cron.hourly)",
        "kernel: [UFW BLOCK] IN=eth0 OUT= SRC=198.51.100.{c} DST=10.0.{a}.{b} PROTO=TCP DPT=22",
        "systemd[1]: Started Session {pid} of user {user}.",
    ]
    out = []
    for _ in range(count):
        text = rng.choice(templates).format(
            pid=rng.randint(100, 65000), user=rng.choice(users), a=rng.randint(0, 255),
            b=rng.randint(0, 255), c=rng.randint(1, 254), port=rng.randint(1024, 65535))
        out.append(f"<38>Nov 29 12:00:00 {rng.choice(hosts)} {text}\n".encode())
    return out


def run_syslog(server: ServerProcess, lines: list[bytes]) -> dict[str, float]:
    payload = b"".join(lines)
    before, cpu0, t0 = server.stored_events(), server.cpu_seconds(), time.perf_counter()
    with socket.create_connection(("127.0.0.1", server.syslog_port)) as sender:
        sender.sendall(payload)
    wait_stored(server, before + len(lines))
    return _figures(server, len(lines), time.perf_counter() - t0, server.cpu_seconds() - cpu0)


def _figures(server: ServerProcess, events: int, wall: float, cpu: float) -> dict[str, float]:
    return {"events": events, "wall_s": wall, "events_per_s": events / wall,
            "cpu_s": cpu, "events_per_cpu_s": events / cpu, "peak_rss_mb": server.peak_rss_mb()}


def marker(n: int) -> bytes:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    event = {"@timestamp": now, "EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
             "Provider_Name": "Microsoft-Windows-Sysmon", "Computer": f"lat-{n:05d}",
             "Image": "C:\\Windows\\System32\\whoami.exe", "OriginalFileName": "whoami.exe",
             "CommandLine": "whoami /all", "ParentImage": "C:\\Windows\\System32\\cmd.exe",
             "User": "CORP\\alice", "IntegrityLevel": "Medium"}
    return json.dumps(event).encode() + b"\n"


def run_latency(server: ServerProcess, lines: list[bytes], rate: float, seconds: float) -> dict[
        str, float]:
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    stop = threading.Event()

    def poll() -> None:
        since = quote(datetime.now(UTC).isoformat())
        while not stop.is_set() or len(seen) < len(sent):
            found = server.get(f"/api/v1/alerts?sort=last_seen&limit=200&since={since}")
            now = time.perf_counter()
            for alert in found["alerts"]:
                host = str(alert["entities"].get("host", ""))
                if host.startswith("lat-") and host not in seen:
                    seen[host] = now
            if stop.is_set() and time.perf_counter() - stopped_at[0] > 30:
                break
            time.sleep(0.05)

    stopped_at = [0.0]
    poller = threading.Thread(target=poll)
    poller.start()
    per_tick = max(1, int(rate / 10))
    tick, position, n = 0, 0, 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        body = b"".join(lines[(position + i) % len(lines)] for i in range(per_tick))
        position += per_tick
        if tick % 10 == 0:
            host = f"lat-{n:05d}"
            body += marker(n)
            n += 1
            sent[host] = time.perf_counter()
        post(server, [body])
        tick += 1
        time.sleep(max(0.0, start + tick * 0.1 - time.perf_counter()))
    stop.set()
    stopped_at[0] = time.perf_counter()
    poller.join()
    buckets = [line for line in server.get("/metrics").splitlines()
               if line.startswith("watchkeeper_ingest_to_alert_seconds_bucket")]
    print("  server-side ingest-to-alert histogram (per batch, cumulative): " + ", ".join(
        line.split('le="', 1)[1].split('"', 1)[0] + ":" + line.split()[-1] for line in buckets))
    latencies = sorted(seen[h] - sent[h] for h in sent if h in seen)
    if not latencies:
        return {"markers": len(sent), "alerted": 0}
    return {"rate": rate, "markers": len(sent), "alerted": len(latencies),
            "p50_s": statistics.median(latencies),
            "p99_s": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
            "max_s": latencies[-1]}


def engine_reference(lines: list[bytes], rules: list[Path]) -> float:
    """Events per CPU-second of the detection engine alone, on the same events and rules."""
    import io

    from watchkeeper.detection.check import split_routable
    from watchkeeper.detection.engine import Engine
    from watchkeeper.detection.logsource import LogSourceMapping
    from watchkeeper.detection.rules import RuleLoader
    from watchkeeper.parsers.jsonlog import WinlogJsonParser

    mapping = LogSourceMapping.default()
    routed, _ = split_routable(RuleLoader().load(rules), mapping)
    engine = Engine(routed, mapping)
    frames = [chunk.frame for chunk in WinlogJsonParser().parse(
        io.BytesIO(b"".join(lines)), "reference", batch_size=20_000)]
    started = time.process_time()
    for frame in frames:
        engine.evaluate(frame)
    return sum(f.height for f in frames) / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--rules", type=Path, action="append", required=True)
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--body-lines", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=50_000)
    parser.add_argument("--latency-seconds", type=float, default=30)
    parser.add_argument("--latency-events", type=Path,
                        help="background events of the latency run (default: --events); "
                        "a file without injected attacks measures the usual alert rate")
    args = parser.parse_args()
    from watchkeeper.ops.compute import configure_compute

    # the server's default, before Polars is imported: the reference runs with it too
    print(f"compute threads (server and reference): {configure_compute(0)}")
    with args.events.open("rb") as handle:
        lines = [line for _, line in zip(range(args.count), handle, strict=False)]
    with tempfile.TemporaryDirectory(prefix="wk-bench-") as folder:
        server = ServerProcess(Path(folder), args.rules, args.batch_size)
        try:
            rules = server.get("/api/v1/rules")
            print(f"rules active: {rules['active']} (failed {len(rules['failed'])})")
            http_run = run_http(server, lines, args.body_lines, args.clients)
            report("HTTP winlog-json", http_run)
            syslog_run = run_syslog(server, syslog_lines(len(lines)))
            report("syslog TCP", syslog_run)
            background = lines
            if args.latency_events:
                with args.latency_events.open("rb") as handle:
                    background = [line for _, line in zip(range(args.count), handle,
                                                          strict=False)]
            latency = run_latency(server, background, http_run["events_per_s"] / 2,
                                  args.latency_seconds)
            print("ingest-to-alert at half the HTTP rate "
                  f"({latency.get('rate', 0):,.0f} events/s): " + ", ".join(
                      f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                      for k, v in latency.items() if k != "rate"))
            print(f"server peak RSS: {server.peak_rss_mb():,.0f} MB")
        finally:
            server.stop()
    reference = engine_reference(lines, args.rules)
    print(f"reference, detection engine alone: {reference:,.0f} events per CPU-second")
    print(f"HTTP pipeline / engine alone: {http_run['events_per_cpu_s'] / reference:.2f}")
    print(f"HTTP per core / target {TARGET_PER_CORE:,}: "
          f"{http_run['events_per_cpu_s'] / TARGET_PER_CORE:.2f}; / Wazuh's published "
          f"{WAZUH_PER_CORE:,}: {http_run['events_per_cpu_s'] / WAZUH_PER_CORE:.1f}")


def report(name: str, figures: dict[str, float]) -> None:
    print(f"{name}: {figures['events']:,.0f} events in {figures['wall_s']:.1f} s = "
          f"{figures['events_per_s']:,.0f} events/s wall; {figures['cpu_s']:.1f} CPU-s = "
          f"{figures['events_per_cpu_s']:,.0f} events per CPU-second; "
          f"peak RSS {figures['peak_rss_mb']:,.0f} MB")


if __name__ == "__main__":
    main()
