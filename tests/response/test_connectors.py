"""Connectors in the state database: validated, sealed, audited, never listed with values."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from watchkeeper.audit.service import AuditLog
from watchkeeper.errors import NotFoundError, UsageError
from watchkeeper.response.connector_model import ConnectorRow
from watchkeeper.response.connectors import ConnectorStore
from watchkeeper.response.secrets import SecretBox, SecretKeyError
from watchkeeper.state.db import StateDB

TOKEN = "tok-1b2c3d-secret"
FW = {"base_url": "https://fw.example.com/api", "auth": {"type": "bearer"},
      "operations": {"block_ip": {"method": "POST", "path": "/blocks", "body": {"ip": "{ip}"}}}}


@pytest.fixture
def store(connectors_db: StateDB) -> ConnectorStore:
    return ConnectorStore(connectors_db, AuditLog(connectors_db),
                          SecretBox(SecretBox.generate_key()))


def test_put_then_get_decrypts(store: ConnectorStore) -> None:
    shown = store.put("alice", "fw1", "http", FW, {"token": TOKEN})
    assert shown["secrets"] == ["token"]
    assert TOKEN not in repr(shown)
    connector = store.get("fw1")
    assert connector.type == "http"
    assert connector.secrets == {"token": TOKEN}
    assert connector.config["base_url"] == "https://fw.example.com/api"
    assert connector.allow_private is False
    assert TOKEN not in repr(connector)


def test_secrets_are_stored_sealed(store: ConnectorStore) -> None:
    store.put("alice", "fw1", "http", FW, {"token": TOKEN})
    with store.db.read() as session:
        row = session.execute(select(ConnectorRow)).scalar_one()
        assert TOKEN not in row.secrets
        assert row.secret_names == ["token"]


def test_list_and_audit_carry_names_only(store: ConnectorStore) -> None:
    store.put("alice", "fw1", "http", FW, {"token": TOKEN})
    store.put("bob", "fw1", "http", FW, {"token": TOKEN + "-new"}, allow_private=True)
    (listed,) = store.list()
    assert listed["name"] == "fw1"
    assert listed["secrets"] == ["token"]
    assert listed["allow_private"] is True
    assert listed["created_by"] == "alice"
    assert TOKEN not in repr(listed)
    entries = store.audit.entries(object_type="connector")
    assert [e.action for e in entries] == ["connector.put", "connector.put"]
    assert entries[0].before is not None
    assert entries[0].before["allow_private"] is False
    assert entries[0].after is not None
    assert entries[0].after["secrets"] == ["token"]
    assert all(TOKEN not in repr((e.before, e.after)) for e in entries)


def test_secrets_none_keeps_the_stored_ones(store: ConnectorStore) -> None:
    store.put("alice", "fw1", "http", FW, {"token": TOKEN})
    store.put("alice", "fw1", "http", {**FW, "timeout_s": 5}, None)
    connector = store.get("fw1")
    assert connector.secrets == {"token": TOKEN}
    assert connector.config["timeout_s"] == 5


@pytest.mark.parametrize(("kind", "config", "secrets", "message"), [
    ("telnet", {}, {}, "unknown connector type 'telnet'"),
    ("http", {"base_url": "ftp://x"}, {}, "base_url: Value error, base_url must be an http"),
    ("http", FW, {}, "needs the secrets token"),
    ("http", FW, {"token": "a", "extra": "b"}, "no use for the secrets extra"),
    ("http", {**FW, "headers": {"Authorization": "Bearer x"}}, {"token": "a"},
     "carries credentials"),
    ("nftables", {"table": "bad name;"}, {}, "table: String should match pattern"),
    ("smtp", {"host": "mail.example.com"}, {}, "from_address: Field required"),
    ("slack", {}, {}, "needs the secrets url"),
    ("ldap", {"url": "ldap://dc1", "base_dn": "dc=example,dc=com", "colour": "red"},
     {"bind_dn": "cn=x", "password": "p"}, "colour: Extra inputs are not permitted"),
])
def test_bad_connectors_are_refused_clearly(store: ConnectorStore, kind: str,
                                            config: dict[str, object],
                                            secrets: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        store.put("alice", "c1", kind, config, secrets)
    assert store.list() == []


def test_bad_names_are_refused(store: ConnectorStore) -> None:
    with pytest.raises(UsageError, match="connector name 'Bad Name'"):
        store.put("alice", "Bad Name", "webhook", {}, {"url": "https://x.example"})


def test_delete(store: ConnectorStore) -> None:
    store.put("alice", "hook", "webhook", {}, {"url": "https://hooks.example.com/a"})
    store.delete("bob", "hook")
    assert store.list() == []
    with pytest.raises(NotFoundError, match="no connector named 'hook'"):
        store.get("hook")
    with pytest.raises(NotFoundError):
        store.delete("bob", "hook")
    assert store.audit.entries(object_type="connector")[0].action == "connector.delete"


def test_a_changed_key_is_a_clear_error(store: ConnectorStore) -> None:
    store.put("alice", "hook", "webhook", {}, {"url": "https://hooks.example.com/a"})
    other = ConnectorStore(store.db, store.audit, SecretBox(SecretBox.generate_key()))
    with pytest.raises(SecretKeyError, match="sealed with another key"):
        other.get("hook")
    assert other.list()[0]["secrets"] == ["url"], "listing needs no key"
