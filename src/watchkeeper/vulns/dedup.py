"""One finding per flaw, however many scans and tools reported it.

Two reports are the same finding when they agree on the kind, the package without its
version and the location, and share an id: the same key, or ids of one alias group
(one tool says GHSA-…, another CVE-… with the GHSA as alias). Alias groups are
followed through: A~B and B~C make one finding of A, B and C.

The merged finding keeps every tool (``tool`` lists them, comma-separated, and
``extra["tools"]``), the union of ids, fixed versions and references, and one severity:

* for a package of a distribution (Debian, Ubuntu, Alpine) that some report rates with
  the distribution's own rating (``extra["vendor_severity"]``: Trivy's vendor severity,
  Grype's distribution feed), the highest of those ratings: the distribution knows how
  its build is exposed, and NVD's score of the upstream flaw does not override it;
* otherwise, when any report carries a CVSS base score (from NVD or the vendor, as the
  importers take it), the highest score decides, through the CVSS qualitative scale;
* otherwise the highest of the tools' own ratings.

Every tool's own label is kept in ``extra["severities"]`` and the rule that decided in
``extra["severity_rule"]`` (``vendor``, ``cvss`` or ``label``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from watchkeeper.vulns.importers.normalize import severity_from_label, severity_from_score
from watchkeeper.vulns.model import Finding, Package, _id_order
from watchkeeper.vulns.versions import base_ecosystem

DISTRIBUTIONS = frozenset({"Debian", "Ubuntu", "Alpine"})
"""Ecosystems whose own severity rating is preferred to a CVSS score."""


def merge_findings(findings: Iterable[Finding]) -> list[Finding]:
    """The findings merged, in the order each was first reported. Pass scans oldest first:
    where reports disagree on the package version or the title, the last one wins."""
    reports = list(findings)
    parent = list(range(len(reports)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    first: dict[tuple[object, ...], int] = {}
    for index, finding in enumerate(reports):
        identity = finding.package.identity if finding.package else None
        for value in (finding.rule, *finding.aliases):
            other = first.setdefault(
                (finding.kind, identity, finding.location, value.upper()), index)
            low, high = sorted((root(other), root(index)))
            parent[high] = low
    groups: dict[int, list[Finding]] = {}
    for index, finding in enumerate(reports):
        groups.setdefault(root(index), []).append(finding)
    return [_merge(group) for group in groups.values()]


def _merge(reports: list[Finding]) -> Finding:
    last = reports[-1]
    spelled: dict[str, str] = {}
    for report in reports:
        for value in (report.rule, *report.aliases):
            spelled.setdefault(value.upper(), value)
    ids = sorted(spelled.values(), key=_id_order)
    tools = sorted({report.tool for report in reports})
    labels: dict[str, list[str]] = {}
    for report in reports:
        label = str(report.extra.get("tool_severity") or report.severity.value)
        if label not in labels.setdefault(report.tool, []):
            labels[report.tool].append(label)
    scored = [report for report in reports if report.cvss_score is not None]
    vendor = [severity_from_label(str(report.extra["vendor_severity"]))
              for report in reports if report.extra.get("vendor_severity")]
    if vendor and _distribution_package(reports):
        severity, rule = max(vendor, key=lambda rating: rating.rank), "vendor"
        top = max(scored, key=lambda report: report.cvss_score or 0.0) if scored else None
        vector, score = (top.cvss_vector, top.cvss_score) if top else (None, None)
    elif scored:
        best = max(scored, key=lambda report: report.cvss_score or 0.0)
        severity, rule = severity_from_score(best.cvss_score or 0.0), "cvss"
        vector, score = best.cvss_vector, best.cvss_score
    else:
        best = max(reports, key=lambda report: report.severity.rank)
        severity, rule, vector, score = best.severity, "label", None, None
    extra: dict[str, Any] = {}
    for report in reports:
        extra.update(report.extra)
    extra.pop("tool_severity", None)
    extra.update(tools=tools, severities=labels, severity_rule=rule, reports=len(reports))
    return replace(
        last, rule=ids[0], aliases=tuple(ids[1:]), title=_title(reports, spelled),
        severity=severity, tool=",".join(tools), package=_package(reports),
        fixed_in=_union(report.fixed_in for report in reports),
        description=max((report.description for report in reports), key=len),
        cvss_vector=vector, cvss_score=score,
        references=_union(report.references for report in reports), extra=extra,
    )


def _distribution_package(reports: list[Finding]) -> bool:
    return any(report.package is not None
               and base_ecosystem(report.package.ecosystem) in DISTRIBUTIONS
               for report in reports)


def _title(reports: list[Finding], ids: dict[str, str]) -> str:
    """The newest title a tool wrote itself, before one an importer made up (``ID in pkg``)."""
    made_up = tuple(f"{value} in " for value in ids.values())
    for report in reversed(reports):
        if report.title and not report.title.startswith(made_up):
            return report.title
    return reports[-1].title


def _package(reports: list[Finding]) -> Package | None:
    package = reports[-1].package
    if package is None or package.purl:
        return package
    for report in reversed(reports):
        if report.package and report.package.purl and report.package.version == package.version:
            return replace(package, purl=report.package.purl)
    return package


def _union(values: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for group in values for value in group if value))
