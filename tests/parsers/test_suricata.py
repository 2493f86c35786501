"""Suricata EVE parser: golden files, flattening and the shared JSON-lines machinery."""

from __future__ import annotations

import polars as pl
import pytest

from tests.parsers.golden import DATA, FormatChecks, parse_bytes
from watchkeeper.events.model import DATASET, LINE, OFFSET, TIMESTAMP, frame_from_records
from watchkeeper.parsers.jsonlines import FieldColumns, flatten
from watchkeeper.parsers.suricata import SuricataParser
from watchkeeper.parsers.times import epoch_or_iso


class TestSuricataInputs(FormatChecks):
    folder = "suricata"
    parser = SuricataParser
    sniff_score = 90
    reads = ((None, 3),)


def test_flatten_joins_names_with_dots_and_keeps_lists_and_empty_objects() -> None:
    nested = {"a": {"b": {"c": 1}, "d": [1, {"e": 2}], "f": {}}, "g": None}
    assert flatten(nested) == {"a.b.c": 1, "a.d": [1, {"e": 2}], "a.f": {}, "g": None}


def test_field_columns_agree_with_flatten_and_frame_from_records() -> None:
    events = [
        {"a": {"b": 1, "c": {"d": True}}, "e": 1.5, "f": 2.0, "g": [1, {"h": None}], "i": {}},
        {"a.b": "flat", "a": {"b": "nested, later"}, "j": None, "k": -0.0},
        {},
        {"e": 1e-07, "l": 12345678901234567890, "m": "é"},
    ]
    columns = FieldColumns()
    for event in events:
        columns.add(event)
    expected = frame_from_records([flatten(event) for event in events])
    expected = expected.select(name for name in expected.columns if expected[name].null_count() < 4)
    got = columns.frame()
    assert (
        got.select(sorted(got.columns)).to_dicts()
        == expected.select(sorted(expected.columns)).to_dicts()
    )


def test_every_column_is_a_string_and_the_reserved_ones_are_typed() -> None:
    data = (DATA / "suricata" / "eve.json").read_bytes()
    [chunk] = parse_bytes(SuricataParser(), data, "eve.json")
    frame = chunk.frame
    assert frame.schema[TIMESTAMP] == pl.Datetime("us", "UTC")
    assert frame.schema[OFFSET] == pl.Int64
    assert frame.schema[LINE] == pl.Int64
    originals = [name for name in frame.columns if name not in {TIMESTAMP, OFFSET, LINE}]
    assert all(frame.schema[name] == pl.String for name in originals)
    assert set(frame[DATASET]) == {"suricata.eve"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1700000000.123456", "2023-11-14T22:13:20.123456+00:00"),
        ("1700000000.1234567", "2023-11-14T22:13:20.123456+00:00"),
        ("1700000000", "2023-11-14T22:13:20+00:00"),
        ("2023-11-14T22:13:20.5Z", "2023-11-14T22:13:20.500000+00:00"),
        ("2023-11-14T23:13:20+0100", "2023-11-14T22:13:20+00:00"),
        ("2023-11-14 22:13:20", "2023-11-14T22:13:20+00:00"),
        ("yesterday", None),
    ],
)
def test_epoch_or_iso(text: str, expected: str | None) -> None:
    value = pl.select(epoch_or_iso(pl.lit(text))).item()
    assert (value.isoformat() if value is not None else None) == expected
