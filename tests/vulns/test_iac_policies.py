"""Policies one case at a time: what each reports and what it leaves alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watchkeeper.errors import UsageError
from watchkeeper.vulns.iac import IacSource, PolicyRegistry, default_registry
from watchkeeper.vulns.scan import scan


def findings(tmp_path: Path, name: str, text: str) -> set[tuple[str, int]]:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    result = scan(tmp_path, [IacSource()])
    assert result.problems == []
    return {(f.rule, int(f.location.rsplit(":", 1)[1])) for f in result.findings}


def test_an_account_wide_access_block_protects_every_bucket(tmp_path: Path) -> None:
    tf = """\
resource "aws_s3_account_public_access_block" "all" {
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
resource "aws_s3_bucket" "b" {
  bucket = "b"
  server_side_encryption_configuration {}
}
resource "aws_s3_bucket_acl" "b" {
  bucket = aws_s3_bucket.b.id
  acl    = "public-read"
}
"""
    assert findings(tmp_path, "main.tf", tf) == set()


def test_separate_acl_resource_and_name_reference(tmp_path: Path) -> None:
    tf = """\
resource "aws_s3_bucket" "b" {
  bucket = "named"
}
resource "aws_s3_bucket_acl" "b" {
  bucket = "named"
  acl    = "public-read-write"
}
resource "aws_s3_bucket_public_access_block" "b" {
  bucket = "named"
}
"""
    assert findings(tmp_path, "main.tf", tf) == {
        ("WK-TF-012", 1), ("WK-TF-001", 6), ("WK-TF-003", 8),
    }


def test_access_blocks_count_across_files_of_a_module(tmp_path: Path) -> None:
    (tmp_path / "mod" / "b.tf").parent.mkdir()
    (tmp_path / "mod" / "b.tf").write_text(
        'resource "aws_s3_bucket_public_access_block" "b" {\n'
        "  bucket = aws_s3_bucket.b.id\n  block_public_acls = true\n  block_public_policy = true\n"
        "  ignore_public_acls = true\n  restrict_public_buckets = true\n}\n")
    tf = 'resource "aws_s3_bucket" "b" {\n  acl = "public-read"\n}\n'
    assert findings(tmp_path, "mod/a.tf", tf) == {("WK-TF-012", 1)}
    assert findings(tmp_path, "other/a.tf", tf) - {("WK-TF-012", 1)} == {
        ("WK-TF-001", 2), ("WK-TF-002", 1),
    }


@pytest.mark.parametrize(("rule_text", "expected"), [
    ('from_port = 22\n  to_port = 22\n  ip_protocol = "tcp"\n  cidr_ipv4 = "0.0.0.0/0"',
     {("WK-TF-020", 5)}),
    ('ip_protocol = "-1"\n  cidr_ipv6 = "::/0"', {("WK-TF-021", 3)}),
    ('from_port = 0\n  to_port = 65535\n  ip_protocol = "tcp"\n  cidr_ipv4 = "0.0.0.0/0"',
     {("WK-TF-021", 5)}),
    ('from_port = 443\n  to_port = 443\n  ip_protocol = "tcp"\n  cidr_ipv4 = "0.0.0.0/0"',
     set()),
    ('from_port = 22\n  to_port = 22\n  ip_protocol = "tcp"\n  cidr_ipv4 = var.cidr', set()),
])
def test_vpc_ingress_rules(tmp_path: Path, rule_text: str,
                           expected: set[tuple[str, int]]) -> None:
    tf = f'resource "aws_vpc_security_group_ingress_rule" "r" {{\n  {rule_text}\n}}\n'
    assert findings(tmp_path, "main.tf", tf) == expected


def test_egress_and_denied_rules_are_not_reported(tmp_path: Path) -> None:
    tf = """\
resource "aws_security_group_rule" "out" {
  type        = "egress"
  from_port   = 0
  to_port     = 0
  protocol    = "-1"
  cidr_blocks = ["0.0.0.0/0"]
}
resource "azurerm_network_security_rule" "deny" {
  direction              = "Inbound"
  access                 = "Deny"
  destination_port_range = "*"
  source_address_prefix  = "*"
}
resource "google_compute_firewall" "egress" {
  direction          = "EGRESS"
  destination_ranges = ["0.0.0.0/0"]
  allow {
    protocol = "all"
  }
}
"""
    assert findings(tmp_path, "main.tf", tf) == set()


def test_azure_port_ranges(tmp_path: Path) -> None:
    tf = """\
resource "azurerm_network_security_rule" "r" {
  direction               = "Inbound"
  access                  = "Allow"
  destination_port_ranges = ["80", "3380-3390"]
  source_address_prefix   = "0.0.0.0/0"
}
"""
    assert findings(tmp_path, "main.tf", tf) == {("WK-TF-020", 5)}


def test_iam_policies_that_are_not_wildcards(tmp_path: Path) -> None:
    tf = """\
resource "aws_iam_policy" "deny_all" {
  policy = jsonencode({Statement = [{Effect = "Deny", Action = "*", Resource = "*"}]})
}
resource "aws_iam_policy" "computed" {
  policy = data.aws_iam_policy_document.x.json
}
resource "aws_iam_role" "r" {
  name = "r"
  inline_policy {
    name   = "all"
    policy = DOCUMENT
  }
}
"""
    document = json.dumps({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})
    tf = tf.replace("DOCUMENT", json.dumps(document))
    assert findings(tmp_path, "main.tf", tf) == {("WK-TF-030", 11)}


def test_gcp_owner_in_an_iam_policy_document(tmp_path: Path) -> None:
    tf = """\
data "google_iam_policy" "p" {
  binding {
    role    = "roles/owner"
    members = ["allUsers"]
  }
  binding {
    role    = "roles/viewer"
    members = ["allUsers"]
  }
}
"""
    assert findings(tmp_path, "main.tf", tf) == {("WK-TF-032", 4)}


def test_rds_replicas_and_snapshot_volumes_inherit_encryption(tmp_path: Path) -> None:
    tf = """\
resource "aws_db_instance" "replica" {
  replicate_source_db = aws_db_instance.main.identifier
}
resource "aws_ebs_volume" "restored" {
  snapshot_id = "snap-0123"
}
resource "aws_instance" "vm" {
  root_block_device {
    encrypted = false
  }
}
"""
    assert findings(tmp_path, "main.tf", tf) == {("WK-TF-010", 9)}


def test_kubernetes_pod_level_context_and_digests(tmp_path: Path) -> None:
    manifest = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  securityContext: {runAsNonRoot: true}
  initContainers:
    - name: init
      image: ghcr.io/example/init@sha256:abc
      resources: {limits: {cpu: 1, memory: 1Gi}}
      securityContext: {allowPrivilegeEscalation: false}
  containers:
    - name: app
      image: localhost:5000/app
      resources: {limits: {cpu: 1, memory: 1Gi}}
      securityContext: {allowPrivilegeEscalation: false, runAsUser: 0}
"""
    assert findings(tmp_path, "pod.yaml", manifest) == {("WK-K8S-005", 13), ("WK-K8S-003", 15)}


def test_kubernetes_documents_that_are_not_workloads(tmp_path: Path) -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\ndata: {image: nginx}\n---\n---\n- a list\n"
    assert findings(tmp_path, "cm.yaml", manifest) == set()


def test_dockerfile_user_is_inherited_from_the_stage_built_on(tmp_path: Path) -> None:
    dockerfile = """\
FROM alpine:3.20 AS base
USER 10001
FROM base
COPY . /app
"""
    assert findings(tmp_path, "Dockerfile", dockerfile) == set()


def test_dockerfile_cases(tmp_path: Path) -> None:
    dockerfile = """\
ARG BASE=alpine
FROM ${BASE}
FROM scratch AS empty
FROM alpine:3.20
ENV TOKEN ${CI_TOKEN}
ENV SECRET_KEY abc123
ARG PASSWORD
ADD --checksum=sha256:aa https://example.com/x /x
RUN wget -qO- https://example.com/i.sh | sudo -E bash
RUN curl -o x https://example.com/x && sh x
USER 0:0
"""
    assert findings(tmp_path, "build.Dockerfile", dockerfile) == {
        ("WK-DF-003", 6), ("WK-DF-005", 9), ("WK-DF-001", 11),
    }


def test_registry_refuses_duplicate_ids() -> None:
    policy = next(iter(default_registry()))
    with pytest.raises(UsageError, match="share the id"):
        PolicyRegistry([policy, policy])


def test_policy_ids_titles_and_fixes() -> None:
    registry = default_registry()
    assert len(registry) >= 28
    for policy in registry:
        assert policy.id.startswith(("WK-TF-", "WK-K8S-", "WK-DF-", "WK-SUP-"))
        assert policy.title
        assert policy.checks
        assert policy.fix
        assert policy.kinds
