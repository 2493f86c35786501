"""A scan's result as JSON (Watchkeeper's own schema, ``docs/scan-report.schema.json``) and
as SARIF 2.1.0 for code-scanning dashboards. Both carry each finding's ``key``, the value a
baseline lists."""

from __future__ import annotations

import json
from typing import Any

from watchkeeper import __version__
from watchkeeper.vulns.model import Finding, Severity
from watchkeeper.vulns.scan import RuleInfo, ScanResult

JSON_SCHEMA_ID = "https://watchkeeper.dev/schemas/scan-report.schema.json"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT = "watchkeeperFindingKey/v1"
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0", Severity.INFO: "0.0", Severity.UNKNOWN: "0.0",
}
SARIF_LEVEL = {
    Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
    Severity.LOW: "note", Severity.INFO: "note", Severity.UNKNOWN: "warning",
}


def split_location(location: str) -> tuple[str, int | None]:
    """``path:line`` into its parts; a location without a line number is all path."""
    path, _, line = location.rpartition(":")
    if path and line.isdigit():
        return path, int(line)
    return location, None


def _finding(finding: Finding) -> dict[str, Any]:
    path, line = split_location(finding.location)
    return {
        "key": finding.key,
        "kind": finding.kind,
        "rule": finding.rule,
        "title": finding.title,
        "severity": finding.severity.value,
        "location": finding.location,
        "file": path,
        "line": line,
        "message": finding.description,
        "resource": finding.extra.get("resource"),
        "fix": finding.extra.get("fix"),
        "tool": finding.tool,
        "aliases": list(finding.aliases),
        "package": None if finding.package is None else {
            "ecosystem": finding.package.ecosystem, "name": finding.package.name,
            "version": finding.package.version, "purl": finding.package.purl},
        "fixed_in": list(finding.fixed_in),
        "cvss_score": finding.cvss_score,
        "cvss_vector": finding.cvss_vector,
    }


def to_json(result: ScanResult) -> dict[str, Any]:
    counts = {s.value: 0 for s in reversed(Severity)}
    for finding in result.findings:
        counts[finding.severity.value] += 1
    return {
        "$schema": JSON_SCHEMA_ID,
        "tool": {"name": "watchkeeper", "version": __version__},
        "root": str(result.root),
        "summary": {
            "findings": len(result.findings),
            "new": sum(result.is_new(f) for f in result.findings),
            "suppressed": len(result.suppressed),
            "problems": len(result.problems),
            "by_severity": counts,
        },
        "findings": [{**_finding(f), "new": result.is_new(f)} for f in result.findings],
        "suppressed": [{**_finding(s.finding), "reason": s.reason} for s in result.suppressed],
        "problems": [{"source": p.source, "location": p.location, "message": p.message}
                     for p in result.problems],
    }


def _rule(rule: RuleInfo) -> dict[str, Any]:
    described: dict[str, Any] = {
        "id": rule.id,
        "name": "".join(word.capitalize() for word in rule.title.split()),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.help.split("\n\n", 1)[0]},
        "help": {"text": rule.help, "markdown": rule.help},
        "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "tags": ["security"],
        },
    }
    if rule.help_uri:
        described["helpUri"] = rule.help_uri
    return described


def _physical(location: str) -> dict[str, Any]:
    path, line = split_location(location)
    physical: dict[str, Any] = {"artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"}}
    if line is not None:
        physical["region"] = {"startLine": max(line, 1)}
    return {"physicalLocation": physical}


def _result(finding: Finding, index: dict[str, int], result: ScanResult,
            reason: str | None) -> dict[str, Any]:
    message = finding.title + (f": {finding.description}" if finding.description else "")
    sarif: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": SARIF_LEVEL[finding.severity],
        "message": {"text": message},
        "locations": [_physical(finding.location)],
        "partialFingerprints": {FINGERPRINT: finding.key},
        "properties": {"security-severity": SECURITY_SEVERITY[finding.severity]},
    }
    if finding.rule in index:
        sarif["ruleIndex"] = index[finding.rule]
    if result.baseline and reason is None:
        sarif["baselineState"] = "new" if result.is_new(finding) else "unchanged"
    if reason is not None:
        sarif["suppressions"] = [{"kind": "inSource", "justification": reason or "(none)"}]
    return sarif


def to_sarif(result: ScanResult) -> dict[str, Any]:
    rules = [result.rules[key] for key in sorted(result.rules)]
    index = {rule.id: position for position, rule in enumerate(rules)}
    results = [_result(f, index, result, None) for f in result.findings]
    results += [_result(s.finding, index, result, s.reason) for s in result.suppressed]
    notifications = [
        {"level": "error", "message": {"text": f"{p.source}: {p.message}"},
         "locations": [_physical(p.location)]}
        for p in result.problems
    ]
    root_uri = result.root.resolve().as_uri()
    if result.root.is_file():
        root_uri = result.root.resolve().parent.as_uri()
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "watchkeeper",
                "version": __version__,
                "rules": [_rule(rule) for rule in rules],
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri.rstrip("/") + "/"}},
            "invocations": [{"executionSuccessful": True,
                             "toolExecutionNotifications": notifications}],
            "results": results,
        }],
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
