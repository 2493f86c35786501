"""The batch matcher: every kind, subdomains, networks, canonical forms, and agreement with
a plain per-value reference on random data."""

from __future__ import annotations

import ipaddress

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.intel.matcher import Matcher
from watchkeeper.intel.model import Kind

INDICATORS = pl.DataFrame({
    "id": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    "kind": ["ipv4", "cidr", "domain", "url", "sha256", "cidr", "ipv6", "cidr", "email",
             "user-agent", "md5", "ja3"],
    "value": ["203.0.113.7", "198.51.100.0/24", "evil.example", "http://bad.test/x",
              "a" * 64, "203.0.113.7/32", "2001:db8::1", "2001:db8:1::/48",
              "boss@phish.test", "EvilBot/1.0", "b" * 32, "c" * 32],
})


def hits(frame: pl.DataFrame, matcher: Matcher | None = None) -> set[tuple[int, int, str]]:
    found = (matcher or Matcher(INDICATORS)).match(frame)
    return {(r, i, f) for r, i, f in found.select("row", "indicator", "field").iter_rows()}


def test_addresses_match_exactly_and_inside_networks() -> None:
    frame = pl.DataFrame({
        "source.ip": ["203.0.113.7", "10.0.0.1", "198.51.100.200", "999.1.1.1", None,
                      "2001:db8:1::5"],
        "destination.ip": ["198.51.100.3", "2001:DB8::1", None, "203.0.113.8", "bogus", None],
    })
    assert hits(frame) == {
        (0, 1, "source.ip"), (0, 6, "source.ip"),  # the address and the same /32
        (0, 2, "destination.ip"), (2, 2, "source.ip"),
        (1, 7, "destination.ip"),  # IPv6 written in another case
        (5, 8, "source.ip"),  # inside an IPv6 /48
    }


def test_a_domain_matches_itself_and_its_subdomains_only() -> None:
    frame = pl.DataFrame({"dns.question.name": [
        "evil.example", "a.b.EVIL.example.", "notevil.example", "example", "evil.example.com",
        None]})
    assert hits(frame) == {(0, 3, "dns.question.name"), (1, 3, "dns.question.name")}


def test_urls_hashes_and_strings_compare_in_canonical_form() -> None:
    frame = pl.DataFrame({
        "url.full": ["HTTP://Bad.TEST:80/x#frag", "http://bad.test/x?", "http://bad.test/X"],
        "file.hash.sha256": ["A" * 64, "a" * 63, None],
        "file.hash.md5": [None, "B" * 32, None],
        "email.from.address": ["Boss@Phish.TEST", None, "boss@phish.test.evil"],
        "user_agent.original": ["EvilBot/1.0", "evilbot/1.0", None],
        "tls.client.ja3": [None, None, "C" * 32],
    })
    assert hits(frame) == {
        (0, 4, "url.full"), (0, 5, "file.hash.sha256"), (1, 11, "file.hash.md5"),
        (0, 9, "email.from.address"), (0, 10, "user_agent.original"),
        (2, 12, "tls.client.ja3"),
    }


def test_configured_fields_replace_the_defaults() -> None:
    frame = pl.DataFrame({"source.ip": ["203.0.113.7"], "proxy.ip": ["203.0.113.7"]})
    matcher = Matcher(INDICATORS, {Kind.IPV4: ("proxy.ip",)})
    assert hits(frame, matcher) == {(0, 1, "proxy.ip"), (0, 6, "proxy.ip")}


def test_an_empty_matcher_and_columns_of_other_types_match_nothing() -> None:
    frame = pl.DataFrame({"source.ip": [1, 2], "dns.question.name": ["evil.example", None]})
    assert Matcher.empty().match(frame).height == 0
    assert hits(frame) == {(0, 3, "dns.question.name")}


def test_a_hash_collision_cannot_make_a_match() -> None:
    # the same hash key for two different texts is impossible to build on purpose; what is
    # checked is that candidates are confirmed by text: a value differing in one character
    many = pl.DataFrame({"id": list(range(1000)), "kind": ["md5"] * 1000,
                         "value": [f"{i:032x}" for i in range(1000)]})
    frame = pl.DataFrame({"file.hash.md5": [f"{i:032x}" for i in range(1000, 3000)]})
    assert Matcher(many).match(frame).height == 0


@settings(max_examples=60, deadline=None)
@given(
    networks=st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(8, 32)), max_size=25),
    addresses=st.lists(st.integers(0, 2**32 - 1), max_size=60),
)
def test_ipv4_matching_agrees_with_a_plain_reference(
    networks: list[tuple[int, int]], addresses: list[int]
) -> None:
    nets = [ipaddress.IPv4Network((n, p), strict=False) for n, p in networks]
    unique = list(dict.fromkeys(nets))
    indicators = pl.DataFrame({"id": list(range(len(unique))),
                               "kind": ["cidr"] * len(unique),
                               "value": [str(n) for n in unique]},
                              schema={"id": pl.Int64, "kind": pl.String, "value": pl.String})
    # events near the networks too, not only random ones
    probes = addresses + [int(n.network_address) for n in unique]
    texts = [str(ipaddress.IPv4Address(a)) for a in probes]
    found = hits(pl.DataFrame({"source.ip": texts}), Matcher(indicators))
    expected = {(row, ident, "source.ip") for row, text in enumerate(texts)
                for ident, net in enumerate(unique) if ipaddress.IPv4Address(text) in net}
    assert found == expected


@settings(max_examples=60, deadline=None)
@given(
    domains=st.lists(st.lists(st.sampled_from(["a", "b", "evil", "test", "c0"]),
                              min_size=2, max_size=4), max_size=15),
    names=st.lists(st.lists(st.sampled_from(["a", "b", "evil", "test", "c0", "www"]),
                            min_size=1, max_size=6), max_size=40),
)
def test_domain_matching_agrees_with_a_plain_reference(
    domains: list[list[str]], names: list[list[str]]
) -> None:
    unique = list(dict.fromkeys(".".join(d) for d in domains))
    indicators = pl.DataFrame({"id": list(range(len(unique))),
                               "kind": ["domain"] * len(unique), "value": unique},
                              schema={"id": pl.Int64, "kind": pl.String, "value": pl.String})
    texts = [".".join(n) for n in names]
    found = hits(pl.DataFrame({"dns.question.name": texts}), Matcher(indicators))
    expected = {(row, ident, "dns.question.name") for row, text in enumerate(texts)
                for ident, domain in enumerate(unique)
                if text == domain or text.endswith("." + domain)}
    assert found == expected


def test_other_spellings_of_indicated_values_match() -> None:
    indicators = pl.DataFrame({
        "id": [1, 2, 3, 4],
        "kind": ["ipv4", "domain", "cve", "email"],
        "value": ["203.0.113.7", "xn--bcher-kva.example", "CVE-2024-3094",
                  "boss@xn--bcher-kva.example"],
    })
    frame = pl.DataFrame({
        "source.ip": ["::ffff:203.0.113.7", "::FFFF:203.0.113.7", "::ffff:203.0.113.8"],
        "dns.question.name": ["bücher.example", "WWW.BÜCHER.example", "bucher.example"],
        "vulnerability.id": ["cve-2024-3094", None, "CVE-2024-3095"],
        "email.from.address": ["Boss@Bücher.example", None, None],
    })
    assert hits(frame, Matcher(indicators)) == {
        (0, 1, "source.ip"), (1, 1, "source.ip"),
        (0, 2, "dns.question.name"), (1, 2, "dns.question.name"),
        (0, 3, "vulnerability.id"), (0, 4, "email.from.address"),
    }


def test_fields_configured_for_ipv6_and_networks_are_ip_fields() -> None:
    from watchkeeper.intel.service import matcher_fields

    fields = matcher_fields({"ipv6": ["host.ip6"], "cidr": ["proxy.ip"]})
    frame = pl.DataFrame({"host.ip6": ["2001:db8::1"], "proxy.ip": ["198.51.100.1"]})
    assert hits(frame, Matcher(INDICATORS, fields)) == {(0, 7, "host.ip6"),
                                                        (0, 2, "proxy.ip")}


def test_fields_for_ipv6_alone_add_to_the_default_ip_fields() -> None:
    from watchkeeper.intel.matcher import DEFAULT_FIELDS
    from watchkeeper.intel.service import matcher_fields

    fields = matcher_fields({"ipv6": ["host.ip6"]})
    assert fields[Kind.IPV4] == (*DEFAULT_FIELDS[Kind.IPV4], "host.ip6")
    frame = pl.DataFrame({"source.ip": ["203.0.113.7"], "host.ip6": ["2001:db8::1"]})
    assert hits(frame, Matcher(INDICATORS, fields)) == {
        (0, 1, "source.ip"), (0, 6, "source.ip"), (0, 7, "host.ip6")}
