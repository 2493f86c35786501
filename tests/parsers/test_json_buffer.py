"""A JSON-lines buffer is read as it is only when it holds exactly the lines of its batch."""

from __future__ import annotations

import io

import pytest

from watchkeeper.parsers.jsondocs import iter_json_documents
from watchkeeper.parsers.jsonframe import exactly_lines, polars_frame

LINES = [b'{"EventID": 1, "Channel": "Security"}', b'{"EventID": 2, "Image": "a.exe"}']


def _batch(data: bytes):  # type: ignore[no-untyped-def]
    return next(iter_json_documents(io.BytesIO(data), "test", 1 << 20))


@pytest.mark.parametrize("data", [b"\n".join(LINES) + b"\n", b"\n".join(LINES)])
def test_a_buffer_of_exactly_the_lines_is_read_as_it_is(data: bytes) -> None:
    batch = _batch(data)
    assert exactly_lines(data, batch) is data
    as_is = polars_frame(batch.lines, whole=data)
    joined = polars_frame(batch.lines)
    assert as_is.equals(joined)
    assert as_is["EventID"].to_list() == ["1", "2"]


@pytest.mark.parametrize("data", [
    b"\n".join(LINES) + b"\n\n",                      # a blank line left out
    b"\n".join(LINES).replace(b"\n", b"\r\n"),        # carriage returns removed
    b"\xef\xbb\xbf" + b"\n".join(LINES),              # a byte order mark dropped
    b"   \n" + b"\n".join(LINES),                     # a line of blanks left out
])
def test_a_buffer_the_lines_differ_from_is_joined_again(data: bytes) -> None:
    batch = _batch(data)
    assert exactly_lines(data, batch) is None
    assert exactly_lines(None, batch) is None


def test_a_learned_schema_starts_again_when_names_keep_changing() -> None:
    import polars as pl

    from watchkeeper.parsers.jsonframe import MAX_LEARNED, LearnedSchema

    learned = LearnedSchema()
    learned.learn({f"k{n}": pl.String() for n in range(MAX_LEARNED + 1)})
    assert len(learned.schema) == MAX_LEARNED + 1
    learned.learn({"fresh": pl.String()})
    assert list(learned.schema) == ["fresh"]
