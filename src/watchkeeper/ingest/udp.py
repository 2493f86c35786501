"""Syslog over UDP: one datagram is one message.

Datagrams are gathered per sender into chunks, written when one of the limits is
reached or ``flush_delay`` after the first one. UDP has no flow control: while the
spool is full, or while too much is already on its way to it, datagrams are dropped
and counted in ``dropped``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from watchkeeper.ingest.batching import LineBatch, store
from watchkeeper.ingest.counters import DeadLetterSink, ReceiverCounters
from watchkeeper.ingest.framing import to_line, too_long
from watchkeeper.ingest.spool import Spool

logger = logging.getLogger(__name__)

RECEIVER = "syslog-udp"


def peer_text(address: Any) -> str:
    """``host:port`` of a socket address, IPv6 hosts in brackets."""
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = str(address[0]), address[1]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return str(address)


class UdpReceiver(asyncio.DatagramProtocol):
    """The protocol of the UDP endpoint; owns its batches and their flush tasks."""

    def __init__(self, spool: Spool, counters: ReceiverCounters, dead_letters: DeadLetterSink,
                 stopping: asyncio.Event, *, max_message_bytes: int, chunk_messages: int,
                 chunk_bytes: int, flush_delay: float) -> None:
        self._spool = spool
        self._counters = counters
        self._dead_letters = dead_letters
        self._stopping = stopping
        self._max_message_bytes = max_message_bytes
        self._chunk_messages = chunk_messages
        self._chunk_bytes = chunk_bytes
        self._flush_delay = flush_delay
        self._max_held = 4 * chunk_bytes
        self._batches: dict[str, LineBatch] = {}
        self._count = 0  # messages batched
        self._batched = 0  # bytes batched
        self._held = 0  # bytes batched or being written
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        counters = self._counters
        counters.received += 1
        counters.bytes += len(data)
        origin = f"syslog+udp://{peer_text(addr)}"
        if len(data) > self._max_message_bytes:
            counters.rejected += 1
            self._dead_letters.put(RECEIVER, origin, too_long(self._max_message_bytes),
                                   data[: self._max_message_bytes])
            return
        if self._held >= self._max_held or self._spool.full():
            counters.dropped += 1
            return
        line = to_line(data)
        if not line:
            return
        batch = self._batches.get(origin)
        if batch is None:
            batch = self._batches[origin] = LineBatch(self._chunk_messages, self._chunk_bytes)
        batch.add(line)
        self._count += 1
        self._batched += len(line) + 1
        self._held += len(line) + 1
        if self._count >= self._chunk_messages or self._batched >= self._chunk_bytes:
            self.flush()
        elif self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self._flush_delay, self.flush)

    def error_received(self, exc: Exception) -> None:
        logger.debug("syslog UDP socket error: %s", exc)

    def flush(self) -> None:
        """Start writing every batch (each origin's its own chunk)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batches, self._batches = self._batches, {}
        self._count = self._batched = 0
        for origin, batch in batches.items():
            task = asyncio.create_task(self._write(origin, batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _write(self, origin: str, batch: LineBatch) -> None:
        size = batch.size
        try:
            await store(self._spool, "syslog", origin, batch, self._counters, wait=False,
                        stopping=self._stopping)
        finally:
            self._held -= size

    async def drain(self) -> None:
        """Write what is batched and wait for every write in progress."""
        self.flush()
        while self._tasks:
            await asyncio.gather(*self._tasks)
