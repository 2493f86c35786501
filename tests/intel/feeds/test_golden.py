"""Every feed fixture parses to exactly its golden file (see :mod:`.golden`)."""

from __future__ import annotations

import pytest

from tests.intel.feeds.golden import GOLDEN, as_data, expected, inputs, parse


def test_every_golden_file_is_listed() -> None:
    assert inputs() == sorted(GOLDEN)


@pytest.mark.parametrize("name", GOLDEN)
def test_parse_matches_golden(name: str) -> None:
    assert as_data(parse(name)) == expected(name)
