"""The handover page: write, read and take over a handover in a browser."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.conftest import sign_in
from tests.serverfixtures import Api
from watchkeeper.alerts.model import AlertRow


def test_write_read_and_acknowledge_in_the_browser(bare_server: Api) -> None:
    now = datetime.now(UTC)
    with bare_server.services.db.session() as session:
        session.add(AlertRow(
            rule_id="r", rule_title="<script>alert(1)</script>", level="critical",
            group_key="g" * 64, host="web-1", risk_score=90, first_seen=now, last_seen=now,
            first_event_id="e", first_ingested=now, created_at=now,
        ))
    viewer, analyst, responder = (sign_in(bare_server, r) for r in
                                  ("viewer", "analyst", "responder"))
    try:
        page = viewer.client.get("/handover")
        assert page.status_code == 200
        assert '<a href="/handover" aria-current="page">Handover</a>' in page.text
        assert "Write handover" not in page.text
        refused = viewer.client.post("/handover", data={"csrf_token": viewer.csrf})
        assert refused.status_code == 403
        no_token = analyst.client.post("/handover", data={}, follow_redirects=False)
        assert no_token.status_code == 403
        made = analyst.client.post("/handover", data={"csrf_token": analyst.csrf},
                                   follow_redirects=False)
        assert (made.status_code, made.headers["location"]) == (303, "/handover")
        page = responder.client.get("/handover")
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "Acknowledge: I take over" in page.text
        number = bare_server.services.audit.entries(object_type="handover")[0].object_id
        done = responder.client.post(f"/handover/{number}/acknowledge",
                                     data={"csrf_token": responder.csrf}, follow_redirects=False)
        assert done.status_code == 303
        page = viewer.client.get("/handover")
        assert "Acknowledged by <strong>responder</strong>" in page.text
        again = analyst.client.post(f"/handover/{number}/acknowledge",
                                    data={"csrf_token": analyst.csrf})
        assert again.status_code == 409
        assert "text/html" in again.headers["content-type"]
    finally:
        for browser in (viewer, analyst, responder):
            browser.client.close()
