"""The roster and handover routes: who may do what, and clear refusals of bad input."""

from __future__ import annotations

import pytest

from tests.serverfixtures import Api

ROSTER = {"shifts": [{"name": "day", "start": "00:00", "end": "00:00", "members": ["analyst"]}]}


def test_roster_read_by_viewers_written_by_admins(bare_server: Api) -> None:
    client, bearer = bare_server.client, bare_server.bearer
    for role in ("viewer", "analyst", "responder"):
        refused = client.put("/api/v1/shifts", json=ROSTER, headers=bearer(role))
        assert refused.status_code == 403, role
        assert "'shifts:manage'" in refused.json()["message"]
    assert client.put("/api/v1/shifts", json=ROSTER, headers=bearer("admin")).status_code == 200
    read = client.get("/api/v1/shifts", headers=bearer("viewer")).json()
    assert read["shifts"] == [{"name": "day", "start": "00:00", "end": "00:00", "weekdays": [],
                               "members": ["analyst"]}]
    assert read["on_duty"]["name"] == "day"


@pytest.mark.parametrize(("shift", "problem"), [
    ({"name": "day", "start": "8am", "end": "20:00"}, "start must be HH:MM"),
    ({"name": "day", "start": "08:00", "end": "20:00", "weekdays": ["x"]}, "unknown weekday"),
    ({"name": "Day Shift", "start": "08:00", "end": "20:00"}, "shift name"),
])
def test_a_bad_roster_is_a_400_that_names_the_problem(
    bare_server: Api, shift: dict[str, object], problem: str
) -> None:
    answer = bare_server.client.put("/api/v1/shifts", json={"shifts": [shift]},
                                    headers=bare_server.bearer("admin"))
    assert answer.status_code == 400
    assert problem in answer.json()["message"]


def test_handover_lifecycle_over_the_api(bare_server: Api) -> None:
    client, bearer = bare_server.client, bare_server.bearer
    client.put("/api/v1/shifts", json=ROSTER, headers=bearer("admin"))
    refused = client.post("/api/v1/handovers", json={}, headers=bearer("viewer"))
    assert refused.status_code == 403
    made = client.post("/api/v1/handovers", json={}, headers=bearer("analyst"))
    assert made.status_code == 201, made.text
    handover = made.json()
    assert (handover["shift"], handover["author"]) == ("day", "analyst")
    number = handover["id"]
    markdown = client.get(f"/api/v1/handovers/{number}", params={"format": "markdown"},
                          headers=bearer("viewer"))
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text.startswith(f"# Handover {number}: shift day")
    page = client.get(f"/api/v1/handovers/{number}?format=html", headers=bearer("viewer"))
    assert page.headers["content-type"].startswith("text/html")
    listed = client.get("/api/v1/handovers", params={"q": "shift day"},
                        headers=bearer("viewer")).json()
    assert number in [h["id"] for h in listed["handovers"]]
    url = f"/api/v1/handovers/{number}/acknowledge"
    assert client.post(url, headers=bearer("viewer")).status_code == 403
    assert client.post(url, headers=bearer("analyst")).status_code == 409  # its author
    done = client.post(url, headers=bearer("responder"))
    assert done.json()["acknowledged_by"] == "responder"
    again = client.post(url, headers=bearer("admin"))
    assert again.status_code == 409
    assert again.json()["error"] == "ConflictError"


@pytest.mark.parametrize(("method", "path", "params", "json", "status"), [
    ("GET", "/api/v1/handovers/999999", {}, None, 404),
    ("GET", "/api/v1/handovers/0", {}, None, 422),
    ("GET", "/api/v1/handovers/1", {"format": "pdf"}, None, 422),
    ("GET", "/api/v1/handovers", {"since": "yesterday"}, None, 422),
    ("GET", "/api/v1/handovers", {"since": "2026-01-02T00:00:00Z",
                                  "until": "2026-01-01T00:00:00Z"}, None, 400),
    ("GET", "/api/v1/handovers", {"limit": "0"}, None, 422),
    ("POST", "/api/v1/handovers", {}, {"shift": "nosuch"}, 404),
    ("POST", "/api/v1/handovers/999999/acknowledge", {}, None, 404),
    ("PUT", "/api/v1/shifts", {}, {"shifts": "day"}, 422),
])
def test_bad_requests_get_clear_4xx_answers(
    bare_server: Api, method: str, path: str, params: dict[str, str],
    json: object, status: int,
) -> None:
    answer = bare_server.client.request(method, path, params=params, json=json,
                                        headers=bare_server.bearer("admin"))
    assert answer.status_code == status, answer.text
    assert answer.json()["message"]
