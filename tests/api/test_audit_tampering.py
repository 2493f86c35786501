"""Changes made through the API are on the audit record, and editing or removing a
recorded entry behind the server's back is found, by the API and by the command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from tests.serverfixtures import Api
from watchkeeper.alerts.service import AlertFilter
from watchkeeper.cli.main import cli, register


@pytest.fixture(scope="module")
def changed(server: Api) -> dict[str, int]:
    """Three changes made through the API; the audit id of each, by action."""
    client = server.client
    alerts, _ = server.services.alerts.list(AlertFilter())
    answers = [
        client.post(f"/api/v1/alerts/{alerts[0]['id']}/acknowledge", json={"note": "mine"},
                    headers=server.bearer("analyst")),
        client.post("/api/v1/rules/exceptions/", headers=server.bearer("analyst"),
                    json={"reason": "lab host", "match": {"host.name": "lab-01"}}),
        client.post("/api/v1/users", json={"username": "newcomer", "role": "viewer"},
                    headers=server.bearer("admin")),
    ]
    assert [a.status_code for a in answers] == [200, 201, 201], [a.text for a in answers]
    entries = server.services.audit.entries(limit=20)
    return {entry.action: entry.id for entry in reversed(entries)}


@pytest.fixture(scope="module")
def config(server: Api, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "watchkeeper.toml"
    data_dir = server.services.settings.data_dir.resolve().as_posix()
    path.write_text(f'data_dir = "{data_dir}"\n', encoding="utf-8")
    return path


def verify(api: Api) -> dict[str, Any]:
    answer = api.client.get("/api/v1/audit/verify", headers=api.bearer("analyst"))
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def verify_on_the_command_line(config: Path) -> tuple[int, str]:
    register()
    result = CliRunner().invoke(cli, ["audit", "verify", "--config", str(config)])
    return result.exit_code, result.output


def row(api: Api, entry_id: int) -> dict[str, Any]:
    with api.services.db.engine.connect() as connection:
        found = connection.execute(text("SELECT * FROM audit_log WHERE id = :id"),
                                   {"id": entry_id}).mappings().one()
    return dict(found)


def execute(api: Api, statement: str, **values: Any) -> None:
    with api.services.db.engine.begin() as connection:
        assert connection.execute(text(statement), values).rowcount == 1


@pytest.fixture
def restored(server: Api) -> Iterator[None]:
    """Puts every entry a test tampered with back as it was."""
    saved = {entry_id: row(server, entry_id) for entry_id in range(1, _head(server) + 1)}
    yield
    with server.services.db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log"))
        connection.execute(text(
            "INSERT INTO audit_log (id, at, actor, action, object_type, object_id, before, "
            "after, prev_hash, hash) VALUES (:id, :at, :actor, :action, :object_type, "
            ":object_id, :before, :after, :prev_hash, :hash)"), list(saved.values()))
    assert verify(server)["ok"]


def _head(api: Api) -> int:
    return api.services.audit.entries(limit=1)[0].id


def test_changes_through_the_api_are_recorded_and_the_chain_holds(
    server: Api, changed: dict[str, int], config: Path
) -> None:
    assert {"alert.acknowledge", "exception.create", "user.create"} <= changed.keys()
    listed = server.client.get("/api/v1/audit", headers=server.bearer("analyst")).json()
    newcomer = next(e for e in listed if e["action"] == "user.create"
                    and e["after"]["username"] == "newcomer")
    assert newcomer["actor"] == "admin"
    result = verify(server)
    assert result["ok"] is True
    assert result["checked"] == _head(server)
    assert verify_on_the_command_line(config)[0] == 0


def test_an_edited_entry_is_found(
    server: Api, changed: dict[str, int], config: Path, restored: None
) -> None:
    target = changed["alert.acknowledge"]
    execute(server, "UPDATE audit_log SET actor = 'someone-else' WHERE id = :id", id=target)
    result = verify(server)
    assert result["ok"] is False
    assert result["first_bad_id"] == target
    assert result["reason"]
    status, output = verify_on_the_command_line(config)
    assert status == 1
    assert f"entry {target}" in output


def test_an_edited_change_record_is_found(
    server: Api, changed: dict[str, int], restored: None
) -> None:
    target = changed["user.create"]
    after = row(server, target)["after"]
    assert '"viewer"' in after
    execute(server, "UPDATE audit_log SET after = :after WHERE id = :id",
            after=after.replace('"viewer"', '"admin"'), id=target)
    result = verify(server)
    assert (result["ok"], result["first_bad_id"]) == (False, target)


def test_a_deleted_entry_is_found(
    server: Api, changed: dict[str, int], config: Path, restored: None
) -> None:
    target = changed["exception.create"]
    execute(server, "DELETE FROM audit_log WHERE id = :id", id=target)
    result = verify(server)
    assert result["ok"] is False
    assert result["first_bad_id"] == target
    assert verify_on_the_command_line(config)[0] == 1


def test_an_entry_deleted_from_the_end_is_found(server: Api, restored: None) -> None:
    last = _head(server)
    execute(server, "DELETE FROM audit_log WHERE id = :id", id=last)
    result = verify(server)
    assert result["ok"] is False
    assert result["first_bad_id"] == last
    assert "removed" in result["reason"]
