"""``kill -9`` in the middle of ingest, several times over: every acknowledged event is
stored exactly once, and every stored matching event has exactly one alert."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.serverproc import (
    ServerProcess,
    marked_event,
    matching_rule,
    ndjson,
    prepared,
    wait_for,
)

HOST = "crash-test"
EVENTS_PER_REQUEST = 4
MAX_REQUESTS = 1500
KILLS = 2


class Sender:
    """Threads that post small bodies, never an event twice, and note which requests were
    acknowledged (202); a request that fails is given up, not sent again."""

    def __init__(self, server: ServerProcess, threads: int = 3) -> None:
        self.server = server
        self.acknowledged: list[int] = []
        self.highest_seq = 0
        self.requests = 0
        self.unexpected: list[str] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._send, name=f"sender-{n}", daemon=True)
                         for n in range(threads)]

    @staticmethod
    def events_of(request: int) -> range:
        return range(request * EVENTS_PER_REQUEST, (request + 1) * EVENTS_PER_REQUEST)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join()

    def wait_for_more(self, count: int) -> None:
        start = len(self.acknowledged)
        wait_for(lambda: len(self.acknowledged), lambda now: now >= start + count, 30.0)

    def _next(self) -> int | None:
        with self._lock:
            if self.stopping.is_set() or self.requests >= MAX_REQUESTS:
                return None
            self.requests += 1
            return self.requests - 1

    def _send(self) -> None:
        headers = {"Authorization": f"Bearer {self.server.ingest_token}"}
        with httpx.Client(headers=headers, trust_env=False, timeout=10.0,
                          verify=self.server.verify) as client:
            while (request := self._next()) is not None:
                body = ndjson([marked_event(n, HOST) for n in self.events_of(request)])
                try:
                    answer = client.post(f"{self.server.url}/api/v1/ingest/winlog-json",
                                         content=body)
                except httpx.TransportError:
                    self.stopping.wait(0.1)  # the server is down: not acknowledged
                    continue
                with self._lock:
                    if answer.status_code == 202:
                        self.acknowledged.append(request)
                        self.highest_seq = max(self.highest_seq, int(answer.json()["seq"]))
                    elif answer.status_code != 429:
                        self.unexpected.append(f"{answer.status_code} {answer.text}")


@pytest.fixture
def server(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess.create(tmp_path / "server", prepared(tmp_path_factory))
    try:
        yield process
    finally:
        process.cleanup()


def test_kill_9_during_ingest_loses_and_duplicates_nothing(server: ServerProcess) -> None:
    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    server.start()
    sender = Sender(server)
    sender.start()
    try:
        for _ in range(KILLS):
            sender.wait_for_more(1)
            time.sleep(rng.uniform(0.1, 0.6))
            server.kill()
            assert server.process is not None
            assert server.process.returncode == -signal.SIGKILL
            server.start()
        sender.wait_for_more(10)
    finally:
        sender.stop()
    note = f"seed {seed}, {sender.requests} requests, {len(sender.acknowledged)} acknowledged"
    assert sender.unexpected == [], note
    assert sender.requests < MAX_REQUESTS, note
    assert len(sender.acknowledged) < sender.requests, f"no request was cut off; {note}"
    wait_for(server.stored_seq, lambda stored: stored >= sender.highest_seq, 30.0)

    found = server.search(f"Computer:{HOST} | fields event.id, TestSeq")
    rows = found["rows"]
    assert found["total"] == len(rows), note
    copies = Counter(int(row["TestSeq"]) for row in rows)
    assert [n for n, times in copies.items() if times > 1] == [], f"stored twice; {note}"
    acknowledged = {n for r in sender.acknowledged for n in sender.events_of(r)}
    assert sorted(acknowledged - copies.keys()) == [], f"acknowledged, not stored; {note}"
    assert max(copies) < sender.requests * EVENTS_PER_REQUEST, note

    marker_of = {row["event.id"]: int(row["TestSeq"]) for row in rows}
    alerts = server.alerts(host=HOST)
    counted = Counter((a["rule_title"], a["first_event_id"]) for a in alerts)
    assert [pair for pair, times in counted.items() if times > 1] == [], f"duplicated; {note}"
    assert all(a["count"] == 1 for a in alerts), note
    assert {a["first_event_id"] for a in alerts} <= marker_of.keys(), note
    alerted = sorted((a["rule_title"], marker_of[a["first_event_id"]]) for a in alerts)
    expected = sorted((rule, n) for n in copies if (rule := matching_rule(n)) is not None)
    assert alerted == expected, note
    assert server.dead_letters() == [], note
    assert server.stop(signal.SIGTERM) == 0
