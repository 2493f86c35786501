"""Cutting streams into lines and JSON documents: offsets, numbers, limits, batches."""

from __future__ import annotations

import io

import orjson
import polars as pl
import pytest

from tests.parsers.golden import Trickle
from watchkeeper.parsers.jsondocs import iter_json_documents
from watchkeeper.parsers.lines import iter_lines, read_line_frames


def test_line_reader_skips_overlong_lines_and_keeps_counting() -> None:
    data = b"\xef\xbb\xbfshort\n" + b"x" * 40 + b"\nok\r\n\n" + b"y" * 25 + b"\nlast"
    for size in (1, 3, 16, 1 << 20):
        batches = list(read_line_frames(Trickle(data, size), "f", 10, max_line=16))
        frame = pl.concat([batch.frame for batch in batches])
        assert frame.rows() == [("short", 1, 3), ("ok", 3, 50), ("last", 6, 81)], size
        skipped = [skip for batch in batches for skip in batch.skipped]
        assert [skip.location for skip in skipped] == ["line 2", "line 5"], size
        assert skipped[0].reason == "line longer than 16 bytes"


def test_line_reader_batches_hold_at_most_batch_size_lines() -> None:
    data = b"".join(b"line %d\n" % n for n in range(1, 26))
    batches = list(read_line_frames(io.BytesIO(data), "f", 10))
    assert [batch.frame.height for batch in batches] == [10, 10, 5]
    assert batches[2].frame["number"].to_list() == list(range(21, 26))


def test_iter_lines_offsets_numbers_and_long_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("watchkeeper.parsers.lines.iter_blocks",
                        lambda stream: iter(lambda: stream.read(5), b""))
    data = b"ab\r\n\n  \ncdefghijklmnop\nq\nrs"
    (batch,) = iter_lines(io.BytesIO(data), "x", 100, max_line=8)
    assert batch.lines == [b"ab", b"q", b"rs"]
    assert batch.offsets == [0, 23, 25]
    assert batch.numbers == [1, 5, 6]
    assert [(skip.location, skip.reason) for skip in batch.skipped] == [
        ("line 4", "line longer than 8 bytes")
    ]


def test_iter_lines_batches_and_utf16() -> None:
    data = "\ufeffone\r\ntwo\r\nthree\r\n".encode("utf-16-le")
    batches = list(iter_lines(io.BytesIO(data), "x", 2))
    assert [batch.lines for batch in batches] == [[b"one", b"two"], [b"three"]]
    assert [batch.numbers for batch in batches] == [[1, 2], [3]]


def test_value_scanner_handles_documents_cut_across_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Brackets inside strings and escaped quotes survive a block boundary anywhere."""
    monkeypatch.setattr("watchkeeper.parsers.jsondocs.iter_blocks",
                        lambda stream: iter(lambda: stream.read(7), b""))
    documents = [{"a": 'x"}]{[', "b": [1, {"c": "\\"}]}, {"d": "]"}]
    pretty = [orjson.dumps(document, option=orjson.OPT_INDENT_2) for document in documents]
    data = b"[\n" + b",\n".join(pretty) + b"]"
    (batch,) = iter_json_documents(io.BytesIO(data), "x", 10)
    assert [orjson.loads(line) for line in batch.lines] == documents
    assert batch.numbers == [2, 11]
    assert batch.skipped == []



def test_a_stream_of_one_overlong_line_is_a_skip() -> None:
    (batch,) = read_line_frames(io.BytesIO(b"x" * 40), "f", 10, max_line=16)
    assert batch.frame.height == 0
    assert [skip.location for skip in batch.skipped] == ["line 1"]


@pytest.mark.parametrize("size", [1, 5, 1 << 20])
def test_iter_lines_skips_a_long_line_whatever_the_reads(
    size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("watchkeeper.parsers.lines.iter_blocks",
                        lambda stream: iter(lambda: stream.read(size), b""))
    data = b"ab\n" + b"x" * 20 + b"\ncd\n"
    (batch,) = iter_lines(io.BytesIO(data), "x", 100, max_line=8)
    assert batch.lines == [b"ab", b"cd"]
    assert [skip.location for skip in batch.skipped] == ["line 2"]
