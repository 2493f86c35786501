"""The IaC test repository (``tests/data/iac/repo``) and what a scan of it must report."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1] / "data" / "iac" / "repo"

EXPECTED = {
    # Terraform, AWS
    ("WK-TF-002", "terraform/aws/main.tf:3"),
    ("WK-TF-012", "terraform/aws/main.tf:3"),
    ("WK-TF-001", "terraform/aws/main.tf:5"),
    ("WK-TF-001", "terraform/aws/main.tf:7"),
    ("WK-TF-003", "terraform/aws/main.tf:19"),
    ("WK-TF-020", "terraform/aws/main.tf:41"),
    ("WK-TF-021", "terraform/aws/main.tf:48"),
    ("WK-TF-020", "terraform/aws/main.tf:57"),
    ("WK-TF-010", "terraform/aws/main.tf:64"),
    ("WK-TF-011", "terraform/aws/main.tf:67"),
    ("WK-TF-030", "terraform/aws/main.tf:74"),
    ("WK-TF-030", "terraform/aws/main.tf:88"),
    ("WK-TF-030", "terraform/aws/main.tf:98"),
    # Terraform, Azure
    ("WK-TF-005", "terraform/azure/main.tf:7"),
    ("WK-TF-006", "terraform/azure/main.tf:13"),
    ("WK-TF-020", "terraform/azure/main.tf:24"),
    ("WK-TF-021", "terraform/azure/main.tf:43"),
    ("WK-TF-013", "terraform/azure/main.tf:57"),
    ("WK-TF-031", "terraform/azure/main.tf:66"),
    # Terraform, GCP
    ("WK-TF-004", "terraform/gcp/main.tf:4"),
    ("WK-TF-020", "terraform/gcp/main.tf:10"),
    ("WK-TF-032", "terraform/gcp/main.tf:21"),
    ("WK-SUP-001", "terraform/gcp/main.tf:42"),
    # Kubernetes
    ("WK-K8S-007", "k8s/workloads.yaml:14"),
    ("WK-K8S-003", "k8s/workloads.yaml:16"),
    ("WK-K8S-004", "k8s/workloads.yaml:16"),
    ("WK-K8S-005", "k8s/workloads.yaml:17"),
    ("WK-K8S-001", "k8s/workloads.yaml:19"),
    ("WK-K8S-006", "k8s/workloads.yaml:19"),
    ("WK-K8S-004", "k8s/workloads.yaml:20"),
    ("WK-K8S-005", "k8s/workloads.yaml:21"),
    ("WK-K8S-003", "k8s/workloads.yaml:26"),
    ("WK-K8S-006", "k8s/workloads.yaml:27"),
    ("WK-K8S-002", "k8s/workloads.yaml:30"),
    ("WK-K8S-007", "k8s/workloads.yaml:43"),
    # Dockerfile
    ("WK-DF-004", "docker/app/Dockerfile:2"),
    ("WK-DF-003", "docker/app/Dockerfile:3"),
    ("WK-DF-005", "docker/app/Dockerfile:5"),
    ("WK-DF-002", "docker/app/Dockerfile:6"),
    ("WK-DF-004", "docker/app/Dockerfile:10"),
    ("WK-DF-003", "docker/app/Dockerfile:11"),
    ("WK-DF-001", "docker/app/Dockerfile:15"),
}

SUPPRESSED = {
    ("WK-DF-002", "docker/clean/Dockerfile:9", "the archive is verified by the next RUN"),
    ("WK-K8S-003", "k8s/clean.yaml:31", "the debug image needs root to install tools"),
    ("WK-TF-021", "terraform/gcp/main.tf:32", "legacy share, removal tracked in OPS-142"),
    ("WK-TF-004", "terraform/gcp/main.tf:42", ""),
}

PROBLEMS = {
    "docker/broken/Dockerfile:2",
    "k8s/broken.yaml:9",
    "terraform/broken/main.tf:3",
}
