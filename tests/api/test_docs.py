"""Every API route is in the API reference, with the permission the code checks."""

from __future__ import annotations

import re
from pathlib import Path

from tests.api.routetable import TABLE, app_routes
from tests.serverfixtures import Api
from watchkeeper.auth.roles import Permission

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| ([^|]+) \|", re.MULTILINE)


def test_every_api_route_is_documented_with_its_permission(shared_server: Api) -> None:
    documented = {(m, p): need.strip() for m, p, need in ROW.findall(DOCS.read_text("utf-8"))}
    routes = {(m, p) for m, p in app_routes(shared_server.client.app)  # type: ignore[arg-type]
              if p.startswith(("/api/v1/", "/taxii2/")) or p in ("/healthz", "/metrics")}
    assert routes - set(documented) == set(), "routes missing from docs/api.md"
    assert set(documented) - routes == set(), "docs/api.md names routes that do not exist"
    checked = 0
    for key, need in documented.items():
        permission = TABLE[key].need
        if isinstance(permission, Permission):
            assert f"`{permission.value}`" in need, (key, need)
            checked += 1
    assert checked >= 25
