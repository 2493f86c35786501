"""Warning lists: values that look like indicators but are known benign or meaningless
(private ranges, public resolvers, reserved names). An indicator on one does not match.

The file format is MISP's: ``{"name", "version", "description", "type", "list",
"matching_attributes"}`` with ``type`` one of ``cidr``, ``string``, ``hostname``,
``substring`` or ``regex``. :class:`WarningLists` compiles many of them for lookups of
canonical values (as :func:`watchkeeper.intel.model.normalize` writes them).
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast, get_args

import numpy as np
import re2  # type: ignore[import-untyped]

from watchkeeper.errors import InputError
from watchkeeper.intel.model import Kind

ListType = Literal["cidr", "string", "hostname", "substring", "regex"]
_IPS = frozenset({Kind.IPV4, Kind.IPV6, Kind.CIDR})
_HOSTS = frozenset({Kind.DOMAIN, Kind.URL, Kind.EMAIL})
NATURAL_KINDS: dict[str, frozenset[Kind]] = {
    "cidr": _IPS,
    "hostname": _HOSTS,
    "string": frozenset(Kind),
    "substring": frozenset(Kind),
    "regex": frozenset(Kind),
}
"""The kinds a list of each type applies to when it names no matching attributes."""
_HASHES = {"md5": Kind.MD5, "sha1": Kind.SHA1, "sha256": Kind.SHA256}
ATTRIBUTE_KINDS: dict[str, frozenset[Kind]] = {
    **{name: _IPS for name in ("ip", "ip-src", "ip-dst", "ip-src|port", "ip-dst|port")},
    **{name: _HOSTS for name in ("domain", "hostname", "hostname|port")},
    "domain|ip": _HOSTS | _IPS,
    **{name: frozenset({Kind.URL}) for name in ("url", "link", "uri")},
    **{name: frozenset({Kind.EMAIL})
       for name in ("email", "email-src", "email-dst", "target-email", "email-reply-to")},
    **{name: frozenset({kind}) for name, kind in _HASHES.items()},
    **{f"filename|{name}": frozenset({Kind.FILENAME, kind}) for name, kind in _HASHES.items()},
    "filename": frozenset({Kind.FILENAME}),
    "user-agent": frozenset({Kind.USER_AGENT}),
    "ja3-fingerprint-md5": frozenset({Kind.JA3}),
    "ja4-fingerprint": frozenset({Kind.JA4}),
    "vulnerability": frozenset({Kind.CVE}),
}
"""MISP attribute types → our kinds. A host name covers URLs and email addresses by their
host; attribute types we have no kind for are ignored."""


@dataclass(frozen=True, slots=True)
class WarningHit:
    list_name: str
    entry: str
    """The entry as the list writes it (``10.0.0.0/8``, ``*.example.com``)."""


@dataclass(slots=True)
class WarningList:
    name: str
    type: ListType
    entries: tuple[str, ...]
    kinds: frozenset[Kind]
    version: int | str = 0
    description: str = ""


def load_warninglist(data: bytes, where: str) -> WarningList:
    """Read one list; :class:`InputError` located at ``where`` for invalid JSON, a missing
    or wrong field, an unknown type, or an entry that is not a network, host name or
    regular expression re2 compiles (naming the entry)."""
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(f"not valid JSON ({error})", location=where) from None
    if not isinstance(raw, dict):
        raise InputError("a warning list is a JSON object", location=where)
    name, entries = raw.get("name"), raw.get("list")
    if not isinstance(name, str) or not name.strip():
        raise InputError("no list name", location=where)
    if raw.get("type") not in get_args(ListType):
        raise InputError(f"unknown list type {raw.get('type')!r} "
                         f"(known: {', '.join(get_args(ListType))})", location=where)
    kind = cast(ListType, raw["type"])
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise InputError("'list' must be a list of strings", location=where)
    attributes = raw.get("matching_attributes") or []
    if not isinstance(attributes, list) or not all(isinstance(a, str) for a in attributes):
        raise InputError("'matching_attributes' must be a list of strings", location=where)
    natural = NATURAL_KINDS[kind]
    kinds = natural
    if attributes:
        mapped = [ATTRIBUTE_KINDS.get(a.strip().lower(), frozenset()) for a in attributes]
        kinds = natural & frozenset().union(*mapped)
    kept = tuple(entry.strip() for entry in entries if entry.strip())
    for entry in kept:
        _check(kind, entry, where)
    version = raw.get("version", 0)
    description = raw.get("description", "")
    return WarningList(name.strip(), kind, kept, kinds,
                       version if isinstance(version, int | str) else 0,
                       description if isinstance(description, str) else "")


def _check(kind: ListType, entry: str, where: str) -> None:
    try:
        if kind == "cidr":
            ipaddress.ip_network(entry, strict=False)
        elif kind == "hostname":
            _host_entry(entry)
        elif kind == "regex":
            _compile(entry)
    except (ValueError, UnicodeError, re2.error) as error:
        raise InputError(f"bad {kind} entry {entry!r} ({_reason(error)})",
                         location=where) from None


def _reason(error: Exception) -> str:
    text = error.args[0] if error.args else error
    return text.decode() if isinstance(text, bytes) else str(text)


def _compile(pattern: str, case_sensitive: bool = True) -> Any:
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = case_sensitive
    return re2.compile(pattern, options)


def _host_entry(entry: str) -> str:
    """A host-name entry in canonical form: ``*.example.com`` and ``.example.com`` are
    written as ``example.com`` (which covers its sub-domains anyway)."""
    name = entry.lower().removeprefix("*.").strip(".")
    if not name.isascii():
        name = name.encode("idna").decode("ascii")
    if not name or any(not label or not all(c.isalnum() or c in "-_" for c in label)
                       for label in name.split(".")):
        raise ValueError("not a host name")
    return name


def _url_host(url: str) -> str:
    """The host of a canonical URL (``scheme://[user@]host[:port]/…``)."""
    rest = url.partition("://")[2]
    for stop in "/?#":
        rest = rest.partition(stop)[0]
    host = rest.rpartition("@")[2]
    host = host[1:].partition("]")[0] if host.startswith("[") else host.partition(":")[0]
    return host.rstrip(".")


_MASKS = {(v, p): ((1 << bits) - 1) ^ ((1 << (bits - p)) - 1)
          for v, bits in ((4, 32), (6, 128)) for p in range(bits + 1)}


class WarningLists:
    """Many warning lists, compiled: a set per kind for strings, suffixes for host
    names, a set of network numbers per prefix length for networks, one re2 alternation
    per substring list, and re2 patterns for regular expressions."""

    def __init__(self) -> None:
        self._lists: dict[str, WarningList] = {}
        self._strings: dict[Kind, dict[str, WarningHit]] = {}
        self._hosts: dict[Kind, dict[str, WarningHit]] = {}
        self._nets: dict[tuple[Kind, int], dict[int, dict[int, WarningHit]]] = {}
        self._subs: dict[Kind, list[tuple[str, Any, dict[str, str]]]] = {}
        self._regexes: dict[Kind, list[tuple[str, str, Any]]] = {}
        self._v4_arrays: dict[Kind, list[tuple[int, Any]]] = {}

    @classmethod
    def empty(cls) -> WarningLists:
        return cls()

    def names(self) -> list[str]:
        return list(self._lists)

    def lists(self) -> list[WarningList]:
        return list(self._lists.values())

    def add(self, warning_list: WarningList) -> None:
        """Compile ``warning_list`` in; :class:`InputError` when its name is taken."""
        name = warning_list.name
        if name in self._lists:
            raise InputError(f"a warning list named {name!r} is already loaded")
        self._lists[name] = warning_list
        self._v4_arrays.clear()
        for kind in warning_list.kinds:
            for entry in warning_list.entries:
                self._add_entry(warning_list, kind, entry)
            if warning_list.type == "substring" and warning_list.entries:
                lowered = {entry.lower(): entry for entry in warning_list.entries}
                pattern = "|".join(re2.escape(entry) for entry in lowered)
                self._subs.setdefault(kind, []).append(
                    (name, _compile(pattern, case_sensitive=False), lowered))

    def _add_entry(self, warning_list: WarningList, kind: Kind, entry: str) -> None:
        hit = WarningHit(warning_list.name, entry)
        if warning_list.type == "string":
            self._strings.setdefault(kind, {}).setdefault(_string_key(entry), hit)
        elif warning_list.type == "hostname":
            self._hosts.setdefault(kind, {}).setdefault(_host_entry(entry), hit)
        elif warning_list.type == "cidr":
            net = ipaddress.ip_network(entry, strict=False)
            if kind not in (Kind.CIDR, Kind.IPV4 if net.version == 4 else Kind.IPV6):
                return
            by_length = self._nets.setdefault((kind, net.version), {})
            by_length.setdefault(net.prefixlen, {}).setdefault(int(net.network_address), hit)
        elif warning_list.type == "regex":
            self._regexes.setdefault(kind, []).append((warning_list.name, entry, _compile(entry)))

    def hit(self, kind: Kind, value: str) -> WarningHit | None:
        """The first list entry ``value`` (canonical, of ``kind``) is on, or None."""
        found = self._strings.get(kind, {}).get(value.lower()) if kind in self._strings else None
        if found is not None:
            return found
        if kind in _IPS:
            found = self._network_hit(kind, value)
        elif kind in _HOSTS and kind in self._hosts:
            host = value if kind is Kind.DOMAIN else (
                _url_host(value) if kind is Kind.URL else value.rpartition("@")[2])
            found = self._host_hit(self._hosts[kind], host.lower())
        if found is not None:
            return found
        for name, pattern, entries in self._subs.get(kind, ()):
            match = pattern.search(value)
            if match is not None:
                return WarningHit(name, entries[match.group(0).lower()])
        for name, entry, pattern in self._regexes.get(kind, ()):
            if pattern.search(value) is not None:
                return WarningHit(name, entry)
        return None

    def filter(self, kind: Kind, values: Sequence[str]) -> list[WarningHit | None]:
        """:meth:`hit` for each of ``values``. IPv4 addresses are screened against the
        networks in bulk (numpy) and only the possible hits are looked up one by one."""
        if kind is not Kind.IPV4 or kind in self._strings or kind in self._subs \
                or kind in self._regexes:
            return [self.hit(kind, value) for value in values]
        numbers = np.fromiter((_v4_number(v) for v in values), dtype=np.int64, count=len(values))
        listed = np.zeros(len(values), dtype=bool)
        valid = numbers >= 0
        for length, networks in self._v4(kind):
            listed |= np.isin(numbers & _MASKS[4, length], networks) & valid
        hits: list[WarningHit | None] = [None] * len(values)
        for index in np.flatnonzero(listed).tolist():
            hits[index] = self._number_hit(kind, 4, int(numbers[index]), 32)
        return hits

    def _v4(self, kind: Kind) -> list[tuple[int, Any]]:
        if kind not in self._v4_arrays:
            self._v4_arrays[kind] = [
                (length, np.fromiter(table, dtype=np.int64, count=len(table)))
                for length, table in self._nets.get((kind, 4), {}).items()]
        return self._v4_arrays[kind]

    def _network_hit(self, kind: Kind, value: str) -> WarningHit | None:
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return None
        return self._number_hit(kind, net.version, int(net.network_address), net.prefixlen)

    def _number_hit(self, kind: Kind, version: int, number: int, prefix: int) -> WarningHit | None:
        for length, table in self._nets.get((kind, version), {}).items():
            if length <= prefix:
                found = table.get(number & _MASKS[version, length])
                if found is not None:
                    return found
        return None

    @staticmethod
    def _host_hit(table: dict[str, WarningHit], host: str) -> WarningHit | None:
        while True:
            found = table.get(host)
            if found is not None:
                return found
            dot = host.find(".")
            if dot < 0:
                return None
            host = host[dot + 1:]


def _string_key(entry: str) -> str:
    try:
        return str(ipaddress.ip_address(entry))
    except ValueError:
        return entry.lower()


def _v4_number(value: str) -> int:
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET, value), "big")
    except OSError:
        return -1  # not an address: matches no network


def load_warninglists(paths: Sequence[Path]) -> tuple[WarningLists, list[tuple[str, str]]]:
    """Load list files, and every ``*.json`` under folders. A file that cannot be read
    or loaded is reported as ``(path, reason)`` and the others still load."""
    lists = WarningLists()
    problems: list[tuple[str, str]] = []
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.rglob("*.json")))
        elif path.is_file():
            files.append(path)
        else:
            problems.append((str(path), "no such file or folder"))
    for file in files:
        try:
            lists.add(load_warninglist(file.read_bytes(), str(file)))
        except OSError as error:
            problems.append((str(file), error.strerror or str(error)))
        except InputError as error:
            problems.append((str(file), error.message))
    return lists, problems


def builtin_warninglists() -> WarningLists:
    """The lists shipped with Watchkeeper: special-use address ranges, public resolvers,
    reserved names and a few very common benign hosts."""
    lists = WarningLists()
    folder = resources.files("watchkeeper.intel").joinpath("data/warninglists")
    for item in sorted(folder.iterdir(), key=lambda item: item.name):
        if item.name.endswith(".json"):
            lists.add(load_warninglist(item.read_bytes(), f"built-in {item.name}"))
    return lists
