"""What receivers count, and where they put what they reject.

Each receiver owns one :class:`ReceiverCounters` (read by the metrics endpoint) and
reports every rejected frame to a :class:`DeadLetterSink`. :class:`MemoryDeadLetters`
is the in-memory sink, for tests and for running without a state database.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Protocol


@dataclass(slots=True)
class ReceiverCounters:
    """Running totals of one receiver since it started."""

    received: int = 0
    """Messages (or lines) taken off the wire or out of a file."""
    accepted: int = 0
    """Messages durable in the spool."""
    rejected: int = 0
    """Messages refused as malformed (each one went to the dead-letter sink)."""
    dropped: int = 0
    """Messages lost to overload where the protocol has no flow control (UDP)."""
    bytes: int = 0
    """Raw bytes received."""
    connections: int = 0
    """Connections accepted (TCP, TLS)."""
    open_connections: int = 0
    """Connections open now."""
    refused_connections: int = 0
    """Connections closed at once because too many were open."""

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class DeadLetterSink(Protocol):
    """Where rejected input is put aside, with the reason, for someone to look at."""

    def put(self, receiver: str, origin: str, reason: str, raw: bytes) -> None: ...


@dataclass(frozen=True, slots=True)
class DeadLetter:
    receiver: str
    origin: str
    reason: str
    raw: bytes


class MemoryDeadLetters:
    """A dead-letter sink that keeps the last ``limit`` letters in a list."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self.letters: list[DeadLetter] = []
        self.total = 0
        """Letters put, including those no longer kept."""
        self._lock = threading.Lock()

    def put(self, receiver: str, origin: str, reason: str, raw: bytes) -> None:
        with self._lock:
            self.total += 1
            self.letters.append(DeadLetter(receiver, origin, reason, raw))
            if len(self.letters) > self.limit:
                del self.letters[: len(self.letters) - self.limit]
