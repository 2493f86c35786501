"""The TAXII 2.1 client: against scripted answers, then against this project's own server
over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from tests.serverfixtures import Api, make_settings, open_api
from watchkeeper.api.app import create_app
from watchkeeper.auth.principal import SYSTEM
from watchkeeper.errors import InputError
from watchkeeper.intel.export import stix_id
from watchkeeper.intel.model import FeedResult, IndicatorIn, Kind
from watchkeeper.intel.taxii import TAXII_MEDIA, pull_taxii

BASE = "https://taxii.example"
TOKEN = "wk_secret-token-value"
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"


def indicator(value: str, modified: str = "2024-05-01T00:00:00.000Z") -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1", "id": stix_id("indicator", value),
            "created": "2024-01-01T00:00:00.000Z", "modified": modified,
            "pattern": f"[ipv4-addr:value = '{value}']", "pattern_type": "stix",
            "valid_from": "2024-01-01T00:00:00Z"}


def taxii(body: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(),
                          headers={"content-type": TAXII_MEDIA, **headers})


PAGES = {
    None: taxii({"more": True, "next": "p2", "objects": [indicator("192.0.2.1")]},
                **{"X-TAXII-Date-Added-First": "2024-05-01T00:00:00.000001Z",
                   "X-TAXII-Date-Added-Last": "2024-05-01T00:00:00.000002Z"}),
    "p2": taxii({"more": False, "objects": [indicator("192.0.2.2")]},
                **{"X-TAXII-Date-Added-First": "2024-05-02T00:00:00.000001Z",
                   "X-TAXII-Date-Added-Last": "2024-05-02T10:00:00.123456Z"}),
}


@dataclass
class Partner:
    """A scripted TAXII server; ``seen`` keeps every request."""

    pages: dict[str | None, httpx.Response]
    seen: list[httpx.Request]
    override: Callable[[httpx.Request], httpx.Response | None] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if self.override is not None and (answer := self.override(request)) is not None:
            return answer
        path = request.url.path
        if path == "/taxii2/":
            return taxii({"title": "partner", "default": "/api1/", "api_roots": ["/api1/"]})
        if path == "/api1/collections/":
            return taxii({"collections": [{"id": COLLECTION, "title": "Partner IOCs",
                                           "can_read": True, "can_write": False}]})
        if path == f"/api1/collections/{COLLECTION}/objects/":
            return self.pages[request.url.params.get("next")]
        return taxii({"title": "Not found", "http_status": "404"}, 404)


def pull(partner: Partner, url: str = f"{BASE}/taxii2/", collection: str = COLLECTION,
         **options: Any) -> FeedResult:
    return pull_taxii(url, collection, source="partner", token=TOKEN,
                      transport=httpx.MockTransport(partner), **options)


def test_pages_are_followed_and_the_cursor_is_the_last_date_added() -> None:
    partner = Partner(PAGES, [])
    result = pull(partner, collection="Partner IOCs", added_after="2024-04-01T00:00:00Z")
    assert [i.value for i in result.indicators] == ["192.0.2.1", "192.0.2.2"]
    assert result.cursor == "2024-05-02T10:00:00.123456Z"
    objects = [r for r in partner.seen if r.url.path.endswith("/objects/")]
    assert [r.url.params.get("next") for r in objects] == [None, "p2"]
    assert all(r.url.params["added_after"] == "2024-04-01T00:00:00Z" for r in objects)
    assert all(r.headers["accept"] == TAXII_MEDIA for r in partner.seen)
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in partner.seen)


def test_an_api_root_is_used_as_given_and_max_pages_bounds_the_pull() -> None:
    endless = {None: PAGES[None], "p2": taxii({"more": True, "next": "p2",
                                               "objects": [indicator("192.0.2.2")]})}

    def root(request: httpx.Request) -> httpx.Response | None:
        return taxii({"title": "root", "versions": [TAXII_MEDIA]}) \
            if request.url.path == "/api1/" else None

    partner = Partner(endless, [], root)
    result = pull(partner, url=f"{BASE}/api1/", max_pages=4)
    assert len(result.indicators) == 4
    assert not any(r.url.path == "/taxii2/" for r in partner.seen)


def test_without_date_headers_the_cursor_is_the_newest_object() -> None:
    pages = {None: taxii({"more": False, "objects": [
        indicator("192.0.2.1", "2024-06-01T00:00:00.000Z"),
        indicator("192.0.2.2", "2024-07-01T00:00:00.000Z")]})}
    assert pull(Partner(pages, [])).cursor == "2024-07-01T00:00:00.000Z"
    empty = {None: taxii({"more": False})}
    assert pull(Partner(empty, []), added_after="2024-01-01T00:00:00Z").cursor \
        == "2024-01-01T00:00:00Z"


@pytest.mark.parametrize(("answer", "says"), [
    (taxii({"title": "Unauthorized", "http_status": "401"}, 401), "HTTP 401: Unauthorized"),
    (httpx.Response(500, text="boom"), "HTTP 500"),
    (httpx.Response(200, text="<html>hi</html>", headers={"content-type": "text/html"}),
     "not TAXII content"),
    (httpx.Response(200, text="{nope", headers={"content-type": TAXII_MEDIA}), "not JSON"),
    (taxii({"more": False, "objects": "many"}), "not a list"),
])
def test_errors_name_the_url_and_status_never_the_token(answer: httpx.Response,
                                                        says: str) -> None:
    partner = Partner({None: answer}, [])
    with pytest.raises(InputError) as caught:
        pull(partner)
    assert says in str(caught.value)
    assert f"/api1/collections/{COLLECTION}/objects/" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_unknown_collections_and_oversized_answers_are_refused() -> None:
    with pytest.raises(InputError, match="no collection 'other'"):
        pull(Partner(PAGES, []), collection="other")
    with pytest.raises(InputError, match="larger than 100 bytes"):
        pull(Partner(PAGES, []), max_bytes=100)


def test_redirects_stay_on_the_host_and_plain_http_only_on_loopback() -> None:
    def moved(target: str) -> Callable[[httpx.Request], httpx.Response | None]:
        def answer(request: httpx.Request) -> httpx.Response | None:
            if request.url.path == "/old/":
                return httpx.Response(301, headers={"location": target})
            return None
        return answer

    same = Partner(PAGES, [], moved(f"{BASE}/taxii2/"))
    assert len(pull(same, url=f"{BASE}/old/").indicators) == 2
    elsewhere = Partner(PAGES, [], moved("https://attacker.example/taxii2/"))
    with pytest.raises(InputError, match="redirect to another host"):
        pull(elsewhere, url=f"{BASE}/old/")
    assert not any(r.url.host == "attacker.example" for r in elsewhere.seen)
    with pytest.raises(InputError, match="https"):
        pull(Partner(PAGES, []), url="http://taxii.example/taxii2/")
    local = Partner(PAGES, [])
    assert len(pull(local, url="http://127.0.0.1:9/taxii2/").indicators) == 2


def test_an_api_root_on_another_origin_gets_no_credentials() -> None:
    def discovery(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/taxii2/":
            return taxii({"title": "partner", "default": "https://grab.example/root/"})
        return None

    partner = Partner(PAGES, [], discovery)
    with pytest.raises(InputError, match="another origin"):
        pull(partner)
    assert [r.url.host for r in partner.seen] == [urlsplit(BASE).hostname]


# against this project's own TAXII server, over HTTP ------------------------------------


@dataclass
class Served:
    api: Api
    url: str
    token: str

    def add(self, *items: IndicatorIn) -> None:
        self.api.services.intel.ingest("system", FeedResult(list(items), []), "partner-a")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder: Path = tmp_path_factory.mktemp("taxii-live") / "data"
    for api in open_api(make_settings(folder, rules={"paths": []})):
        config = uvicorn.Config(create_app(api.services), host="127.0.0.1", port=0,
                                log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        token = api.services.auth.issue_token(SYSTEM, api.user_ids["viewer"], "api",
                                              "partner", scopes=["intel:share"])[1]
        try:
            yield Served(api, f"http://127.0.0.1:{port}/taxii2/", token)
        finally:
            server.should_exit = True
            thread.join(10)


class Limited(httpx.BaseTransport):
    """Real HTTP, asking for ``limit`` objects per page and counting the pages."""

    def __init__(self, limit: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.limit = limit
        self.pages = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/objects/"):
            self.pages += 1
            request.url = request.url.copy_add_param("limit", str(self.limit))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def shared_values(result: FeedResult) -> set[tuple[Kind, str, str]]:
    return {(i.kind, i.value, i.tlp) for i in result.indicators}


def test_what_one_server_shares_another_pulls_page_by_page(served: Served) -> None:
    served.add(IndicatorIn.of("ipv4", "203.0.113.10", "partner-a", tlp="green",
                              threat="Emotet", attack=("T1071",)),
               IndicatorIn.of("domain", "bad.example", "partner-a", tlp="amber"),
               IndicatorIn.of("sha256", "ab" * 32, "partner-a", tlp="clear"),
               IndicatorIn.of("url", "https://bad.example/x", "partner-a", tlp="green"),
               IndicatorIn.of("ipv4", "198.51.100.20", "partner-a", tlp="red"),
               IndicatorIn.of("domain", "strict.example", "partner-a", tlp="amber+strict"))
    expected = {(Kind.IPV4, "203.0.113.10", "green"), (Kind.DOMAIN, "bad.example", "amber"),
                (Kind.SHA256, "ab" * 32, "clear"), (Kind.URL, "https://bad.example/x", "green")}
    whole = pull_taxii(served.url, "indicators", source="server-a", token=served.token)
    assert shared_values(whole) == expected
    assert whole.problems == []
    emotet = next(i for i in whole.indicators if i.value == "203.0.113.10")
    assert emotet.threat == "Emotet"
    assert emotet.attack == ("T1071",)
    small = Limited(2)
    paged = pull_taxii(served.url, "indicators", source="server-a", token=served.token,
                       transport=small)
    assert shared_values(paged) == expected
    assert small.pages > 4
    assert paged.cursor == whole.cursor


def test_a_second_pull_after_the_cursor_gets_only_what_is_new(served: Served) -> None:
    first = pull_taxii(served.url, "indicators", source="server-a", token=served.token)
    assert first.cursor is not None
    served.add(IndicatorIn.of("ipv4", "203.0.113.77", "partner-a", tlp="clear"))
    second = pull_taxii(served.url, "indicators", source="server-a", token=served.token,
                        added_after=first.cursor)
    assert shared_values(second) == {(Kind.IPV4, "203.0.113.77", "clear")}
    assert second.cursor is not None
    assert second.cursor > first.cursor
    third = pull_taxii(served.url, "indicators", source="server-a", token=served.token,
                       added_after=second.cursor)
    assert third.indicators == []
    assert third.cursor == second.cursor


def test_the_server_refuses_a_pull_without_the_right_token(served: Served) -> None:
    with pytest.raises(InputError, match="HTTP 401") as caught:
        pull_taxii(served.url, "indicators", source="server-a", token="wk_wrong")
    assert "wk_wrong" not in str(caught.value)
    auth = served.api.services.auth
    other = auth.issue_token(SYSTEM, served.api.user_ids["viewer"], "api", "dash",
                             scopes=["alerts:read"])[1]
    with pytest.raises(InputError, match="HTTP 403"):
        pull_taxii(served.url, "indicators", source="server-a", token=other)


def test_a_taxii_feed_on_another_server_pulls_what_is_shared_incrementally(
        served: Served, tmp_path: Path) -> None:
    """Server B keeps a ``taxii`` feed of server A's collection: its first run imports what
    A shares (never what A keeps to itself), its next run only what A added since."""
    from watchkeeper.intel.feedrunner import open_feed_service

    served.add(IndicatorIn.of("domain", "feed-e2e.example", "partner-a", tlp="green"),
               IndicatorIn.of("domain", "kept-inside.example", "partner-a", tlp="red"))
    for other in open_api(make_settings(tmp_path / "b", rules={"paths": []})):
        feeds = open_feed_service(other.services.settings, other.services.db,
                                  other.services.audit, other.services.intel)
        feeds.add("admin", "server-a", "taxii", served.url,
                  options={"collection": "indicators"}, secret=served.token)
        first = feeds.run("admin", "server-a")
        assert first["last_error"] is None, first
        got, _ = other.services.intel.search("feed-e2e.example")
        assert [(i.value, i.tlp, i.sources) for i in got] == [
            ("feed-e2e.example", "green", ("server-a",))]
        assert other.services.intel.search("kept-inside.example")[1] == 0
        served.add(IndicatorIn.of("domain", "later.example", "partner-a", tlp="clear"))
        second = feeds.run("admin", "server-a")
        assert second["last_error"] is None, second
        assert second["cursor"] > first["cursor"]
        assert (second["last_counts"]["new"], second["last_counts"]["received"]) == (1, 1)
        assert other.services.intel.search("later.example")[1] == 1
        assert served.token not in str(feeds.list())
