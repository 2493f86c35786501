from __future__ import annotations

import json

import pytest

from tests.vulns.golden import as_data, expected, load
from watchkeeper.vulns.importers import import_report
from watchkeeper.vulns.model import Severity


@pytest.mark.parametrize("name", ["codeql.sarif", "semgrep.sarif", "checkov.sarif"])
def test_golden(name: str) -> None:
    assert as_data(load("sarif", name)) == expected("sarif", name)


def test_kind_follows_the_tool() -> None:
    kinds = {f.tool: f.kind for name in ("codeql.sarif", "semgrep.sarif", "checkov.sarif")
             for f in load("sarif", name).findings}
    assert kinds == {"codeql": "weakness", "semgrep": "weakness", "checkov": "misconfiguration"}


def test_security_severity_wins_over_the_level() -> None:
    [finding] = load("sarif", "codeql.sarif").findings
    assert finding.severity is Severity.HIGH
    assert finding.extra["security_severity"] == 8.8


def _log(line: int, fingerprint: str | None) -> bytes:
    result: dict[str, object] = {
        "ruleId": "R1", "level": "note", "message": {"text": "m"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "./src/a.py"},
                                            "region": {"startLine": line}}}]}
    if fingerprint:
        result["partialFingerprints"] = {"primaryLocationLineHash": fingerprint}
    run = {"tool": {"driver": {"name": "Bandit", "rules": [{"id": "R1"}]}}, "results": [result]}
    return json.dumps({"version": "2.1.0", "runs": [run]}).encode()


def test_a_fingerprint_keeps_the_key_when_lines_move() -> None:
    [before] = import_report(_log(10, "aa11:1")).findings
    [after] = import_report(_log(14, "aa11:1")).findings
    assert before.key == after.key
    assert (before.location, after.extra["line"]) == ("src/a.py#aa11:1", 14)


def test_without_a_fingerprint_the_line_places_the_result() -> None:
    [finding] = import_report(_log(10, None)).findings
    assert (finding.location, finding.severity) == ("src/a.py:10", Severity.LOW)


def test_suppressed_results_and_bad_runs() -> None:
    result = load("sarif", "codeql.sarif")
    assert [f.rule for f in result.findings] == ["py/sql-injection"]
    bad = import_report(b'{"version": "2.1.0", "runs": [{"tool": {}}]}', format="sarif")
    assert bad.skipped == [("<report>: runs[0]", "tool.driver is not an object")]
