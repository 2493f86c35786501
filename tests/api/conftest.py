"""One server per test module, and signed-in browser sessions on it.

A server costs a second or more (argon2 hashes for its users, the rules), so each module
shares one, and the modules that change nothing others read share one between them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.serverfixtures import PASSWORD, PLAYBOOKS, ROOT, Api, make_settings, open_api

WINDOWS = (ROOT / "examples" / "logs" / "windows" / "sysmon-and-security.jsonl").read_bytes()
"""The example Windows log: three of its events match the example rules."""

BASE_URL = "http://127.0.0.1"


@dataclass
class Browser:
    """A signed-in browser: its own cookie jar, and the CSRF token of its session."""

    client: TestClient
    csrf: str
    cookie: str


def sign_in(api: Api, role: str) -> Browser:
    """A new client with a session of ``role``; close its ``client`` when done."""
    client = TestClient(api.client.app, base_url=BASE_URL)
    answer = client.post("/api/v1/auth/login", json={"username": role, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    cookie = client.cookies.get("wk_session")
    assert cookie
    return Browser(client, str(answer.json()["csrf_token"]), cookie)


@contextmanager
def serving(data_dir: Path, *, rules: bool = True, **settings: object) -> Iterator[Api]:
    """A server on ``data_dir``; ``rules=False`` skips the example rules (faster)."""
    if not rules:
        settings["rules"] = {"paths": []}
    yield from open_api(make_settings(data_dir, **settings))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A server with the example rules that has taken in the example Windows log, and
    the playbooks of ``tests/data/playbooks``."""
    with serving(tmp_path_factory.mktemp("server") / "data",
                 response={"playbooks": [PLAYBOOKS]}) as api:
        api.ingest(WINDOWS, "winlog-json")
        yield api


@pytest.fixture(scope="module")
def bare_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A server without rules or data, for one module."""
    with serving(tmp_path_factory.mktemp("bare") / "data", rules=False) as api:
        yield api


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A server without rules for the modules whose tests only add users and tokens of
    their own, and fail no sign-in more than once (the per-address lockout is shared)."""
    with serving(tmp_path_factory.mktemp("shared") / "data", rules=False) as api:
        yield api
