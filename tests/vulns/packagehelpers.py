"""Shared by the package extraction tests: results as plain rows, locations made relative."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from watchkeeper.vulns.packages import Extraction

DATA = Path(__file__).parent.parent / "data" / "packages"


def rows(extraction: Extraction, root: str | Path) -> dict[str, list[list[Any]]]:
    """The extraction as expected.json holds it, locations relative to ``root``."""
    prefix = f"{root}/"
    return {
        "packages": [[p.ecosystem, p.name, p.version, p.direct, p.location.removeprefix(prefix),
                      p.purl] for p in extraction.packages],
        "skipped": [[s.location.removeprefix(prefix), s.reason] for s in extraction.skipped],
    }
