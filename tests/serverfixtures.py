"""A server's services over a temporary data folder, and an API client on them.

    def test_x(api: Api) -> None:
        api.client.get("/api/v1/alerts", headers=api.bearer("analyst"))

Users ``admin``, ``analyst``, ``responder`` and ``viewer`` exist (password
:data:`PASSWORD`), each with an API token; an ingest token is in ``api.ingest_token``.
The pipeline runs in its thread; ``api.ingest(...)`` sends a body and waits until it is
stored. Rules: the project's examples.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from watchkeeper.api.app import create_app
from watchkeeper.auth.principal import SYSTEM
from watchkeeper.config import Settings
from watchkeeper.server.services import Services

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_RULES = ROOT / "examples" / "rules"
EXAMPLE_PLAYBOOKS = ROOT / "examples" / "playbooks"
PLAYBOOKS = ROOT / "tests" / "data" / "playbooks"
"""Playbooks that act only inside Watchkeeper (no connector): ``matrix`` asks for an
approval, then notifies."""
PASSWORD = "correct horse battery staple"
ROLES = ("admin", "analyst", "responder", "viewer")


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "rules": {"paths": [EXAMPLE_RULES], "reload_interval_s": 0.5},
        "pipeline": {"max_latency_ms": 20, "fsync": False},
        "syslog": {"udp_port": None, "tcp_port": None},
        "response": {"playbooks": [EXAMPLE_PLAYBOOKS]},
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Api:
    services: Services
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    ingest_token: str = ""

    def bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def login(self, role: str) -> str:
        """Sign in through the API; returns the CSRF token (the cookie stays in the client)."""
        answer = self.client.post("/api/v1/auth/login",
                                  json={"username": role, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["csrf_token"])

    def ingest(self, body: bytes, source_type: str, timeout_s: float = 20.0) -> int:
        answer = self.client.post(
            f"/api/v1/ingest/{source_type}", content=body,
            headers={"Authorization": f"Bearer {self.ingest_token}"},
        )
        assert answer.status_code == 202, answer.text
        seq = int(answer.json()["seq"])
        assert self.services.pipeline.wait_for(seq, timeout_s), "pipeline did not catch up"
        return seq


def open_api(settings: Settings) -> Iterator[Api]:
    services = Services.open(settings)
    services.pipeline.start()
    api = Api(services, TestClient(create_app(services), base_url="http://127.0.0.1"))
    auth = services.auth
    for role in ROLES:
        user = auth.create_user(SYSTEM, role, role, PASSWORD)
        api.user_ids[role] = user.id
        api.tokens[role] = auth.issue_token(SYSTEM, user.id, "api", f"{role} token")[1]
    api.ingest_token = auth.issue_token(SYSTEM, api.user_ids["admin"], "ingest", "sensor")[1]
    try:
        yield api
    finally:
        api.client.close()
        services.close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from open_api(make_settings(tmp_path / "data"))
