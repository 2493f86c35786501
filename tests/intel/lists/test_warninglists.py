from __future__ import annotations

import json
from pathlib import Path

import pytest

from watchkeeper.errors import InputError
from watchkeeper.intel.model import Kind
from watchkeeper.intel.warninglists import (
    WarningHit,
    WarningList,
    WarningLists,
    builtin_warninglists,
    load_warninglist,
    load_warninglists,
)

FOLDER = Path(__file__).parents[2] / "data" / "intel" / "warninglists"
BROKEN = {"broken.json", "bad-cidr.json", "bad-regex.json"}


def load(name: str) -> WarningList:
    path = FOLDER / name
    return load_warninglist(path.read_bytes(), str(path))


@pytest.fixture(scope="module")
def lists() -> WarningLists:
    loaded = WarningLists.empty()
    for path in sorted(FOLDER.glob("*.json")):
        if path.name not in BROKEN:
            loaded.add(load(path.name))
    return loaded


def test_load_reads_the_fields_and_maps_matching_attributes() -> None:
    networks = load("networks.json")
    assert networks.name == "Test networks"
    assert networks.type == "cidr"
    assert networks.version == 3
    assert networks.entries == ("192.0.2.0/24", "198.51.100.64/26", "2001:db8:aaaa::/48")
    assert networks.kinds == {Kind.IPV4, Kind.IPV6, Kind.CIDR}
    # domain covers URLs and emails by host; md5 and ip-dst map to their own kinds
    assert load("strings.json").kinds == {
        Kind.MD5, Kind.DOMAIN, Kind.URL, Kind.EMAIL, Kind.IPV4, Kind.IPV6, Kind.CIDR}
    assert load("strings.json").entries[-1] == "2001:DB8:0:0::7"  # the blank entry is dropped
    assert load("url-hosts.json").kinds == {Kind.URL}


def test_missing_matching_attributes_mean_the_natural_kinds_of_the_type() -> None:
    hosts = load_warninglist(b'{"name": "h", "type": "hostname", "list": ["a.example"]}', "x")
    assert hosts.kinds == {Kind.DOMAIN, Kind.URL, Kind.EMAIL}
    nets = load_warninglist(
        b'{"name": "n", "type": "cidr", "list": [], "matching_attributes": []}', "x")
    assert nets.kinds == {Kind.IPV4, Kind.IPV6, Kind.CIDR}
    # attributes we have no kind for leave the list applying to nothing
    other = load_warninglist(
        b'{"name": "o", "type": "string", "list": ["x"], "matching_attributes": ["AS"]}', "x")
    assert other.kinds == frozenset()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("broken.json", r"broken\.json: not valid JSON"),
        ("bad-cidr.json", r"bad-cidr\.json: bad cidr entry '10\.0\.0\.0/33'"),
        ("bad-regex.json", r"bad-regex\.json: bad regex entry '\(\?<=x\)y' \(invalid perl"),
    ],
)
def test_broken_files_are_errors_that_say_where(name: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load(name)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"[]", "a warning list is a JSON object"),
        (b'{"type": "cidr", "list": []}', "no list name"),
        (b'{"name": "n", "type": "glob", "list": []}', "unknown list type 'glob'"),
        (b'{"name": "n", "type": "string", "list": [1]}', "'list' must be a list of strings"),
        (b'{"name": "n", "type": "hostname", "list": ["a b.example"]}', "bad hostname entry"),
        (b'{"name": "n", "type": "string", "list": [], "matching_attributes": "ip-src"}',
         "'matching_attributes' must be a list"),
    ],
)
def test_invalid_lists_are_refused(text: bytes, message: str) -> None:
    with pytest.raises(InputError, match=f"where: {message}"):
        load_warninglist(text, "where")


def test_cidr_hits_and_misses(lists: WarningLists) -> None:
    assert lists.hit(Kind.IPV4, "192.0.2.77") == WarningHit("Test networks", "192.0.2.0/24")
    assert lists.hit(Kind.IPV4, "198.51.100.64") == WarningHit("Test networks", "198.51.100.64/26")
    assert lists.hit(Kind.IPV4, "198.51.100.127") is not None
    assert lists.hit(Kind.IPV4, "198.51.100.128") is None
    assert lists.hit(Kind.IPV4, "192.0.3.1") is None


def test_cidr_lists_answer_for_ipv6(lists: WarningLists) -> None:
    assert lists.hit(Kind.IPV6, "2001:db8:aaaa:12::1") == WarningHit(
        "Test networks", "2001:db8:aaaa::/48")
    assert lists.hit(Kind.IPV6, "2001:db8:aaab::1") is None
    assert lists.hit(Kind.CIDR, "2001:db8:aaaa:ff00::/56") is not None


def test_a_cidr_indicator_is_listed_when_it_lies_inside_a_listed_network(
    lists: WarningLists,
) -> None:
    assert lists.hit(Kind.CIDR, "192.0.2.128/25") == WarningHit("Test networks", "192.0.2.0/24")
    assert lists.hit(Kind.CIDR, "192.0.2.0/24") is not None
    # wider than the listed network: it also covers addresses nobody listed
    assert lists.hit(Kind.CIDR, "192.0.2.0/23") is None
    assert lists.hit(Kind.CIDR, "198.51.100.0/24") is None


def test_string_hits_compare_canonical_forms(lists: WarningLists) -> None:
    assert lists.hit(Kind.DOMAIN, "known-good.example") == WarningHit(
        "Test strings", "Known-Good.example")
    assert lists.hit(Kind.MD5, "0123456789abcdef0123456789abcdef") is not None
    assert lists.hit(Kind.IPV6, "2001:db8::7") == WarningHit("Test strings", "2001:DB8:0:0::7")
    assert lists.hit(Kind.DOMAIN, "sub.known-good.example") is None
    # a string list applies to the kinds its attributes name only
    assert lists.hit(Kind.SHA1, "0123456789abcdef0123456789abcdef") is None


def test_hostname_lists_match_by_suffix(lists: WarningLists) -> None:
    assert lists.hit(Kind.DOMAIN, "example.com") == WarningHit("Test hosts", "example.com")
    assert lists.hit(Kind.DOMAIN, "a.b.example.com") == WarningHit("Test hosts", "example.com")
    assert lists.hit(Kind.DOMAIN, "notexample.com") is None
    assert lists.hit(Kind.DOMAIN, "example.com.evil.example") is None
    assert lists.hit(Kind.DOMAIN, "x.cdn.example.net") == WarningHit(
        "Test hosts", "*.cdn.example.net")
    assert lists.hit(Kind.DOMAIN, "cdn2.example.net") is None
    assert lists.hit(Kind.DOMAIN, "www.example.org") == WarningHit("Test hosts", ".example.org")


def test_urls_and_emails_are_checked_by_their_host(lists: WarningLists) -> None:
    assert lists.hit(Kind.URL, "https://user@www.example.com:8443/login?x=1") == WarningHit(
        "Test hosts", "example.com")
    assert lists.hit(Kind.URL, "https://notexample.com/example.com") is None
    assert lists.hit(Kind.EMAIL, "someone@mail.example.org") == WarningHit(
        "Test hosts", ".example.org")
    assert lists.hit(Kind.EMAIL, "example.com@evil.example") is None


def test_matching_attributes_restrict_the_kinds(lists: WarningLists) -> None:
    assert lists.hit(Kind.URL, "http://files.example.invalid/a.exe") == WarningHit(
        "Test URL hosts", "files.example.invalid")
    assert lists.hit(Kind.DOMAIN, "files.example.invalid") is None
    assert lists.hit(Kind.EMAIL, "a@files.example.invalid") is None
    assert lists.hit(Kind.FILENAME, "192.0.2.1") is None


def test_substring_lists(lists: WarningLists) -> None:
    assert lists.hit(Kind.URL, "https://evil.example/tracking/pixel.gif") == WarningHit(
        "Test substrings", "/tracking/")
    assert lists.hit(Kind.URL, "https://beacon.example/") == WarningHit(
        "Test substrings", "Beacon.Example")
    # entries are literal text, not patterns
    assert lists.hit(Kind.URL, "https://x.example/a+b(c)") == WarningHit(
        "Test substrings", "a+b(c)")
    assert lists.hit(Kind.URL, "https://x.example/aab") is None
    assert lists.hit(Kind.URL, "https://beaconxexample.example/") is None
    assert lists.hit(Kind.DOMAIN, "tracking.example") is None


def test_regex_lists(lists: WarningLists) -> None:
    assert lists.hit(Kind.USER_AGENT, "Mozilla/5.0 (compatible; WatchBot/2.1)") == WarningHit(
        "Test regexes", "^Mozilla/5\\.0 \\(compatible; WatchBot/[0-9.]+\\)$")
    assert lists.hit(Kind.USER_AGENT, "Mozilla/5.0 (compatible; WatchBot/2.1) extra") is None
    assert lists.hit(Kind.USER_AGENT, "Wget curl/8 thing") == WarningHit("Test regexes",
                                                                         "curl/[0-9]+")
    assert lists.hit(Kind.USER_AGENT, "curl/") is None


def test_filter_answers_like_hit(lists: WarningLists) -> None:
    values = ["192.0.2.1", "192.0.3.1", "198.51.100.70", "not an address"]
    assert lists.filter(Kind.IPV4, values) == [lists.hit(Kind.IPV4, v) for v in values]
    assert [h is not None for h in lists.filter(Kind.IPV4, values)] == [True, False, True, False]
    domains = ["a.example.com", "notexample.com", "known-good.example"]
    assert [h is not None for h in lists.filter(Kind.DOMAIN, domains)] == [True, False, True]


def test_filter_screens_ipv4_in_bulk_without_string_lists() -> None:
    lists = WarningLists.empty()
    lists.add(load("networks.json"))
    values = ["192.0.2.1", "192.0.3.1", "198.51.100.70", "bad", "0.0.0.0"]
    assert lists.filter(Kind.IPV4, values) == [
        WarningHit("Test networks", "192.0.2.0/24"), None,
        WarningHit("Test networks", "198.51.100.64/26"), None, None]
    # added later, a list is part of the next bulk screen
    lists.add(load_warninglist(b'{"name": "z", "type": "cidr", "list": ["0.0.0.0/8"]}', "z"))
    assert lists.filter(Kind.IPV4, values)[4] == WarningHit("z", "0.0.0.0/8")


def test_add_refuses_a_second_list_of_the_same_name(lists: WarningLists) -> None:
    with pytest.raises(InputError, match="already loaded"):
        lists.add(load("hosts.json"))


def test_empty_lists_hit_nothing() -> None:
    empty = WarningLists.empty()
    assert empty.names() == []
    assert empty.hit(Kind.IPV4, "10.0.0.1") is None
    assert empty.filter(Kind.DOMAIN, ["localhost.localdomain"]) == [None]


def test_folder_loading_reports_broken_files_and_loads_the_rest(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"
    lists, problems = load_warninglists([FOLDER, missing])
    assert sorted(Path(path).name for path, _ in problems) == sorted(
        [*BROKEN, "nothing-here"])
    reasons = dict(problems)
    assert reasons[str(FOLDER / "bad-cidr.json")].startswith("bad cidr entry '10.0.0.0/33'")
    assert reasons[str(missing)] == "no such file or folder"
    assert sorted(lists.names()) == sorted([
        "Test networks", "Test strings", "Test hosts", "Test URL hosts", "Test substrings",
        "Test regexes"])
    assert lists.hit(Kind.IPV4, "192.0.2.5") is not None


def test_loading_single_files_and_nested_folders(tmp_path: Path) -> None:
    nested = tmp_path / "lists" / "mine"
    nested.mkdir(parents=True)
    (nested / "list.json").write_text(json.dumps(
        {"name": "Mine", "type": "string", "list": ["x.example"]}))
    lists, problems = load_warninglists([tmp_path, FOLDER / "hosts.json"])
    assert problems == []
    assert lists.names() == ["Mine", "Test hosts"]


def test_builtin_lists() -> None:
    builtin = builtin_warninglists()
    assert builtin.hit(Kind.IPV4, "10.1.2.3") is not None
    assert builtin.hit(Kind.IPV4, "8.8.8.8") is not None
    assert builtin.hit(Kind.IPV6, "2606:4700:4700::1111") is not None
    assert builtin.hit(Kind.IPV6, "fe80::1") is not None
    assert builtin.hit(Kind.DOMAIN, "printer.local") is not None
    assert builtin.hit(Kind.DOMAIN, "download.windowsupdate.com") is not None
    # the documentation ranges and names stay usable as examples of malicious values
    for kind, value in [(Kind.IPV4, "203.0.113.9"), (Kind.IPV4, "198.51.100.1"),
                        (Kind.IPV4, "192.0.2.1"), (Kind.IPV6, "2001:db8::1"),
                        (Kind.DOMAIN, "evil.example.com"), (Kind.DOMAIN, "c2.test"),
                        (Kind.DOMAIN, "docs.google.com")]:
        assert builtin.hit(kind, value) is None, value
    # 240.0.0.0/4 is listed: a value that is no address must not screen as one
    assert builtin.filter(Kind.IPV4, ["not an address", "240.1.2.3", "203.0.113.9"]) == [
        None, builtin.hit(Kind.IPV4, "240.1.2.3"), None]
    assert builtin.hit(Kind.IPV4, "240.1.2.3") is not None
