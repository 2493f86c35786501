"""Enrichment actions, the indicator extractor (property-tested) and a DNS server on loopback."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator

import dns.message
import dns.rcode
import dns.resolver
import dns.rrset
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.response.conftest import FakeContext, FakeLookups
from watchkeeper.response.actions import default_actions
from watchkeeper.response.actions.base import ActionFailed
from watchkeeper.response.actions.enrichment import DnsResolve
from watchkeeper.response.actions.extract import extract_indicators, refang

registry = default_actions(entry_points=False)


def test_asset_intel_and_events_read_the_lookups() -> None:
    lookups = FakeLookups(assets={"WS1": {"owner": "it", "criticality": "high"}},
                          indicators={"evil.example": [{"type": "domain", "source": "misp"}]},
                          events=[{"event.id": str(i)} for i in range(5)])
    ctx = FakeContext(lookups=lookups)
    asset = registry.get("asset.lookup")
    out = asset.run(ctx, asset.Inputs.model_validate({"host": "WS1"}))
    assert out.found is True
    assert (out.found, out.owner, out.criticality) == (True, "it", "high")
    assert asset.run(ctx, asset.Inputs.model_validate({"ip": "10.9.9.9"})).found is False
    with pytest.raises(ValidationError, match="give host or ip"):
        asset.Inputs.model_validate({})
    intel = registry.get("intel.lookup")
    out = intel.run(ctx, intel.Inputs.model_validate(
        {"value": "evil.example", "values": ["good.example", "evil.example"]}))
    assert out.found is True
    assert out.matches == [{"type": "domain", "source": "misp"}]
    search = registry.get("events.search")
    out = search.run(ctx, search.Inputs.model_validate({"query": "host.name:WS1", "limit": 3}))
    assert out.count == 3
    assert lookups.searches == [("host.name:WS1", 24.0, 3)]


@pytest.fixture
def dns_server() -> Iterator[int]:
    """Answers A and AAAA for ``evil.example`` and NXDOMAIN for anything else."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                wire, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            answer = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text()
            kind = dns.rdatatype.to_text(question.rdtype)
            data = {"A": ["203.0.113.7", "203.0.113.8"], "AAAA": ["2001:db8::7"]}
            if name == "evil.example.":
                answer.answer.append(dns.rrset.from_text(name, 60, "IN", kind, *data[kind]))
            else:
                answer.set_rcode(dns.rcode.NXDOMAIN)
            sock.sendto(answer.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    thread.join(2)
    sock.close()


def loopback_resolver(port: int) -> DnsResolve:
    def make() -> dns.resolver.Resolver:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = port
        return resolver

    return DnsResolve(make)


def test_dns_resolve_against_a_loopback_server(dns_server: int) -> None:
    action = loopback_resolver(dns_server)
    out = action.run(FakeContext(), action.Inputs.model_validate({"name": "Evil.Example"}))
    assert sorted(out.addresses[:2]) == ["203.0.113.7", "203.0.113.8"], "A records first"
    assert out.addresses[2:] == ["2001:db8::7"]
    missing = action.run(FakeContext(), action.Inputs.model_validate({"name": "nx.example"}))
    assert (missing.addresses, missing.found) == ([], False)


def test_dns_timeout_is_retryable() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        action = loopback_resolver(silent.getsockname()[1])
        with pytest.raises(ActionFailed, match=r"resolving evil\.example") as caught:
            action.run(FakeContext(timeout_s=0.3),
                       action.Inputs.model_validate({"name": "evil.example"}))
    assert caught.value.retryable is True


def test_extract_finds_each_kind_once() -> None:
    sha = hashlib.sha256(b"x").hexdigest()
    text = (f"Beacon to hxxps://evil[.]example/path?a=1, again hxxps://evil[.]example/path?a=1. "
            f"From 203.0.113.7 and 203[.]0[.]113[.]7 and 2001:db8::7; mail bad[@]evil.example; "
            f"dropped invoice.exe (md5 {hashlib.md5(b'x').hexdigest().upper()}, sha256 {sha}), "
            f"sha1 {hashlib.sha1(b'x').hexdigest()}; not an ip 999.1.1.1, time 12:30:45")
    found = extract_indicators(text)
    assert found["urls"] == ["https://evil.example/path?a=1"]
    assert found["ips"] == ["203.0.113.7", "2001:db8::7"]
    assert found["emails"] == ["bad@evil.example"]
    assert found["domains"] == ["evil.example"]
    assert found["md5"] == [hashlib.md5(b"x").hexdigest()]
    assert found["sha1"] == [hashlib.sha1(b"x").hexdigest()]
    assert found["sha256"] == [sha]
    action = registry.get("indicators.extract")
    out = action.run(FakeContext(), action.Inputs.model_validate({"text": text}))
    assert out.hashes.sha256 == [sha]
    assert out.count == 8


def test_refang() -> None:
    assert refang("hXXp://a[.]b(.)c{dot}d [at] e[:]8") == "http://a.b.c.d @ e:8"


ipv4s = st.ip_addresses(v=4).map(str)
filler = st.text(alphabet=st.sampled_from(" \n\t,;()"), min_size=1, max_size=3)


@settings(max_examples=200, deadline=None)
@given(st.lists(ipv4s, min_size=1, max_size=5), filler, st.booleans())
def test_every_address_is_found_once_defanged_or_not(addresses: list[str], gap: str,
                                                     defang: bool) -> None:
    shown = [a.replace(".", "[.]") if defang else a for a in addresses * 2]
    found = extract_indicators(gap.join(shown))
    assert found["ips"] == list(dict.fromkeys(addresses))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64), st.sampled_from(["md5", "sha1", "sha256"]), filler)
def test_every_digest_is_found_under_its_kind(data: bytes, kind: str, gap: str) -> None:
    digest = hashlib.new(kind, data).hexdigest()
    found = extract_indicators(f"hash{gap}{digest}{gap}end")
    assert found[kind] == [digest]
    assert sum(len(found[k]) for k in ("md5", "sha1", "sha256")) == 1


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_valid_unique_results(text: str) -> None:
    found = extract_indicators(text)
    for values in found.values():
        assert len(values) == len(set(values))
    for ip in found["ips"]:
        import ipaddress
        ipaddress.ip_address(ip)
    for url in found["urls"]:
        assert url.lower().startswith(("http://", "https://"))
