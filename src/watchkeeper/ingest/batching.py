"""Collecting messages into spool chunks, and writing them with the right backpressure.

Receivers gather the lines of one origin in a :class:`LineBatch` and hand it to
:func:`store` when it is big or old enough. A stream receiver (TCP) waits while the
spool is full, so that it stops reading its socket; a datagram receiver (UDP) cannot
make its senders wait and drops instead, counting what it dropped.
"""

from __future__ import annotations

import asyncio
import logging

from watchkeeper.errors import OverloadedError, UsageError, WatchkeeperError
from watchkeeper.ingest.counters import ReceiverCounters
from watchkeeper.ingest.spool import Spool

logger = logging.getLogger(__name__)

RETRY_FIRST = 0.01
RETRY_MAX = 0.25


class LineBatch:
    """Lines (one message each) waiting to become spool chunks of at most ``max_lines``
    lines and about ``max_bytes`` bytes."""

    __slots__ = ("lines", "max_bytes", "max_lines", "size")

    def __init__(self, max_lines: int = 1000, max_bytes: int = 1 << 20) -> None:
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.lines: list[bytes] = []
        self.size = 0

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def full(self) -> bool:
        """A chunk's worth is waiting."""
        return len(self.lines) >= self.max_lines or self.size >= self.max_bytes

    def add(self, line: bytes) -> None:
        self.lines.append(line)
        self.size += len(line) + 1

    def take(self) -> tuple[bytes, int]:
        """The next chunk's payload (lines ended by ``\\n``) and its message count."""
        count, size = 0, 0
        for line in self.lines[: self.max_lines]:
            if count and size + len(line) + 1 > self.max_bytes:
                break
            count += 1
            size += len(line) + 1
        taken = self.lines[:count]
        del self.lines[:count]
        self.size -= size
        if not taken:
            return b"", 0
        taken.append(b"")
        return b"\n".join(taken), count


async def room(spool: Spool, stopping: asyncio.Event) -> None:
    """Wait while the spool is full (unless the receiver is stopping)."""
    delay = RETRY_FIRST
    while spool.full() and not stopping.is_set():
        await asyncio.sleep(delay)
        delay = min(delay * 2, RETRY_MAX)


async def store(spool: Spool, source_type: str, origin: str, batch: LineBatch,
                counters: ReceiverCounters, *, wait: bool, stopping: asyncio.Event,
                full_only: bool = False) -> None:
    """Append the batch to the spool (in chunks of its size) and count the result;
    with ``full_only``, only whole chunks, the rest waiting for more lines.

    With ``wait`` (streams), a full spool or a failing disk is waited out; once
    ``stopping`` is set the backlog bound is ignored, so that nothing taken off a socket
    is lost at shutdown. Without ``wait`` (datagrams) the messages are dropped."""
    while batch.full if full_only else batch:
        payload, count = batch.take()
        await _store_chunk(spool, source_type, origin, payload, count, counters, wait=wait,
                           stopping=stopping)


async def _store_chunk(spool: Spool, source_type: str, origin: str, payload: bytes, count: int,
                       counters: ReceiverCounters, *, wait: bool,
                       stopping: asyncio.Event) -> None:
    delay = RETRY_FIRST
    while True:
        try:
            await spool.append_async(source_type, origin, payload, force=stopping.is_set())
        except OverloadedError:
            if not wait:
                counters.dropped += count
                return
        except UsageError as error:
            logger.error("%d messages from %s lost: %s", count, origin, error)
            counters.dropped += count
            return
        except WatchkeeperError as error:
            if not wait or stopping.is_set():
                logger.error("%d messages from %s lost: %s", count, origin, error)
                counters.dropped += count
                return
            logger.warning("waiting for the spool to take messages from %s: %s", origin, error)
        else:
            counters.accepted += count
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, RETRY_MAX)
