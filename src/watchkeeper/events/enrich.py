"""Asset enrichment: the criticality, owner and tags of the host an event comes from.

The asset inventory is a table (``name``, ``ip``, ``criticality``, ``owner``, ``tags``)
kept by the state store; :class:`AssetEnricher` is built from it once and then adds
three columns to every batch, by hash lookups over whole columns (no Python per
event). An event is matched by ``host.name`` first, then by ``host.ip``.
"""

from __future__ import annotations

import polars as pl

from watchkeeper.errors import InputError, UsageError

HOST_NAME = "host.name"
HOST_IP = "host.ip"
ASSET_CRITICALITY = "asset.criticality"
"""``low``, ``medium``, ``high`` or ``critical``: how much the matched asset matters."""
ASSET_OWNER = "asset.owner"
"""Who answers for the matched asset (a person or a team), as the inventory writes it."""
ASSET_TAGS = "asset.tags"
"""The matched asset's tags, comma-separated, trimmed, without empty ones."""
ASSET_FIELDS = (ASSET_CRITICALITY, ASSET_OWNER, ASSET_TAGS)
CRITICALITIES = ("low", "medium", "high", "critical")
"""Allowed criticality values, least to most critical."""

_ATTRIBUTES = {"criticality": ASSET_CRITICALITY, "owner": ASSET_OWNER, "tags": ASSET_TAGS}


def _blank_null(value: pl.Expr) -> pl.Expr:
    """``value``, null where it is empty."""
    return pl.when(value != "").then(value)


def _text(value: pl.Expr) -> pl.Expr:
    """``value`` as text, trimmed and lower-cased, null when empty."""
    return _blank_null(value.cast(pl.String).str.strip_chars().str.to_lowercase())


def _short(name: pl.Expr) -> pl.Expr:
    """The part of a host name before its first dot; null without a dot, and when that part
    is a number (an IPv4 address has no short name)."""
    dot = name.str.find(".", literal=True)
    short = name.str.slice(0, dot)
    return pl.when(dot.is_not_null() & ~short.str.contains("^[0-9]*$")).then(short)


def _keys(keys: pl.Series, rows: pl.Series) -> tuple[list[str], list[int]]:
    """A lookup table key → asset row: nulls dropped, the first asset winning a shared key."""
    table = pl.DataFrame({"key": keys, "row": rows}).drop_nulls("key")
    table = table.unique("key", keep="first", maintain_order=True)
    return table["key"].to_list(), table["row"].to_list()


def _lookup(key: pl.Expr, table: tuple[list[str], list[int]]) -> pl.Expr:
    """The asset row of ``key`` (UInt32), null when the table has no such key."""
    keys, rows = table
    return key.replace_strict(keys, rows, default=None, return_dtype=pl.UInt32)


class AssetEnricher:
    """Adds :data:`ASSET_FIELDS` to events whose host is in the asset inventory.

    ``assets`` needs a ``name`` column; ``ip`` (one address, or several separated by
    commas), ``criticality``, ``owner`` and ``tags`` are optional. Names and addresses
    match case-insensitively; a name also matches by its short form (before the first
    dot) when the other side is short (``ws01`` and ``ws01.corp.example``), never two
    different domains. When two assets share a key, the first one in the table wins.
    """

    def __init__(self, assets: pl.DataFrame) -> None:
        if "name" not in assets.columns:
            raise UsageError("the asset table needs a name column")

        def optional(column: str) -> pl.Expr:
            if column in assets.columns:
                return pl.col(column).cast(pl.String)
            return pl.lit(None, dtype=pl.String)

        tags = (
            optional("tags")
            .str.split(",")
            .list.eval(pl.element().str.strip_chars().filter(pl.element() != ""))
        )
        table = assets.select(
            name=_text(pl.col("name")),
            ip=optional("ip"),
            criticality=_text(optional("criticality")),
            owner=_blank_null(optional("owner").str.strip_chars()),
            tags=_blank_null(tags.list.join(",")),
        ).with_row_index("row")
        bad = table.filter(~pl.col("criticality").is_in(CRITICALITIES))
        if bad.height:
            first = bad.row(0, named=True)
            raise InputError(
                f"criticality {first['criticality']!r} is not one of {', '.join(CRITICALITIES)}",
                location=f"asset {first['name']!r}",
            )
        self._attributes = table.select(list(_ATTRIBUTES)).rename(_ATTRIBUTES)
        self._by_name = _keys(table["name"], table["row"])
        self._by_short = _keys(table.select(_short(pl.col("name"))).to_series(), table["row"])
        ips = table.select("row", ip=pl.col("ip").str.split(",")).explode("ip")
        ips = ips.select("row", ip=_text(pl.col("ip")))
        self._by_ip = _keys(ips["ip"], ips["row"])

    @property
    def empty(self) -> bool:
        """True when the inventory has no asset: :meth:`apply` then changes nothing."""
        return self._attributes.height == 0

    def apply(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with the asset columns, rows in the same order; unchanged when the
        inventory is empty or the events carry neither ``host.name`` nor ``host.ip``."""
        if self.empty or not {HOST_NAME, HOST_IP} & set(frame.columns):
            return frame
        lookups: list[pl.Expr] = []
        if HOST_NAME in frame.columns:
            name = _text(pl.col(HOST_NAME))
            candidates = [
                (name, self._by_name),
                (name, self._by_short),
                (_short(name), self._by_name),
            ]
            lookups += [_lookup(key, table) for key, table in candidates if table[0]]
        if HOST_IP in frame.columns and self._by_ip[0]:
            addresses = _text(pl.col(HOST_IP)).str.replace_all(r'[\[\]"\s]', "").str.split(",")
            found = addresses.list.eval(_lookup(pl.element(), self._by_ip)).list.drop_nulls()
            lookups.append(found.list.first())
        if lookups:
            # lazily, so that the cleaned host name is computed once for all lookups
            matched = frame.lazy().select(pl.coalesce(lookups)).collect().to_series()
        else:
            matched = pl.repeat(None, frame.height, dtype=pl.UInt32, eager=True)
        columns = []
        for field, values in self._attributes.to_dict().items():
            column = values.gather(matched).alias(field)
            own = frame.schema.get(field)
            if own == pl.String:
                column = frame[field].fill_null(column)
            elif own is not None and own != pl.Null:
                continue  # a column of another type is the event's own, left as it is
            columns.append(column)
        return frame.with_columns(columns)
