"""The IaC finding source: walk a folder, read each Terraform, Kubernetes and Dockerfile,
run the policies that apply, and honour suppression comments."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchkeeper.errors import InputError
from watchkeeper.vulns.iac.dockerfile import is_dockerfile, parse_dockerfile
from watchkeeper.vulns.iac.hcl import parse_hcl
from watchkeeper.vulns.iac.kubernetes import is_kubernetes, load_documents, workloads
from watchkeeper.vulns.iac.model import Policy, PolicyRegistry, Target, default_registry
from watchkeeper.vulns.iac.suppress import Directive, directives
from watchkeeper.vulns.iac.terraform import Module, add_file
from watchkeeper.vulns.model import Finding
from watchkeeper.vulns.scan import Problem, RuleInfo, SourceResult, Suppressed

SKIPPED_DIRECTORIES = frozenset({".git", ".terraform", "node_modules", ".venv", "venv",
                                 "__pycache__", ".tox", ".mypy_cache"})
SUPPRESSION_POLICY = "WK-SUP-001"


@dataclass(frozen=True)
class _Subject:
    """What a policy receives, with the file and the name a finding reports."""

    target: Target
    kind: str
    value: Any
    path: str
    address: str


def rule_info(policy: Policy[Any]) -> RuleInfo:
    return RuleInfo(policy.id, policy.title, policy.severity,
                    f"{policy.checks}\n\nFix: {policy.fix}")


class IacSource:
    """Misconfigurations in Terraform, Kubernetes manifests and Dockerfiles."""

    name = "iac"

    def __init__(self, registry: PolicyRegistry | None = None) -> None:
        self.registry = registry if registry is not None else default_registry()

    def scan(self, root: Path) -> SourceResult:
        result = SourceResult(rules={p.id: rule_info(p) for p in self.registry})
        texts: dict[str, str] = {}
        subjects: list[_Subject] = []
        modules: dict[str, Module] = {}
        for path, relative in _files(root):
            kind = _classify(path.name)
            if kind is None:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                result.problems.append(Problem(self.name, relative, f"cannot read: {error}"))
                continue
            try:
                found = list(self._subjects(kind, text, relative, modules))
            except InputError as error:
                result.problems.append(
                    Problem(self.name, error.location or relative, error.message))
                continue
            if found or kind is not Target.KUBERNETES:
                texts[relative] = text
            subjects.extend(found)
        for module in modules.values():
            subjects.extend(_Subject(Target.TERRAFORM, r.type, r, r.path, r.address)
                            for r in module.resources)
        findings = [f for s in subjects for f in self._check(s)]
        self._suppress(findings, texts, result)
        return result

    def _subjects(self, kind: Target, text: str, relative: str,
                  modules: dict[str, Module]) -> Iterator[_Subject]:
        if kind is Target.TERRAFORM:
            root = parse_hcl(text, path=relative)
            directory = str(Path(relative).parent)
            add_file(modules.setdefault(directory, Module(directory)), relative, root)
        elif kind is Target.DOCKERFILE:
            dockerfile = parse_dockerfile(text, path=relative)
            yield _Subject(kind, dockerfile.kind, dockerfile, relative, relative)
        else:
            documents = load_documents(text, path=relative)
            if is_kubernetes(documents):
                for workload in workloads(documents, path=relative):
                    yield _Subject(kind, workload.kind, workload, relative, workload.address)

    def _check(self, subject: _Subject) -> Iterator[Finding]:
        for policy in self.registry.for_target(subject.target):
            if policy.applies_to(subject.kind):
                yield from _findings(policy, subject.value, subject.path, subject.address)

    def _suppress(self, findings: list[Finding], texts: dict[str, str],
                  result: SourceResult) -> None:
        by_file: dict[str, list[Directive]] = defaultdict(list)
        for path, text in texts.items():
            by_file[path] = directives(text)
            if SUPPRESSION_POLICY in self.registry:
                policy = self.registry.get(SUPPRESSION_POLICY)
                for directive in by_file[path]:
                    findings.extend(_findings(policy, directive, path, directive.address))
        seen: set[str] = set()
        for finding in findings:
            if finding.key in seen:
                continue
            seen.add(finding.key)
            path, _, line = finding.location.rpartition(":")
            match = next((d for d in by_file.get(path, ())
                          if d.suppresses(finding.rule, int(line))), None)
            if match is None:
                result.findings.append(finding)
            else:
                result.suppressed.append(Suppressed(finding, match.reason))


def _findings(policy: Policy[Any], subject: object, path: str,
              address: str) -> Iterable[Finding]:
    for violation in policy.check(subject):
        yield Finding(
            kind="misconfiguration",
            rule=policy.id,
            title=policy.title,
            severity=policy.severity,
            location=f"{path}:{violation.line}",
            tool="watchkeeper",
            description=violation.message,
            extra={"resource": address, "fix": policy.fix},
        )


def _classify(name: str) -> Target | None:
    lower = name.lower()
    if lower.endswith(".tf"):
        return Target.TERRAFORM
    if lower.endswith((".yaml", ".yml")):
        return Target.KUBERNETES
    if is_dockerfile(name):
        return Target.DOCKERFILE
    return None


def _files(root: Path) -> Iterator[tuple[Path, str]]:
    """Files under ``root`` (or ``root`` itself) with their path relative to it, sorted."""
    if root.is_file():
        yield root, root.name
        return
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_DIRECTORIES)
        for name in sorted(names):
            path = Path(directory) / name
            yield path, path.relative_to(root).as_posix()
