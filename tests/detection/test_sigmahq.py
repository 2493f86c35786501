"""The public SigmaHQ repository, when a checkout is named by WATCHKEEPER_SIGMAHQ.

The repository is not part of this one; without the variable these tests are
skipped with that reason. ``benchmarks/sigmahq_check.py`` prints the same figures.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from watchkeeper.detection.check import check_rules
from watchkeeper.detection.logsource import LogSourceMapping

CHECKOUT = os.environ.get("WATCHKEEPER_SIGMAHQ")
pytestmark = [
    pytest.mark.sigmahq,
    pytest.mark.skipif(
        not CHECKOUT, reason="WATCHKEEPER_SIGMAHQ does not name a SigmaHQ checkout"
    ),
]


def test_every_windows_rule_loads_or_says_why() -> None:
    assert CHECKOUT
    folder = Path(CHECKOUT) / "rules" / "windows"
    files = [p for p in folder.rglob("*.yml")]
    report = check_rules([folder], LogSourceMapping.default())
    assert len(report.loaded) + len(report.failed) == len(files)
    assert all(f.reason and f.path for f in report.failed)
    assert len(report.loaded) / len(files) > 0.99


def test_regression_samples_match_their_rules() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from sigmahq_check import regression  # type: ignore[import-not-found]

    assert CHECKOUT
    result = regression(Path(CHECKOUT), LogSourceMapping.default())
    assert result["passed"] > 150
    assert result["failed"] == []
