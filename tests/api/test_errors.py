"""Wrong calls get a clear answer: what was wrong and where, with the right status, and
overload or oversize bodies are refused before anything is taken."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import BASE_URL, serving
from tests.serverfixtures import Api

LIMIT = 2048


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A server taking ingest bodies up to 2 KiB and holding at most 1 MiB not yet stored."""
    with serving(tmp_path_factory.mktemp("small") / "data", rules=False,
                 http={"max_body_bytes": LIMIT},
                 pipeline={"spool_max_backlog_mb": 1, "max_latency_ms": 20,
                           "fsync": False}) as api:
        yield api


def problems(answer: Any) -> list[str]:
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == "UsageError"
    return [p["where"] for p in body["problems"]]


def test_a_body_that_is_not_json_is_422_with_problems(shared_server: Api) -> None:
    answer = shared_server.client.post(
        "/api/v1/rules/exceptions/", content=b'{"reason": "x", "match": ',
        headers={**shared_server.bearer("analyst"), "Content-Type": "application/json"})
    assert problems(answer)
    assert answer.json()["problems"][0]["problem"]


@pytest.mark.parametrize(("method", "path", "body", "where"), [
    ("POST", "/api/v1/alerts/1/close", {"verdict": "maybe"}, "body.verdict"),
    ("POST", "/api/v1/alerts/1/close", {}, "body.verdict"),
    ("POST", "/api/v1/alerts/one/acknowledge", {}, "path.alert_id"),
    ("GET", "/api/v1/alerts?limit=many", None, "query.limit"),
    ("GET", "/api/v1/alerts?limit=0", None, "query.limit"),
    ("PATCH", "/api/v1/rules/r1", {"enabled": "perhaps"}, "body.enabled"),
    ("PUT", "/api/v1/assets", {"name": "h", "criticality": "vital"}, "body.criticality"),
    ("POST", "/api/v1/users", {"username": ["a"], "role": "viewer"}, "body.username"),
    ("POST", "/api/v1/tokens", {"name": "t", "expires_at": "soon"}, "body.expires_at"),
    ("GET", "/api/v1/events?order=sideways", None, "query.order"),
])
def test_wrong_types_are_422_naming_the_field(
    shared_server: Api, method: str, path: str, body: Any, where: str
) -> None:
    answer = shared_server.client.request(method, path, json=body,
                                        headers=shared_server.bearer("admin"))
    assert where in problems(answer)


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/v1/alerts/999999", None),
    ("POST", "/api/v1/alerts/999999/acknowledge", {}),
    ("GET", "/api/v1/dead-letters/999999", None),
    ("GET", "/api/v1/events/no-such-event", None),
    ("PATCH", "/api/v1/rules/no-such-rule", {"enabled": False}),
    ("PATCH", "/api/v1/users/999999", {"role": "viewer"}),
    ("DELETE", "/api/v1/assets/999999", None),
    ("DELETE", "/api/v1/tokens/000000000000", None),
])
def test_an_unknown_object_is_404(shared_server: Api, method: str, path: str, body: Any) -> None:
    answer = shared_server.client.request(method, path, json=body,
                                        headers=shared_server.bearer("admin"))
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"] == "NotFoundError"
    assert answer.json()["message"]


@pytest.mark.parametrize(("query", "column"), [
    ('host.name:"unterminated', 11),
    ("host.name:(a b", None),
    ("a AND )", 7),
])
def test_an_invalid_search_query_is_400_naming_the_column(
    shared_server: Api, query: str, column: int | None
) -> None:
    answer = shared_server.client.get("/api/v1/events", params={"q": query},
                                    headers=shared_server.bearer("viewer"))
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["location"].startswith("column ")
    if column is not None:
        assert body["location"] == f"column {column}"
    histogram = shared_server.client.get(
        "/api/v1/events/histogram", params={"q": query, "start": "2024-01-01T00:00:00Z",
                                            "end": "2024-01-02T00:00:00Z"},
        headers=shared_server.bearer("viewer"))
    assert histogram.status_code == 400
    assert histogram.json()["location"] == body["location"]


def test_bad_values_are_400_with_the_reason(shared_server: Api) -> None:
    admin = shared_server.bearer("admin")
    client = shared_server.client
    role = client.post("/api/v1/users", json={"username": "x1", "role": "root"}, headers=admin)
    assert role.status_code == 400
    assert "viewer" in role.json()["message"]
    sensor = {"Authorization": f"Bearer {shared_server.ingest_token}"}
    unknown = client.post("/api/v1/ingest/no-such-format", content=b"x\n", headers=sensor)
    assert unknown.status_code == 400
    assert "no-such-format" in unknown.json()["message"]
    empty = client.post("/api/v1/ingest/syslog", content=b"  \n", headers=sensor)
    assert empty.status_code == 400


def ingest(api: Api, body: Any) -> Any:
    return api.client.post("/api/v1/ingest/syslog", content=body,
                           headers={"Authorization": f"Bearer {api.ingest_token}"})


def test_an_oversize_ingest_body_is_413_and_not_taken(small: Api) -> None:
    before = small.services.spool.last_seq()
    line = b"<13>Jan  1 00:00:00 host app: hello\n"
    too_big = line * (LIMIT // len(line) + 1)
    answer = ingest(small, too_big)
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"] == "PayloadTooLarge"
    assert str(LIMIT) in answer.json()["message"]
    # without a Content-Length, counted as it streams in
    streamed = ingest(small, iter([too_big[:1000], too_big[1000:]]))
    assert streamed.status_code == 413, streamed.text
    assert small.services.spool.last_seq() == before
    fits = ingest(small, line * (LIMIT // len(line)))
    assert fits.status_code == 202, fits.text


def test_a_full_spool_is_429_with_retry_after_and_takes_nothing(small: Api) -> None:
    services = small.services
    services.pipeline.stop()  # nothing is stored any more, so the backlog only grows
    services.spool.append("syslog", "test", b"x" * (1 << 20))  # as another receiver would
    assert services.spool.full()
    before = services.spool.last_seq()
    answer = ingest(small, b"<13>Jan  1 00:00:00 host app: hello\n")
    assert answer.status_code == 429, answer.text
    assert answer.json()["error"] == "OverloadedError"
    assert int(answer.headers["retry-after"]) >= 1
    assert services.spool.last_seq() == before


def test_times_without_a_zone_are_taken_as_utc(shared_server: Api) -> None:
    client, admin = shared_server.client, shared_server.bearer("admin")
    for params in ({"since": "2024-01-01T00:00:00"}, {"until": "2100-01-01T00:00:00"}):
        answer = client.get("/api/v1/alerts", params=params, headers=admin)
        assert answer.status_code == 200, answer.text
    made = client.post("/api/v1/tokens", json={"name": "t", "expires_at": "2100-01-01T00:00:00"},
                       headers=admin)
    assert made.status_code == 201, made.text
    assert made.json()["expires_at"] == "2100-01-01T00:00:00Z"


def test_an_ingest_token_for_an_unknown_format_is_refused(shared_server: Api) -> None:
    answer = shared_server.client.post(
        "/api/v1/tokens", json={"name": "t", "kind": "ingest", "source_type": "no-such-format"},
        headers=shared_server.bearer("admin"))
    assert answer.status_code == 400, answer.text
    assert "no-such-format" in answer.json()["message"]


HUGE = str(10**20)



@pytest.mark.parametrize(("method", "path", "params"), [
    ("GET", f"/api/v1/alerts/{HUGE}", {}),
    ("GET", "/api/v1/alerts", {"offset": HUGE}),
    ("GET", f"/api/v1/dead-letters/{HUGE}", {}),
    ("DELETE", f"/api/v1/assets/{HUGE}", {}),
    ("GET", "/api/v1/audit", {"before_id": HUGE}),
    ("GET", "/api/v1/tokens", {"owner_id": HUGE}),
    ("GET", f"/alerts/{HUGE}", {}),
])
def test_an_id_out_of_range_is_a_clear_error(
    shared_server: Api, method: str, path: str, params: dict[str, str]
) -> None:
    client = TestClient(shared_server.client.app, base_url=BASE_URL,
                        raise_server_exceptions=False)
    answer = client.request(method, path, params=params, headers=shared_server.bearer("admin"))
    client.close()
    assert answer.status_code in (404, 422), answer.text


def test_no_route_reads_a_body_over_the_limit(small: Api) -> None:
    body = b'{"username": "' + b"a" * (16 * LIMIT) + b'", "password": "x"}'
    answer = small.client.post("/api/v1/auth/login", content=body,
                               headers={"Content-Type": "application/json"})
    assert answer.status_code == 413, answer.text


def test_a_chunked_body_over_the_limit_is_refused(small: Api) -> None:
    def pieces():  # type: ignore[no-untyped-def]
        yield b'{"username": "'
        for _ in range(64):
            yield b"a" * LIMIT
        yield b'", "password": "x"}'

    client = TestClient(small.client.app, base_url=BASE_URL, raise_server_exceptions=False)
    answer = client.post("/api/v1/auth/login", content=pieces(),
                         headers={"Content-Type": "application/json"})
    client.close()
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"] == "PayloadTooLarge"
