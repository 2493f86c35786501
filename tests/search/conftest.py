from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from tests.search.store import connect


@pytest.fixture(scope="module")
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect()
    yield connection
    connection.close()
