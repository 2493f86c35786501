"""Asset enrichment: which asset an event's host is, and that batches keep their shape."""

from __future__ import annotations

import polars as pl
import pytest

from tests.events.sources import EXAMPLES, normalizer, parse
from watchkeeper.errors import InputError, UsageError
from watchkeeper.events.enrich import ASSET_FIELDS, AssetEnricher

ASSETS = pl.DataFrame(
    {
        "name": ["WS01.corp.example", "dc-01", "web01.prod.example", "printer", "dc-01"],
        "ip": [None, "10.0.0.2", None, "10.0.0.9, 10.0.0.10", None],
        "criticality": ["High", "critical", "low", None, "low"],
        "owner": [" it ", "ad-team", "web", "", "shadow"],
        "tags": ["pci, workstation,", "tier0", "", None, "dup"],
    }
)


def _events(names: list[str | None], ips: list[str | None] | None = None) -> pl.DataFrame:
    columns = {"n": list(range(len(names))), "host.name": names}
    if ips is not None:
        columns["host.ip"] = ips
    return pl.DataFrame(columns, schema_overrides={"host.name": pl.String, "host.ip": pl.String})


def _criticality(names: list[str | None], ips: list[str | None] | None = None) -> list[str | None]:
    return AssetEnricher(ASSETS).apply(_events(names, ips))["asset.criticality"].to_list()


def test_rows_keep_their_order_and_number() -> None:
    names = ["printer", None, "ws01", "unknown", "dc-01", "ws01", "dc-01", None] * 50
    frame = _events(names)
    out = AssetEnricher(ASSETS).apply(frame)
    assert out.height == frame.height
    assert out["n"].to_list() == frame["n"].to_list()
    assert out["host.name"].to_list() == names
    assert out.columns == [*frame.columns, *ASSET_FIELDS]
    assert out["asset.criticality"].to_list()[:8] == [
        None,
        None,
        "high",
        None,
        "critical",
        "high",
        "critical",
        None,
    ]


def test_values_are_cleaned() -> None:
    out = AssetEnricher(ASSETS).apply(_events(["ws01.corp.example", "web01.prod.example"]))
    assert out.select(ASSET_FIELDS).rows() == [
        ("high", "it", "pci,workstation"),
        ("low", "web", None),
    ]


def test_names_match_without_case() -> None:
    assert _criticality(["ws01.CORP.example", "DC-01", " Dc-01 "]) == [
        "high",
        "critical",
        "critical",
    ]


def test_short_names_match_either_way_but_not_another_domain() -> None:
    # the event is short, the asset is not; the event is long, the asset is short
    assert _criticality(["ws01", "dc-01.corp.example", "web01"]) == ["high", "critical", "low"]
    # same short name in another domain: not the same machine
    assert _criticality(["web01.test.example", "ws01.lab.example"]) == [None, None]


def test_an_exact_name_wins_over_a_short_one() -> None:
    assets = pl.DataFrame({"name": ["app.prod", "app"], "criticality": ["low", "high"]})
    out = AssetEnricher(assets).apply(_events(["app", "app.prod", "app.dev"]))
    assert out["asset.criticality"].to_list() == ["high", "low", "high"]


def test_the_first_of_two_assets_of_one_name_wins() -> None:
    assert AssetEnricher(ASSETS).apply(_events(["dc-01"]))["asset.owner"].to_list() == ["ad-team"]


def test_ip_is_the_fallback() -> None:
    names = [None, "unknown", "ws01", "10.0.0.2", None]
    ips = ["10.0.0.10", '["fe80::1","10.0.0.2"]', "10.0.0.2", None, "192.0.2.1"]
    out = AssetEnricher(ASSETS).apply(_events(names, ips))
    assert out["asset.criticality"].to_list() == [None, "critical", "high", None, None]
    assert out["asset.owner"].to_list() == [None, "ad-team", "it", None, None]
    # the printer matched by address; it has no criticality, owner or tags to give
    only_ip = AssetEnricher(ASSETS).apply(pl.DataFrame({"host.ip": ["10.0.0.9"]}))
    assert only_ip.select(ASSET_FIELDS).rows() == [(None, None, None)]


def test_empty_inventory_changes_nothing() -> None:
    frame = _events(["ws01"], ["10.0.0.2"])
    enricher = AssetEnricher(ASSETS.head(0))
    assert enricher.empty
    assert enricher.apply(frame).equals(frame)
    assert AssetEnricher(pl.DataFrame({"name": []}, schema={"name": pl.String})).empty


def test_events_without_a_host_are_unchanged() -> None:
    frame = pl.DataFrame({"message": ["x", "y"]})
    assert AssetEnricher(ASSETS).apply(frame).equals(frame)


def test_values_the_event_has_are_kept() -> None:
    frame = _events(["ws01", "ws01"]).with_columns(
        pl.Series("asset.owner", ["soc", None], dtype=pl.String)
    )
    assert AssetEnricher(ASSETS).apply(frame)["asset.owner"].to_list() == ["soc", "it"]


def test_only_a_name_is_required() -> None:
    enricher = AssetEnricher(pl.DataFrame({"name": ["ws01"]}))
    out = enricher.apply(_events(["WS01", "ws02"]))
    assert out.select(ASSET_FIELDS).rows() == [(None, None, None)] * 2


def test_a_table_without_names_is_refused() -> None:
    with pytest.raises(UsageError, match="name column"):
        AssetEnricher(pl.DataFrame({"ip": ["10.0.0.1"]}))


def test_an_unknown_criticality_is_refused() -> None:
    assets = pl.DataFrame({"name": ["a", "b"], "criticality": ["high", "urgent"]})
    with pytest.raises(
        InputError, match="'urgent' is not one of low, medium, high, critical"
    ) as caught:
        AssetEnricher(assets)
    assert caught.value.location == "asset 'b'"


def test_normalized_events_are_enriched() -> None:
    events = normalizer().apply(
        parse(EXAMPLES / "windows" / "sysmon-and-security.jsonl", "winlog-json")
    )
    assets = pl.DataFrame(
        {
            "name": ["ws-fin-07", "DC-01.corp.example"],
            "criticality": ["medium", "critical"],
            "owner": ["finance", "it"],
            "tags": ["finance", "tier0,ad"],
        }
    )
    out = AssetEnricher(assets).apply(events)
    assert out.height == events.height
    pairs = set(out.select("host.name", "asset.criticality").rows())
    assert pairs == {("ws-fin-07.corp.example", "medium"), ("dc-01.corp.example", "critical")}
