"""``watchkeeper scan --format json`` reports read back: items of the wrong types are
skipped with the reason, never an exception out of ``load``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from watchkeeper.vulns.importers import import_report
from watchkeeper.vulns.importers.own import WatchkeeperImporter

GOOD: dict[str, Any] = {
    "kind": "vulnerability", "rule": "PYSEC-2021-335", "title": "AccessControl flaw",
    "severity": "high", "location": "requirements.txt", "tool": "watchkeeper",
    "aliases": ["CVE-2021-32807"], "fixed_in": ["5.2"], "cvss_score": 8.8,
    "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
    "package": {"ecosystem": "PyPI", "name": "accesscontrol", "version": "5.1"}}


def report(*items: Any) -> bytes:
    text = json.dumps({"$schema": "https://watchkeeper.example/scan-report.schema.json",
                       "findings": list(items)})
    return text.encode()


def test_a_good_item_is_read() -> None:
    [finding] = import_report(report(GOOD), format="watchkeeper").findings
    assert (finding.rule, finding.aliases, finding.cvss_score) == (
        "PYSEC-2021-335", ("CVE-2021-32807",), 8.8)


@pytest.mark.parametrize(("item", "reason"), [
    ("just a string", "a finding must be an object, not str"),
    ([GOOD], "a finding must be an object, not list"),
    ({**GOOD, "rule": 7}, "rule must be a non-empty string"),
    ({**GOOD, "kind": None}, "kind must be a non-empty string"),
    ({**GOOD, "aliases": "CVE-2021-32807"}, "aliases must be a list of strings"),
    ({**GOOD, "aliases": [1, 2]}, "aliases must be a list of strings"),
    ({**GOOD, "fixed_in": "5.2"}, "fixed_in must be a list of strings"),
    ({**GOOD, "cvss_vector": {"version": "3.1"}}, "cvss_vector must be a string"),
    ({**GOOD, "cvss_score": 11.5}, "cvss_score must be between 0 and 10, not 11.5"),
    ({**GOOD, "cvss_score": -1}, "cvss_score must be between 0 and 10, not -1"),
    ({**GOOD, "cvss_score": "9.8"}, "cvss_score must be a number"),
    ({**GOOD, "cvss_score": True}, "cvss_score must be a number"),
    ({**GOOD, "package": "accesscontrol"}, "package must be an object"),
    ({**GOOD, "package": {"ecosystem": "PyPI", "name": ["x"], "version": "1"}},
     "name must be a non-empty string"),
])
def test_a_bad_item_is_skipped_with_the_reason(item: Any, reason: str) -> None:
    result = import_report(report(item, GOOD), format="watchkeeper")
    assert [f.rule for f in result.findings] == ["PYSEC-2021-335"]
    assert result.skipped == [("<report>: findings[0]", reason)]


@pytest.mark.parametrize("score", [float("nan"), float("inf")])
def test_a_non_finite_score_is_refused(score: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """JSON cannot carry one, but a loader that lets it through must not pass it on."""
    monkeypatch.setattr("watchkeeper.vulns.importers.own.load_json",
                        lambda *_: {"findings": [{**GOOD, "cvss_score": score}]})
    result = WatchkeeperImporter().load(b"", "<report>")
    assert result.findings == []
    assert result.skipped == [("<report>: findings[0]",
                               f"cvss_score must be between 0 and 10, not {score}")]
