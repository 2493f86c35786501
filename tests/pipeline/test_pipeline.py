"""Batches through every stage: alerts once, events once, bad input aside, rules tuned."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.pipeline.conftest import Rig, make_rig
from tests.serverfixtures import EXAMPLE_RULES
from watchkeeper.alerts.service import AlertFilter, AlertService
from watchkeeper.audit.service import AuditLog
from watchkeeper.errors import ConflictError, UsageError
from watchkeeper.pipeline import service as pipeline_service
from watchkeeper.state.db import StateDB

SSHD = (
    "<38>Nov 29 16:40:0{n} {host} sshd[12{n}]: "
    "Failed password for root from 203.0.113.{n} port 5{n} ssh2\n"
)
QUIET = b"<38>Nov 29 16:41:00 web01 cron[9]: (root) CMD (run-parts /etc/cron.hourly)\n"
SSHD_RULE = "3c7b9e1d-5a24-4f8e-9c61-2b8d4e0f7a04"


def sshd(n: int, host: str = "web01") -> bytes:
    return SSHD.format(n=n, host=host).encode()


def alerts(db: StateDB) -> list[dict[str, Any]]:
    return AlertService(db, AuditLog(db)).list(AlertFilter(limit=100))[0]


def test_matching_events_become_alerts_and_every_event_is_stored(rig: Rig) -> None:
    rig.send(sshd(1) + QUIET + sshd(2, "web02"))
    rig.run()
    found = alerts(rig.db)
    assert sorted(a["entities"]["host"] for a in found) == ["web01", "web02"]
    assert {a["rule_title"] for a in found} == {"SSH Password Guessing"}
    assert rig.store.count() == 3
    assert rig.pipeline.position == rig.spool.last_seq()


def test_a_replay_stores_nothing_twice_and_alerts_nothing_twice(rig: Rig) -> None:
    rig.send(sshd(1))
    rig.send(sshd(2))
    rig.run()
    # the same chunks once more, as after a crash between the alerts and the store commit
    chunks = rig.spool.read(0, 1 << 20)
    rig.pipeline.position = 0
    rig.pipeline.process(chunks)
    assert rig.store.count() == 2
    assert len(alerts(rig.db)) == 2


def test_a_crash_before_the_store_commit_keeps_alerts_once(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig.send(sshd(1))
    chunks = rig.spool.read(0, 1 << 20)

    def crash(*args: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(rig.store, "write", crash)
    with pytest.raises(OSError, match="disk gone"):
        rig.pipeline.process(chunks)
    assert len(alerts(rig.db)) == 1
    assert rig.pipeline.position == 0
    monkeypatch.undo()
    rig.run()
    assert rig.store.count() == 1
    assert len(alerts(rig.db)) == 1


def test_malformed_records_are_dead_letters_once(rig: Rig) -> None:
    seq = rig.send(b'{"EventID": 4624, "Channel": "Security"}\n{oops\n', "winlog-json")
    rig.run()
    rig.pipeline.position = seq - 1
    rig.pipeline.process(rig.spool.read(seq - 1, 1 << 20))
    letters, total = rig.dead_letters.list()
    assert total == 1
    assert letters[0]["raw"] == "{oops"
    assert letters[0]["location"] == "line 2"
    assert rig.store.count() == 1


def test_a_poisonous_chunk_is_put_aside_and_the_rest_goes_on(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_service, "RETRY_DELAY_S", 0.01)
    decode = rig.pipeline.decoder.decode

    def fussy(chunks):  # type: ignore[no-untyped-def]
        if any(b"POISON" in c.payload for c in chunks):
            raise RuntimeError("parser bug")
        return decode(chunks)

    monkeypatch.setattr(rig.pipeline.decoder, "decode", fussy)
    rig.send(sshd(1))
    bad = rig.send(b"<38>Nov 29 16:40:00 x app: POISON\n")
    last = rig.send(sshd(2))
    rig.pipeline.start()
    assert rig.pipeline.wait_for(last, timeout_s=20)
    letters, _ = rig.dead_letters.list()
    assert [(d["location"], d["reason"]) for d in letters] == [
        ("chunk", "processing failed: RuntimeError: parser bug")]
    assert rig.store.count() == 2
    assert rig.pipeline.position == last > bad


def test_disabled_rules_and_exceptions_silence_alerts(rig: Rig) -> None:
    rig.rules.add_exception("alice", None, "the scanner", {"host.name": "scanner-01"})
    rig.send(sshd(1, "scanner-01") + sshd(2, "web01"))
    rig.run()
    assert [a["entities"]["host"] for a in alerts(rig.db)] == ["web01"]
    rig.rules.set_rule(SSHD_RULE, "admin", enabled=False)
    rig.send(sshd(3, "web03"))
    rig.run()
    assert len(alerts(rig.db)) == 1
    assert rig.store.count() == 3


def test_rule_grouping_set_at_run_time(rig: Rig) -> None:
    rig.rules.set_rule(SSHD_RULE, "admin", group_by=["host.name"], window_s=3600)
    rig.send(sshd(1) + sshd(2) + sshd(3) + sshd(4, "web09"))
    rig.run()
    counts = {a["entities"]["host"]: a["count"] for a in alerts(rig.db)}
    assert counts == {"web01": 3, "web09": 1}


def test_asset_criticality_raises_the_risk(rig: Rig) -> None:
    rig.assets.put("admin", "web01", "critical", owner="ops")
    rig.send(sshd(1) + sshd(2, "web02"))
    rig.run()
    risk = {a["entities"]["host"]: a["risk_score"] for a in alerts(rig.db)}
    assert risk["web01"] > risk["web02"]
    critical = next(a for a in alerts(rig.db) if a["entities"]["host"] == "web01")
    assert critical["asset_criticality"] == "critical"


def test_rule_files_are_reloaded_when_they_change(state_db: StateDB, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLE_RULES / "windows", rules)
    rig = make_rig(state_db, tmp_path / "spool", rules)
    try:
        assert not rig.rules.reload_if_changed()
        rig.send(sshd(1))
        rig.run()
        assert alerts(rig.db) == []
        time.sleep(0.01)
        shutil.copy(EXAMPLE_RULES / "linux" / "sshd_failed_password.yml", rules)
        assert rig.rules.reload_if_changed()
        rig.send(sshd(2))
        rig.run()
        assert len(alerts(rig.db)) == 1
        (rules / "sshd_failed_password.yml").write_text("title: [broken", encoding="utf-8")
        assert rig.rules.reload_if_changed()
        broken = str(rules / "sshd_failed_password.yml")
        assert [f.path for f in rig.rules.active.failed] == [broken]
        nested = rules / "deeper" / "still"
        nested.mkdir(parents=True)
        (nested / "notes.txt").write_text("not a rule", encoding="utf-8")
        assert not rig.rules.reload_if_changed(), "only rule files count"
        shutil.copy(EXAMPLE_RULES / "linux" / "sshd_failed_password.yml", nested / "b.yaml")
        assert rig.rules.reload_if_changed(), "a rule in a nested folder is seen"
        (rules / "sshd_failed_password.yml").unlink()
        assert rig.rules.reload_if_changed(), "a removed rule is seen"
        assert rig.rules.active.failed == []
    finally:
        rig.spool.close()


def test_a_spool_behind_the_store_is_refused(state_db: StateDB, tmp_path: Path) -> None:
    """Chunks of a new, empty spool would reuse stored event ids: refuse to start."""
    first = make_rig(state_db, tmp_path / "spool")
    first.send(sshd(1))
    first.send(sshd(2))
    first.run()
    first.spool.close()
    with pytest.raises(UsageError, match="the spool folder was removed or replaced"):
        make_rig(state_db, tmp_path / "new-spool", store=first.store)


def test_a_dead_letter_is_replayed_once(rig: Rig) -> None:
    seq = rig.send(sshd(5), "winlog-json")  # sent with the wrong format
    rig.run()
    [letter] = rig.dead_letters.list()[0]
    assert rig.store.count() == 0
    replayed = rig.dead_letters.replay(letter["id"], "alice", rig.spool.append, "syslog")
    assert replayed["replayed_by"] == "alice"
    with pytest.raises(ConflictError, match="already replayed"):
        rig.dead_letters.replay(letter["id"], "bob", rig.spool.append)
    assert rig.spool.last_seq() == seq + 1
    rig.run()
    assert rig.store.count() == 1  # as syslog, the line is an event now
    assert len(alerts(rig.db)) == 1


def test_a_failed_background_store_write_is_processed_again(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_service, "RETRY_DELAY_S", 0.01)
    write = rig.store.write
    failures = [1]

    def flaky(frame: Any, first: int, last: int) -> None:
        if failures[0]:
            failures[0] -= 1
            raise OSError("disk hiccup")
        write(frame, first, last)

    monkeypatch.setattr(rig.store, "write", flaky)
    rig.send(sshd(1))
    rig.send(sshd(2, "web02"))
    last = rig.send(sshd(3, "web03"))
    rig.pipeline.start()
    assert rig.pipeline.wait_for(last, timeout_s=20)
    assert failures == [0]
    assert rig.store.count() == 3
    assert sorted(a["entities"]["host"] for a in alerts(rig.db)) == ["web01", "web02", "web03"]
    assert rig.dead_letters.list()[1] == 0
