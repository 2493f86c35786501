"""SARIF 2.1.0 (``runs[].results[]``) as Checkov, Semgrep, CodeQL and most code scanners
write it. The tool decides the kind: infrastructure-as-code checkers report
misconfigurations, secret scanners secrets, the rest weaknesses in code."""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import unquote

from watchkeeper.vulns.importers.base import Importer, ImportResult
from watchkeeper.vulns.importers.normalize import (
    normalize_path,
    severity_from_score,
)
from watchkeeper.vulns.importers.records import (
    RecordError,
    as_object,
    load_report,
    opt_list,
    opt_number,
    opt_object,
    opt_text,
    text,
    unique,
)
from watchkeeper.vulns.model import Finding, Severity

MISCONFIGURATION_TOOLS = frozenset({"checkov", "tfsec", "kics", "terrascan", "trivy", "kubesec"})
SECRET_TOOLS = frozenset({"gitleaks", "trufflehog", "detect-secrets", "ggshield"})
LEVELS = {"error": Severity.HIGH, "warning": Severity.MEDIUM, "note": Severity.LOW,
          "none": Severity.INFO}
FINGERPRINTS = ("primaryLocationLineHash", "matchBasedId/v1")
"""(Partial) fingerprints that survive moved lines: CodeQL's, Semgrep's."""
CWE = re.compile(r"\bcwe[-/](\d+)", re.IGNORECASE)


class SarifImporter(Importer):
    name: ClassVar[str] = "sarif"
    description: ClassVar[str] = "SARIF 2.1.0: code, IaC and secret scanners' results"

    @classmethod
    def sniff(cls, head: bytes) -> int:
        if b'"runs"' not in head:
            return 0
        return 95 if b"sarif" in head.lower() else 50

    def load(self, data: bytes, source: str) -> ImportResult:
        result = ImportResult()
        report = load_report(data, source, result, "runs", "a SARIF log")
        if report is None:
            return result
        _, runs = report
        for index, run in enumerate(runs):
            where = f"{source}: runs[{index}]"
            try:
                run = as_object(run, "the run")
                driver = as_object(opt_object(run, "tool").get("driver"), "tool.driver")
                tool = text(driver, "name").split()[0].lower()
                rules = _rules(run, driver)
                results = opt_list(run, "results")
            except RecordError as exc:
                result.skip(where, exc.message)
                continue
            for number, item in enumerate(results):
                try:
                    finding = self._result(as_object(item, "the result"), tool, rules)
                except RecordError as exc:
                    result.skip(f"{where}.results[{number}]", exc.message)
                    continue
                if finding is not None:
                    result.findings.append(finding)
        return result

    def _result(self, item: dict[str, Any], tool: str,
                rules: dict[str | int, dict[str, Any]]) -> Finding | None:
        if item.get("suppressions") or item.get("baselineState") == "absent":
            return None  # dismissed in the tool, or gone since the baseline
        reference = opt_object(item, "rule")
        rule_id = opt_text(item, "ruleId") or opt_text(reference, "id")
        index = item.get("ruleIndex", reference.get("index"))
        rule = rules.get(index) if isinstance(index, int) else None
        rule = rule or rules.get(rule_id) or {}
        rule_id = rule_id or opt_text(rule, "id")
        if not rule_id:
            raise RecordError("missing ruleId")
        props = opt_object(rule, "properties")
        message = opt_text(opt_object(item, "message"), "text")
        path, line = _place(item)
        if not path:
            raise RecordError("no location with an artifactLocation.uri")
        path = normalize_path(unquote(path), self.root)
        prints = [opt_object(item, "partialFingerprints"), opt_object(item, "fingerprints")]
        fingerprint = next((opt_text(found, k) for found in prints for k in FINGERPRINTS
                            if found.get(k)), "")
        level = opt_text(item, "level") or opt_text(
            opt_object(rule, "defaultConfiguration"), "level") or "warning"
        score = opt_number(props.get("security-severity"), "security-severity")
        severity = severity_from_score(score) if score is not None else LEVELS.get(
            level, Severity.UNKNOWN)
        tags = [str(tag) for tag in opt_list(props, "tags")]
        title = next((value for value in (
            opt_text(opt_object(rule, "shortDescription"), "text"), opt_text(props, "name"),
            message.split("\n", 1)[0]) if value and rule_id not in value), rule_id)
        extra: dict[str, Any] = {
            "tool_severity": level, "security_severity": score, "line": line,
            "message": message, "tags": tags, "fingerprint": fingerprint,
            "cwe": unique([f"CWE-{int(m)}" for tag in tags for m in CWE.findall(tag)]),
            "precision": opt_text(props, "precision"),
        }
        return Finding(
            kind=_kind(tool), rule=rule_id, title=title, severity=severity,
            # The fingerprint keeps the key when lines move; the line is the fallback.
            location=f"{path}#{fingerprint}" if fingerprint else f"{path}:{line or 0}",
            tool=tool, description=opt_text(opt_object(rule, "fullDescription"), "text"),
            references=unique([opt_text(rule, "helpUri")]),
            extra={key: value for key, value in extra.items() if value},
        )


def _rules(run: dict[str, Any], driver: dict[str, Any]) -> dict[str | int, dict[str, Any]]:
    """The driver's rules by index and by id; extensions' (CodeQL packs) by id only."""
    rules: dict[str | int, dict[str, Any]] = {}
    for index, rule in enumerate(opt_list(driver, "rules")):
        rule = as_object(rule, "a rule")
        rules[index] = rule
        rules.setdefault(opt_text(rule, "id"), rule)
    for extension in opt_list(opt_object(run, "tool"), "extensions"):
        for rule in opt_list(as_object(extension, "an extension"), "rules"):
            rule = as_object(rule, "a rule")
            rules.setdefault(opt_text(rule, "id"), rule)
    return rules


def _place(item: dict[str, Any]) -> tuple[str, int | None]:
    for place in opt_list(item, "locations"):
        physical = opt_object(as_object(place, "a location"), "physicalLocation")
        uri = opt_text(opt_object(physical, "artifactLocation"), "uri")
        if uri:
            line = opt_number(opt_object(physical, "region").get("startLine"), "startLine")
            return uri, int(line) if line is not None else None
    return "", None


def _kind(tool: str) -> str:
    if tool in MISCONFIGURATION_TOOLS:
        return "misconfiguration"
    return "secret" if tool in SECRET_TOOLS else "weakness"
