"""Kubernetes: pod templates that give containers the host, root, or unbounded resources."""

from __future__ import annotations

from collections.abc import Iterator

from watchkeeper.vulns.iac.kubernetes import WORKLOAD_KINDS, LineMap, Workload, mapping, sequence
from watchkeeper.vulns.iac.model import Policy, Target, Violation
from watchkeeper.vulns.model import Severity


def _name(container: LineMap) -> str:
    return str(container.get("name", "?"))


def check_privileged(workload: Workload) -> Iterator[Violation]:
    for container in workload.containers:
        context = mapping(container.get("securityContext"))
        if context.get("privileged") is True:
            yield Violation(context.line_of("privileged"),
                            f"container {_name(container)} is privileged")


def check_host_path(workload: Workload) -> Iterator[Violation]:
    for volume in sequence(workload.pod_spec.get("volumes")):
        volume = mapping(volume)
        if "hostPath" in volume:
            path = mapping(volume.get("hostPath")).get("path", "?")
            yield Violation(volume.line_of("hostPath"),
                            f"volume {volume.get('name', '?')} mounts host path {path}")


def check_root(workload: Workload) -> Iterator[Violation]:
    pod = mapping(workload.pod_spec.get("securityContext"))
    for container in workload.containers:
        own = mapping(container.get("securityContext"))
        user_context = own if "runAsUser" in own else pod
        if user_context.get("runAsUser") == 0:
            yield Violation(user_context.line_of("runAsUser"),
                            f"container {_name(container)} sets runAsUser: 0")
            continue
        non_root = own.get("runAsNonRoot", pod.get("runAsNonRoot"))
        if non_root is not True and not user_context.get("runAsUser"):
            yield Violation(container.line,
                            f"container {_name(container)} may run as root: no runAsNonRoot: "
                            "true and no non-zero runAsUser")


def check_limits(workload: Workload) -> Iterator[Violation]:
    for container in workload.containers:
        limits = mapping(mapping(container.get("resources")).get("limits"))
        missing = [r for r in ("cpu", "memory") if r not in limits]
        if missing:
            yield Violation(container.line,
                            f"container {_name(container)} has no {' or '.join(missing)} limit")


def image_unpinned(image: str) -> bool:
    """Untagged (so ``latest``) or tagged ``latest``, and not pinned by digest."""
    if "@" in image:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.rsplit(":", 1)[1] == "latest"


def check_image_tag(workload: Workload) -> Iterator[Violation]:
    for container in workload.containers:
        image = container.get("image")
        if isinstance(image, str) and image_unpinned(image):
            yield Violation(container.line_of("image"),
                            f"container {_name(container)} uses image {image}")


def check_escalation(workload: Workload) -> Iterator[Violation]:
    for container in workload.containers:
        context = mapping(container.get("securityContext"))
        if context.get("allowPrivilegeEscalation") is not False:
            line = context.line_of("allowPrivilegeEscalation") if context else container.line
            yield Violation(line, f"container {_name(container)} does not set "
                                  "allowPrivilegeEscalation: false")


def check_host_namespaces(workload: Workload) -> Iterator[Violation]:
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if workload.pod_spec.get(key) is True:
            yield Violation(workload.pod_spec.line_of(key), f"{key}: true")



POLICIES: tuple[Policy[Workload], ...] = (
    Policy(
        "WK-K8S-001", "Privileged container", Severity.HIGH, Target.KUBERNETES, WORKLOAD_KINDS,
        "A container (or init container) with securityContext.privileged: true.",
        "Remove privileged; grant the specific capabilities needed under "
        "securityContext.capabilities.add.",
        check_privileged,
    ),
    Policy(
        "WK-K8S-002", "hostPath volume", Severity.HIGH, Target.KUBERNETES, WORKLOAD_KINDS,
        "A pod volume of type hostPath, which exposes the node's filesystem to the pod.",
        "Use a persistentVolumeClaim, emptyDir, configMap or secret volume instead.",
        check_host_path,
    ),
    Policy(
        "WK-K8S-003", "Container may run as root", Severity.MEDIUM, Target.KUBERNETES,
        WORKLOAD_KINDS,
        "A container whose effective security context (its own, else the pod's) sets "
        "runAsUser: 0, or neither runAsNonRoot: true nor a non-zero runAsUser.",
        "Set securityContext.runAsNonRoot: true and a non-zero runAsUser, and build the "
        "image to run as that user.",
        check_root,
    ),
    Policy(
        "WK-K8S-004", "Container without CPU or memory limits", Severity.LOW,
        Target.KUBERNETES, WORKLOAD_KINDS,
        "A container missing resources.limits.cpu or resources.limits.memory.",
        "Set resources.limits (and requests) for cpu and memory, or apply a LimitRange to "
        "the namespace.",
        check_limits,
    ),
    Policy(
        "WK-K8S-005", "Container image not pinned", Severity.MEDIUM, Target.KUBERNETES,
        WORKLOAD_KINDS,
        "An image with no tag or the latest tag, and no @sha256 digest.",
        "Reference a versioned tag, ideally with its digest (image:1.2.3@sha256:…).",
        check_image_tag,
    ),
    Policy(
        "WK-K8S-006", "Privilege escalation not prevented", Severity.MEDIUM,
        Target.KUBERNETES, WORKLOAD_KINDS,
        "A container whose securityContext does not set allowPrivilegeEscalation: false "
        "(Kubernetes allows it by default).",
        "Set securityContext.allowPrivilegeEscalation: false.",
        check_escalation,
    ),
    Policy(
        "WK-K8S-007", "Pod shares the host's namespaces", Severity.HIGH, Target.KUBERNETES,
        WORKLOAD_KINDS,
        "A pod spec with hostNetwork, hostPID or hostIPC set to true.",
        "Remove hostNetwork, hostPID and hostIPC; expose ports with a Service instead.",
        check_host_namespaces,
    ),
)
