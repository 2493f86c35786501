"""Indicators: their types, how a value of each type is written canonically, and the
record every feed parser produces.

A value is normalized once, when it enters (a feed, the API, a warning list), so that
matching compares canonical forms: IPv6 compressed, domains lower-case without the
trailing dot and in their ASCII (IDNA) form, hashes lower-case hex of the right length,
URLs with a lower-case scheme and host and without a fragment.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from watchkeeper.errors import InputError


class Kind(StrEnum):
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    CIDR = "cidr"
    DOMAIN = "domain"
    URL = "url"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    EMAIL = "email"
    FILENAME = "filename"
    USER_AGENT = "user-agent"
    JA3 = "ja3"
    JA4 = "ja4"
    CVE = "cve"


TLPS = ("clear", "green", "amber", "amber+strict", "red")
"""TLP 2.0 labels, from the widest sharing to the narrowest."""
TLP_ALIASES = {"white": "clear", "tlp:white": "clear"}
HASH_LENGTHS = {Kind.MD5: 32, Kind.SHA1: 40, Kind.SHA256: 64}
_HEX = re.compile(r"^[0-9a-f]+$")
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_JA4 = re.compile(r"^[tqd][0-9a-z]{9}_[0-9a-f]{12}_[0-9a-f]{12}$")
_URL = re.compile(r"^([a-z][a-z0-9+.-]*)://([^/?#]*)([^#]*)", re.IGNORECASE)
MAX_VALUE = 2048
"""Longer values are refused: no indicator of any type needs more."""


def tlp_label(value: str | None) -> str:
    """The TLP 2.0 label of ``value`` (``TLP:AMBER``, ``white``, ``amber+strict``…)."""
    if value is None:
        return "amber"
    text = value.strip().lower()
    text = TLP_ALIASES.get(text, text.removeprefix("tlp:"))
    text = TLP_ALIASES.get(text, text)
    if text not in TLPS:
        raise InputError(f"unknown TLP {value!r} (known: {', '.join(TLPS)})")
    return text


def tlp_rank(label: str) -> int:
    """0 for ``clear`` … 4 for ``red``: a label may be shared where its rank is allowed."""
    return TLPS.index(tlp_label(label))


def normalize(kind: Kind, value: str) -> str:
    """The canonical form of ``value`` as an indicator of ``kind``; :class:`InputError`
    saying why when it is not one."""
    text = value.strip()
    if not text:
        raise InputError(f"empty {kind} value")
    if len(text) > MAX_VALUE:
        raise InputError(f"{kind} value longer than {MAX_VALUE} characters")
    try:
        return _NORMALIZERS[kind](text)
    except (ValueError, UnicodeError) as error:
        raise InputError(f"not a valid {kind}: {text[:80]!r} ({error})") from None


def _ipv4(text: str) -> str:
    return str(ipaddress.IPv4Address(text))


def _ipv6(text: str) -> str:
    return str(ipaddress.IPv6Address(text))


def _cidr(text: str) -> str:
    return str(ipaddress.ip_network(text, strict=False))


def domain_name(text: str) -> str:
    """A host name, lower-case, ASCII (IDNA), without a trailing dot; labels checked."""
    name = text.strip().rstrip(".").lower()
    if not name.isascii():
        name = name.encode("idna").decode("ascii")
    labels = name.split(".")
    if len(labels) < 2 or len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError("a domain needs two or more labels of letters, digits and hyphens")
    if labels[-1].isdigit():
        raise ValueError("a domain's last label is not a number")
    return name


def url_text(text: str) -> str:
    """A URL with a lower-case scheme and host, without a fragment or a default port."""
    found = _URL.match(text)
    if found is None:
        raise ValueError("a URL needs a scheme and a host")
    scheme, host, rest = found.group(1).lower(), found.group(2).lower(), found.group(3)
    if not host:
        raise ValueError("a URL needs a host")
    for default in ((":80", "http"), (":443", "https")):
        if host.endswith(default[0]) and scheme == default[1]:
            host = host.removesuffix(default[0])
    return f"{scheme}://{host}{rest or '/'}"


def _hash(kind: Kind) -> Callable[[str], str]:
    def check(text: str) -> str:
        digest = text.lower()
        if len(digest) != HASH_LENGTHS[kind] or not _HEX.match(digest):
            raise ValueError(f"{kind} is {HASH_LENGTHS[kind]} hex digits")
        return digest

    return check


def _email(text: str) -> str:
    address = text.lower()
    if not _EMAIL.match(address):
        raise ValueError("an email address is local-part@domain")
    local, domain = address.rsplit("@", 1)
    return f"{local}@{domain_name(domain)}"


def _filename(text: str) -> str:
    if "/" in text or "\\" in text:
        raise ValueError("a file name has no directory part")
    return text.lower()


def _ja3(text: str) -> str:
    digest = text.lower()
    if len(digest) != 32 or not _HEX.match(digest):
        raise ValueError("a JA3 fingerprint is an MD5 digest, 32 hex digits")
    return digest


def _ja4(text: str) -> str:
    fingerprint = text.lower()
    if not _JA4.match(fingerprint):
        raise ValueError("a JA4 fingerprint reads like t13d1516h2_8daaf6152771_e5627efa2ab1")
    return fingerprint


def _cve(text: str) -> str:
    name = text.upper()
    if not _CVE.match(name):
        raise ValueError("a CVE id reads like CVE-2024-3094")
    return name


_NORMALIZERS: dict[Kind, Callable[[str], str]] = {
    Kind.IPV4: _ipv4,
    Kind.IPV6: _ipv6,
    Kind.CIDR: _cidr,
    Kind.DOMAIN: domain_name,
    Kind.URL: url_text,
    Kind.MD5: _hash(Kind.MD5),
    Kind.SHA1: _hash(Kind.SHA1),
    Kind.SHA256: _hash(Kind.SHA256),
    Kind.EMAIL: _email,
    Kind.FILENAME: _filename,
    Kind.USER_AGENT: str,
    Kind.JA3: _ja3,
    Kind.JA4: _ja4,
    Kind.CVE: _cve,
}


def canonical_pair(kind: Kind, value: str) -> tuple[Kind, str]:
    """The kind and canonical value an indicator is stored under: a network of one
    address is that address (one indicator, not two); an IPv4 address written as IPv6
    (``::ffff:203.0.113.7``) is the IPv4 address."""
    canonical = normalize(kind, value)
    if kind is Kind.CIDR and canonical.endswith(("/32", "/128")) and (
            (":" in canonical) == canonical.endswith("/128")):
        canonical, kind = canonical.rsplit("/", 1)[0], Kind.IPV6 if ":" in canonical \
            else Kind.IPV4
    if kind is Kind.IPV6:
        mapped = ipaddress.IPv6Address(canonical).ipv4_mapped
        if mapped is not None:
            return Kind.IPV4, str(mapped)
    return kind, canonical


def guess_kind(value: str) -> Kind | None:
    """The kind a bare value in a plain list most likely is; None when it is none of the
    self-describing ones (file names, user agents and JA3 digests need a declared kind)."""
    text = value.strip()
    for kind in (Kind.IPV4, Kind.IPV6, Kind.CIDR, Kind.CVE, Kind.EMAIL, Kind.URL):
        if kind is Kind.CIDR and "/" not in text:
            continue
        try:
            normalize(kind, text)
        except InputError:
            continue
        return kind
    lowered = text.lower()
    if _HEX.match(lowered):
        for kind, length in HASH_LENGTHS.items():
            if len(lowered) == length:
                return kind
        return None
    try:
        normalize(Kind.DOMAIN, text)
    except InputError:
        return None
    return Kind.DOMAIN


@dataclass(frozen=True, slots=True)
class IndicatorIn:
    """One indicator as a feed, the API or an analyst gives it, already normalized."""

    kind: Kind
    value: str
    source: str
    """The feed (or ``analyst:<name>``) it came from: its provenance."""
    confidence: int = 50
    """0–100, how sure the source is."""
    tlp: str = "amber"
    tags: tuple[str, ...] = ()
    attack: tuple[str, ...] = ()
    """ATT&CK technique ids (``T1071.001``)."""
    threat: str | None = None
    """The malware, actor or campaign it is related to, by name."""
    description: str = ""
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    valid_until: datetime | None = None
    external_id: str | None = None
    """The id the source gives it (a STIX id, a MISP attribute uuid)."""

    @classmethod
    def of(cls, kind: Kind | str, value: str, source: str, **details: object) -> IndicatorIn:
        """Normalize ``value`` and the TLP; :class:`InputError` when either is invalid."""
        kind, canonical = canonical_pair(Kind(kind), value)
        tlp = tlp_label(details.pop("tlp", None))  # type: ignore[arg-type]
        confidence = int(details.pop("confidence", 50))  # type: ignore[call-overload]
        if not 0 <= confidence <= 100:
            raise InputError(f"confidence {confidence} is not within 0–100")
        return cls(kind, canonical, source, confidence=confidence, tlp=tlp,
                   **details)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class FeedProblem:
    """Something a parser skipped, with where it was (object id, line) and why."""

    where: str
    reason: str


@dataclass(slots=True)
class FeedResult:
    """What one parse of a feed gave: indicators, sightings it carried, problems."""

    indicators: list[IndicatorIn]
    problems: list[FeedProblem]
    cursor: str | None = None
    """Where the next incremental pull starts (a TAXII ``added_after``, a MISP timestamp)."""
    withdrawn: list[tuple[Kind, str]] = field(default_factory=list)
    """Values the source has taken back (a revoked STIX indicator, a MISP attribute no
    longer flagged for detection): the store stops crediting them to this source."""

    def absorb(self, other: FeedResult) -> None:
        """Add what ``other`` (one page, one event) gave; the cursor is the caller's."""
        self.indicators.extend(other.indicators)
        self.problems.extend(other.problems)
        self.withdrawn.extend(other.withdrawn)


@dataclass(frozen=True, slots=True)
class StoredIndicator:
    """An indicator as the store keeps it: every source's contribution merged."""

    id: int
    kind: Kind
    value: str
    confidence: int
    """The highest confidence any of its sources gives."""
    tlp: str
    """The most restrictive TLP any of its sources gives."""
    sources: tuple[str, ...]
    tags: tuple[str, ...]
    attack: tuple[str, ...]
    threat: str | None
    description: str
    first_seen: datetime
    last_seen: datetime
    valid_until: datetime | None
    created_at: datetime
    updated_at: datetime
    sightings: int
    """Times it was seen in events (or reported seen)."""
    false_positives: int
    last_sighting: datetime | None
    score: float
    """0–100: confidence decayed by age, raised by sightings, cut by false positives."""
    active: bool
    """Whether it matches: valid, above the decay threshold, on no warning list."""
    external_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredSighting:
    id: int
    indicator_id: int
    kind: str
    """``seen`` or ``false-positive``."""
    at: datetime
    by: str
    """``system`` for a match in the events, else the analyst or the source."""
    count: int = 1
    event_id: str | None = None
    note: str = ""
