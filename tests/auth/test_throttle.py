"""Login throttling: sliding windows per account and address, bounded memory."""

from __future__ import annotations

import pytest

from tests.auth.helpers import FakeClock
from watchkeeper.auth.throttle import LoginThrottle, ThrottleLimits, TooManyAttempts


def _fail(throttle: LoginThrottle, user: str, ip: str, times: int) -> None:
    for _ in range(times):
        throttle.check(user, ip)
        throttle.record_failure(user, ip)


def test_an_account_is_throttled_after_five_failures_from_one_address() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    _fail(throttle, "alice", "10.0.0.1", 4)
    clock.advance(minutes=1)
    _fail(throttle, "alice", "10.0.0.1", 1)
    with pytest.raises(TooManyAttempts) as raised:
        throttle.check("ALICE", "10.0.0.1")
    assert raised.value.http_status == 429
    assert raised.value.retry_after == 14 * 60  # the first failure leaves the window then
    throttle.check("alice", "10.0.0.2")  # another address is not held back
    throttle.check("bob", "10.0.0.1")


def test_the_window_slides() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    _fail(throttle, "alice", "ip", 5)
    clock.advance(minutes=14, seconds=59)
    with pytest.raises(TooManyAttempts) as raised:
        throttle.check("alice", "ip")
    assert raised.value.retry_after == 1
    clock.advance(seconds=1)
    throttle.check("alice", "ip")


def test_an_address_is_throttled_across_usernames() -> None:
    throttle = LoginThrottle(clock=FakeClock())
    for n in range(20):
        _fail(throttle, f"user{n}", "ip", 1)
    with pytest.raises(TooManyAttempts):
        throttle.check("someone-new", "ip")


def test_success_clears_the_account_but_not_the_address() -> None:
    throttle = LoginThrottle(ThrottleLimits(per_account=2, per_address=3), clock=FakeClock())
    _fail(throttle, "alice", "ip", 2)
    throttle.record_success("alice", "ip")
    throttle.check("alice", "ip")
    _fail(throttle, "bob", "ip", 1)
    with pytest.raises(TooManyAttempts):
        throttle.check("carol", "ip")


def test_memory_is_bounded() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(ThrottleLimits(max_keys=10), clock=clock)
    for n in range(50):
        throttle.record_failure(f"user{n}", f"ip{n}")
    assert len(throttle) <= 10
