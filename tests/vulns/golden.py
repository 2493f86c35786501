"""Golden files for importers: ``<report>.expected.json`` beside each input holds the
exact result, findings with their keys. Rewrite one after a deliberate change with
``python -m tests.vulns.golden FORMAT REPORT`` and review the diff."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from watchkeeper.vulns.importers import ImportResult, import_file

SCANS = Path(__file__).resolve().parents[1] / "data" / "scans"


def as_data(result: ImportResult) -> dict[str, Any]:
    """The result as plain JSON data, each finding with its key."""
    findings = [{**dataclasses.asdict(finding), "key": finding.key}
                for finding in result.findings]
    data = {
        "findings": findings,
        "skipped": [[where, reason] for where, reason in result.skipped],
        "vex": [dataclasses.asdict(statement) for statement in result.vex],
        "assets": [dataclasses.asdict(asset) for asset in result.assets],
    }
    loaded: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return loaded


def load(fmt: str, name: str, **options: Any) -> ImportResult:
    """Import ``tests/data/scans/<fmt>/<name>``, named relative to the data folder."""
    path = SCANS / fmt / name
    result = import_file(path, format=fmt, **options)
    # skipped entries name the file as given: keep them free of the checkout's path
    result.skipped = [(where.replace(str(SCANS) + "/", ""), why) for where, why in result.skipped]
    return result


def expected(fmt: str, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCANS / fmt / f"{name}.expected.json").read_text())
    return loaded


def write(fmt: str, name: str) -> None:
    text = json.dumps(as_data(load(fmt, name)), indent=2, ensure_ascii=False)
    (SCANS / fmt / f"{name}.expected.json").write_text(text + "\n")


if __name__ == "__main__":
    write(sys.argv[1], sys.argv[2])
