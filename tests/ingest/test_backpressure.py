"""A full spool stops the TCP receiver from reading: the sender is slowed, memory stays flat."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

from watchkeeper.ingest.spool import Spool
from watchkeeper.ingest.syslog import READ_BYTES, SyslogServer

from .helpers import lines_of, read_all

BACKLOG = 32 << 10
CHUNK = 8 << 10
LINE = b"<13>Jan  1 00:00:00 host app: " + b"x" * 69 + b"\n"  # 100 bytes


class Blaster(threading.Thread):
    """Sends lines as fast as the socket takes them; notes when the socket stops taking."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.sent = 0
        self.blocked = threading.Event()
        self.resume = threading.Event()
        self.extra = 2000  # lines sent after resuming

    def run(self) -> None:
        block = LINE * 640
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 << 10)
            sock.settimeout(0.5)
            while True:
                try:
                    self.sent += sock.send(block[self.sent % len(block):])
                except TimeoutError:
                    break
            self.blocked.set()
            self.resume.wait(30)
            sock.settimeout(None)
            remainder = -self.sent % len(LINE)  # finish the line under way
            sock.sendall(LINE[len(LINE) - remainder:] + LINE * self.extra)
            self.sent += remainder + len(LINE) * self.extra


def test_a_full_spool_pauses_reading_and_nothing_is_lost(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_backlog_bytes=BACKLOG, fsync=False)
    server = SyslogServer(spool, tcp_port=0, chunk_bytes=CHUNK, chunk_messages=10_000)
    counters = server.counters["syslog-tcp"]

    async def main() -> None:
        ports = await server.start()
        assert ports.tcp is not None
        blaster = Blaster(ports.tcp)
        blaster.start()
        try:
            deadline = time.monotonic() + 20
            while not (blaster.blocked.is_set() and spool.full()):
                assert time.monotonic() < deadline, "the sender was never held back"
                await asyncio.sleep(0.05)
            # the sender is stuck: the server has stopped reading, within bounds
            assert spool.backlog_bytes <= BACKLOG + CHUNK + 200
            read_so_far = counters.bytes
            await asyncio.sleep(0.3)
            assert counters.bytes == read_so_far
            assert blaster.sent > read_so_far  # the rest waits in the kernel's buffers
            assert read_so_far <= BACKLOG + CHUNK + 4 * READ_BYTES
            # a consumer catches up: reading resumes and every line arrives
            blaster.resume.set()
            released = 0
            total = 0
            deadline = time.monotonic() + 20
            while total < blaster.sent // len(LINE) or blaster.is_alive():
                assert time.monotonic() < deadline, f"{total} lines of {blaster.sent}"
                chunks = read_all(spool, after=released)
                if chunks:
                    total += len(lines_of(chunks))
                    released = chunks[-1].seq
                    spool.release(released)
                    assert spool.backlog_bytes <= BACKLOG + CHUNK + 200
                await asyncio.sleep(0.005)
            assert total * len(LINE) == blaster.sent
        finally:
            blaster.resume.set()
            await server.stop()
            blaster.join(5)

    try:
        asyncio.run(main())
    finally:
        spool.close()
    assert counters.accepted == counters.received
    assert counters.dropped == 0
