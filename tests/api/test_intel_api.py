"""``/api/v1/intel``: indicators, imports, sightings, the allowlist and feeds, with the
refusals a caller gets for the wrong role or a bad body."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import serving
from tests.serverfixtures import Api

V = "/api/v1/intel"
BUNDLE = json.dumps({"type": "bundle", "id": "bundle--6f1c2b4e-8f5d-4c3a-9e2b-1a0b9c8d7e6f",
                     "objects": [{
                         "type": "indicator", "spec_version": "2.1",
                         "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd01",
                         "created": "2026-01-01T00:00:00Z", "modified": "2026-01-02T00:00:00Z",
                         "pattern": "[ipv4-addr:value = '198.51.100.77']",
                         "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}]})
ATTRIBUTE = {"type": "domain", "value": "bad.example.com", "to_ids": True,
             "uuid": "0b5d3a1e-2f4c-4d6e-8a9b-0c1d2e3f4aff"}
MISP = json.dumps({"Event": {"uuid": "0b5d3a1e-2f4c-4d6e-8a9b-0c1d2e3f4a01", "info": "wave",
                             "timestamp": "1700000000", "Attribute": [ATTRIBUTE]}})


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with serving(tmp_path_factory.mktemp("intel") / "data", rules=False,
                 intel={"builtin_warninglists": False}) as served:
        yield served


def call(api: Api, role: str, method: str, path: str, **kwargs: Any) -> Any:
    return api.client.request(method, V + path, headers=api.bearer(role), **kwargs)


def ok(answer: Any, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json() if status != 204 else None


def test_an_analyst_adds_searches_shows_sights_and_looks_up(api: Api) -> None:
    report = ok(call(api, "analyst", "POST", "/indicators", json={
        "kind": "ipv4", "value": "203.0.113.5", "confidence": 80, "tlp": "TLP:GREEN",
        "tags": ["c2"], "threat": "ExampleBot", "valid_until": "2099-01-01T00:00:00Z"}))
    assert report["new"] == 1
    assert report["source"] == "analyst:analyst"
    found = ok(call(api, "viewer", "GET", "/indicators", params={"q": "203.0.113.5"}))
    assert found["total"] == 1
    item = found["items"][0]
    assert item["tlp"] == "green"
    assert item["sources"] == ["analyst:analyst"]
    assert item["threat"] == "ExampleBot"
    assert item["active"] is True
    by_threat = ok(call(api, "viewer", "GET", "/indicators",
                        params={"q": "examplebot", "kind": "ipv4", "active": "true"}))
    assert [i["id"] for i in by_threat["items"]] == [item["id"]]
    sighted = ok(call(api, "analyst", "POST", f"/indicators/{item['id']}/sightings",
                      json={"kind": "false-positive", "note": "a scanner of ours"}))
    assert sighted["false_positives"] == 1
    shown = ok(call(api, "viewer", "GET", f"/indicators/{item['id']}"))
    assert shown["recent_sightings"][0]["kind"] == "false-positive"
    assert shown["recent_sightings"][0]["note"] == "a scanner of ours"
    api.services.intel.refresh()
    looked = ok(call(api, "viewer", "GET", "/lookup", params={"value": "203.0.113.5"}))
    assert [i["id"] for i in looked["items"]] == [item["id"]]
    stats = ok(call(api, "viewer", "GET", "/stats"))
    assert stats["by_source"]["analyst:analyst"] >= 1
    assert call(api, "viewer", "GET", "/indicators/999999").status_code == 404


@pytest.mark.parametrize(("body", "status", "reason"), [
    ({"kind": "ipv9", "value": "1"}, 422, "kind"),
    ({"kind": "ipv4", "value": "203.0.113.500"}, 422, "not a valid ipv4"),
    ({"kind": "ipv4", "value": "203.0.113.6", "tlp": "purple"}, 422, "unknown TLP"),
    ({"kind": "ipv4", "value": "203.0.113.6", "confidence": 101}, 422, "confidence"),
    ({"kind": "ipv4"}, 422, "value"),
])
def test_bad_indicators_are_refused_with_the_reason(api: Api, body: dict[str, Any],
                                                    status: int, reason: str) -> None:
    answer = call(api, "analyst", "POST", "/indicators", json=body)
    assert answer.status_code == status, answer.text
    assert reason in answer.text


def test_imports_of_every_format_report_their_problems(api: Api) -> None:
    stix = ok(call(api, "analyst", "POST", "/import", params={"source": "upload-stix"},
                   content=BUNDLE))
    assert stix["new"] == 1
    assert stix["problem_count"] == 0
    misp = ok(call(api, "analyst", "POST", "/import",
                   params={"source": "upload-misp", "format": "misp", "tlp": "red"},
                   content=MISP))
    assert misp["new"] == 1
    [domain] = api.services.intel.search("bad.example.com")[0]
    assert domain.tlp == "red"
    csv = ok(call(api, "analyst", "POST", "/import", params={
        "source": "upload-csv", "format": "csv", "kind": "ipv4", "column": "ip",
        "header": "true", "delimiter": ";"},
        content=b"when;ip\n2026-01-01;198.51.100.80\n2026-01-02;not-an-ip\n"))
    assert csv["new"] == 1
    assert csv["problem_count"] == 1
    assert "line 3" in csv["problems"][0]
    text = ok(call(api, "analyst", "POST", "/import", params={"source": "upload-text"},
                   content=b"198.51.100.81\nevil.example.org\n"))
    assert text["new"] == 2


@pytest.mark.parametrize(("params", "body", "status", "reason"), [
    ({"source": "x", "format": "stix"}, b'{"type": "bundle", "objects": [', 422, "not JSON"),
    ({"source": "x", "format": "yaml"}, b"a", 422, "format"),
    ({"source": "x", "format": "csv", "kind": "ipv9"}, b"a", 400, "ipv9"),
    ({"source": "x", "tlp": "purple"}, b"198.51.100.82\n", 422, "unknown TLP"),
    ({"source": "analyst:me"}, b"198.51.100.82\n", 400, "analyst"),
    ({}, b"198.51.100.82\n", 422, "source"),
])
def test_bad_imports_are_refused_with_the_reason(api: Api, params: dict[str, str], body: bytes,
                                                 status: int, reason: str) -> None:
    answer = call(api, "analyst", "POST", "/import", params=params, content=body)
    assert answer.status_code == status, answer.text
    assert reason in answer.text


def test_the_allowlist(api: Api) -> None:
    entry = ok(call(api, "analyst", "POST", "/allowlist", json={
        "kind": "domain", "value": "Intranet.Example.com.", "reason": "ours"}), 201)
    assert entry["value"] == "intranet.example.com"
    again = call(api, "analyst", "POST", "/allowlist",
                 json={"kind": "domain", "value": "intranet.example.com"})
    assert again.status_code == 409
    bad = call(api, "analyst", "POST", "/allowlist", json={"kind": "ipv4", "value": "x"})
    assert bad.status_code == 422
    assert "not a valid ipv4" in bad.text
    listed = ok(call(api, "viewer", "GET", "/allowlist"))
    assert [e["value"] for e in listed] == ["intranet.example.com"]
    ok(call(api, "analyst", "DELETE", f"/allowlist/{entry['id']}"), 204)
    assert call(api, "analyst", "DELETE", f"/allowlist/{entry['id']}").status_code == 404


def test_a_viewer_reads_but_cannot_change_anything(api: Api) -> None:
    for method, path, kwargs in (
            ("POST", "/indicators", {"json": {"kind": "ipv4", "value": "203.0.113.7"}}),
            ("POST", "/import", {"params": {"source": "x"}, "content": b"203.0.113.7\n"}),
            ("POST", "/indicators/1/sightings", {"json": {"kind": "seen"}}),
            ("POST", "/allowlist", {"json": {"kind": "ipv4", "value": "203.0.113.7"}}),
            ("DELETE", "/allowlist/1", {}),
            ("GET", "/feeds", {}),
            ("POST", "/feeds/any/run", {})):
        answer = call(api, "viewer", method, path, **kwargs)
        assert answer.status_code == 403, (method, path, answer.text)
        assert "intel:manage" in answer.json()["message"]


def test_feeds_need_an_admin_to_configure_and_an_analyst_to_run(api: Api,
                                                                tmp_path: Path) -> None:
    feed = tmp_path / "bundle.json"
    feed.write_text(BUNDLE)
    body = {"name": "local-stix", "type": "stix", "url": str(feed), "interval_s": 600,
            "secret": "feed-s3cret"}
    refused = call(api, "analyst", "POST", "/feeds", json=body)
    assert refused.status_code == 403
    assert "connectors:manage" in refused.text
    made = ok(call(api, "admin", "POST", "/feeds", json=body), 201)
    assert made["has_secret"] is True
    assert "feed-s3cret" not in json.dumps(made)
    assert call(api, "admin", "POST", "/feeds", json=body).status_code == 409
    listed = ok(call(api, "analyst", "GET", "/feeds"))
    assert [f["name"] for f in listed] == ["local-stix"]
    assert "feed-s3cret" not in str(listed)
    ran = ok(call(api, "analyst", "POST", "/feeds/local-stix/run"))
    assert ran["last_error"] is None
    assert ran["last_counts"]["received"] == 1
    assert ran["cursor"] == "2026-01-02T00:00:00Z"
    shown = ok(call(api, "analyst", "GET", "/feeds/local-stix"))
    assert shown["last_ok_at"] is not None
    assert call(api, "analyst", "PATCH", "/feeds/local-stix",
                json={"enabled": False}).status_code == 403
    patched = ok(call(api, "admin", "PATCH", "/feeds/local-stix",
                      json={"enabled": False, "remove_secret": True}))
    assert patched["enabled"] is False
    assert patched["has_secret"] is False
    assert call(api, "analyst", "DELETE", "/feeds/local-stix").status_code == 403
    ok(call(api, "admin", "DELETE", "/feeds/local-stix"), 204)
    assert call(api, "analyst", "GET", "/feeds/local-stix").status_code == 404


@pytest.mark.parametrize(("body", "status", "reason"), [
    ({"name": "Bad", "type": "stix", "url": "https://feeds.example.org/x"}, 422, "name"),
    ({"name": "x", "type": "rss", "url": "https://feeds.example.org/x"}, 422, "type"),
    ({"name": "x", "type": "stix", "url": "http://feeds.example.org/x"}, 400, "plain http"),
    ({"name": "x", "type": "taxii", "url": "https://taxii.example.org/"}, 400, "collection"),
    ({"name": "x", "type": "csv", "url": "https://feeds.example.org/x",
      "options": {"colour": "red"}}, 400, "colour"),
    ({"name": "x", "type": "stix", "url": "https://feeds.example.org/x",
      "interval_s": 1}, 422, "interval_s"),
])
def test_bad_feeds_are_refused_with_the_reason(api: Api, body: dict[str, Any], status: int,
                                               reason: str) -> None:
    answer = call(api, "admin", "POST", "/feeds", json=body)
    assert answer.status_code == status, answer.text
    assert reason in answer.text


def test_a_failing_feed_run_answers_with_its_error(api: Api, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "bundle", "objects": [')
    ok(call(api, "admin", "POST", "/feeds",
            json={"name": "broken", "type": "stix", "url": str(broken)}), 201)
    ran = ok(call(api, "analyst", "POST", "/feeds/broken/run"))
    assert "not JSON" in ran["last_error"]
    assert ran["cursor"] is None
