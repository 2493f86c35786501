"""Render ``docs/iac-policies.md`` from the registry, so the reference cannot drift.

Regenerate with ``python -m watchkeeper.vulns.iac.docs docs/iac-policies.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from watchkeeper.vulns.iac.model import PolicyRegistry, Target, default_registry

REGENERATE = "python -m watchkeeper.vulns.iac.docs docs/iac-policies.md"

_HEADER = f"""# IaC policies

The checks `watchkeeper scan` runs on Terraform, Kubernetes manifests and Dockerfiles.
Each finding names the policy id, the file and the line to change. To accept a finding,
put `# watchkeeper:ignore=<id> <reason>` on its line or on the comment lines just above
it (see [scan.md](scan.md#suppressing-a-finding)).

<!-- Generated from the code: do not edit; run `{REGENERATE}`. -->
"""

_SECTIONS = {
    Target.TERRAFORM: "Terraform",
    Target.KUBERNETES: "Kubernetes",
    Target.DOCKERFILE: "Dockerfile",
    Target.ANY: "Every format",
}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def reference(registry: PolicyRegistry | None = None) -> str:
    registry = registry if registry is not None else default_registry()
    lines = [_HEADER]
    for target, heading in _SECTIONS.items():
        policies = registry.for_target(target)
        if not policies:
            continue
        lines += [f"## {heading}", "", "| id | severity | title |", "|---|---|---|"]
        lines += [f"| [{p.id}](#{p.id.lower()}) | {p.severity.value} | {_cell(p.title)} |"
                  for p in policies]
        lines.append("")
        for policy in policies:
            lines += [
                f"### {policy.id}",
                "",
                f"**{policy.title}** ({policy.severity.value})",
                "",
                f"Applies to: {', '.join(f'`{kind}`' for kind in policy.kinds)}",
                "",
                f"Checks: {_cell(policy.checks)}",
                "",
                f"Fix: {_cell(policy.fix)}",
                "",
            ]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(f"usage: {REGENERATE}", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(reference(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
