"""The audit log on both backends: appends chain, tampering is found, one chain under load."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from watchkeeper.audit import service as audit_service
from watchkeeper.audit.model import GENESIS_HASH, AuditEntry
from watchkeeper.audit.service import AuditLog, verify
from watchkeeper.errors import ConflictError, UsageError
from watchkeeper.state.db import StateDB


def _fill(db: StateDB, count: int) -> AuditLog:
    log = AuditLog(db)
    for n in range(1, count + 1):
        with db.session() as session:
            log.append(session, "alice", "alert.acknowledge", "alert", n, {"n": n - 1}, {"n": n})
    return log


def _sql(db: StateDB, statement: str, **params: object) -> None:
    with db.engine.begin() as connection:
        connection.execute(text(statement), params)


def _set_after(db: StateDB, entry_id: int, value: str) -> None:
    cast = "CAST(:value AS JSON)" if db.dialect == "postgresql" else ":value"
    _sql(db, f'UPDATE audit_log SET "after" = {cast} WHERE id = :id', value=value, id=entry_id)


def test_appends_chain_and_verify(state_db: StateDB) -> None:
    log = _fill(state_db, 3)
    records = log.entries()
    assert [r.id for r in records] == [3, 2, 1]
    assert records[-1].prev_hash == GENESIS_HASH
    assert records[0].prev_hash == records[1].hash
    assert records[0].after == {"n": 3}
    result = verify(state_db)
    assert result.ok, result.reason
    assert (result.checked, result.head_id, result.head_hash) == (3, 3, records[0].hash)


def test_an_empty_log_verifies(state_db: StateDB) -> None:
    result = verify(state_db)
    assert result.ok
    assert (result.checked, result.head_id, result.head_hash) == (0, 0, GENESIS_HASH)


def test_the_entry_commits_with_the_change_or_not_at_all(state_db: StateDB) -> None:
    log = AuditLog(state_db)

    def failing_change() -> None:
        with state_db.session() as session:
            log.append(session, "alice", "user.create", "user", 1, None, {"role": "viewer"})
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    assert log.entries() == []
    with state_db.session() as session:
        record = log.append(session, "alice", "user.create", "user", 1, None, {"role": "viewer"})
    assert (record.id, record.prev_hash) == (1, GENESIS_HASH)
    assert verify(state_db).ok


def test_values_are_stored_as_the_json_that_was_hashed(state_db: StateDB) -> None:
    log = AuditLog(state_db)
    when = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    with state_db.session() as session:
        log.append(session, "system", "rule.update", "rule", "r-1", None, {"at": when, "ok": True})
    assert log.entries()[0].after == {"at": "2026-03-04T05:06:07.890123+00:00", "ok": True}
    assert verify(state_db).ok


def test_an_edited_entry_is_named(state_db: StateDB) -> None:
    _fill(state_db, 5)
    _set_after(state_db, 3, '{"n": 99}')
    result = verify(state_db)
    assert not result.ok
    assert result.first_bad_id == 3
    assert "edited" in (result.reason or "")


def test_an_edited_actor_is_named(state_db: StateDB) -> None:
    _fill(state_db, 4)
    _sql(state_db, "UPDATE audit_log SET actor = 'mallory' WHERE id = 2")
    assert verify(state_db).first_bad_id == 2


def test_an_entry_that_no_longer_decodes_is_named(state_db: StateDB) -> None:
    if state_db.dialect != "sqlite":
        pytest.skip("PostgreSQL's json type refuses malformed JSON")
    _fill(state_db, 4)
    _set_after(state_db, 2, "{not json")
    result = verify(state_db)
    assert (result.ok, result.first_bad_id) == (False, 2)


def test_a_deleted_middle_entry_is_found(state_db: StateDB) -> None:
    _fill(state_db, 5)
    _sql(state_db, "DELETE FROM audit_log WHERE id = 3")
    result = verify(state_db)
    assert not result.ok
    assert result.first_bad_id == 3
    assert "missing" in (result.reason or "")


def test_a_renumbered_gap_is_found_by_prev_hash(state_db: StateDB) -> None:
    _fill(state_db, 4)
    _sql(state_db, "DELETE FROM audit_log WHERE id = 2")
    _sql(state_db, "UPDATE audit_log SET id = 2 WHERE id = 3")
    _sql(state_db, "UPDATE audit_log SET id = 3 WHERE id = 4")
    result = verify(state_db)
    assert (result.ok, result.first_bad_id) == (False, 2)


def test_a_deleted_tail_is_found_through_the_head(state_db: StateDB) -> None:
    _fill(state_db, 5)
    _sql(state_db, "DELETE FROM audit_log WHERE id >= 4")
    result = verify(state_db)
    assert not result.ok
    assert result.first_bad_id == 4
    assert "removed from the end" in (result.reason or "")


def test_a_consistent_truncation_is_caught_only_by_a_recorded_hash(state_db: StateDB) -> None:
    _fill(state_db, 5)
    recorded = verify(state_db).head_hash
    third = next(r for r in AuditLog(state_db).entries() if r.id == 3)
    _sql(state_db, "DELETE FROM audit_log WHERE id >= 4")
    _sql(state_db, "UPDATE audit_head SET last_id = 3, last_hash = :h", h=third.hash)
    assert verify(state_db).ok
    result = verify(state_db, expect=recorded)
    assert not result.ok
    assert "not in the chain" in (result.reason or "")


def test_a_recorded_hash_still_in_the_chain_passes(state_db: StateDB) -> None:
    log = _fill(state_db, 2)
    recorded = verify(state_db).head_hash
    with state_db.session() as session:
        log.append(session, "bob", "alert.close", "alert", 1)
    assert log.verify(expect=recorded).ok


def test_a_missing_head_is_reported_and_stops_appends(state_db: StateDB) -> None:
    log = _fill(state_db, 2)
    _sql(state_db, "DELETE FROM audit_head")
    result = verify(state_db)
    assert not result.ok
    assert "head row is missing" in (result.reason or "")
    with pytest.raises(ConflictError), state_db.session() as session:
        log.append(session, "bob", "alert.close", "alert", 1)


def test_verify_walks_in_chunks(state_db: StateDB, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_service, "CHUNK", 3)
    _fill(state_db, 10)
    assert verify(state_db).checked == 10
    _set_after(state_db, 8, '{"n": 0}')
    assert verify(state_db).first_bad_id == 8


def test_concurrent_appends_keep_one_chain(state_db: StateDB) -> None:
    log = AuditLog(state_db)
    failures: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            for n in range(8):
                with state_db.session() as session:
                    log.append(session, name, "alert.acknowledge", "alert", n)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(f"user{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    result = verify(state_db)
    assert result.ok, result.reason
    assert (result.checked, result.head_id) == (32, 32)
    assert {r.actor for r in log.entries(limit=100)} == {"user0", "user1", "user2", "user3"}


def test_entries_filter_and_page(state_db: StateDB) -> None:
    log = AuditLog(state_db)
    with state_db.session() as session:
        log.append(session, "alice", "alert.acknowledge", "alert", 1)
        log.append(session, "bob", "alert.close", "alert", 1)
        log.append(session, "alice", "user.create", "user", 1)
    assert [r.action for r in log.entries(object_type="alert", object_id=1)] == [
        "alert.close",
        "alert.acknowledge",
    ]
    assert [r.id for r in log.entries(actor="alice")] == [3, 1]
    assert [r.id for r in log.entries(before_id=3, limit=1)] == [2]


@pytest.mark.parametrize(
    ("actor", "action"), [("", "user.create"), ("alice", "create"), ("alice", "User.Create")]
)
def test_bad_entries_are_refused(state_db: StateDB, actor: str, action: str) -> None:
    with pytest.raises(UsageError), state_db.session() as session:
        AuditLog(state_db).append(session, actor, action, "user", 1)


def test_the_orm_refuses_to_change_an_entry(state_db: StateDB) -> None:
    _fill(state_db, 1)

    def edit() -> None:
        with state_db.session() as session:
            entry = session.get(AuditEntry, 1)
            assert entry is not None
            entry.actor = "mallory"

    def delete() -> None:
        with state_db.session() as session:
            session.delete(session.get(AuditEntry, 1))

    with pytest.raises(TypeError, match="append-only"):
        edit()
    with pytest.raises(TypeError, match="append-only"):
        delete()
    assert verify(state_db).ok
