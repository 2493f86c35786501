from __future__ import annotations

import pytest

from watchkeeper.errors import InputError
from watchkeeper.vulns import cvss
from watchkeeper.vulns.cvss import (
    InvalidVector,
    base_score_v3,
    check_vector_v4,
    severity_of_score,
)
from watchkeeper.vulns.model import Severity

# Base scores of the worked examples in FIRST's CVSS v3.1 examples document.
FIRST_EXAMPLES = [
    ("CVE-2013-1937", "AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
    ("CVE-2013-0375", "AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4),
    ("CVE-2014-3566", "AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1),
    ("CVE-2012-1516", "AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),
    ("CVE-2009-0783", "AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 4.2),
    ("CVE-2012-0384", "AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8),
    ("CVE-2015-1098", "AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8),
    ("CVE-2014-0160", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5),
    ("CVE-2014-6271", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
    ("CVE-2008-1447", "AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 6.8),
    ("CVE-2014-2005", "AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8),
    ("CVE-2010-0467", "AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 5.8),
    ("CVE-2012-1342", "AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:L/A:N", 5.8),
]


@pytest.mark.parametrize(("cve", "metrics", "score"), FIRST_EXAMPLES)
def test_first_examples(cve: str, metrics: str, score: float) -> None:
    assert base_score_v3(f"CVSS:3.1/{metrics}") == score, cve
    assert base_score_v3(f"CVSS:3.0/{metrics}") == score, cve


def test_no_impact_scores_zero() -> None:
    assert base_score_v3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N") == 0.0


def test_temporal_metrics_are_ignored() -> None:
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:C"
    assert base_score_v3(vector) == 9.8


def test_v31_rounding_avoids_float_artefacts() -> None:
    # 0.1 * 3 is 0.30000000000000004 in floating point: v3.1 rounds it to 0.3, v3.0's
    # plain ceiling to 0.4
    assert cvss._roundup_31(0.1 * 3) == 0.3
    assert cvss._roundup_30(0.1 * 3) == 0.4
    assert cvss._roundup_31(4.02) == 4.1
    assert cvss._roundup_31(4.0) == 4.0


@pytest.mark.parametrize(
    "vector",
    [
        "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:2.0/AV:N",
        "CVSS:3.1/",
    ],
)
def test_invalid_vectors(vector: str) -> None:
    with pytest.raises(InvalidVector) as caught:
        base_score_v3(vector)
    assert isinstance(caught.value, InputError)


def test_v4_vector_is_checked() -> None:
    metrics = check_vector_v4("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
    assert metrics["AV"] == "N"
    with pytest.raises(InvalidVector):
        check_vector_v4("CVSS:4.0/AV:N/AC:L")


@pytest.mark.parametrize(
    ("score", "severity"),
    [
        (0.0, Severity.INFO),
        (0.1, Severity.LOW),
        (3.9, Severity.LOW),
        (4.0, Severity.MEDIUM),
        (6.9, Severity.MEDIUM),
        (7.0, Severity.HIGH),
        (8.9, Severity.HIGH),
        (9.0, Severity.CRITICAL),
        (10.0, Severity.CRITICAL),
    ],
)
def test_qualitative_rating(score: float, severity: Severity) -> None:
    assert severity_of_score(score) is severity
