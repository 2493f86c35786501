"""Password policy and hashing: argon2id, rehashed on login when the parameters grow.

The hasher's defaults are argon2-cffi's (RFC 9106's second recommendation: 3 passes over
64 MiB, 4 lanes, 16-byte salt, 32-byte hash). Tests pass a cheaper hasher in.
"""

from __future__ import annotations

import logging
import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from watchkeeper.errors import UsageError

log = logging.getLogger(__name__)

MIN_LENGTH = 12
MAX_LENGTH = 1024
"""Long enough for any passphrase; bounded so that a huge body cannot be fed to the hasher."""


def normalize(password: str) -> str:
    """The same password typed on different keyboards gives the same bytes (NFKC)."""
    return unicodedata.normalize("NFKC", password)


def check_policy(password: str, username: str) -> None:
    """Raise UsageError unless ``password`` is acceptable for ``username``."""
    normal = normalize(password)
    if len(normal) < MIN_LENGTH:
        raise UsageError(f"the password must be at least {MIN_LENGTH} characters long")
    if len(normal) > MAX_LENGTH:
        raise UsageError(f"the password must be at most {MAX_LENGTH} characters long")
    if normal.strip().casefold() == username.strip().casefold():
        raise UsageError("the password must not be the username")


class Passwords:
    """Hash and verify passwords; unknown users cost the same time as known ones."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Verified against when there is no stored hash, so that a wrong username takes as
        # long as a wrong password and timing does not tell which accounts exist.
        self._dummy = self._hasher.hash(secrets.token_urlsafe(24))

    @property
    def hasher(self) -> PasswordHasher:
        return self._hasher

    def hash(self, password: str) -> str:
        return self._hasher.hash(normalize(password))

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored`` (False, after equal work, without a hash)."""
        if len(password) > MAX_LENGTH:
            return False
        try:
            return self._hasher.verify(stored or self._dummy, normalize(password)) and (
                stored is not None
            )
        except VerificationError:
            return False
        except InvalidHashError:
            log.warning("a stored password hash is not an argon2 hash; the login is refused")
            return False

    def needs_rehash(self, stored: str) -> bool:
        """Whether ``stored`` was made with weaker parameters than the hasher's."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
