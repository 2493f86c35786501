"""Terraform: identity policies that give everything to someone, or to everyone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from watchkeeper.vulns.iac.hcl import Block
from watchkeeper.vulns.iac.model import Policy, Target, Violation
from watchkeeper.vulns.iac.terraform import Resource, as_list
from watchkeeper.vulns.model import Severity

PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})


def _document(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def _wildcard_statements(document: dict[str, Any]) -> bool:
    for statement in as_list(document.get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if "*" in as_list(statement.get("Action")) and "*" in as_list(statement.get("Resource")):
            return True
    return False


def check_aws_wildcard(resource: Resource) -> Iterator[Violation]:
    block = resource.block
    if resource.type == "aws_iam_policy_document":
        for statement in block.children("statement"):
            if (statement.get("effect", "Allow") == "Allow"
                    and "*" in as_list(statement.get("actions"))
                    and "*" in as_list(statement.get("resources"))):
                yield Violation(statement.line_of("actions"), 'actions ["*"] on resources ["*"]')
        return
    holders: list[Block] = [block, *block.children("inline_policy")]
    for holder in holders:
        document = _document(holder.get("policy"))
        if document is not None and _wildcard_statements(document):
            yield Violation(holder.line_of("policy"), 'Action "*" on Resource "*" allowed')


def check_azure_wildcard(resource: Resource) -> Iterator[Violation]:
    for permissions in resource.block.children("permissions"):
        if "*" in as_list(permissions.get("actions")):
            yield Violation(permissions.line_of("actions"), 'actions = ["*"]')


def check_gcp_public_owner(resource: Resource) -> Iterator[Violation]:
    block = resource.block
    bindings = block.children("binding") if resource.type == "google_iam_policy" else [block]
    for binding in bindings:
        if binding.get("role") != "roles/owner":
            continue
        for name in ("member", "members"):
            public = [m for m in as_list(binding.get(name)) if m in PUBLIC_MEMBERS]
            if public:
                yield Violation(binding.line_of(name), f"roles/owner granted to {public[0]}")


POLICIES: tuple[Policy[Resource], ...] = (
    Policy(
        "WK-TF-030", "IAM policy allows every action on every resource", Severity.CRITICAL,
        Target.TERRAFORM,
        ("aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy",
         "aws_iam_group_policy", "aws_iam_role", "aws_iam_policy_document"),
        'An Allow statement with Action "*" and Resource "*", in a policy written with '
        "jsonencode, as a JSON string or heredoc, in a role's inline_policy, or in an "
        "aws_iam_policy_document data source.",
        "Grant the actions the principal needs on the resources it uses; for administrators "
        "attach the AWS-managed AdministratorAccess policy to a role guarded by MFA.",
        check_aws_wildcard,
    ),
    Policy(
        "WK-TF-031", "Azure custom role allows every action", Severity.HIGH, Target.TERRAFORM,
        ("azurerm_role_definition",),
        'A role definition whose permissions include actions = ["*"].',
        "List the resource provider operations the role needs; use the built-in Owner or "
        "Contributor roles, assigned at a narrow scope, where full control is intended.",
        check_azure_wildcard,
    ),
    Policy(
        "WK-TF-032", "GCP owner role granted to the public", Severity.CRITICAL,
        Target.TERRAFORM,
        ("google_project_iam_member", "google_project_iam_binding",
         "google_folder_iam_member", "google_folder_iam_binding",
         "google_organization_iam_member", "google_organization_iam_binding",
         "google_iam_policy"),
        "roles/owner bound to allUsers or allAuthenticatedUsers, directly or in a "
        "google_iam_policy binding.",
        "Bind roles/owner only to named administrators or groups; remove the public member.",
        check_gcp_public_owner,
    ),
)
