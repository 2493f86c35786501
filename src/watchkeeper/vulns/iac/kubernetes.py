"""Kubernetes manifests as policies see them: one workload (a pod template) at a time.

YAML is read with a loader that remembers where each mapping and key starts, so that a
finding can name the line of ``privileged: true`` rather than the document.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from watchkeeper.errors import InputError

WORKLOAD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job",
                  "CronJob")


class LineMap(dict[Any, Any]):
    """A YAML mapping that knows its first line and the line of each key."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineMap:
    result = LineMap()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            key = str(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def mapping(value: Any) -> LineMap:
    """``value`` when it is a mapping, else an empty one: manifests can hold anything."""
    if isinstance(value, LineMap):
        return value
    empty = LineMap()
    empty.key_lines = {}
    return empty


def sequence(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class Workload:
    """One pod template: a Pod's spec, a Deployment's ``spec.template.spec``, …"""

    kind: str
    name: str
    path: str
    pod_spec: LineMap

    @property
    def address(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def containers(self) -> list[LineMap]:
        found: list[LineMap] = []
        for key in ("initContainers", "containers", "ephemeralContainers"):
            found.extend(c for c in sequence(self.pod_spec.get(key)) if isinstance(c, LineMap))
        return found


def load_documents(text: str, *, path: str) -> list[Any]:
    try:
        return list(yaml.load_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"not valid YAML: {error.problem or error}",
                         location=f"{path}{line}") from error
    except yaml.YAMLError as error:
        raise InputError(f"not valid YAML: {error}", location=path) from error


def workloads(documents: list[Any], *, path: str) -> Iterator[Workload]:
    """The pod templates of the documents that are Kubernetes workloads; others are skipped."""
    for document in documents:
        doc = mapping(document)
        kind = doc.get("kind")
        if kind not in WORKLOAD_KINDS or "apiVersion" not in doc:
            continue
        name = str(mapping(doc.get("metadata")).get("name", "?"))
        spec = mapping(doc.get("spec"))
        if kind == "CronJob":
            spec = mapping(mapping(spec.get("jobTemplate")).get("spec"))
        if kind != "Pod":
            spec = mapping(mapping(spec.get("template")).get("spec"))
        yield Workload(str(kind), name, path, spec)


def is_kubernetes(documents: list[Any]) -> bool:
    return any(isinstance(d, dict) and "apiVersion" in d and "kind" in d for d in documents)
