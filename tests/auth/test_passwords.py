"""Password policy and argon2id hashing."""

from __future__ import annotations

from typing import Literal

import pytest
from argon2 import PasswordHasher

from tests.auth.helpers import PASSWORD, cheap_hasher
from watchkeeper.auth.passwords import MAX_LENGTH, Passwords, check_policy
from watchkeeper.errors import UsageError


class CountingHasher(PasswordHasher):
    """Counts verifications, to see that unknown users cost the same work."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=64, parallelism=1)
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified.append(str(hash))
        return super().verify(hash, password)


@pytest.fixture(scope="module")
def passwords() -> Passwords:
    return Passwords(cheap_hasher())


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass", "at least 12"),
        ("x" * (MAX_LENGTH + 1), "at most 1024"),
        ("Alice.Example", "not be the username"),
    ],
)
def test_policy_refuses(password: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        check_policy(password, "alice.example")


def test_policy_accepts_a_passphrase() -> None:
    check_policy(PASSWORD, "alice")


def test_hashes_are_salted_argon2id(passwords: Passwords) -> None:
    first, second = passwords.hash(PASSWORD), passwords.hash(PASSWORD)
    assert first.startswith("$argon2id$")
    assert first != second
    assert PASSWORD not in first


def test_verify(passwords: Passwords) -> None:
    stored = passwords.hash(PASSWORD)
    assert passwords.verify(stored, PASSWORD)
    assert not passwords.verify(stored, PASSWORD + "!")
    assert not passwords.verify(stored, "x" * (MAX_LENGTH + 1))
    assert not passwords.verify("not a hash", PASSWORD)


def test_the_same_passphrase_from_another_keyboard_matches(passwords: Passwords) -> None:
    stored = passwords.hash("ﬁne ﬁsh ﬂoat home")  # ligatures, as some keyboards type them
    assert passwords.verify(stored, "fine fish float home")


def test_no_stored_hash_is_refused_after_the_same_work() -> None:
    hasher = CountingHasher()
    passwords = Passwords(hasher)
    assert not passwords.verify(None, PASSWORD)
    assert len(hasher.verified) == 1
    assert hasher.verified[0].startswith("$argon2id$")


def test_stronger_parameters_ask_for_a_rehash(passwords: Passwords) -> None:
    weak = passwords.hash(PASSWORD)
    stronger = Passwords(cheap_hasher(time_cost=2))
    assert not passwords.needs_rehash(weak)
    assert stronger.needs_rehash(weak)
    assert stronger.verify(weak, PASSWORD)
    assert stronger.needs_rehash("garbage")
