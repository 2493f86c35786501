"""The indicator store: one row per value across sources, provenance, suppression by warning
lists and the allowlist, withdrawal, decay, sightings, lookups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from watchkeeper.audit.service import AuditLog
from watchkeeper.config import IntelSettings
from watchkeeper.errors import NotFoundError, UsageError
from watchkeeper.intel.model import FeedResult, IndicatorIn, Kind
from watchkeeper.intel.service import IntelService
from watchkeeper.state.db import StateDB

NOW = datetime.now(UTC)


@pytest.fixture
def intel(state_db: StateDB) -> IntelService:
    return IntelService(state_db, AuditLog(state_db), IntelSettings())


def feed(*items: IndicatorIn, withdrawn: list[tuple[Kind, str]] | None = None) -> FeedResult:
    return FeedResult(list(items), [], withdrawn=withdrawn or [])


def one(intel: IntelService, value: str) -> dict[str, object]:
    found, total = intel.search(value)
    assert total == 1, found
    item = found[0]
    return {"kind": item.kind.value, "confidence": item.confidence, "tlp": item.tlp,
            "sources": sorted(item.sources), "active": item.active, "tags": item.tags,
            "threat": item.threat, "score": item.score, "id": item.id}


def test_a_value_from_two_sources_is_one_indicator_with_both_claims(
        intel: IntelService) -> None:
    first = intel.ingest("alice", feed(IndicatorIn.of(
        "domain", "Evil.Example.", "feed-a", confidence=60, tlp="green", tags=("c2",))),
        "feed-a")
    second = intel.ingest("alice", feed(IndicatorIn.of(
        "domain", "evil.example", "feed-b", confidence=90, tlp="TLP:AMBER",
        tags=("botnet",), threat="Emotet")), "feed-b")
    assert (first.new, first.updated, second.new, second.updated) == (1, 0, 0, 1)
    got = one(intel, "evil.example")
    assert got["confidence"] == 90
    assert got["tlp"] == "amber"
    assert got["sources"] == ["feed-a", "feed-b"]
    assert got["tags"] == ("botnet", "c2")
    assert got["threat"] == "Emotet"
    assert got["active"] is True


def test_a_feed_lowering_its_confidence_lowers_the_indicator(intel: IntelService) -> None:
    intel.ingest("a", feed(IndicatorIn.of("ipv4", "203.0.113.9", "f", confidence=90)), "f")
    intel.ingest("a", feed(IndicatorIn.of("ipv4", "203.0.113.9", "f", confidence=40)), "f")
    assert one(intel, "203.0.113.9")["confidence"] == 40


def test_values_on_warning_lists_are_kept_but_never_match(intel: IntelService) -> None:
    report = intel.ingest("a", feed(
        IndicatorIn.of("ipv4", "8.8.8.8", "f", confidence=90),
        IndicatorIn.of("ipv4", "10.1.2.3", "f", confidence=90),
        IndicatorIn.of("ipv4", "203.0.113.10", "f", confidence=90)), "f")
    assert report.suppressed == 2
    assert report.new == 3
    assert one(intel, "8.8.8.8")["active"] is False
    assert one(intel, "203.0.113.10")["active"] is True
    intel.refresh()
    assert intel.snapshot.matcher.size == 1
    found, _ = intel.search("10.1.2.3")
    assert found[0].active is False


def test_the_allowlist_stops_and_restores_matching(intel: IntelService) -> None:
    intel.ingest("a", feed(IndicatorIn.of("domain", "partner.example", "f", confidence=80)),
                 "f")
    entry = intel.allow("alice", "domain", "PARTNER.example", "our supplier")
    assert one(intel, "partner.example")["active"] is False
    with pytest.raises(UsageError, match="already on the allowlist"):
        intel.allow("alice", "domain", "partner.example", "again")
    # a later import does not bring it back while it is allowed
    intel.ingest("a", feed(IndicatorIn.of("domain", "partner.example", "f", confidence=80)),
                 "f")
    assert one(intel, "partner.example")["active"] is False
    intel.disallow("alice", int(str(entry["id"])))
    assert one(intel, "partner.example")["active"] is True
    with pytest.raises(NotFoundError):
        intel.disallow("alice", 999)


def test_a_withdrawn_value_stops_matching_when_no_source_still_backs_it(
        intel: IntelService) -> None:
    shared = IndicatorIn.of("sha256", "ab" * 32, "x", confidence=70)
    intel.ingest("a", feed(shared), "feed-a")
    intel.ingest("a", feed(shared), "feed-b")
    report = intel.ingest("a", feed(withdrawn=[(Kind.SHA256, "ab" * 32)]), "feed-a")
    assert report.withdrawn == 1
    got = one(intel, "ab" * 32)
    assert got["sources"] == ["feed-b"]
    assert got["active"] is True
    intel.ingest("a", feed(withdrawn=[(Kind.SHA256, "ab" * 32)]), "feed-b")
    assert one(intel, "ab" * 32)["active"] is False


def test_old_and_expired_indicators_do_not_match(intel: IntelService) -> None:
    intel.ingest("a", feed(
        IndicatorIn.of("ipv4", "203.0.113.20", "f", confidence=90,
                       last_seen=NOW - timedelta(days=400)),
        IndicatorIn.of("ipv4", "203.0.113.21", "f", confidence=90,
                       valid_until=NOW - timedelta(hours=1)),
        IndicatorIn.of("ipv4", "203.0.113.22", "f", confidence=90)), "f")
    assert one(intel, "203.0.113.20")["active"] is False
    assert one(intel, "203.0.113.21")["active"] is False
    assert one(intel, "203.0.113.22")["active"] is True
    # an IPv4 indicator's lifetime is 30 days: long after, the hourly pass retires it
    assert intel.retire(NOW + timedelta(days=45)) == 1
    assert one(intel, "203.0.113.22")["active"] is False


def test_sightings_restart_decay_and_a_false_positive_stops_matching(
        intel: IntelService) -> None:
    intel.ingest("a", feed(IndicatorIn.of("ipv4", "203.0.113.30", "f", confidence=60,
                                          last_seen=NOW - timedelta(days=20))), "f")
    before = one(intel, "203.0.113.30")
    seen = intel.sight("bob", int(str(before["id"])), "seen", "in the proxy logs")
    assert seen.sightings == 1
    assert seen.score > float(str(before["score"]))
    marked = intel.sight("bob", seen.id, "false-positive", "our own scanner")
    assert marked.false_positives == 1
    assert marked.active is False
    assert [s.kind for s in intel.sightings(seen.id)] == ["false-positive", "seen"]
    with pytest.raises(UsageError, match="unknown sighting"):
        intel.sight("bob", seen.id, "maybe")
    with pytest.raises(NotFoundError):
        intel.sight("bob", 12345, "seen")


def test_lookup_finds_exact_values_networks_and_parent_domains(intel: IntelService) -> None:
    intel.ingest("a", feed(
        IndicatorIn.of("cidr", "198.51.100.0/24", "f", confidence=80),
        IndicatorIn.of("domain", "evil.example", "f", confidence=80)), "f")
    intel.refresh()
    assert [i.value for i in intel.lookup("198.51.100.77")] == ["198.51.100.0/24"]
    assert [i.value for i in intel.lookup("cdn.evil.example")] == ["evil.example"]
    assert intel.lookup("192.0.2.1") == []
    assert intel.lookup("not a thing") == []


def test_stats_count_by_kind_and_source(intel: IntelService) -> None:
    intel.ingest("a", feed(
        IndicatorIn.of("ipv4", "203.0.113.40", "f"), IndicatorIn.of("ipv4", "8.8.4.4", "f"),
        IndicatorIn.of("url", "http://bad.test/a", "f")), "f")
    stats = intel.stats()
    assert stats["total"] == 3
    assert stats["active"] == 2
    assert stats["suppressed"] == 1
    assert stats["by_kind"]["ipv4"] == {"total": 2, "active": 1}
    assert stats["by_source"] == {"f": 3}


def test_case_observables_carry_the_indicators_they_match(
        intel: IntelService, state_db: StateDB) -> None:
    from watchkeeper.assets.service import AssetService
    from watchkeeper.cases.observables import ObservableService
    from watchkeeper.cases.service import CaseService, NewCase
    from watchkeeper.response.lookups import ServerLookups
    from watchkeeper.store.memory import MemoryEventStore

    intel.ingest("a", feed(IndicatorIn.of("cidr", "198.51.100.0/24", "f", confidence=80,
                                          threat="Scanner")), "f")
    intel.refresh()
    audit = AuditLog(state_db)
    lookups = ServerLookups(AssetService(state_db, audit), MemoryEventStore(), intel)
    observables = ObservableService(state_db, audit, None, lookups.indicator)
    case = CaseService(state_db, audit).create("alice", NewCase(title="Scan"))
    hit = observables.add("alice", case["id"], "ip", "198.51.100.7")
    miss = observables.add("alice", case["id"], "ip", "192.0.2.7")
    user = observables.add("alice", case["id"], "user", "bob")
    assert [(m["value"], m["threat"], m["sources"]) for m in hit["intel"]["matches"]] == [
        ("198.51.100.0/24", "Scanner", ["f"])]
    assert miss["intel"] is None
    assert user["intel"] is None


def test_a_withdrawn_sources_context_leaves_with_it(intel: IntelService) -> None:
    """What a TLP:RED source said must not stay on the indicator, shared at green, once
    that source withdraws."""
    value = "203.0.113.60"
    intel.ingest("a", feed(IndicatorIn.of("ipv4", value, "isac", tlp="red", confidence=90,
                                          threat="internal-op", tags=("victim:acme",),
                                          description="secret: victim ACME")), "isac")
    intel.ingest("a", feed(IndicatorIn.of("ipv4", value, "osint", tlp="green",
                                          confidence=50)), "osint")
    merged = intel.get(int(str(one(intel, value)["id"])))
    assert (merged.tlp, merged.threat, merged.tags) == ("red", "internal-op",
                                                         ("victim:acme",))
    intel.ingest("a", feed(withdrawn=[(Kind.IPV4, value)]), "isac")
    left = intel.get(merged.id)
    assert (left.tlp, left.confidence, left.sources) == ("green", 50, ("osint",))
    assert (left.threat, left.tags, left.description) == (None, (), "")


def test_validity_is_each_sources_claim(intel: IntelService) -> None:
    ended = NOW - timedelta(hours=1)
    intel.ingest("a", feed(IndicatorIn.of("domain", "short.example", "a", confidence=80,
                                          valid_until=ended)), "a")
    assert one(intel, "short.example")["active"] is False
    # another source lists it with no end: it is asserted now, whatever "a" said
    intel.ingest("a", feed(IndicatorIn.of("domain", "short.example", "b", confidence=80)),
                 "b")
    assert one(intel, "short.example")["active"] is True
    # and a source that ends its own claim does not end the other's
    intel.ingest("a", feed(IndicatorIn.of("domain", "long.example", "a", confidence=80)), "a")
    intel.ingest("a", feed(IndicatorIn.of("domain", "long.example", "b", confidence=80,
                                          valid_until=ended)), "b")
    assert one(intel, "long.example")["active"] is True


def test_a_feed_pulled_again_unchanged_writes_nothing(intel: IntelService) -> None:
    items = [IndicatorIn.of("ipv4", f"203.0.113.{n}", "f", confidence=70) for n in range(1, 40)]
    first = intel.ingest("a", FeedResult(items, []), "f")
    stamp = intel.get(first.new_ids[0]).updated_at
    again = intel.ingest("a", FeedResult(items, []), "f")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 39)
    assert intel.get(first.new_ids[0]).updated_at == stamp


def test_a_value_revoked_and_reissued_in_one_feed_stays(intel: IntelService) -> None:
    reissued = IndicatorIn.of("ipv4", "203.0.113.5", "f", confidence=80)
    intel.ingest("a", feed(reissued, withdrawn=[(Kind.IPV4, "203.0.113.5")]), "f")
    assert one(intel, "203.0.113.5")["active"] is True


def test_networks_too_broad_and_single_addresses(intel: IntelService) -> None:
    intel.ingest("a", feed(IndicatorIn.of("cidr", "0.0.0.0/0", "f", confidence=90),
                           IndicatorIn.of("cidr", "2001:db8::/16", "f", confidence=90),
                           IndicatorIn.of("cidr", "203.0.113.70/32", "f", confidence=90)), "f")
    found, total = intel.search("", kind="cidr")
    assert total == 2
    assert {(i.value, i.active) for i in found} == {("0.0.0.0/0", False),
                                                      ("2001::/16", False)}
    assert one(intel, "203.0.113.70")["kind"] == "ipv4"


def test_the_allowlist_reaches_values_under_indicators_and_lists_stay(
        intel: IntelService) -> None:
    import polars as pl

    intel.ingest("a", feed(IndicatorIn.of("domain", "cdn.example", "f", confidence=90),
                           IndicatorIn.of("ipv4", "8.8.8.8", "f", confidence=90)), "f")
    intel.refresh()
    events = pl.DataFrame({"dns.question.name": ["a.cdn.example", "b.cdn.example"]})
    assert intel.match(events).height == 2
    intel.allow("alice", "domain", "a.cdn.example", "our own edge")
    assert intel.refresh() is True
    assert intel.match(events)["row"].to_list() == [1]
    # lifting an allowlist entry does not lift a warning list
    entry = intel.allow("alice", "ipv4", "8.8.8.8", "resolver")
    intel.disallow("alice", int(str(entry["id"])))
    found = intel.get(int(str(one(intel, "8.8.8.8")["id"])))
    assert found.active is False
    assert intel.stats()["suppressed"] == 1


def test_lookup_of_a_32_digit_digest_asks_md5_and_ja3(intel: IntelService) -> None:
    intel.ingest("a", feed(IndicatorIn.of("ja3", "E7D705A3286E19EA42F587B344EE6865", "f")),
                 "f")
    assert [i.kind.value for i in intel.lookup("e7d705a3286e19ea42f587b344ee6865")] == ["ja3"]


def test_an_indicator_matching_again_is_hunted_again(
        intel: IntelService, state_db: StateDB) -> None:
    from sqlalchemy import update

    from watchkeeper.intel.store_model import IndicatorRow

    made = intel.ingest("a", feed(IndicatorIn.of("domain", "back.example", "f",
                                                 confidence=100)), "f").new_ids[0]
    with state_db.session() as session:
        session.execute(update(IndicatorRow).values(hunted_at=NOW))
    intel.ingest("a", feed(withdrawn=[(Kind.DOMAIN, "back.example")]), "f")
    assert intel.get(made).active is False
    intel.ingest("a", feed(IndicatorIn.of("domain", "back.example", "f", confidence=100)), "f")
    assert intel.get(made).active is True
    with state_db.read() as session:
        assert session.get(IndicatorRow, made).hunted_at is None


def test_an_allowed_network_or_domain_covers_what_is_under_it(intel: IntelService) -> None:
    import polars as pl

    intel.ingest("a", feed(IndicatorIn.of("cidr", "198.51.100.0/24", "f", confidence=90),
                           IndicatorIn.of("domain", "example.net", "f", confidence=90)), "f")
    intel.allow("alice", "cidr", "198.51.100.0/28", "our own range")
    intel.allow("alice", "domain", "partner.example.net", "a supplier")
    intel.refresh()
    events = pl.DataFrame({
        "source.ip": ["198.51.100.5", "198.51.100.77"],
        "dns.question.name": ["cdn.partner.example.net", "bad.example.net"],
    })
    kept = {(r, f) for r, f in intel.match(events).select("row", "field").iter_rows()}
    assert kept == {(1, "source.ip"), (1, "dns.question.name")}
    # and an import of a value under them is kept but never matches
    intel.ingest("a", feed(IndicatorIn.of("ipv4", "198.51.100.3", "g", confidence=90)), "g")
    assert one(intel, "198.51.100.3")["active"] is False


def test_a_value_repeated_across_import_parts_keeps_every_claim(
        intel: IntelService, monkeypatch: pytest.MonkeyPatch) -> None:
    import watchkeeper.intel.service as service

    monkeypatch.setattr(service, "IMPORT_PART", 2)
    items = [IndicatorIn.of("ipv4", "203.0.113.80", "f", confidence=90, tags=("c2",)),
             IndicatorIn.of("ipv4", "203.0.113.81", "f"),
             IndicatorIn.of("ipv4", "203.0.113.82", "f"),
             IndicatorIn.of("ipv4", "203.0.113.80", "f", confidence=20, tags=("scan",))]
    first = intel.ingest("a", FeedResult(items, []), "f")
    assert (first.received, first.new) == (4, 3)
    got = one(intel, "203.0.113.80")
    assert (got["confidence"], got["tags"]) == (90, ("c2", "scan"))
    again = intel.ingest("a", FeedResult(items, []), "f")
    assert (again.updated, again.unchanged) == (0, 3)


def test_a_withdrawn_single_address_network_withdraws_the_address(
        intel: IntelService) -> None:
    from watchkeeper.intel.feeds.common import withdraw

    intel.ingest("a", feed(IndicatorIn.of("cidr", "203.0.113.9/32", "f", confidence=80)), "f")
    gone = FeedResult([], [])
    withdraw(gone, Kind.CIDR, "203.0.113.9/32")
    assert intel.ingest("a", gone, "f").withdrawn == 1
    assert one(intel, "203.0.113.9")["active"] is False


def test_allowing_and_lifting_a_domain_or_network_marks_the_stored_indicators(
        intel: IntelService) -> None:
    intel.ingest("a", feed(IndicatorIn.of("domain", "a.partner.example", "f", confidence=90),
                           IndicatorIn.of("url", "https://b.partner.example/x", "f",
                                          confidence=90),
                           IndicatorIn.of("ipv4", "203.0.113.9", "f", confidence=90),
                           IndicatorIn.of("domain", "other.example", "f", confidence=90)), "f")
    domain = intel.allow("alice", "domain", "partner.example", "supplier")
    network = intel.allow("alice", "cidr", "203.0.113.0/24", "our range")
    state = {i.value: i.active for i in intel.search(limit=100)[0]}
    assert state == {"a.partner.example": False, "https://b.partner.example/x": False,
                     "203.0.113.9": False, "other.example": True}
    intel.allow("alice", "domain", "a.partner.example", "named too")
    intel.disallow("alice", int(str(domain["id"])))
    state = {i.value: i.active for i in intel.search(limit=100)[0]}
    # the narrower entry still covers its host; the URL is free again
    assert state["a.partner.example"] is False
    assert state["https://b.partner.example/x"] is True
    intel.disallow("alice", int(str(network["id"])))
    assert one(intel, "203.0.113.9")["active"] is True


def test_mapped_addresses_are_checked_as_the_ipv4_address(intel: IntelService) -> None:
    import polars as pl

    intel.ingest("a", feed(IndicatorIn.of("cidr", "198.51.100.0/24", "f", confidence=90)), "f")
    intel.allow("alice", "ipv4", "198.51.100.5", "our proxy")
    intel.refresh()
    events = pl.DataFrame({"source.ip": ["::ffff:198.51.100.5", "::ffff:198.51.100.6"]})
    assert intel.match(events)["row"].to_list() == [1]
    assert [i.value for i in intel.lookup("::ffff:198.51.100.6")] == ["198.51.100.0/24"]
