"""The TAXII 2.1 server and the STIX export: shapes, TLP limits, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stix2  # type: ignore[import-untyped]

from tests.api.conftest import serving
from tests.serverfixtures import Api
from watchkeeper.auth.principal import SYSTEM
from watchkeeper.errors import PermissionDenied
from watchkeeper.intel.export import TLP_MARKINGS, stix_id
from watchkeeper.intel.model import FeedResult, IndicatorIn
from watchkeeper.intel.sharedstix import COLLECTIONS
from watchkeeper.intel.sharing import share_tlp

MEDIA = "application/taxii+json;version=2.1"
ROOT = "/taxii2/api"
INDICATORS = next(c.id for c in COLLECTIONS.values() if c.key == "indicators")
SIGHTINGS = next(c.id for c in COLLECTIONS.values() if c.key == "sightings")
OBJECTS = f"{ROOT}/collections/{INDICATORS}/objects/"
GREEN = stix_id("indicator", "ipv4:203.0.113.5")
AMBER = stix_id("indicator", "domain:evil.example")
CVE = stix_id("vulnerability", "CVE-2024-3094")
RED = stix_id("indicator", "ipv4:198.51.100.7")
STRICT = stix_id("indicator", "domain:strict.example")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with serving(tmp_path_factory.mktemp("taxii") / "data", rules=False) as api:
        intel = api.services.intel
        items = [IndicatorIn.of("ipv4", "203.0.113.5", "partner", tlp="green",
                                threat="Emotet", attack=("T1071",)),
                 IndicatorIn.of("domain", "evil.example", "partner", tlp="amber"),
                 IndicatorIn.of("cve", "CVE-2024-3094", "partner", tlp="clear"),
                 IndicatorIn.of("ipv4", "198.51.100.7", "partner", tlp="red"),
                 IndicatorIn.of("domain", "strict.example", "partner", tlp="amber+strict")]
        report = intel.ingest("system", FeedResult(items, []), "partner")
        intel.sight("analyst", report.new_ids[0], "seen", "on the proxy")
        intel.sight("analyst", report.new_ids[3], "seen", "red, never shared")
        yield api


def get(api: Api, path: str, role: str = "viewer", **params: Any) -> Any:
    answer = api.client.get(path, params=params, headers=api.bearer(role))
    assert answer.headers["content-type"] == MEDIA, answer.text
    return answer


def test_discovery_api_root_and_collections(shared: Api) -> None:
    discovery = get(shared, "/taxii2/").json()
    assert discovery["default"].endswith("/taxii2/api/")
    assert discovery["api_roots"] == [discovery["default"]]
    root = get(shared, f"{ROOT}/").json()
    assert root["versions"] == [MEDIA]
    assert root["max_content_length"] > 0
    listed = get(shared, f"{ROOT}/collections/").json()["collections"]
    assert {c["title"] for c in listed} == {"indicators", "sightings"}
    assert all(c["can_read"] and not c["can_write"] for c in listed)
    one = get(shared, f"{ROOT}/collections/{INDICATORS}/").json()
    assert one == next(c for c in listed if c["id"] == INDICATORS)


def test_objects_hold_what_the_tlp_limit_allows_and_nothing_else(shared: Api) -> None:
    answer = get(shared, OBJECTS)
    envelope = answer.json()
    assert envelope["more"] is False
    assert "next" not in envelope
    ids = [o["id"] for o in envelope["objects"]]
    assert len(ids) == len(set(ids))
    assert {GREEN, AMBER, CVE} <= set(ids)
    assert RED not in ids
    assert STRICT not in ids
    assert TLP_MARKINGS["red"] not in ids
    assert TLP_MARKINGS["amber+strict"] not in ids
    types = {o["type"] for o in envelope["objects"]}
    assert {"identity", "marking-definition", "malware", "attack-pattern",
            "relationship"} <= types
    green = next(o for o in envelope["objects"] if o["id"] == GREEN)
    assert green["object_marking_refs"] == [TLP_MARKINGS["green"]]
    assert answer.headers["X-TAXII-Date-Added-First"] <= answer.headers["X-TAXII-Date-Added-Last"]
    for obj in envelope["objects"]:
        stix2.parse(obj, allow_custom=True)


def test_small_pages_give_every_object_and_end(shared: Api) -> None:
    everything = {o["id"] for o in get(shared, OBJECTS).json()["objects"]}
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    for _ in range(50):
        envelope = get(shared, OBJECTS, **params).json()
        assert len(envelope.get("objects", [])) <= 2
        seen.extend(o["id"] for o in envelope.get("objects", []))
        if not envelope["more"]:
            break
        params["next"] = envelope["next"]
    else:
        pytest.fail("paging never ended")
    assert set(seen) == everything
    assert len(seen) > len(everything) / 2 + 1  # more than one page was needed


def test_added_after_the_last_date_added_gives_nothing(shared: Api) -> None:
    last = get(shared, OBJECTS).headers["X-TAXII-Date-Added-Last"]
    envelope = get(shared, OBJECTS, added_after=last).json()
    assert envelope == {"more": False}
    assert get(shared, OBJECTS, added_after="2000-01-01T00:00:00Z").json()["objects"]


def test_match_filters_manifest_and_single_objects(shared: Api) -> None:
    only = get(shared, OBJECTS, **{"match[type]": "indicator,vulnerability"}).json()
    assert {o["id"] for o in only["objects"]} == {GREEN, AMBER, CVE}
    by_id = get(shared, OBJECTS, **{"match[id]": AMBER}).json()["objects"]
    assert [o["id"] for o in by_id] == [AMBER]
    assert get(shared, OBJECTS, **{"match[spec_version]": "2.0"}).json() == {"more": False}
    manifest = get(shared, f"{ROOT}/collections/{INDICATORS}/manifest/").json()["objects"]
    objects = get(shared, OBJECTS).json()["objects"]
    assert [m["id"] for m in manifest] == [o["id"] for o in objects]
    record = next(m for m in manifest if m["id"] == GREEN)
    assert record["media_type"] == "application/stix+json;version=2.1"
    green = next(o for o in objects if o["id"] == GREEN)
    assert record["version"] == green["modified"]
    single = get(shared, f"{OBJECTS}{GREEN}/").json()
    assert single["objects"] == [green]
    versions = get(shared, f"{OBJECTS}{GREEN}/versions/").json()
    assert versions == {"more": False, "versions": [green["modified"]]}
    cve = next(o for o in objects if o["id"] == CVE)
    assert get(shared, f"{OBJECTS}{CVE}/").json()["objects"] == [cve]
    # looked up by id, what is not shared stays unknown
    for hidden in (RED, STRICT, stix_id("indicator", "ipv4:192.0.2.200")):
        assert get(shared, f"{OBJECTS}{hidden}/").status_code == 404


def test_the_sightings_collection_shares_sightings_of_shared_indicators(shared: Api) -> None:
    envelope = get(shared, f"{ROOT}/collections/{SIGHTINGS}/objects/").json()
    [sighting] = envelope["objects"]
    assert sighting["type"] == "sighting"
    assert sighting["sighting_of_ref"] == GREEN


def test_refusals_are_taxii_error_messages(shared: Api) -> None:
    client = shared.client
    anonymous = client.get(OBJECTS)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == MEDIA
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json()["http_status"] == "401"
    assert anonymous.json()["title"]
    owner = shared.user_ids["admin"]
    auth = shared.services.auth
    other = auth.issue_token(SYSTEM, owner, "api", "dashboard", scopes=["alerts:read"])[1]
    refused = client.get(OBJECTS, headers={"Authorization": f"Bearer {other}"})
    assert refused.status_code == 403
    assert refused.json()["http_status"] == "403"
    assert "'intel:share'" in refused.json()["description"]
    wrong = client.get(OBJECTS, headers={**shared.bearer("viewer"), "Accept": "text/html"})
    assert wrong.status_code == 406
    assert wrong.json()["http_status"] == "406"
    old = client.get(OBJECTS, headers={**shared.bearer("viewer"),
                                       "Accept": "application/taxii+json;version=2.0"})
    assert old.status_code == 406
    for path in (f"{ROOT}/collections/nope/", f"{ROOT}/collections/nope/objects/",
                 f"{OBJECTS}{RED}/", f"{OBJECTS}{STRICT}/versions/", "/taxii2/nowhere/"):
        missing = client.get(path, headers=shared.bearer("viewer"))
        assert missing.status_code == 404, path
        assert missing.headers["content-type"] == MEDIA
        assert missing.json()["http_status"] == "404"
    for params in ({"limit": "0"}, {"limit": "many"}, {"next": "nonsense"},
                   {"added_after": "yesterday"}):
        bad = client.get(OBJECTS, params=params, headers=shared.bearer("viewer"))
        assert bad.status_code == 400, params
        assert bad.json()["http_status"] == "400"


def test_collections_are_read_only(shared: Api) -> None:
    envelope = {"objects": [{"type": "indicator", "id": RED}]}
    written = shared.client.post(OBJECTS, json=envelope, headers={
        **shared.bearer("admin"), "Content-Type": "application/taxii+json;version=2.1"})
    assert written.status_code == 405
    assert written.headers["content-type"] == MEDIA
    assert written.json()["http_status"] == "405"
    assert "GET" in written.headers["allow"]


def test_a_partner_token_scoped_to_sharing_reads_taxii_and_nothing_else(shared: Api) -> None:
    auth = shared.services.auth
    owner = shared.user_ids["viewer"]
    token = auth.issue_token(SYSTEM, owner, "api", "partner", scopes=["intel:share"])[1]
    headers = {"Authorization": f"Bearer {token}", "Accept": MEDIA}
    assert shared.client.get(OBJECTS, headers=headers).status_code == 200
    assert shared.client.get("/api/v1/alerts", headers=headers).status_code == 403


def test_the_export_is_a_stix_bundle_within_the_limit(shared: Api) -> None:
    answer = shared.client.get("/api/v1/intel/export", headers=shared.bearer("viewer"))
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment")
    bundle = stix2.parse(answer.json(), allow_custom=True)
    ids = {o.id for o in bundle.objects}
    assert {GREEN, AMBER, CVE} <= ids
    assert not {RED, STRICT} & ids
    assert sum(1 for o in bundle.objects if o.type == "sighting") == 1
    green = shared.client.get("/api/v1/intel/export", params={"max_tlp": "green"},
                              headers=shared.bearer("viewer")).json()
    assert {GREEN, CVE} <= {o["id"] for o in green["objects"]}
    assert AMBER not in {o["id"] for o in green["objects"]}
    later = shared.client.get("/api/v1/intel/export", params={"since": "2100-01-01T00:00:00Z"},
                              headers=shared.bearer("viewer")).json()
    assert not any(o["type"] == "indicator" for o in later["objects"])
    for wider in ("red", "amber+strict"):
        refused = shared.client.get("/api/v1/intel/export", params={"max_tlp": wider},
                                    headers=shared.bearer("admin"))
        assert refused.status_code == 403, wider
        assert refused.json()["error"] == "PermissionDenied"


def test_a_request_may_narrow_the_limit_never_widen_it() -> None:
    assert share_tlp("amber") == "amber"
    assert share_tlp("amber", "TLP:GREEN") == "green"
    assert share_tlp("green", "white") == "clear"
    with pytest.raises(PermissionDenied):
        share_tlp("green", "amber")


def test_the_sharing_guide_names_the_collection_ids() -> None:
    from tests.serverfixtures import ROOT as PROJECT

    guide = (PROJECT / "docs" / "intel-sharing.md").read_text("utf-8")
    assert INDICATORS in guide
