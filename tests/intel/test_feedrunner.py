"""Feeds on a schedule: configured, pulled from a web server on 127.0.0.1 and from files,
their failures recorded one by one, their cursors moved only by a good run."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from watchkeeper.audit.model import AuditEntry
from watchkeeper.audit.service import AuditLog
from watchkeeper.config import IntelSettings
from watchkeeper.errors import ConflictError, NotFoundError, UsageError
from watchkeeper.intel.feedrunner import FeedService
from watchkeeper.intel.model import FeedResult, IndicatorIn
from watchkeeper.intel.service import IntelService
from watchkeeper.response.secrets import SecretBox
from watchkeeper.state.db import StateDB

SECRET = "feed-s3cret-value-7f3a"
CAP = 64 << 10
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EVENT_A = "0b5d3a1e-2f4c-4d6e-8a9b-0c1d2e3f4a01"
EVENT_B = "0b5d3a1e-2f4c-4d6e-8a9b-0c1d2e3f4a02"


def stix_indicator(number: int, pattern: str, pattern_type: str = "stix") -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1",
            "id": f"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd{number:02d}",
            "created": "2026-01-01T00:00:00Z", "modified": f"2026-01-{number:02d}T00:00:00Z",
            "pattern": pattern, "pattern_type": pattern_type,
            "valid_from": "2026-01-01T00:00:00Z"}


def bundle(*objects: dict[str, Any]) -> bytes:
    return json.dumps({"type": "bundle", "id": "bundle--6f1c2b4e-8f5d-4c3a-9e2b-1a0b9c8d7e6f",
                       "objects": list(objects)}).encode()


GOOD_STIX = bundle(stix_indicator(3, "[ipv4-addr:value = '203.0.113.10']"),
                   stix_indicator(5, "[domain-name:value = 'c2.example.net']"))
ODD_STIX = bundle(stix_indicator(4, "[ipv4-addr:value = '203.0.113.11']"),
                  stix_indicator(6, "alert tcp any any -> any any", "snort"))
CSV = b"# ip,malware\n198.51.100.20,ExampleBot\n198.51.100.21,ExampleLoader\n"


def misp_event(uuid: str, stamp: int, value: str) -> bytes:
    return json.dumps({"Event": {
        "uuid": uuid, "info": "Example wave", "timestamp": str(stamp), "threat_level_id": "2",
        "Attribute": [{"uuid": f"{uuid[:-2]}ff", "type": "ip-dst", "value": value,
                       "to_ids": True, "timestamp": str(stamp)}]}}).encode()


def manifest(**stamps: int) -> bytes:
    return json.dumps({uuid: {"info": "x", "timestamp": stamp}
                       for uuid, stamp in stamps.items()}).encode()


class Site:
    """A web server on 127.0.0.1 answering from ``pages``; it records every request."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, bytes]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append((self.path, dict(self.headers)))
                status, body = site.pages.get(self.path, (404, b"not here"))
                self.send_response(status)
                if status in (301, 302):
                    self.send_header("Location", body.decode())
                    body = b""
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site() -> Iterator[Site]:
    served = Site()
    yield served
    served.close()


@pytest.fixture
def intel(state_db: StateDB) -> IntelService:
    return IntelService(state_db, AuditLog(state_db), IntelSettings(builtin_warninglists=False))


@pytest.fixture
def feeds(state_db: StateDB, intel: IntelService) -> FeedService:
    return FeedService(state_db, intel.audit, intel, SecretBox(SecretBox.generate_key()), CAP,
                       timeout=5)


def sources(intel: IntelService, name: str) -> set[str]:
    return {item.value for item in intel.search(source=name, limit=1000)[0]}


def audit_text(db: StateDB) -> str:
    with db.read() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        return json.dumps([[r.action, r.object_id, r.before, r.after] for r in rows],
                          default=str)


def test_good_feeds_of_every_file_type_import_and_move_their_cursor(
        feeds: FeedService, intel: IntelService, site: Site, tmp_path: Path) -> None:
    site.pages["/bundle.json"] = (200, GOOD_STIX)
    site.pages["/list.csv"] = (200, CSV)
    folder = tmp_path / "misp"
    folder.mkdir()
    (folder / "manifest.json").write_bytes(manifest(**{EVENT_A: 1700000000}))
    (folder / f"{EVENT_A}.json").write_bytes(misp_event(EVENT_A, 1700000000, "192.0.2.30"))
    feeds.add("admin", "stix-url", "stix", f"{site.url}/bundle.json")
    feeds.add("admin", "csv-url", "csv", f"{site.url}/list.csv",
              options={"kind": "ipv4", "threat_column": 1})
    feeds.add("admin", "misp-folder", "misp-feed", str(folder))
    done = {item["name"]: item for item in feeds.run_due(T0)}
    assert set(done) == {"stix-url", "csv-url", "misp-folder"}
    assert all(item["last_error"] is None for item in done.values()), done
    assert done["stix-url"]["cursor"] == "2026-01-05T00:00:00Z"
    assert done["stix-url"]["last_counts"]["new"] == 2
    assert done["misp-folder"]["cursor"] == "1700000000"
    assert done["csv-url"]["cursor"] is None
    assert sources(intel, "stix-url") == {"203.0.113.10", "c2.example.net"}
    assert sources(intel, "csv-url") == {"198.51.100.20", "198.51.100.21"}
    assert sources(intel, "misp-folder") == {"192.0.2.30"}
    assert done["csv-url"]["last_ok_at"] == T0
    # nothing is due again before its interval has passed
    assert feeds.run_due(T0 + timedelta(minutes=59)) == []
    assert len(feeds.run_due(T0 + timedelta(hours=1))) == 3


def test_bad_feeds_fail_one_by_one_and_keep_their_cursor(
        feeds: FeedService, intel: IntelService, site: Site, tmp_path: Path) -> None:
    site.pages["/good.json"] = (200, GOOD_STIX)
    site.pages["/odd.json"] = (200, ODD_STIX)
    site.pages["/broken.json"] = (200, b'{"type": "bundle", "objects": [')
    site.pages["/huge.txt"] = (200, b"198.51.100.9\n" * (CAP // 10))
    site.pages["/error.json"] = (500, b"oops")
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"203.0.113.99\n" * (CAP // 10))
    for name, path in (("a-good", "/good.json"), ("b-odd", "/odd.json"),
                       ("c-broken", "/broken.json"), ("e-error", "/error.json")):
        feeds.add("admin", name, "stix", site.url + path)
    feeds.add("admin", "d-huge", "text", site.url + "/huge.txt")
    feeds.add("admin", "f-huge-file", "text", str(huge))
    done = {item["name"]: item for item in feeds.run_due(T0)}
    assert done["a-good"]["last_error"] is None
    assert done["b-odd"]["last_error"] is None  # a feed with problems still succeeds
    assert done["b-odd"]["last_counts"]["problem_count"] == 1
    assert "snort" in done["b-odd"]["last_counts"]["problems"][0]
    assert "not JSON" in done["c-broken"]["last_error"]
    assert "larger than 0.0625 MB" in done["d-huge"]["last_error"]
    assert "larger than 0.0625 MB" in done["f-huge-file"]["last_error"]
    assert "HTTP 500" in done["e-error"]["last_error"]
    for name in ("c-broken", "d-huge", "e-error", "f-huge-file"):
        assert done[name]["cursor"] is None
        assert done[name]["last_ok_at"] is None
        assert done[name]["last_run_at"] == T0
    assert sources(intel, "a-good") == {"203.0.113.10", "c2.example.net"}
    # a good run later moves the cursor; a failed one after it leaves it
    site.pages["/broken.json"] = (200, GOOD_STIX)
    fixed = feeds.run("admin", "c-broken")
    assert fixed["last_error"] is None
    assert fixed["cursor"] == "2026-01-05T00:00:00Z"
    site.pages["/broken.json"] = (503, b"")
    again = feeds.run("admin", "c-broken")
    assert "HTTP 503" in again["last_error"]
    assert again["cursor"] == "2026-01-05T00:00:00Z"
    assert again["last_ok_at"] == fixed["last_ok_at"]


def test_an_unreachable_feed_times_out_or_is_refused(feeds: FeedService) -> None:
    feeds.add("admin", "nobody", "stix", "http://127.0.0.1:9/none.json")
    item = feeds.run("admin", "nobody")
    assert item["last_error"]
    assert "127.0.0.1:9" in item["last_error"]


def test_incremental_misp_feed_fetches_only_changed_events(
        feeds: FeedService, intel: IntelService, site: Site) -> None:
    site.pages["/feed/manifest.json"] = (200, manifest(**{EVENT_A: 1700000000,
                                                          EVENT_B: 1700000500}))
    site.pages[f"/feed/{EVENT_A}.json"] = (200, misp_event(EVENT_A, 1700000000, "192.0.2.40"))
    site.pages[f"/feed/{EVENT_B}.json"] = (200, misp_event(EVENT_B, 1700000500, "192.0.2.41"))
    feeds.add("admin", "misp", "misp-feed", f"{site.url}/feed/")
    first = feeds.run("admin", "misp")
    assert first["cursor"] == "1700000500"
    assert first["last_counts"]["new"] == 2
    assert sorted(site.paths()) == sorted(["/feed/manifest.json", f"/feed/{EVENT_A}.json",
                                           f"/feed/{EVENT_B}.json"])
    site.requests.clear()
    site.pages["/feed/manifest.json"] = (200, manifest(**{EVENT_A: 1700000000,
                                                          EVENT_B: 1700000900}))
    site.pages[f"/feed/{EVENT_B}.json"] = (200, misp_event(EVENT_B, 1700000900, "192.0.2.42"))
    second = feeds.run("admin", "misp")
    assert site.paths() == ["/feed/manifest.json", f"/feed/{EVENT_B}.json"]
    assert second["cursor"] == "1700000900"
    assert "192.0.2.42" in sources(intel, "misp")
    site.requests.clear()
    assert feeds.run("admin", "misp")["last_counts"]["received"] == 0
    assert site.paths() == ["/feed/manifest.json"]
    # an event that cannot be fetched fails the run: the cursor stays for the next one
    site.pages["/feed/manifest.json"] = (200, manifest(**{EVENT_A: 1700009999}))
    del site.pages[f"/feed/{EVENT_A}.json"]
    failed = feeds.run("admin", "misp")
    assert "HTTP 404" in failed["last_error"]
    assert failed["cursor"] == "1700000900"


def test_secrets_are_sent_but_never_listed_audited_or_logged(
        feeds: FeedService, site: Site, state_db: StateDB,
        caplog: pytest.LogCaptureFixture) -> None:
    site.pages["/bundle.json"] = (200, GOOD_STIX)
    site.pages["/private.json"] = (401, b"no")
    feeds.add("admin", "keyed", "stix", f"{site.url}/bundle.json", secret=SECRET,
              options={"auth_header": "X-Api-Key"})
    feeds.add("admin", "refused", "stix", f"{site.url}/private.json", secret=SECRET)
    caplog.set_level(logging.DEBUG)
    feeds.run("admin", "keyed")
    feeds.run("admin", "refused")
    assert site.requests[0][1]["X-Api-Key"] == SECRET
    assert site.requests[1][1]["Authorization"] == SECRET
    listed = json.dumps(feeds.list(), default=str)
    assert SECRET not in listed
    assert '"has_secret": true' in listed
    feeds.update("admin", "keyed", secret="another-s3cret-value")
    feeds.update("admin", "keyed", secret=None)
    assert feeds.get("keyed")["has_secret"] is False
    feeds.remove("admin", "refused")
    recorded = audit_text(state_db)
    assert "intel.feed.add" in recorded
    assert "intel.feed.run" in recorded
    assert "intel.feed.update" in recorded
    assert "intel.feed.remove" in recorded
    assert SECRET not in recorded
    assert "another-s3cret-value" not in recorded
    assert SECRET not in caplog.text
    with state_db.read() as session:
        assert SECRET not in json.dumps(session.execute(select(AuditEntry.after)).all(),
                                        default=str)


def test_an_error_that_repeats_the_secret_is_recorded_without_it(
        state_db: StateDB, intel: IntelService) -> None:
    def puller(url: str, collection: str, **kwargs: Any) -> FeedResult:
        raise RuntimeError(f"server said token {kwargs['token']} is wrong")

    feeds = FeedService(state_db, intel.audit, intel, SecretBox(SecretBox.generate_key()),
                        CAP, taxii_puller=puller)
    feeds.add("admin", "taxii", "taxii", "https://taxii.example.org/api/",
              options={"collection": "c-1"}, secret=SECRET)
    item = feeds.run("admin", "taxii")
    assert "***" in item["last_error"]
    assert SECRET not in item["last_error"]


def test_taxii_and_misp_api_pass_their_cursor_on(state_db: StateDB,
                                                 intel: IntelService) -> None:
    calls: list[dict[str, Any]] = []

    def puller(url: str, collection: str, **kwargs: Any) -> FeedResult:
        calls.append({"url": url, "collection": collection, **kwargs})
        result = FeedResult([IndicatorIn.of("ipv4", "203.0.113.50", kwargs["source"])], [])
        result.cursor = "2026-02-01T00:00:00Z"
        return result

    class Client:
        def __init__(self, url: str, key: str, **kwargs: Any) -> None:
            assert key == SECRET

        def search(self, **kwargs: Any) -> Any:
            calls.append(kwargs)
            return [json.loads(misp_event(EVENT_A, 1700000100, "192.0.2.60"))]

    feeds = FeedService(state_db, intel.audit, intel, SecretBox(SecretBox.generate_key()),
                        CAP, taxii_puller=puller, misp_client_factory=Client)
    feeds.add("admin", "taxii", "taxii", "https://taxii.example.org/api/",
              options={"collection": "c-1", "username": "me"}, secret=SECRET)
    feeds.add("admin", "misp", "misp-api", "https://misp.example.org",
              options={"verify_tls": False}, secret=SECRET)
    feeds.run("admin", "taxii")
    feeds.run("admin", "taxii")
    assert calls[0]["added_after"] is None
    assert calls[1]["added_after"] == "2026-02-01T00:00:00Z"
    assert calls[0]["username"] == "me"
    assert calls[0]["password"] == SECRET
    assert calls[0]["token"] is None
    assert calls[0]["source"] == "taxii"
    calls.clear()
    assert feeds.run("admin", "misp")["cursor"] == "1700000100"
    feeds.run("admin", "misp")
    assert calls[0]["timestamp"] is None
    assert calls[1]["timestamp"] == 1700000100
    assert sources(intel, "misp") == {"192.0.2.60"}


@pytest.mark.parametrize(("args", "options", "message"), [
    (("Bad Name", "stix", "https://feeds.example.org/a.json"), {}, "feed name"),
    (("x", "rss", "https://feeds.example.org/a"), {}, "unknown feed type"),
    (("x", "stix", "http://feeds.example.org/a.json"), {}, "plain http"),
    (("x", "stix", "https://user:pw@feeds.example.org/a.json"), {}, "no credentials"),
    (("x", "stix", "/no/such/file.json"), {}, "existing file"),
    (("x", "taxii", "/etc"), {"collection": "c"}, "https:// URL"),
    (("x", "taxii", "https://taxii.example.org/api/"), {}, "collection"),
    (("x", "misp-api", "https://misp.example.org"), {}, "API key"),
    (("x", "misp-api", "https://misp.example.org"), {"verify_tls": "no"}, "true or false"),
    (("x", "csv", "https://feeds.example.org/a.csv"), {"colour": 1}, "colour"),
    (("x", "csv", "https://feeds.example.org/a.csv"), {"kind": "ipv9"}, "ipv9"),
    (("x", "stix", "https://feeds.example.org/a.json"), {"collection": "c"}, "collection"),
])
def test_bad_configurations_are_refused_with_the_reason(
        feeds: FeedService, args: tuple[str, str, str], options: dict[str, Any],
        message: str) -> None:
    with pytest.raises(UsageError, match=message):
        feeds.add("admin", *args, options=options)


def test_names_are_unique_and_updates_restart_the_cursor(
        feeds: FeedService, site: Site) -> None:
    site.pages["/bundle.json"] = (200, GOOD_STIX)
    feeds.add("admin", "one", "stix", f"{site.url}/bundle.json", interval_s=600)
    with pytest.raises(ConflictError):
        feeds.add("admin", "one", "stix", f"{site.url}/bundle.json")
    with pytest.raises(UsageError, match="interval"):
        feeds.add("admin", "two", "stix", f"{site.url}/bundle.json", interval_s=5)
    assert feeds.run("admin", "one")["cursor"]
    assert feeds.update("admin", "one", interval_s=900)["cursor"]
    moved = feeds.update("admin", "one", url=f"{site.url}/bundle.json?v=2", enabled=False)
    assert moved["cursor"] is None
    assert moved["enabled"] is False
    assert feeds.run_due(T0 + timedelta(days=1)) == []  # disabled
    with pytest.raises(NotFoundError):
        feeds.run("admin", "nope")


def test_redirects_are_followed_only_within_the_feeds_origin(
        feeds: FeedService, site: Site) -> None:
    port = int(site.url.rsplit(":", 1)[1])
    site.pages["/moved.json"] = (302, b"http://feeds.example.org/bundle.json")
    site.pages["/secure.json"] = (302, b"https://collector.example.net/bundle.json")
    # the same machine on another port: a service the feed server must not reach through us
    site.pages["/local.json"] = (302, f"http://127.0.0.1:{port + 1}/x".encode())
    site.pages["/here.json"] = (302, b"/bundle.json")
    site.pages["/bundle.json"] = (200, GOOD_STIX)
    for name in ("moved", "secure", "local", "here"):
        feeds.add("admin", name, "stix", f"{site.url}/{name}.json",
                  secret="s3cr3t" if name != "here" else None)
    for name in ("moved", "secure", "local"):
        error = feeds.run("admin", name)["last_error"]
        assert "redirected to another origin" in error, error
        assert "s3cr3t" not in error
    assert feeds.run("admin", "here")["last_error"] is None


def test_one_pull_of_a_feed_at_a_time(state_db: StateDB, intel: IntelService) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(url: str, collection: str, **kwargs: Any) -> FeedResult:
        entered.set()
        assert release.wait(10)
        return FeedResult([], [], cursor="2025-01-01T00:00:00Z")

    feeds = FeedService(state_db, intel.audit, intel, SecretBox(SecretBox.generate_key()),
                        CAP, taxii_puller=slow)
    feeds.add("admin", "slow", "taxii", "https://taxii.example.org/api/",
              options={"collection": "c-1"}, secret=SECRET)
    first = threading.Thread(target=feeds.run, args=("admin", "slow"))
    first.start()
    try:
        assert entered.wait(10)
        with pytest.raises(ConflictError, match="being pulled already"):
            feeds.run("admin", "slow")
        assert feeds.run_due(T0 + timedelta(days=1)) == []
    finally:
        release.set()
        first.join(10)
    assert feeds.get("slow")["cursor"] == "2025-01-01T00:00:00Z"
    assert feeds.run("admin", "slow")["last_error"] is None
