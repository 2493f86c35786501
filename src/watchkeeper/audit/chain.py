"""The hash chain: the canonical form of an entry and its SHA-256.

    hash = sha256(canonical_json({"id", "at", "actor", "action", "object_type",
                                   "object_id", "before", "after", "prev_hash"}))

Canonical JSON: keys sorted, no whitespace (``","`` and ``":"``), UTF-8, non-ASCII kept as is,
no NaN or infinities; ``at`` in ISO 8601 UTC with microseconds
(``2026-01-02T03:04:05.000006+00:00``).
Anyone can recompute the chain from an export of the table with these rules alone.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any
from uuid import UUID


def _plain(value: Any) -> Any:
    """What JSON cannot hold itself, as the text an audit reader expects."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime in an audit value: use UTC")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, frozenset | set):
        return sorted(value, key=str)
    raise TypeError(f"audit values must be JSON data, not {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """``value`` in the one JSON spelling the chain hashes."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_plain,
    )


def as_stored(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """``value`` as it reads back from the database: plain JSON data, hashable again."""
    if value is None:
        return None
    plain: dict[str, Any] = json.loads(canonical_json(value))
    return plain


def timestamp_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    id: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    prev_hash: str,
) -> str:
    """The SHA-256 (hex) of an entry, over every field but the hash itself."""
    document = {
        "id": id,
        "at": timestamp_text(at),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "before": before,
        "after": after,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()
