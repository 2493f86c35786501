"""Terraform: storage that anyone can read, and storage written unencrypted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from watchkeeper.vulns.iac.hcl import Expression
from watchkeeper.vulns.iac.model import Policy, Target, Violation
from watchkeeper.vulns.iac.terraform import Resource, as_list, truthy
from watchkeeper.vulns.model import Severity

PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
BLOCK_SETTINGS = ("block_public_acls", "block_public_policy", "ignore_public_acls",
                  "restrict_public_buckets")
PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})


def _bucket_target(resource: Resource, value: Any) -> str:
    """Which bucket a ``bucket = …`` attribute names: a bucket's address when it can be
    resolved in the module, else the reference or the literal name itself."""
    for bucket in resource.module.of_type("aws_s3_bucket"):
        if bucket.is_named_by(value):
            return bucket.address
    return value.text if isinstance(value, Expression) else f"name:{value}"


def _own_target(resource: Resource) -> str:
    if resource.type == "aws_s3_bucket":
        return resource.address
    return _bucket_target(resource, resource.block.get("bucket"))


def _fully_blocks(block_resource: Resource) -> bool:
    return all(truthy(block_resource.block.get(s)) is True for s in BLOCK_SETTINGS)


def _access_blocks(resource: Resource) -> list[Resource]:
    target = _own_target(resource)
    return [
        pab for pab in resource.module.of_type("aws_s3_bucket_public_access_block")
        if _bucket_target(pab, pab.block.get("bucket")) == target
    ]


def _public_access_blocked(resource: Resource) -> bool:
    account = resource.module.of_type("aws_s3_account_public_access_block")
    return any(_fully_blocks(r) for r in [*account, *_access_blocks(resource)])


def check_public_bucket(resource: Resource) -> Iterator[Violation]:
    if _public_access_blocked(resource):
        return
    block = resource.block
    acl = block.get("acl")
    if isinstance(acl, str) and acl in PUBLIC_ACLS:
        yield Violation(block.line_of("acl"), f'acl = "{acl}" grants read access to everyone')
    if resource.type == "aws_s3_bucket" and block.children("website"):
        yield Violation(block.line_of("website"), "website hosting serves the bucket publicly")
    if resource.type == "aws_s3_bucket_website_configuration":
        yield Violation(block.line, "website hosting serves the bucket publicly")


def check_missing_access_block(resource: Resource) -> Iterator[Violation]:
    account = resource.module.of_type("aws_s3_account_public_access_block")
    if not _access_blocks(resource) and not any(_fully_blocks(r) for r in account):
        yield Violation(resource.block.line,
                        f"no aws_s3_bucket_public_access_block for {resource.address}")


def check_access_block_settings(resource: Resource) -> Iterator[Violation]:
    block = resource.block
    missing = [s for s in BLOCK_SETTINGS if s not in block.attributes]
    for setting in BLOCK_SETTINGS:
        if setting in block.attributes and truthy(block.get(setting)) is False:
            yield Violation(block.line_of(setting), f"{setting} = false")
    if missing:
        yield Violation(block.line, "not set (default false): " + ", ".join(missing))


def check_gcs_public(resource: Resource) -> Iterator[Violation]:
    block = resource.block
    for name in ("member", "members", "entity", "role_entity"):
        for value in as_list(block.get(name)):
            if isinstance(value, str) and value.rsplit(":", 1)[-1] in PUBLIC_MEMBERS:
                yield Violation(block.line_of(name), f"{name} grants access to {value}")


def check_azure_account_public(resource: Resource) -> Iterator[Violation]:
    for name in ("allow_blob_public_access", "allow_nested_items_to_be_public"):
        if truthy(resource.block.get(name)) is True:
            yield Violation(resource.block.line_of(name), f"{name} = true")


def check_azure_container_public(resource: Resource) -> Iterator[Violation]:
    access = resource.block.get("container_access_type")
    if access in ("blob", "container"):
        yield Violation(resource.block.line_of("container_access_type"),
                        f'container_access_type = "{access}" allows anonymous reads')


def check_ebs_encryption(resource: Resource) -> Iterator[Violation]:
    block = resource.block
    if resource.type == "aws_ebs_volume":
        if truthy(block.get("encrypted")) is False:
            yield Violation(block.line_of("encrypted"), "encrypted = false")
        elif "encrypted" not in block.attributes and "snapshot_id" not in block.attributes:
            yield Violation(block.line, "encrypted is not set (default false)")
        return
    for device in (*block.children("root_block_device"), *block.children("ebs_block_device")):
        if truthy(device.get("encrypted")) is False:
            yield Violation(device.line_of("encrypted"), f"{device.type}: encrypted = false")


def check_rds_encryption(resource: Resource) -> Iterator[Violation]:
    block = resource.block
    if "replicate_source_db" in block.attributes or block.get("engine_mode") == "serverless":
        return  # replicas inherit their source's encryption; Serverless v1 always encrypts
    if truthy(block.get("storage_encrypted")) is False:
        yield Violation(block.line_of("storage_encrypted"), "storage_encrypted = false")
    elif "storage_encrypted" not in block.attributes:
        yield Violation(block.line, "storage_encrypted is not set (default false)")


def check_s3_encryption(resource: Resource) -> Iterator[Violation]:
    if resource.block.children("server_side_encryption_configuration"):
        return
    target = resource.address
    for config in resource.module.of_type("aws_s3_bucket_server_side_encryption_configuration"):
        if _bucket_target(config, config.block.get("bucket")) == target:
            return
    yield Violation(resource.block.line, "no server-side encryption configuration")


def check_azure_disk_encryption(resource: Resource) -> Iterator[Violation]:
    for settings in resource.block.children("encryption_settings"):
        if truthy(settings.get("enabled")) is False:
            yield Violation(settings.line_of("enabled"), "encryption_settings: enabled = false")


POLICIES: tuple[Policy[Resource], ...] = (
    Policy(
        "WK-TF-001", "S3 bucket readable by anyone", Severity.HIGH, Target.TERRAFORM,
        ("aws_s3_bucket", "aws_s3_bucket_acl", "aws_s3_bucket_website_configuration"),
        "A bucket given a public canned ACL (public-read, public-read-write, "
        "authenticated-read) or website hosting, while no bucket or account public access "
        "block turns all four protections on.",
        "Use a private ACL and serve content through CloudFront with origin access control; "
        "add an aws_s3_bucket_public_access_block with all four settings true.",
        check_public_bucket,
    ),
    Policy(
        "WK-TF-002", "S3 bucket without a public access block", Severity.MEDIUM,
        Target.TERRAFORM, ("aws_s3_bucket",),
        "A bucket that no aws_s3_bucket_public_access_block in the same module names "
        "(by reference or bucket name), with no account-wide block either.",
        "Declare an aws_s3_bucket_public_access_block for the bucket with block_public_acls, "
        "block_public_policy, ignore_public_acls and restrict_public_buckets set to true.",
        check_missing_access_block,
    ),
    Policy(
        "WK-TF-003", "S3 public access block leaves a protection off", Severity.MEDIUM,
        Target.TERRAFORM,
        ("aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block"),
        "A public access block where one of the four settings is false or missing "
        "(missing means false).",
        "Set block_public_acls, block_public_policy, ignore_public_acls and "
        "restrict_public_buckets to true.",
        check_access_block_settings,
    ),
    Policy(
        "WK-TF-004", "Cloud Storage bucket shared with allUsers", Severity.HIGH,
        Target.TERRAFORM,
        ("google_storage_bucket_iam_member", "google_storage_bucket_iam_binding",
         "google_storage_bucket_access_control", "google_storage_bucket_acl",
         "google_storage_default_object_access_control",
         "google_storage_object_access_control"),
        "IAM members, bindings or ACL entities on a GCS bucket or object that name "
        "allUsers or allAuthenticatedUsers.",
        "Grant access to named principals or groups; use signed URLs for public downloads.",
        check_gcs_public,
    ),
    Policy(
        "WK-TF-005", "Azure storage account allows public blob access", Severity.HIGH,
        Target.TERRAFORM, ("azurerm_storage_account",),
        "allow_blob_public_access or allow_nested_items_to_be_public set to true.",
        "Set allow_nested_items_to_be_public (allow_blob_public_access on older providers) "
        "to false and share data with SAS tokens or Azure AD roles.",
        check_azure_account_public,
    ),
    Policy(
        "WK-TF-006", "Azure storage container readable anonymously", Severity.HIGH,
        Target.TERRAFORM, ("azurerm_storage_container",),
        'container_access_type set to "blob" or "container".',
        'Set container_access_type = "private".',
        check_azure_container_public,
    ),
    Policy(
        "WK-TF-010", "EBS volume not encrypted", Severity.MEDIUM, Target.TERRAFORM,
        ("aws_ebs_volume", "aws_instance"),
        "An aws_ebs_volume with encrypted false or unset (unless made from a snapshot), or an "
        "aws_instance block device with encrypted = false.",
        "Set encrypted = true (and kms_key_id for a customer-managed key), or turn on EBS "
        "encryption by default for the account.",
        check_ebs_encryption,
    ),
    Policy(
        "WK-TF-011", "RDS storage not encrypted", Severity.HIGH, Target.TERRAFORM,
        ("aws_db_instance", "aws_rds_cluster"),
        "storage_encrypted false or unset on a database instance or cluster that is not a "
        "read replica.",
        "Set storage_encrypted = true; an existing database must be restored from an "
        "encrypted snapshot copy.",
        check_rds_encryption,
    ),
    Policy(
        "WK-TF-012", "S3 bucket without a declared encryption configuration", Severity.LOW,
        Target.TERRAFORM, ("aws_s3_bucket",),
        "A bucket with neither a server_side_encryption_configuration block nor an "
        "aws_s3_bucket_server_side_encryption_configuration naming it. AWS encrypts new "
        "objects with SSE-S3 regardless; declaring it keeps the choice (such as SSE-KMS) "
        "in code.",
        "Add an aws_s3_bucket_server_side_encryption_configuration, preferably with "
        'sse_algorithm = "aws:kms".',
        check_s3_encryption,
    ),
    Policy(
        "WK-TF-013", "Azure managed disk encryption turned off", Severity.MEDIUM,
        Target.TERRAFORM, ("azurerm_managed_disk",),
        "An encryption_settings block with enabled = false.",
        "Enable encryption_settings with a Key Vault key, or use disk_encryption_set_id "
        "for customer-managed keys.",
        check_azure_disk_encryption,
    ),
)
