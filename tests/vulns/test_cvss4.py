"""CVSS v4.0 base scores against published scores, and the score's properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.errors import InputError
from watchkeeper.vulns.cvss import InvalidVector, base_score_v4, check_vector_v4

# Vectors with the CVSS-B score published next to them (FIRST's calculator gives the same).
PUBLISHED = [
    # CVE-2024-10914 (VulDB, CVE record)
    ("CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.2),
    # CVE-2024-5238 (VulDB, CVE record)
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", 5.3),
    # CVE-2024-7793 (VulDB, CVE record)
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N", 5.3),
    # CVE-2024-10916 (VulDB, CVE record)
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N", 6.9),
    # CVE-2024-10920 (VulDB, CVE record)
    ("CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N", 2.3),
    # CVE-2024-9474 (Palo Alto Networks, CVE record)
    (
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:N/VI:H/VA:N/SC:N/SI:N/SA:N/AU:N/R:U/V:C/RE:H/U:Red",
        6.9,
    ),
    # CVE-2024-9474, second scenario (Palo Alto Networks, CVE record)
    (
        "CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:N/VC:N/VI:H/VA:N/SC:N/SI:N/SA:N/AU:N/R:U/V:C/RE:H/U:Red",
        5.9,
    ),
    # CVE-2024-3393 (Palo Alto Networks, CVE record)
    (
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:L/AU:N/R:U/V:C/RE:M/U:Amber",
        8.7,
    ),
    # CVE-2024-3393, Prisma Access scenario (Palo Alto Networks, CVE record)
    (
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:L/AU:N/R:U/V:C/RE:M/U:Amber",
        7.1,
    ),
    # FIRST cvss-v4-calculator test data (all impacts high, every exploitability metric low)
    ("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:A", 7.3),
    # FIRST cvss-v4-calculator test data (no impact)
    (
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N"
        "/S:N/AU:N/R:A/V:D/RE:L/U:Clear",
        0.0,
    ),
    # polycvss documentation
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", 6.9),
    # specification: macrovector 000100 (highest severity vector), 10
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0),
]


@pytest.mark.parametrize(("vector", "score"), PUBLISHED)
def test_published_scores(vector: str, score: float) -> None:
    assert base_score_v4(vector) == score


def test_threat_and_environmental_metrics_do_not_change_the_base_score() -> None:
    base = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    assert base_score_v4(base) == 9.3
    assert base_score_v4(base + "/E:U/CR:L/MAV:P/MSI:S/U:Red") == 9.3
    assert base_score_v4(base + "/E:X/CR:X/IR:X/AR:X") == 9.3


@pytest.mark.parametrize(
    ("vector", "problem"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "not a CVSS v4.0 vector"),
        ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "not a CVSS vector"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N", "lacks base metric SA"),
        ("CVSS:4.0/AV:N/AC:L", "lacks base metric AT, PR, UI"),
        (
            "CVSS:4.0/AV:X/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "'X' for CVSS v4.0 metric AV",
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N",
            "'S' for CVSS v4.0 metric SI",
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:R/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "'R' for CVSS v4.0 metric UI",
        ),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/S:U", "metric S"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/XX:Y", "unknown"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/AV:L", "bad metric"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/", "bad metric"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA", "bad metric"),
    ],
)
def test_malformed_vectors_are_refused(vector: str, problem: str) -> None:
    with pytest.raises(InvalidVector, match=problem) as caught:
        base_score_v4(vector)
    assert isinstance(caught.value, InputError)
    with pytest.raises(InvalidVector):
        check_vector_v4(vector)


_VALUES = {
    "AV": "NALP",
    "AC": "LH",
    "AT": "NP",
    "PR": "NLH",
    "UI": "NPA",
    "VC": "HLN",
    "VI": "HLN",
    "VA": "HLN",
    "SC": "HLN",
    "SI": "HLN",
    "SA": "HLN",
}
_IMPACT_ORDER = "NLH"  # least to most severe

base_metrics = st.fixed_dictionaries(
    {name: st.sampled_from(values) for name, values in _VALUES.items()}
)


def _vector(metrics: dict[str, str]) -> str:
    return "CVSS:4.0/" + "/".join(f"{name}:{metrics[name]}" for name in _VALUES)


@settings(max_examples=400)
@given(base_metrics)
def test_score_is_between_zero_and_ten_with_one_decimal(metrics: dict[str, str]) -> None:
    score = base_score_v4(_vector(metrics))
    assert 0.0 <= score <= 10.0
    assert round(score, 1) == score


@settings(max_examples=400)
@given(base_metrics, st.sampled_from(["VC", "VI", "VA", "SC", "SI", "SA"]))
def test_score_is_monotone_in_each_impact_metric(metrics: dict[str, str], name: str) -> None:
    scores = [base_score_v4(_vector({**metrics, name: value})) for value in _IMPACT_ORDER]
    assert scores == sorted(scores), (name, scores)


@settings(max_examples=200)
@given(base_metrics)
def test_no_impact_scores_zero(metrics: dict[str, str]) -> None:
    none = {name: "N" for name in ("VC", "VI", "VA", "SC", "SI", "SA")}
    assert base_score_v4(_vector({**metrics, **none})) == 0.0
