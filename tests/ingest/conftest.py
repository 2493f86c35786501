from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from watchkeeper.ingest.spool import Spool


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    with Spool(tmp_path / "spool") as opened:
        yield opened
