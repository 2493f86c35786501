"""The risk formula and the SSVC decision on worked examples: each figure can be checked
by hand from docs/vulns-priority.md."""

from __future__ import annotations

from datetime import timedelta

import pytest

from watchkeeper.errors import InputError
from watchkeeper.vulns.priority import Context, Epss, Kev, prioritize, read_epss, read_kev, ssvc

NETWORK_RCE = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
LOCAL_INFO = "CVSS:3.1/AV:L/AC:H/PR:L/UI:R/S:U/C:L/I:N/A:N"


def test_an_exploited_flaw_on_an_exposed_critical_asset_is_first_and_acted_on() -> None:
    found = prioritize(Context(cvss_score=9.8, cvss_vector=NETWORK_RCE,
                               kev=Kev("CVE-2024-0001", True, "2024-02-01"),
                               asset_criticality="critical", exposure="internet"))
    assert found.risk == 98.0  # 100 × 0.98 × 1.0 × 1.0 × 1.0
    assert found.decision == "Act"
    assert found.due_in == timedelta(days=3)
    assert found.inputs["kev_ransomware"] is True
    assert found.inputs["factors"] == {"severity": 0.98, "threat": 1.0, "asset": 1.0,
                                       "exposure": 1.0}
    assert found.inputs["ssvc"] == {"exploitation": "active", "automatable": True,
                                    "technical_impact": "total", "mission": "high"}


def test_the_same_flaw_unexploited_on_an_internal_low_asset_is_tracked() -> None:
    found = prioritize(Context(cvss_score=9.8, cvss_vector=NETWORK_RCE,
                               epss=Epss(0.002, 0.2), asset_criticality="low",
                               exposure="internal"))
    # 100 × 0.98 × (0.3 + 0.7 × 0.2) × 0.3 × 0.6 = 7.76
    assert found.risk == 7.8
    assert found.decision == "Track"


def test_epss_raises_a_medium_flaw_above_a_critical_nobody_exploits() -> None:
    likely = prioritize(Context(cvss_score=6.5, epss=Epss(0.6, 0.99),
                                asset_criticality="high", exposure="internet"))
    unlikely = prioritize(Context(cvss_score=9.1, epss=Epss(0.0004, 0.05),
                                  asset_criticality="high", exposure="internet"))
    assert likely.risk == 51.6   # 100 × 0.65 × 0.993 × 0.8 × 1.0
    assert unlikely.risk == 24.4  # 100 × 0.91 × 0.335 × 0.8 × 1.0
    assert likely.risk > unlikely.risk
    assert likely.inputs["ssvc"]["exploitation"] == "poc"


def test_unknowns_take_the_documented_middle_values() -> None:
    found = prioritize(Context())
    # 100 × 0.5 × (0.3 + 0.7 × 0.5) × 0.5 × 0.8
    assert found.risk == 13.0
    assert found.decision == "Track"
    assert prioritize(Context(cvss_vector=LOCAL_INFO, cvss_score=2.5)).inputs["ssvc"] == {
        "exploitation": "none", "automatable": False, "technical_impact": "partial",
        "mission": "low"}


@pytest.mark.parametrize(("exploitation", "automatable", "impact", "mission", "decision"), [
    # rows of CISA's published coordinator table (SSVC 2.0.3)
    ("none", False, "partial", "high", "Track"),
    ("none", False, "total", "high", "Track*"),
    ("none", True, "partial", "high", "Attend"),
    ("none", True, "total", "medium", "Track"),
    ("poc", False, "partial", "high", "Track*"),
    ("poc", False, "total", "medium", "Track*"),
    ("poc", False, "total", "high", "Attend"),
    ("poc", True, "total", "low", "Track"),
    ("active", False, "partial", "low", "Track"),
    ("active", False, "partial", "high", "Attend"),
    ("active", False, "total", "medium", "Attend"),
    ("active", False, "total", "high", "Act"),
    ("active", True, "partial", "low", "Attend"),
    ("active", True, "partial", "high", "Act"),
    ("active", True, "total", "medium", "Act"),
])
def test_the_ssvc_table(exploitation: str, automatable: bool, impact: str, mission: str,
                        decision: str) -> None:
    assert ssvc(exploitation=exploitation, automatable=automatable, technical_impact=impact,
                mission=mission) == decision


def test_the_feeds_are_read_and_bad_ones_refused() -> None:
    epss = read_epss(b"#model_version:v2025.03.14,score_date:2026-11-29T00:00:00+0000\n"
                     b"cve,epss,percentile\nCVE-2024-3094,0.85,0.999\ncve-2021-44228,0.97,1\n")
    assert epss["CVE-2024-3094"] == Epss(0.85, 0.999)
    assert epss["CVE-2021-44228"].probability == 0.97
    with pytest.raises(InputError, match="line 2"):
        read_epss(b"cve,epss,percentile\nCVE-1,high,0.5\n")
    kev = read_kev(b'{"vulnerabilities": [{"cveID": "CVE-2023-4966", '
                   b'"knownRansomwareCampaignUse": "Known", "dateAdded": "2023-10-18", '
                   b'"dueDate": "2023-11-08"}]}')
    assert kev["CVE-2023-4966"] == Kev("CVE-2023-4966", True, "2023-10-18", "2023-11-08")
    with pytest.raises(InputError, match="not a KEV catalog"):
        read_kev(b'{"items": []}')
