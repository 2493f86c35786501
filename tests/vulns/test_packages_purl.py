"""The package URL parser, the purl → ecosystem mapping and the purls given to packages."""

from __future__ import annotations

import re

import pytest

from watchkeeper.vulns.packages import Purl, PurlError, from_purl, parse_purl, purl_for
from watchkeeper.vulns.packages.purl import ecosystem_release


@pytest.mark.parametrize(("text", "expected"), [
    ("pkg:npm/%40babel/core@7.23.0",
     Purl("npm", "@babel", "core", "7.23.0")),
    ("pkg:npm/@babel/core",
     Purl("npm", "@babel", "core", None)),
    ("pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12",
     Purl("deb", "debian", "curl", "7.88.1-10+deb12u5", {"arch": "amd64",
                                                          "distro": "debian-12"})),
    ("pkg:golang/github.com/gorilla/mux@v1.8.0#sub/dir",
     Purl("golang", "github.com/gorilla", "mux", "v1.8.0", {}, "sub/dir")),
    ("PKG:Maven/org.apache.commons/commons-text@1.9?classifier=sources&empty=",
     Purl("maven", "org.apache.commons", "commons-text", "1.9", {"classifier": "sources"})),
    ("pkg://pypi/Django@4.2", Purl("pypi", None, "Django", "4.2")),
    ("pkg:generic/name%20with%20spaces@1%2F2", Purl("generic", None, "name with spaces", "1/2")),
])
def test_parse(text: str, expected: Purl) -> None:
    parsed = parse_purl(text)
    assert parsed == expected
    assert parsed.qualifiers == expected.qualifiers


@pytest.mark.parametrize("text", ["npm/left-pad@1.0.0", "pkg:", "pkg:npm", "pkg:npm/",
                                  "pkg:1npm/x@1", "https://example.org/x"])
def test_refused(text: str) -> None:
    with pytest.raises(PurlError):
        parse_purl(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("pkg:pypi/Typing_Extensions@4.8.0", ("PyPI", "typing-extensions", "4.8.0")),
    ("pkg:npm/%40angular/core@16.2.0", ("npm", "@angular/core", "16.2.0")),
    ("pkg:golang/golang.org/x/net@v0.17.0", ("Go", "golang.org/x/net", "0.17.0")),
    ("pkg:cargo/serde@1.0.193", ("crates.io", "serde", "1.0.193")),
    ("pkg:gem/rails@7.1.2", ("RubyGems", "rails", "7.1.2")),
    ("pkg:composer/psr/log@3.0.0", ("Packagist", "psr/log", "3.0.0")),
    ("pkg:maven/org.yaml/snakeyaml@1.33", ("Maven", "org.yaml:snakeyaml", "1.33")),
    ("pkg:deb/debian/openssl@3.0.11-1?distro=debian-12.4", ("Debian:12", "openssl", "3.0.11-1")),
    ("pkg:deb/debian/openssl@3.0.11-1?distro=bookworm", ("Debian:12", "openssl", "3.0.11-1")),
    ("pkg:deb/debian/openssl@3.0.11-1", ("Debian", "openssl", "3.0.11-1")),
    ("pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.12?distro=ubuntu-22.04",
     ("Ubuntu:22.04", "openssl", "3.0.2-0ubuntu1.12")),
    ("pkg:apk/alpine/musl@1.2.4-r2?distro=alpine-3.19.1", ("Alpine:v3.19", "musl", "1.2.4-r2")),
    ("pkg:apk/alpine/musl@1.2.4-r2?distro=3.18", ("Alpine:v3.18", "musl", "1.2.4-r2")),
])
def test_ecosystems(text: str, expected: tuple[str, str, str]) -> None:
    assert from_purl(parse_purl(text)) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("pkg:nuget/Newtonsoft.Json@13.0.1", "unsupported purl type 'nuget'"),
    ("pkg:deb/kali/openssl@3.0", "unsupported purl type 'deb/kali'"),
    ("pkg:maven/commons-text@1.9", "a maven purl needs a group (namespace)"),
])
def test_unsupported(text: str, message: str) -> None:
    with pytest.raises(PurlError, match=re.escape(message)):
        from_purl(parse_purl(text))


@pytest.mark.parametrize(("ecosystem", "name", "version", "expected"), [
    ("npm", "@types/node", "20.10.0", "pkg:npm/%40types/node@20.10.0"),
    ("Go", "github.com/pkg/errors", "0.9.1", "pkg:golang/github.com/pkg/errors@v0.9.1"),
    ("Maven", "org.yaml:snakeyaml", "1.33", "pkg:maven/org.yaml/snakeyaml@1.33"),
    ("Debian:12", "login", "1:4.13+dfsg1-1",
     "pkg:deb/debian/login@1:4.13%2Bdfsg1-1?distro=debian-12"),
    ("Alpine:v3.19", "musl", "1.2.4-r2", "pkg:apk/alpine/musl@1.2.4-r2?distro=alpine-3.19"),
    ("Hex", "phoenix", "1.7.0", None),
])
def test_purl_for(ecosystem: str, name: str, version: str, expected: str | None) -> None:
    assert purl_for(ecosystem, name, version) == expected


def test_round_trip() -> None:
    for text in ["pkg:npm/%40types/node@20.10.0",
                 "pkg:deb/debian/curl@7.88.1?arch=amd64&distro=debian-12",
                 "pkg:golang/github.com/a/b@v1.0.0#cmd/b"]:
        assert str(parse_purl(text)) == text


@pytest.mark.parametrize(("distro", "expected"), [("debian-12", "Debian:12"), ("sid", "Debian"),
                                                  (None, "Debian"), ("12.5", "Debian:12")])
def test_release(distro: str | None, expected: str) -> None:
    assert ecosystem_release("Debian", distro) == expected
