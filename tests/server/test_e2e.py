"""``watchkeeper serve`` as a process, through its sockets: syslog over UDP, TCP and TLS,
HTTP ingest, alerts, search, dead letters, metrics, a clean stop and ``watchkeeper import``.
"""

from __future__ import annotations

import json
import signal
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.server.serverproc import (
    ROOT,
    Certificate,
    ServerProcess,
    make_certificate,
    marked_event,
    matching_rule,
    ndjson,
    prepared,
    wait_for,
)

SSH_RULE = "SSH Password Guessing"
WINDOWS = (ROOT / "examples" / "logs" / "windows" / "sysmon-and-security.jsonl").read_bytes()
LATENCY_BOUND_S = 2.0


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           certificate: Certificate) -> Iterator[ServerProcess]:
    process = ServerProcess.create(tmp_path_factory.mktemp("e2e"), prepared(tmp_path_factory),
                                   certificate=certificate, max_message_bytes=512,
                                   https=True)
    process.start()
    try:
        yield process
    finally:
        process.cleanup()


@pytest.fixture
def own_server(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[ServerProcess]:
    """A server of the test's own, not started."""
    process = ServerProcess.create(tmp_path / "server", prepared(tmp_path_factory))
    try:
        yield process
    finally:
        process.cleanup()


def sshd_line(host: str, user: str, ip: str) -> bytes:
    now = datetime.now(UTC)
    stamp = f"{now:%b} {now.day:2d} {now:%H:%M:%S}"
    return (f"<38>{stamp} {host} sshd[4242]: Failed password for {user} from {ip} "
            "port 52114 ssh2").encode()


def octets(message: bytes) -> bytes:
    return b"%d %s" % (len(message), message)


def send_udp(server: ServerProcess, *datagrams: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for datagram in datagrams:
            sender.sendto(datagram, ("127.0.0.1", server.ports.udp))


def send_tcp(server: ServerProcess, stream: bytes) -> None:
    with socket.create_connection(("127.0.0.1", server.ports.tcp), timeout=5) as connection:
        connection.sendall(stream)


def send_tls(server: ServerProcess, certificate: Certificate, stream: bytes) -> None:
    context = ssl.create_default_context(cafile=str(certificate.cert))
    with socket.create_connection(("127.0.0.1", server.ports.tls), timeout=5) as plain, \
            context.wrap_socket(plain, server_hostname="127.0.0.1") as connection:
        connection.sendall(stream)


Sender = Callable[[ServerProcess, Certificate, bytes], None]
TRANSPORTS: dict[str, tuple[Sender, str]] = {
    "udp": (lambda s, c, m: send_udp(s, m), "syslog+udp://"),
    "tcp-newline": (lambda s, c, m: send_tcp(s, m + b"\n"), "syslog+tcp://"),
    "tcp-octets": (lambda s, c, m: send_tcp(s, octets(m)), "syslog+tcp://"),
    "tls": (lambda s, c, m: send_tls(s, c, octets(m)), "syslog+tls://"),
}


def has_at_least(count: int, items: list[dict[str, Any]]) -> bool:
    return len(items) >= count


def alerts_of(server: ServerProcess, host: str) -> list[dict[str, Any]]:
    return server.alerts(host=host)


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_a_matching_sshd_line_is_one_alert_within_the_latency_bound(
        server: ServerProcess, certificate: Certificate, transport: str) -> None:
    send, origin = TRANSPORTS[transport]
    number = list(TRANSPORTS).index(transport) + 10
    host, user, ip = f"e2e-{transport}", f"user-{transport}", f"198.51.100.{number}"
    sent = time.monotonic()
    send(server, certificate, sshd_line(host, user, ip))
    alerts = wait_for(lambda: alerts_of(server, host))
    latency = time.monotonic() - sent
    assert latency < LATENCY_BOUND_S, f"ingest to alert took {latency:.2f} s"
    [alert] = alerts
    assert alert["rule_title"] == SSH_RULE
    assert alert["entities"] == {"host": host, "user": user, "source_ip": ip}
    assert alert["count"] == 1
    # alerts are committed before their batch's events are stored: wait for the event
    found = wait_for(lambda: server.search(f"host.name:{host}"),
                     lambda f: f["total"] == 1 and len(f["rows"]) == 1)
    [event] = found["rows"]
    assert (event["user.name"], event["source.ip"]) == (user, ip)
    assert event["log.file.path"].startswith(origin)
    assert event["event.id"] == alert["first_event_id"]
    assert server.search(f'"Failed password for {user}"')["total"] == 1
    assert len(alerts_of(server, host)) == 1


def test_winlog_json_over_http_alerts_once_per_matching_event(server: ServerProcess) -> None:
    broken = b'{"EventID": 4688, "Computer": "e2e-broken-json'
    sent = time.monotonic()
    seq = server.ingest(WINDOWS + broken + b"\n", "winlog-json")
    titles = {"ws-fin-07.corp.example": ["Account Discovery With whoami",
                                         "PowerShell With An Encoded Command"],
              "dc-01.corp.example": ["Security Audit Log Cleared"]}
    found = {host: wait_for(partial(alerts_of, server, host), partial(has_at_least, len(want)))
             for host, want in titles.items()}
    latency = time.monotonic() - sent
    assert latency < LATENCY_BOUND_S, f"ingest to the last alert took {latency:.2f} s"
    for host, want in titles.items():
        assert sorted(a["rule_title"] for a in found[host]) == want
        assert all(a["entities"]["host"] == host and a["count"] == 1 for a in found[host])
    assert {a["entities"].get("user") for a in found["ws-fin-07.corp.example"]} == {"alice"}
    # alerts are committed before their batch's events are stored: wait for the events
    wait_for(server.stored_seq, lambda stored: stored >= seq)
    cleared = server.search("EventID:1102")
    assert cleared["total"] == 1
    assert cleared["rows"][0]["event.id"] == found["dc-01.corp.example"][0]["first_event_id"]
    assert server.search("Computer:ws-fin-07.corp.example")["total"] == 6
    letters = [d for d in server.dead_letters() if d["source_type"] == "winlog-json"]
    truncated = next(line for line in WINDOWS.decode().splitlines() if "trunc" in line)
    assert sorted(d["raw"] for d in letters) == sorted([broken.decode(), truncated])
    assert all("JSON" in d["reason"] and d["origin"] == "http:admin" for d in letters)
    assert {len(alerts_of(server, host)) for host in titles} == {1, 2}


def test_malformed_frames_are_dead_letters_and_the_stream_goes_on(
        server: ServerProcess, certificate: Certificate) -> None:
    send_udp(server, b"<13>udp-too-long " + b"u" * 600)
    send_tcp(server, b"<13>tcp-too-long " + b"t" * 700 + b"\n" + b"12a <13>bad octet count\n"
             + sshd_line("e2e-after-garbage", "root", "198.51.100.40") + b"\n")
    long_frame = b"<13>tls-too-long " + b"s" * 600
    send_tls(server, certificate, octets(long_frame)
             + octets(sshd_line("e2e-after-long-tls", "root", "198.51.100.41")))
    for host in ("e2e-after-garbage", "e2e-after-long-tls"):
        assert wait_for(partial(alerts_of, server, host))[0]["rule_title"] == SSH_RULE
    expected = {
        "<13>udp-too-long": ("syslog-udp", "message longer than 512 bytes"),
        "<13>tcp-too-long": ("syslog-tcp", "message longer than 512 bytes"),
        "12a <13>bad octet count": ("syslog-tcp", "octet count is not a number"),
        "<13>tls-too-long": ("syslog-tls", "message longer than 512 bytes"),
    }
    letters = wait_for(
        lambda: [d for d in server.dead_letters() if (d["raw"] or "").startswith(tuple(expected))],
        lambda found: len(found) == len(expected))
    for letter in letters:
        prefix = next(p for p in expected if letter["raw"].startswith(p))
        assert (letter["receiver"], letter["reason"]) == expected[prefix]
        assert len(letter["raw"]) <= 512
    wait_for(lambda: server.search("host.name:e2e-after-*")["total"], lambda n: n == 2)


def test_metrics_count_each_receiver_and_the_events_in(
        server: ServerProcess, certificate: Certificate) -> None:
    before = server.metrics()
    send_udp(server, sshd_line("e2e-metrics", "m1", "198.51.100.50"))
    send_tcp(server, sshd_line("e2e-metrics", "m2", "198.51.100.51") + b"\n")
    send_tls(server, certificate, octets(sshd_line("e2e-metrics", "m3", "198.51.100.52")))
    server.ingest(ndjson([marked_event(1, "e2e-metrics"), marked_event(2, "e2e-metrics")]),
                  "winlog-json")

    events_in = "watchkeeper_events_in_total"
    after = wait_for(server.metrics, lambda m: (
        m.get((events_in, "syslog"), 0) >= before.get((events_in, "syslog"), 0) + 3
        and m.get((events_in, "winlog-json"), 0) >= before.get((events_in, "winlog-json"), 0) + 2))

    def grew(name: str, label: str) -> float:
        return after.get((name, label), 0.0) - before.get((name, label), 0.0)

    for receiver in ("syslog-udp", "syslog-tcp", "syslog-tls", "http"):
        assert grew("watchkeeper_receiver_accepted_total", receiver) == 1, receiver
        assert grew("watchkeeper_receiver_received_total", receiver) == 1, receiver
    assert grew(events_in, "syslog") == 3
    assert grew(events_in, "winlog-json") == 2
    with server.client() as anonymous:
        assert anonymous.get("/metrics").status_code == 401


def test_requests_without_the_right_token_or_input_are_refused(server: ServerProcess) -> None:
    body = ndjson([marked_event(3, "e2e-refused")])
    with server.client() as anonymous, server.client(server.api_token) as api, \
            server.client(server.ingest_token) as sensor:
        assert anonymous.post("/api/v1/ingest/winlog-json", content=body).status_code == 401
        assert api.post("/api/v1/ingest/winlog-json", content=body).status_code == 403
        unknown = sensor.post("/api/v1/ingest/no-such-format", content=body)
        assert unknown.status_code == 400
        assert "unknown log format" in unknown.json()["message"]
        assert sensor.post("/api/v1/ingest/winlog-json", content=b" \n").status_code == 400
        assert sensor.get("/api/v1/alerts").status_code == 403
        assert anonymous.get("/api/v1/events").status_code == 401
        bad = api.get("/api/v1/events", params={"q": "host.name:(a b"})
        assert bad.status_code == 400
        assert bad.json()["location"].startswith("column")
    seq = server.ingest(ndjson([marked_event(4, "e2e-accepted")]), "winlog-json")
    wait_for(server.stored_seq, lambda stored: stored >= seq)
    assert server.search("Computer:e2e-accepted")["total"] == 1
    assert server.search("Computer:e2e-refused")["total"] == 0


def auth_log(folder: Path, host: str) -> Path:
    """Three failed logins (each an alert) and one accepted, in a file to import."""
    path = folder / f"{host}.log"
    lines = [sshd_line(host, f"user{n}", f"203.0.113.{n}") for n in range(3)]
    lines.append(lines[0].replace(b"Failed password", b"Accepted publickey"))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_ctrl_c_keeps_every_acknowledged_event_and_import_works_running_or_stopped(
        own_server: ServerProcess, tmp_path: Path) -> None:
    """One server's life: import through it, ingest, Ctrl-C, import into its folder, restart.

    (One test rather than two: each start of the server and each CLI command costs
    seconds.)"""
    own_server.start()
    sent = own_server.cli("import", str(auth_log(tmp_path, "import-live")), "--format",
                          "syslog", "--token", own_server.ingest_token)
    assert sent.returncode == 0, sent.stderr
    assert "imported 4 events" in sent.stdout
    live = wait_for(partial(own_server.alerts, host="import-live"), partial(has_at_least, 3))
    assert sorted(a["entities"]["user"] for a in live) == ["user0", "user1", "user2"]

    count = 40
    with own_server.client(own_server.ingest_token) as sensor:
        answers = [sensor.post("/api/v1/ingest/winlog-json",
                               content=ndjson([marked_event(n, "e2e-ctrl-c")]))
                   for n in range(count)]
    assert {answer.status_code for answer in answers} == {202}
    asked = time.monotonic()
    assert own_server.stop(signal.SIGINT) == 0, own_server.log_text()[-2000:]
    assert time.monotonic() - asked < 10
    stopped = [json.loads(line) for line in own_server.log_text().splitlines()
               if '"watchkeeper stopped"' in line]
    assert [entry["stored_seq"] for entry in stopped] == [answers[-1].json()["seq"]]

    direct = own_server.cli("import", str(auth_log(tmp_path, "import-offline")), "--format",
                            "syslog")
    assert direct.returncode == 0, direct.stderr
    assert "imported 4 events" in direct.stdout
    assert "3 new alerts" in direct.stdout

    own_server.start()
    stats = own_server.search("TestSeq:* | stats count by TestSeq")
    assert {row["TestSeq"]: row["count"] for row in stats["rows"]} == {
        str(n): 1 for n in range(count)}
    alerts = own_server.alerts(host="e2e-ctrl-c")
    assert len({a["first_event_id"] for a in alerts}) == len(alerts)
    assert sorted(a["rule_title"] for a in alerts) == sorted(
        rule for n in range(count) if (rule := matching_rule(n)) is not None)
    for host in ("import-live", "import-offline"):
        assert len(own_server.alerts(host=host)) == 3, host
        assert own_server.search(f"host.name:{host}")["total"] == 4, host
    assert own_server.stop(signal.SIGTERM) == 0
