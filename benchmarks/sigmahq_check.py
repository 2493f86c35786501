"""How much of the public SigmaHQ rule repository Watchkeeper loads, and whether
each rule matches the event samples that repository keeps for it.

    python benchmarks/sigmahq_check.py SIGMA_CHECKOUT [--json FILE]

Prints, per rule folder, how many rules load and why the others do not; then,
for every sample under ``regression_data`` (an EVTX file beside an ``info.yml``
that names the rule it must trigger), whether ``hunt`` finds that rule in it.
The checkout stays outside this repository.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import yaml

from watchkeeper.detection.check import check_rules
from watchkeeper.detection.engine import Engine
from watchkeeper.detection.logsource import LogSourceMapping
from watchkeeper.detection.rules import Rule, RuleLoader
from watchkeeper.parsers import read_paths

RULE_FOLDERS = (
    "rules",
    "rules-threat-hunting",
    "rules-emerging-threats",
    "rules-compliance",
    "rules-dfir",
    "rules-placeholder",
)


def load_share(checkout: Path, mapping: LogSourceMapping) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for folder in RULE_FOLDERS:
        path = checkout / folder
        if not path.is_dir():
            continue
        result = check_rules([path], mapping)
        total = len(result.loaded) + len(result.failed)
        reasons = Counter(_kind(f.reason) for f in result.failed)
        report[folder] = {
            "total": total,
            "loaded": len(result.loaded),
            "share": len(result.loaded) / total if total else 1.0,
            "fallback": len(result.fallback),
            "failed_by_reason": dict(reasons.most_common()),
        }
    return report


def _kind(reason: str) -> str:
    if reason.startswith("no logsource mapping covers"):
        return reason.split(" (", 1)[0]
    if "placeholder" in reason:
        return "placeholder without values"
    return reason[:100]


def regression(checkout: Path, mapping: LogSourceMapping) -> dict[str, Any]:
    """Run each rule over its own regression samples: it must match them."""
    rules_by_id: dict[str, Rule] = {}
    for folder in RULE_FOLDERS:
        if (checkout / folder).is_dir():
            for rule in RuleLoader().load([checkout / folder]).rules:
                rules_by_id[rule.id] = rule
    passed: list[str] = []
    failed: list[str] = []
    missing: list[str] = []
    unrouted: list[str] = []
    for info_path in sorted((checkout / "regression_data").rglob("info.yml")):
        info = yaml.safe_load(info_path.read_text(encoding="utf-8"))
        for meta in info.get("rule_metadata", []):
            rule = rules_by_id.get(str(meta.get("id")))
            if rule is None:
                missing.append(str(info_path.parent.name))
                continue
            samples = sorted(info_path.parent.glob("*.evtx"))
            engine = Engine([rule], mapping)
            if engine.unrouted:
                unrouted.append(f"{rule.title} ({rule.logsource})")
                continue
            found = any(
                engine.evaluate(chunk.frame).height
                for chunk in read_paths(samples)
            )
            (passed if found else failed).append(f"{rule.title} ({info_path.parent.name})")
    return {
        "passed": len(passed),
        "failed": failed,
        "rule_not_loaded": missing,
        "logsource_not_mapped": unrouted,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    mapping = LogSourceMapping.default()
    shares = load_share(args.checkout, mapping)
    for folder, item in shares.items():
        print(f"{folder}: {item['loaded']} of {item['total']} rules load "
              f"({100 * item['share']:.1f}%), {item['fallback']} with Python fallback tests")
        for reason, count in item["failed_by_reason"].items():
            print(f"    {count:5d}  {reason}")
    samples = regression(args.checkout, mapping)
    total = samples["passed"] + len(samples["failed"])
    print(f"regression samples: {samples['passed']} of {total} rules match their own samples")
    for name in samples["failed"]:
        print(f"    no match: {name}")
    for name in samples["logsource_not_mapped"]:
        print(f"    not run, no logsource mapping: {name}")
    if args.json:
        args.json.write_bytes(
            orjson.dumps({"load": shares, "regression": samples}, option=orjson.OPT_INDENT_2)
        )
    if samples["failed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
