"""Login throttling: too many failures from one address, or for one account from one address.

Sliding windows kept in memory, which is right for the one-process server; several server
processes would each count on their own, so at that scale the counts belong in the state
database or a shared cache. Memory is bounded: at most ``max_keys`` windows are kept, the
least recently touched dropped first.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from watchkeeper.errors import OverloadedError
from watchkeeper.state.base import utcnow


class TooManyAttempts(OverloadedError):
    """Too many failed sign-ins; ``retry_after`` says when to try again (HTTP 429)."""


@dataclass(frozen=True, slots=True)
class ThrottleLimits:
    per_account: int = 5
    """Failures allowed for one username from one client address in the window."""
    per_address: int = 20
    """Failures allowed from one client address, whatever the usernames."""
    window: timedelta = timedelta(minutes=15)
    max_keys: int = 100_000


Key = tuple[str, str]


class LoginThrottle:
    """Counts failed sign-ins and refuses further tries while a limit is reached."""

    def __init__(
        self, limits: ThrottleLimits | None = None, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.limits = limits or ThrottleLimits()
        self._clock = clock
        self._failures: OrderedDict[Key, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def _keys(self, username: str, client_ip: str) -> tuple[Key, Key]:
        name = username.strip().lower()[:200]
        return ("account", f"{name}\x00{client_ip}"), ("address", client_ip)

    def check(self, username: str, client_ip: str) -> None:
        """Raise TooManyAttempts when either limit is reached."""
        account, address = self._keys(username, client_ip)
        now = self._clock()
        with self._lock:
            wait = max(
                self._wait(account, self.limits.per_account, now),
                self._wait(address, self.limits.per_address, now),
            )
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise TooManyAttempts(
                f"too many failed sign-ins; try again in {seconds} s", retry_after=seconds
            )

    def record_failure(self, username: str, client_ip: str) -> None:
        now = self._clock()
        with self._lock:
            for key, limit in zip(
                self._keys(username, client_ip),
                (self.limits.per_account, self.limits.per_address),
                strict=True,
            ):
                window = self._failures.get(key)
                if window is None:
                    window = self._failures[key] = deque(maxlen=limit)
                window.append(now)
                self._failures.move_to_end(key)
            self._bound(now)

    def record_success(self, username: str, client_ip: str) -> None:
        """Forget the account's failures from this address (the address's count stays)."""
        account, _ = self._keys(username, client_ip)
        with self._lock:
            self._failures.pop(account, None)

    def _wait(self, key: Key, limit: int, now: datetime) -> float:
        window = self._failures.get(key)
        if window is None or len(window) < limit:
            return 0.0
        return (window[0] + self.limits.window - now).total_seconds()

    def _bound(self, now: datetime) -> None:
        if len(self._failures) <= self.limits.max_keys:
            return
        horizon = now - self.limits.window
        for key in [k for k, w in self._failures.items() if w[-1] <= horizon]:
            del self._failures[key]
        while len(self._failures) > self.limits.max_keys:
            self._failures.popitem(last=False)

    def __len__(self) -> int:
        return len(self._failures)
