"""The core of package extraction: a source reads one file, a registry picks the source.

A :class:`PackageSource` claims files by name (``poetry.lock``) or by the tail of their
path (``var/lib/dpkg/status``) and turns one :class:`SourceFile` into packages. What a
source cannot count (an unpinned requirement, a git dependency) it reports with
:meth:`SourceFile.skip`; a file it cannot read at all raises :class:`PackageSourceError`
(or one of :data:`FORMAT_ERRORS`), which the caller reports and goes on.
"""

from __future__ import annotations

import fnmatch
import json
import tomllib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, ClassVar, NamedTuple, Protocol

import yaml

from watchkeeper.errors import InputError, UsageError
from watchkeeper.vulns.model import Package
from watchkeeper.vulns.packages.purl import purl_for

ENTRY_POINT_GROUP = "watchkeeper.package_sources"


class PackageSourceError(InputError):
    """A package source (lockfile, SBOM, database, image) that cannot be read."""


FORMAT_ERRORS: tuple[type[Exception], ...] = (
    PackageSourceError,
    ValueError,  # json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError
    yaml.YAMLError,
    RecursionError,
)
"""What reading a corrupt source raises: reported as skipped, never raised by ``extract``."""


class Skipped(NamedTuple):
    """Something that was not counted as a package, and why."""

    location: str
    reason: str


@dataclass(frozen=True)
class Limits:
    """Caps that keep a hostile or huge input from exhausting memory or time."""

    max_file_bytes: int = 64 * 1024 * 1024
    """The largest file read whole (a lockfile, a status database, a manifest)."""
    max_include_depth: int = 8
    """How deep ``-r`` includes of requirements files are followed."""
    max_link_hops: int = 40
    """How many symbolic links one path may go through."""
    max_layers: int = 256
    """The most layers an image may have."""
    max_members: int = 2_000_000
    """The most tar members read from one image, all layers together."""


class FileTree(Protocol):
    """Files a source may read besides its own: includes, siblings, ``etc/os-release``."""

    def read(self, path: str, limits: Limits) -> bytes:
        """The bytes of ``path`` (relative, ``/``-separated); raises PackageSourceError."""
        ...

    def exists(self, path: str) -> bool: ...

    def location(self, path: str) -> str:
        """How ``path`` is named in reports."""
        ...


@dataclass
class SourceFile:
    """One file handed to a source, with the tree it lies in."""

    path: str
    """Relative to the tree's root, ``/``-separated."""
    tree: FileTree
    limits: Limits
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def location(self) -> str:
        return self.tree.location(self.path)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def folder(self) -> str:
        """The folder of this file, relative to the root ("" at the root)."""
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""

    def read_bytes(self) -> bytes:
        return self.tree.read(self.path, self.limits)

    def read_text(self) -> str:
        return self.read_bytes().decode("utf-8-sig")

    def json(self) -> Any:
        return json.loads(self.read_bytes())

    def toml(self) -> dict[str, Any]:
        return tomllib.loads(self.read_text())

    def yaml(self) -> Any:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(self.read_text(), Loader=loader)  # noqa: S506 - a safe loader

    def sibling(self, path: str) -> str:
        """``path`` relative to this file's folder, normalised; raises on ``..`` past root."""
        return join(self.folder, path)

    def skip(self, reason: str, where: str | None = None) -> None:
        """Report something of this file not counted; ``where`` is a line or an entry."""
        location = f"{self.location}:{where}" if where else self.location
        self.skipped.append(Skipped(location, reason))

    def package(self, ecosystem: str, name: str, version: str, *,
                direct: bool | None = None, path: str | None = None) -> Package:
        """A package found in this file (or in ``path``, an included file), with its purl."""
        location = self.tree.location(path) if path else self.location
        return Package(ecosystem=ecosystem, name=name, version=version, location=location,
                       purl=purl_for(ecosystem, name, version), direct=direct)


def join(folder: str, path: str) -> str:
    """``path`` seen from ``folder``, both relative to a root; ``..`` may not leave it."""
    parts = [] if path.startswith("/") else [p for p in folder.split("/") if p]
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise PackageSourceError(f"{path!r} points outside the root")
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


class PackageSource(ABC):
    """Reads the packages of one kind of file."""

    name: ClassVar[str]
    """Short and unique, e.g. ``poetry.lock`` or ``dpkg``."""
    patterns: ClassVar[tuple[str, ...]]
    """Glob patterns on the file name, or on the path's tail when they hold a ``/``."""

    @classmethod
    def claims(cls, path: str) -> bool:
        """Whether this source reads the file at ``path`` (relative, ``/``-separated)."""
        parts = path.split("/")
        for pattern in cls.patterns:
            wanted = pattern.split("/")
            tail = parts[-len(wanted):]
            if len(tail) == len(wanted) and all(
                    fnmatch.fnmatchcase(part, want) for part, want in zip(tail, wanted,
                                                                          strict=True)):
                return True
        return False

    @abstractmethod
    def extract(self, file: SourceFile) -> list[Package]:
        """The packages of ``file``; what is not counted goes to ``file.skip``."""


class SourceRegistry:
    """Maps file names to package sources: the built-ins, then entry points."""

    def __init__(self) -> None:
        self._sources: dict[str, type[PackageSource]] = {}

    def register(self, source: type[PackageSource]) -> type[PackageSource]:
        if source.name in self._sources and self._sources[source.name] is not source:
            raise UsageError(f"two package sources are registered as {source.name!r}")
        self._sources[source.name] = source
        return source

    def names(self) -> list[str]:
        return sorted(self._sources)

    def get(self, name: str) -> type[PackageSource]:
        try:
            return self._sources[name]
        except KeyError:
            known = ", ".join(self.names())
            raise UsageError(f"unknown package source {name!r} (known: {known})") from None

    def source_for(self, path: str) -> type[PackageSource] | None:
        """The first registered source that claims ``path``, or None."""
        for source in self._sources.values():
            if source.claims(path):
                return source
        return None

    def load_entry_points(self) -> None:
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            self.register(entry.load())


def expect(value: Any, kind: type[Any] | tuple[type[Any], ...], what: str) -> Any:
    """``value`` when it is of ``kind``; else PackageSourceError naming ``what``."""
    if not isinstance(value, kind):
        raise PackageSourceError(f"{what} is not {_kind_name(kind)}")
    return value


def _kind_name(kind: type[Any] | tuple[type[Any], ...]) -> str:
    names: dict[type[Any], str] = {dict: "a mapping", list: "a list", str: "a string"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


