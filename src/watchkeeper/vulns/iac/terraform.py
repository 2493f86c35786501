"""Terraform modules as policies see them: resources and data sources, each knowing its file,
its line and the other resources of its module (a folder of ``.tf`` files)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from watchkeeper.vulns.iac.hcl import Block, Expression, parse_hcl


@dataclass(eq=False)
class Module:
    """The ``.tf`` files of one folder: Terraform reads them as one configuration."""

    directory: str
    resources: list[Resource] = field(default_factory=list)

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources if r.type in types]


@dataclass(eq=False)
class Resource:
    """A ``resource`` or ``data`` block; policies receive one at a time."""

    mode: str
    """``resource`` or ``data``."""
    type: str
    name: str
    block: Block
    path: str
    module: Module

    @property
    def address(self) -> str:
        prefix = "data." if self.mode == "data" else ""
        return f"{prefix}{self.type}.{self.name}"

    @property
    def kind(self) -> str:
        return self.type

    def is_named_by(self, value: Any) -> bool:
        """Whether ``value`` (an attribute of another resource) points at this one: by a
        reference (``aws_s3_bucket.logs.id``) or by the literal name or id it declares."""
        if isinstance(value, Expression):
            return value.text == self.address or value.text.startswith(self.address + ".")
        if isinstance(value, str):
            names = {self.block.get(key) for key in ("bucket", "name", "id")}
            return value in {n for n in names if isinstance(n, str)}
        return False


def load_module(directory: str, files: dict[str, str]) -> Module:
    """A module from its files' text by relative path; raises ``InputError`` for the first
    file that is not HCL, so callers parse files one by one when they want to go on."""
    module = Module(directory)
    for path, text in files.items():
        add_file(module, path, parse_hcl(text, path=path))
    return module


def add_file(module: Module, path: str, root: Block) -> None:
    for block in root.blocks:
        if block.type in ("resource", "data") and len(block.labels) == 2:
            module.resources.append(
                Resource(block.type, block.labels[0], block.labels[1], block, path, module)
            )


def truthy(value: Any) -> bool | None:
    """True, False, or None when Terraform decides at plan time."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
