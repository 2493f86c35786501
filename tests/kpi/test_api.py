"""``GET /api/v1/metrics`` and the ``/kpi`` page on a server whose alerts have known times."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import serving, sign_in
from tests.kpi.helpers import alert
from tests.serverfixtures import Api

NOW = datetime.now(UTC).replace(microsecond=0)
YESTERDAY_NOON = (NOW - timedelta(days=1)).replace(hour=12, minute=0, second=0)
SPAN = {"since": (NOW - timedelta(days=2)).isoformat(), "until": NOW.isoformat()}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with serving(tmp_path_factory.mktemp("kpi") / "data", rules=False) as api:
        day = YESTERDAY_NOON
        rows = [alert("r-fp", "high", "ws1", day + timedelta(minutes=n), 30, ack=60, close=120,
                      verdict="false_positive") for n in range(3)]
        rows.append(alert("r-tp", "low", "db1", day, 90, ack=30, close=60,
                          verdict="true_positive"))
        with api.services.db.session() as session:
            session.add_all(rows)
        yield api


def test_a_viewer_reads_the_metrics(server: Api) -> None:
    answer = server.client.get("/api/v1/metrics", params=SPAN, headers=server.bearer("viewer"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["overall"]["count"] == 4
    assert body["overall"]["mttd"] == {"count": 4, "mean": 45.0, "median": 30.0, "p90": 90.0}
    assert body["overall"]["mttr"]["mean"] == 105.0
    assert body["by_level"]["low"]["mtta"]["mean"] == 30.0
    counts = {d["day"]: d["count"] for d in body["volume"]}
    assert counts[YESTERDAY_NOON.date().isoformat()] == 4
    assert sum(counts.values()) == 4
    assert body["noisiest"][0]["rule_id"] == "r-fp"
    assert body["noisiest"][0]["false_alarm_rate"] == 1.0
    assert body["advice"][0]["condition"] == "host.name: ws1"
    assert body["advice"][0]["match"] == {"host.name": "ws1"}
    assert body["since"].startswith(SPAN["since"][:19])


def test_a_level_narrows_the_metrics(server: Api) -> None:
    answer = server.client.get("/api/v1/metrics", params={**SPAN, "level": "low"},
                               headers=server.bearer("viewer"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["overall"]["count"] == 1
    assert answer.json()["advice"] == []


def test_by_default_the_last_30_days(server: Api) -> None:
    body = server.client.get("/api/v1/metrics", headers=server.bearer("analyst")).json()
    assert body["overall"]["count"] == 4
    span = datetime.fromisoformat(body["until"]) - datetime.fromisoformat(body["since"])
    assert span == timedelta(days=30)
    until = datetime.fromisoformat(body["until"])
    on_midnight = until == until.replace(hour=0, minute=0, second=0, microsecond=0)
    assert len(body["volume"]) == (30 if on_midnight else 31)


def test_an_ingest_token_is_refused(server: Api) -> None:
    headers = {"Authorization": f"Bearer {server.ingest_token}"}
    answer = server.client.get("/api/v1/metrics", headers=headers)
    assert answer.status_code == 403
    assert answer.json()["error"] == "PermissionDenied"
    assert "'metrics:read'" in answer.json()["message"]


def test_a_bad_since_is_refused_with_where_and_why(server: Api) -> None:
    answer = server.client.get("/api/v1/metrics", params={"since": "last tuesday"},
                               headers=server.bearer("viewer"))
    assert answer.status_code == 422
    assert [p["where"] for p in answer.json()["problems"]] == ["query.since"]


@pytest.mark.parametrize(("params", "message"), [
    ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "must be before"),
    ({"since": "2020-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "at most 366 days"),
    ({"level": "severe"}, "unknown level 'severe'"),
])
def test_a_period_or_level_that_makes_no_sense_is_refused(
    server: Api, params: dict[str, str], message: str
) -> None:
    answer = server.client.get("/api/v1/metrics", params=params, headers=server.bearer("viewer"))
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "UsageError"
    assert message in answer.json()["message"]


def test_the_page_shows_times_rules_advice_and_a_chart(server: Api) -> None:
    browser = sign_in(server, "viewer")
    try:
        page = browser.client.get("/kpi?range=7d")
    finally:
        browser.client.close()
    assert page.status_code == 200, page.text
    text = page.text
    assert '<a href="/kpi" aria-current="page">Metrics</a>' in text
    assert re.search(r'data-metric="mttd".*?<td>45s</td><td>30s</td><td>1m 30s</td>', text,
                     re.DOTALL)
    assert 'data-metric="mttr"' in text
    assert len(re.findall(r"<rect ", text)) in (7, 8)  # 7 days touch 8 dates unless at 0:00
    assert f"{YESTERDAY_NOON.date().isoformat()}: 4 alerts</title>" in text
    assert re.search(r'id="noisiest".*data-rule-id="r-fp".*100%', text, re.DOTALL)
    assert "<code>host.name: ws1</code>" in text
    assert "<script" not in text


def test_the_page_refuses_an_unknown_range(server: Api) -> None:
    browser = sign_in(server, "viewer")
    try:
        page = browser.client.get("/kpi?range=forever")
    finally:
        browser.client.close()
    assert page.status_code == 400
    assert "unknown range" in page.text
