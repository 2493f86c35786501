"""docs/iac-policies.md is generated from the registry and must not go stale."""

from __future__ import annotations

from pathlib import Path

from watchkeeper.vulns.iac import default_registry
from watchkeeper.vulns.iac.docs import REGENERATE, reference

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_docs_iac_policies_md_is_generated() -> None:
    current = (DOCS / "iac-policies.md").read_text(encoding="utf-8")
    assert current == reference(), f"docs/iac-policies.md is out of date: run `{REGENERATE}`"
    for policy in default_registry():
        assert f"### {policy.id}" in current


def test_docs_scan_md_describes_the_command() -> None:
    text = (DOCS / "scan.md").read_text(encoding="utf-8")
    for needle in ("--format", "--output", "--fail-on", "--baseline", "--write-baseline",
                   "watchkeeper:ignore=", "WK-SUP-001", "partialFingerprints", "sarif",
                   "scan-report.schema.json", "iac-policies.md"):
        assert needle in text, f"docs/scan.md does not mention {needle}"
