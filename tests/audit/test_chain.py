"""The canonical form and hash of an entry, reproducible with nothing but hashlib and json."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum

import pytest

from watchkeeper.audit.chain import as_stored, canonical_json, entry_hash

AT = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)


class Colour(Enum):
    RED = "red"


def test_canonical_json_sorts_keys_without_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"], "c": None}) == '{"a":[1,"é"],"b":1,"c":null}'


def test_canonical_json_spells_times_enums_and_sets() -> None:
    local = AT.astimezone(timezone(timedelta(hours=2)))
    value = {"at": local, "colour": Colour.RED, "tags": {"b", "a"}}
    assert canonical_json(value) == (
        '{"at":"2026-01-02T03:04:05.000006+00:00","colour":"red","tags":["a","b"]}'
    )


@pytest.mark.parametrize(
    "value",
    [{"x": float("nan")}, {"x": object()}, {"x": datetime(2026, 1, 1)}],
    ids=["nan", "object", "naive-time"],
)
def test_canonical_json_refuses_what_it_cannot_spell_one_way(value: dict[str, object]) -> None:
    with pytest.raises((TypeError, ValueError)):
        canonical_json(value)


def test_as_stored_is_what_reads_back() -> None:
    assert as_stored({"n": 1.5, "at": AT, "ids": (1, 2)}) == {
        "n": 1.5,
        "at": "2026-01-02T03:04:05.000006+00:00",
        "ids": [1, 2],
    }
    assert as_stored({"by_id": {2: "two"}}) == {"by_id": {"2": "two"}}
    assert as_stored(None) is None


def test_entry_hash_follows_the_documented_recipe() -> None:
    fields = {
        "id": 1,
        "actor": "alice",
        "action": "user.create",
        "object_type": "user",
        "object_id": "7",
        "before": None,
        "after": {"role": "viewer"},
        "prev_hash": "0" * 64,
    }
    document = dict(fields, at="2026-01-02T03:04:05.000006+00:00")
    expected = hashlib.sha256(
        json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    assert entry_hash(at=AT, **fields) == expected  # type: ignore[arg-type]
    assert entry_hash(at=AT + timedelta(microseconds=1), **fields) != expected  # type: ignore[arg-type]
