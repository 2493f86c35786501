"""Package URLs (``pkg:type/namespace/name@version?qualifiers#subpath``) to and from packages.

SBOMs name their components by purl; lockfile sources give each package one too, so
that every package can be named the same way whatever file it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from watchkeeper.errors import InputError
from watchkeeper.vulns.versions import base_ecosystem, release_of


class PurlError(InputError):
    """A string that is not a package URL."""


@dataclass(frozen=True)
class Purl:
    type: str
    namespace: str | None
    name: str
    version: str | None = None
    qualifiers: dict[str, str] = field(default_factory=dict, hash=False)
    subpath: str | None = None

    def __str__(self) -> str:
        text = f"pkg:{self.type}/"
        if self.namespace:
            text += "/".join(_quote(part) for part in self.namespace.split("/")) + "/"
        text += _quote(self.name)
        if self.version:
            text += "@" + _quote(self.version, safe=":")
        if self.qualifiers:
            text += "?" + "&".join(f"{key}={_quote(value, safe=':/')}"
                                   for key, value in sorted(self.qualifiers.items()))
        if self.subpath:
            text += "#" + "/".join(_quote(part) for part in self.subpath.split("/"))
        return text


def _quote(text: str, safe: str = "") -> str:
    return quote(text, safe="-._~" + safe)


def parse_purl(text: str) -> Purl:
    """Read a package URL; raises PurlError when ``text`` is not one."""
    scheme, colon, rest = text.strip().partition(":")
    if not colon or scheme.lower() != "pkg":
        raise PurlError(f"{text!r} is not a package URL (no pkg: scheme)")
    rest = rest.lstrip("/")
    rest, _, subpath = rest.partition("#")
    rest, _, query = rest.partition("?")
    version: str | None = None
    at = rest.rfind("@")
    if at > rest.rfind("/"):
        rest, version = rest[:at], unquote(rest[at + 1:]) or None
    parts = [part for part in rest.split("/") if part]
    if len(parts) < 2:
        raise PurlError(f"{text!r} is not a package URL (no type or no name)")
    purl_type = parts[0].lower()
    if not re.fullmatch(r"[a-z][a-z0-9.+-]*", purl_type):
        raise PurlError(f"{text!r} has an invalid type {parts[0]!r}")
    qualifiers: dict[str, str] = {}
    for pair in query.split("&") if query else ():
        key, _, value = pair.partition("=")
        if key and value:
            qualifiers[key.lower()] = unquote(value)
    namespace = "/".join(unquote(part) for part in parts[1:-1]) or None
    sub = "/".join(unquote(p) for p in subpath.split("/") if p not in ("", ".", "..")) or None
    return Purl(purl_type, namespace, unquote(parts[-1]), version, qualifiers, sub)


DEBIAN_CODENAMES = {"buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13",
                    "forky": "14"}


def ecosystem_release(ecosystem: str, distro: str | None) -> str:
    """``Debian:12`` from (``Debian``, ``debian-12.4``); ``Alpine:v3.19`` from ``alpine-3.19.1``."""
    if not distro:
        return ecosystem
    value = distro.lower()
    for prefix in ("debian-", "ubuntu-", "alpine-"):
        value = value.removeprefix(prefix)
    value = DEBIAN_CODENAMES.get(value, value).lstrip("v")
    if not re.fullmatch(r"\d+(\.\d+)*", value):
        return ecosystem
    numbers = value.split(".")
    if ecosystem == "Debian":
        return f"Debian:{numbers[0]}"
    if ecosystem == "Alpine":
        return f"Alpine:v{'.'.join(numbers[:2])}"
    if ecosystem == "Ubuntu":
        return f"Ubuntu:{'.'.join(numbers[:2])}"
    return ecosystem


SIMPLE_TYPES = {"pypi": "PyPI", "npm": "npm", "golang": "Go", "cargo": "crates.io",
                "gem": "RubyGems", "composer": "Packagist", "maven": "Maven"}
DISTRO_TYPES = {("deb", "debian"): "Debian", ("deb", "ubuntu"): "Ubuntu",
                ("apk", "alpine"): "Alpine"}


def package_name(ecosystem: str, name: str) -> str:
    """The name OSV uses: PEP 503 normalisation for PyPI, as written elsewhere."""
    if ecosystem == "PyPI":
        return re.sub(r"[-_.]+", "-", name).lower()
    return name


def go_version(version: str) -> str:
    """OSV's Go versions carry no ``v``: ``v1.2.3`` → ``1.2.3``."""
    return version[1:] if version[:1] == "v" and version[1:2].isdigit() else version


def from_purl(purl: Purl) -> tuple[str, str, str | None]:
    """(ecosystem, name, version) for a purl; raises PurlError for an unsupported type."""
    ns = purl.namespace
    if purl.type in SIMPLE_TYPES:
        ecosystem = SIMPLE_TYPES[purl.type]
        if purl.type == "maven":
            if not ns:
                raise PurlError("a maven purl needs a group (namespace)")
            name = f"{ns}:{purl.name}"
        elif purl.type in ("npm", "golang", "composer") and ns:
            name = f"{ns}/{purl.name}"
        else:
            name = purl.name
        version = purl.version
        if ecosystem == "Go" and version:
            version = go_version(version)
        return ecosystem, package_name(ecosystem, name), version
    distro = DISTRO_TYPES.get((purl.type, (ns or "").lower()))
    if distro:
        release = ecosystem_release(distro, purl.qualifiers.get("distro"))
        return release, purl.name, purl.version
    kind = f"{purl.type}/{ns}" if ns and purl.type in ("deb", "apk") else purl.type
    raise PurlError(f"unsupported purl type {kind!r}")


def purl_for(ecosystem: str, name: str, version: str) -> str | None:
    """The purl of a package found in a lockfile or a database, or None for other
    ecosystems."""
    base, release = base_ecosystem(ecosystem), release_of(ecosystem)
    qualifiers: dict[str, str] = {}
    namespace: str | None = None
    if base in ("Debian", "Ubuntu", "Alpine"):
        purl_type, namespace = ("apk", "alpine") if base == "Alpine" else ("deb", base.lower())
        if release:
            qualifiers["distro"] = f"{namespace}-{release.lstrip('v')}"
        return str(Purl(purl_type, namespace, name, version, qualifiers))
    types = {value: key for key, value in SIMPLE_TYPES.items()}
    if base not in types:
        return None
    purl_type = types[base]
    if base == "Maven" and ":" in name:
        namespace, name = name.split(":", 1)
    elif "/" in name and base in ("npm", "Go", "Packagist"):
        namespace, name = name.rsplit("/", 1)
    if base == "Go" and version[:1].isdigit():
        version = "v" + version
    return str(Purl(purl_type, namespace, name, version))
