"""``/healthz`` answers anyone and tells nothing worth stealing; ``/metrics`` needs a token."""

from __future__ import annotations

from tests.serverfixtures import PASSWORD, Api


def test_health_needs_no_credentials_and_leaks_nothing(shared_server: Api) -> None:
    answer = shared_server.client.get("/healthz")
    assert answer.status_code == 200
    assert set(answer.json()) == {"status", "pipeline", "spool_backlog_bytes", "stored_seq"}
    data_dir = str(shared_server.services.settings.data_dir)
    for secret in (data_dir, "data", PASSWORD, "wk_", "admin", "sqlite", "version"):
        assert secret not in answer.text
    assert "set-cookie" not in answer.headers


def test_health_ignores_bad_credentials(shared_server: Api) -> None:
    answer = shared_server.client.get("/healthz", headers={"Authorization": "Bearer wk_bad"})
    assert answer.status_code == 200


def test_metrics_need_a_users_credentials(shared_server: Api) -> None:
    client = shared_server.client
    anonymous = client.get("/metrics")
    assert anonymous.status_code == 401
    assert "watchkeeper_" not in anonymous.text
    assert client.get("/metrics", headers={"Authorization": "Bearer wk_bad"}).status_code == 401
    sensor = client.get("/metrics",
                        headers={"Authorization": f"Bearer {shared_server.ingest_token}"})
    assert sensor.status_code == 403
    answer = client.get("/metrics", headers=shared_server.bearer("viewer"))
    assert answer.status_code == 200
    assert "watchkeeper_" in answer.text
    for secret in (*shared_server.tokens.values(), PASSWORD):
        assert secret not in answer.text
