from __future__ import annotations

import pytest

from watchkeeper.vulns.importers.normalize import (
    make_package,
    network_location,
    normalize_image,
    normalize_path,
    parse_purl,
    severity_from_label,
    severity_from_score,
)
from watchkeeper.vulns.model import Package, Severity


@pytest.mark.parametrize(("reference", "name"), [
    ("registry/app:1.2@sha256:0123abcd", "registry/app"),
    ("registry.example.com:5000/team/app:2024-03-01", "registry.example.com:5000/team/app"),
    ("localhost:5000/app", "localhost:5000/app"),
    ("docker.io/library/nginx:1.25", "nginx"),
    ("index.docker.io/bitnami/redis@sha256:99", "bitnami/redis"),
    ("nginx", "nginx"),
])
def test_images_lose_tags_and_digests(reference: str, name: str) -> None:
    assert normalize_image(reference) == name


@pytest.mark.parametrize(("path", "root", "normal"), [
    ("./src/app.py", None, "src/app.py"),
    ("src//lib/../app.py", None, "src/app.py"),
    ("file:///builds/x/src/a%20b.py", "/builds/x", "src/a b.py"),
    ("C:\\work\\repo\\main.tf", "C:/work/repo", "main.tf"),
    ("/builds/x", "/builds/x", ""),
    (".", None, ""),
])
def test_paths(path: str, root: str | None, normal: str) -> None:
    assert normalize_path(path, root) == normal


@pytest.mark.parametrize(("purl", "identity"), [
    ("pkg:pypi/Jinja2@3.1.2", ("PyPI", "jinja2")),
    ("pkg:pypi/typing_extensions@4.9.0", ("PyPI", "typing-extensions")),
    ("pkg:npm/%40babel/traverse@7.22.5", ("npm", "@babel/traverse")),
    ("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", (
        "Maven", "org.apache.logging.log4j:log4j-core")),
    ("pkg:golang/golang.org/x/net@v0.17.0", ("Go", "golang.org/x/net")),
    ("pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.12?arch=amd64", ("Ubuntu", "openssl")),
    ("pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64", ("Alpine", "busybox")),
    ("pkg:cargo/hyper@0.14.27", ("crates.io", "hyper")),
])
def test_packages_from_purls_are_named_as_osv_names_them(
        purl: str, identity: tuple[str, str]) -> None:
    assert make_package("ignored", "", purl=purl).identity == identity


def test_purls_parse_and_non_purls_do_not() -> None:
    parsed = parse_purl("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64#sub")
    assert parsed is not None
    assert (parsed.namespace, parsed.name, parsed.version) == ("debian", "libc6", "2.36-9+deb12u4")
    assert parse_purl("cpe:2.3:a:openssl:openssl") is None
    assert parse_purl("pkg:pypi") is None
    assert make_package("Flask", "3.0.0", ecosystem="PyPI") == Package("PyPI", "flask", "3.0.0")


def test_network_locations() -> None:
    assert network_location("10.0.0.5", "443", "tcp") == "10.0.0.5:443/tcp"
    assert network_location("fe80::1", "22", "tcp") == "[fe80::1]:22/tcp"
    assert network_location("10.0.0.5") == "10.0.0.5"


@pytest.mark.parametrize(("score", "severity"), [
    (0.0, Severity.INFO), (0.1, Severity.LOW), (3.9, Severity.LOW), (4.0, Severity.MEDIUM),
    (6.9, Severity.MEDIUM), (7.0, Severity.HIGH), (8.9, Severity.HIGH),
    (9.0, Severity.CRITICAL), (10.0, Severity.CRITICAL),
])
def test_cvss_scale(score: float, severity: Severity) -> None:
    assert severity_from_score(score) is severity


def test_labels_of_every_tool() -> None:
    assert [severity_from_label(label) for label in (
        "CRITICAL", "Important", "MODERATE", "Negligible", "Log", "UNKNOWN", "weird")] == [
        Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.INFO, Severity.INFO,
        Severity.UNKNOWN, Severity.UNKNOWN]
