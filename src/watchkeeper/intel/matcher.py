"""Matching a batch of events against every active indicator, over whole columns.

Built once from the active indicators (``id``, ``kind``, ``value``), then asked per batch.
Nothing loops over events in Python:

- values (domains, URLs, hashes, emails, file names, user agents, JA3/JA4, CVEs) are
  hashed by Polars and looked up with a binary search in a sorted array of the
  indicators' hashes; the few candidates are then compared as text, so a hash collision
  can never make a match;
- IPv4 addresses become integers and are looked up once per prefix length present
  among the indicators (a /32 is an address indicator): the prefix structure of a trie,
  answered by as many binary searches as there are distinct lengths;
- a domain indicator matches its subdomains: each event name is cut to its last 2, 3 …
  labels, up to the longest indicator, and every cut is looked up;
- IPv6 values, rarer, are compared in their canonical form over the batch's distinct
  values only.

The result has one row per (event row, indicator, field): ``row``, ``indicator``,
``field`` and the event's ``value``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from watchkeeper.intel.model import Kind

DEFAULT_FIELDS: dict[Kind, tuple[str, ...]] = {
    Kind.IPV4: ("source.ip", "destination.ip", "client.ip", "server.ip"),
    Kind.DOMAIN: ("dns.question.name", "url.domain", "destination.domain", "server.domain",
                  "tls.client.server_name"),
    Kind.URL: ("url.full", "url.original"),
    Kind.MD5: ("file.hash.md5", "process.hash.md5"),
    Kind.SHA1: ("file.hash.sha1", "process.hash.sha1"),
    Kind.SHA256: ("file.hash.sha256", "process.hash.sha256"),
    Kind.EMAIL: ("email.from.address", "email.to.address", "email.sender.address",
                 "user.email"),
    Kind.FILENAME: ("file.name", "process.name"),
    Kind.USER_AGENT: ("user_agent.original",),
    Kind.JA3: ("tls.client.ja3", "tls.ja3.hash", "ja3"),
    Kind.JA4: ("tls.client.ja4", "tls.ja4"),
    Kind.CVE: ("vulnerability.id",),
}
"""Event fields each kind is matched against. IPv4 fields also serve IPv6 and CIDR
indicators. ``[intel] fields`` in the settings replaces an entry."""
HIT_SCHEMA = {"row": pl.UInt32, "indicator": pl.Int64, "field": pl.String, "value": pl.String}
_IPV4 = r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$"
_MAPPED = r"^(?i)::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$"
_ASCII = r"^[\x00-\x7f]*$"
_URL = r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([^#]*)"
_CASELESS = (Kind.DOMAIN, Kind.MD5, Kind.SHA1, Kind.SHA256, Kind.EMAIL, Kind.FILENAME,
             Kind.JA3, Kind.JA4)
_TEXT_KINDS = (*_CASELESS, Kind.URL, Kind.USER_AGENT, Kind.CVE)
Ids = npt.NDArray[np.int64]
Keys = npt.NDArray[np.uint64]


@dataclass(frozen=True, slots=True)
class _Table:
    """Sorted distinct keys; the ids of key ``i`` are ``ids[starts[i]:starts[i + 1]]``."""

    keys: Keys
    starts: npt.NDArray[np.int64]
    ids: Ids

    @classmethod
    def build(cls, keys: Keys, ids: Ids) -> _Table:
        order = np.argsort(keys, kind="stable")
        keys, ids = keys[order], ids[order]
        distinct, starts = np.unique(keys, return_index=True)
        return cls(distinct, np.append(starts, len(keys)).astype(np.int64), ids)

    def find(self, probe: Keys) -> tuple[npt.NDArray[np.int64], Ids]:
        """(positions in ``probe``, indicator id) of every probe key present."""
        if len(self.keys) == 0 or len(probe) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        slot = np.searchsorted(self.keys, probe)
        inside = slot < len(self.keys)
        found = np.zeros(len(probe), dtype=bool)
        found[inside] = self.keys[slot[inside]] == probe[inside]
        where = np.flatnonzero(found)
        slot = slot[where]
        counts = self.starts[slot + 1] - self.starts[slot]
        positions = np.repeat(where, counts)
        first = np.repeat(self.starts[slot], counts)
        offsets = np.arange(len(positions)) - np.repeat(np.cumsum(counts) - counts, counts)
        return positions.astype(np.int64), self.ids[first + offsets]


class Matcher:
    """Every active indicator, compiled for batch lookups."""

    def __init__(
        self, indicators: pl.DataFrame, fields: Mapping[Kind, Sequence[str]] | None = None
    ) -> None:
        self.fields = {**DEFAULT_FIELDS, **(fields or {})}
        self.size = indicators.height
        self._texts: dict[Kind, tuple[_Table, pl.Series, Ids]] = {}
        self._ipv4: dict[int, _Table] = {}
        self._ipv6: dict[int, dict[int, list[int]]] = {}
        """prefix length → network number → indicator ids"""
        self._domain_depth = 0
        for (kind_name,), part in indicators.group_by("kind"):
            kind = Kind(str(kind_name))
            if kind in _TEXT_KINDS:
                self._add_text(kind, part)
            else:
                self._add_network(part)

    @classmethod
    def empty(cls) -> Matcher:
        return cls(pl.DataFrame(schema={"id": pl.Int64, "kind": pl.String, "value": pl.String}))

    def _add_text(self, kind: Kind, part: pl.DataFrame) -> None:
        values = part["value"]
        # the table gives positions in ``values``: a candidate is checked against its text
        positions = np.arange(part.height, dtype=np.int64)
        table = _Table.build(values.hash(seed=0).to_numpy(), positions)
        self._texts[kind] = (table, values, part["id"].cast(pl.Int64).to_numpy())
        if kind is Kind.DOMAIN:
            depth = values.str.count_matches(".", literal=True).max()
            self._domain_depth = int(depth) + 1 if isinstance(depth, int) else 0

    def _add_network(self, part: pl.DataFrame) -> None:
        by_length: dict[int, tuple[list[int], list[int]]] = {}
        for ident, value in zip(part["id"].to_list(), part["value"].to_list(), strict=True):
            network = ipaddress.ip_network(value, strict=False)
            if isinstance(network, ipaddress.IPv6Network):
                by_network = self._ipv6.setdefault(network.prefixlen, {})
                number = int(network.network_address) >> (128 - network.prefixlen)
                by_network.setdefault(number, []).append(ident)
                continue
            keys, ids = by_length.setdefault(network.prefixlen, ([], []))
            keys.append(int(network.network_address) >> (32 - network.prefixlen))
            ids.append(ident)
        for length, (keys, ids) in by_length.items():
            old = self._ipv4.get(length)
            new_keys = np.array(keys, dtype=np.uint64)
            new_ids = np.array(ids, dtype=np.int64)
            if old is not None:  # ipv4 and cidr rows of the same length
                counts = np.diff(old.starts)
                new_keys = np.concatenate([np.repeat(old.keys, counts), new_keys])
                new_ids = np.concatenate([old.ids, new_ids])
            self._ipv4[length] = _Table.build(new_keys, new_ids)

    # matching ------------------------------------------------------------------------

    def match(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Every (event row, indicator, field) of ``frame`` that matches."""
        parts: list[pl.DataFrame] = []
        present = set(frame.columns)
        for kind, fields in self.fields.items():
            for field in fields:
                if field not in present or frame[field].dtype != pl.String:
                    continue
                column = frame[field]
                if kind is Kind.IPV4:
                    parts.extend(self._match_ip(column, field))
                elif kind in self._texts:
                    parts.append(self._match_text(kind, column, field))
        parts = [p for p in parts if p.height]
        if not parts:
            return pl.DataFrame(schema=HIT_SCHEMA)
        return pl.concat(parts).unique(["row", "indicator", "field"], maintain_order=True)

    def _match_text(self, kind: Kind, column: pl.Series, field: str) -> pl.DataFrame:
        """Looked up once per distinct value (logs repeat themselves), then joined back."""
        rows = pl.DataFrame({"raw": column}).with_row_index("row").drop_nulls("raw")
        distinct = rows["raw"].unique()
        text = distinct.str.strip_chars()
        if kind in _CASELESS:
            text = text.str.to_lowercase()
        if kind is Kind.CVE:
            text = text.str.to_uppercase()
        if kind in (Kind.DOMAIN, Kind.EMAIL):
            text = _ascii_names(text, email=kind is Kind.EMAIL)
        if kind is Kind.URL:
            text = _canonical_urls(text)
        positions = pl.Series("row", range(len(distinct)), dtype=pl.UInt32)
        if kind is Kind.DOMAIN:
            hits = self._match_domains(positions, text.str.strip_chars_end("."), field)
        else:
            hits = self._hits(kind, positions, text, field)
        if hits.height == 0:
            return hits
        found = hits.with_columns(distinct.gather(hits["row"]).alias("raw")).drop("row")
        return rows.join(found, on="raw").select(HIT_SCHEMA.keys())

    def _hits(self, kind: Kind, rows: pl.Series, text: pl.Series, field: str) -> pl.DataFrame:
        table, values, ids = self._texts[kind]
        found, positions = table.find(text.hash(seed=0).to_numpy())
        if len(found) == 0:
            return pl.DataFrame(schema=HIT_SCHEMA)
        candidates = pl.DataFrame({
            "row": rows.gather(found),
            "indicator": ids[positions],
            "field": pl.repeat(field, len(found), dtype=pl.String, eager=True),
            "value": text.gather(found),
            "wanted": values.gather(positions),
        })
        return candidates.filter(pl.col("value") == pl.col("wanted")).drop("wanted")

    def _match_domains(self, rows: pl.Series, names: pl.Series, field: str) -> pl.DataFrame:
        labels = names.str.split(".")
        sizes = labels.list.len()
        full = pl.DataFrame({"row": rows, "value": names})
        parts = []
        for depth in range(2, self._domain_depth + 1):
            deep = sizes >= depth
            if not deep.any():
                break
            cut = labels.filter(deep).list.slice(-depth, depth).list.join(".")
            hits = self._hits(Kind.DOMAIN, rows.filter(deep), cut, field)
            if hits.height:
                parts.append(hits.drop("value").join(full, on="row").select(HIT_SCHEMA.keys()))
        return pl.concat(parts) if parts else pl.DataFrame(schema=HIT_SCHEMA)

    def _match_ip(self, column: pl.Series, field: str) -> list[pl.DataFrame]:
        rows = pl.DataFrame({"raw": column}).with_row_index("row").drop_nulls("raw")
        distinct = rows["raw"].unique()
        # an IPv4 address written as IPv6 (dual-stack sockets): matched as the IPv4 one
        text = distinct.str.strip_chars().str.replace(_MAPPED, "${1}")
        positions = pl.Series("row", range(len(distinct)), dtype=pl.UInt32)
        found: list[pl.DataFrame] = []
        if self._ipv4:
            v4 = text.str.contains(_IPV4)
            numbers = _ipv4_numbers(text.filter(v4))
            keep = numbers.is_not_null()
            v4_rows = positions.filter(v4).filter(keep)
            addresses = numbers.filter(keep).to_numpy().astype(np.uint64)
            for length, table in self._ipv4.items():
                where, ids = table.find(addresses >> np.uint64(32 - length))
                if len(ids):
                    found.append(pl.DataFrame(
                        {"row": v4_rows.gather(where), "indicator": ids},
                        schema={"row": pl.UInt32, "indicator": pl.Int64}))
        if self._ipv6:
            found.append(self._match_ipv6(positions, text))
        hits = [f for f in found if f.height]
        if not hits:
            return []
        joined = pl.concat(hits).with_columns(
            distinct.gather(pl.concat(hits)["row"]).alias("raw")).drop("row")
        return [rows.join(joined, on="raw").select(
            "row", "indicator", pl.lit(field).alias("field"), pl.col("raw").alias("value"))]

    def _match_ipv6(self, positions: pl.Series, text: pl.Series) -> pl.DataFrame:
        """(position, indicator) of the distinct values inside an IPv6 indicator."""
        rows: list[int] = []
        ids: list[int] = []
        for position, value in zip(positions.to_list(), text.to_list(), strict=True):
            if ":" not in value:
                continue
            try:
                address = ipaddress.IPv6Address(value)
            except ValueError:
                continue
            for length, networks in self._ipv6.items():
                members = networks.get(int(address) >> (128 - length), ())
                rows.extend([position] * len(members))
                ids.extend(members)
        return pl.DataFrame({"row": rows, "indicator": ids},
                            schema={"row": pl.UInt32, "indicator": pl.Int64})

def _ipv4_numbers(text: pl.Series) -> pl.Series:
    """Dotted quads as UInt32, null where an octet is over 255."""
    octets = text.str.split_exact(".", 3).struct.unnest()
    parts = [octets[name].cast(pl.UInt32, strict=False) for name in octets.columns]
    frame = pl.DataFrame({f"o{i}": p for i, p in enumerate(parts)})
    valid = pl.all_horizontal(pl.col(f"o{i}") <= 255 for i in range(4))
    number = (pl.col("o0") * (1 << 24) + pl.col("o1") * (1 << 16)
              + pl.col("o2") * (1 << 8) + pl.col("o3"))
    return frame.select(pl.when(valid).then(number.cast(pl.UInt32))).to_series()


def _ascii_names(text: pl.Series, *, email: bool) -> pl.Series:
    """Internationalized names in their ASCII (IDNA) form, as indicators are written; only
    the few values with other characters go through Python."""
    other = ~text.str.contains(_ASCII)
    if not other.any():
        return text
    converted = [_idna(value, email) for value in text.filter(other).to_list()]
    return text.scatter(other.arg_true(), pl.Series(converted, dtype=pl.String))


def _idna(value: str, email: bool) -> str | None:
    local, at, host = value.rpartition("@") if email else ("", "", value)
    try:
        name = host.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return f"{local}{at}{name}"


def _canonical_urls(text: pl.Series) -> pl.Series:
    """Lower-case scheme and host, no fragment, no default port: the form indicators use."""
    parts = pl.DataFrame({"url": text}).select(
        pl.col("url").str.extract_groups(_URL).struct.rename_fields(["scheme", "host", "rest"])
    ).unnest("url")
    scheme, host = pl.col("scheme").str.to_lowercase(), pl.col("host").str.to_lowercase()
    host = (
        pl.when((scheme == "http") & host.str.ends_with(":80"))
        .then(host.str.strip_suffix(":80"))
        .when((scheme == "https") & host.str.ends_with(":443"))
        .then(host.str.strip_suffix(":443"))
        .otherwise(host)
    )
    rest = pl.when(pl.col("rest") == "").then(pl.lit("/")).otherwise(pl.col("rest"))
    url = pl.when(scheme.is_not_null() & (pl.col("host") != "")).then(
        pl.concat_str(scheme, pl.lit("://"), host, rest))
    return parts.select(url.alias("url")).to_series()
