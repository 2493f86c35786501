"""Connector secrets encrypted at rest (Fernet: AES-128-CBC with an HMAC-SHA256 tag).

The key comes from the settings (a key string) or from a file ``secrets.key`` in the data
folder, created with mode 0600 the first time it is needed. Losing the key loses the
secrets; a different key cannot open them and says so.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from watchkeeper.errors import UsageError

KEY_FILE = "secrets.key"


class SecretKeyError(UsageError):
    """Secrets that the configured key cannot open, or a key that is not a key."""


class SecretBox:
    """Seals a name → value mapping into one token and opens it again.

    ``previous`` keys still open old tokens (key rotation); new tokens use ``key``."""

    def __init__(self, key: str | bytes, previous: Sequence[str | bytes] = ()) -> None:
        try:
            keys = [Fernet(k) for k in (key, *previous)]
        except (ValueError, TypeError):
            raise SecretKeyError("the secrets key is not a Fernet key (32 url-safe base64 "
                                 "bytes; make one with `SecretBox.generate_key()`)") from None
        self._fernet = MultiFernet(keys)

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode("ascii")

    def seal(self, values: Mapping[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(dict(values), sort_keys=True).encode()).decode()

    def open(self, token: str) -> dict[str, str]:
        try:
            plain = self._fernet.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise SecretKeyError(
                "connector secrets cannot be decrypted: they were sealed with another key "
                "(was the secrets key in the settings or the key file changed?)") from None
        values = json.loads(plain)
        if not isinstance(values, dict):
            raise SecretKeyError("connector secrets are not a name → value mapping")
        return {str(k): str(v) for k, v in values.items()}

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"


def load_secret_box(folder: Path, key: str | None = None) -> SecretBox:
    """The box of ``key`` when the settings give one, else of ``folder/secrets.key``,
    which is created (mode 0600) on first use. A key file others can read is refused."""
    if key:
        return SecretBox(key.strip())
    path = folder / KEY_FILE
    folder.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise SecretKeyError(f"{path} is readable by others (mode {mode:04o}); "
                                 f"run `chmod 600 {path}`") from None
        return SecretBox(path.read_text(encoding="ascii").strip())
    with os.fdopen(descriptor, "w", encoding="ascii") as out:
        generated = SecretBox.generate_key()
        out.write(generated + "\n")
    return SecretBox(generated)
