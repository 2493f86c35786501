"""From paths to packages: walk folders, open images, hand each known file to its source.

Nothing here stops at a bad file: a corrupt lockfile, a refused tar member or a file
over the size limit becomes a :class:`Skipped` entry and the walk goes on. Only a
path that does not exist at all is an error (a typo, raised at once).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from watchkeeper.errors import UsageError
from watchkeeper.vulns.model import Package
from watchkeeper.vulns.packages.base import (
    FORMAT_ERRORS,
    FileTree,
    Limits,
    PackageSourceError,
    Skipped,
    SourceFile,
    SourceRegistry,
)
from watchkeeper.vulns.packages.image import is_image, read_image
from watchkeeper.vulns.packages.osrelease import OS_RELEASE_PATHS
from watchkeeper.vulns.packages.trees import DirectoryTree

SKIPPED_FOLDERS = frozenset({".git", ".hg", ".svn"})
HIDDEN_LOCKFILE = "node_modules/.package-lock.json"


@dataclass
class Extraction:
    """The packages found under some paths, and what was not counted."""

    packages: list[Package] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def extract(paths: Iterable[str | os.PathLike[str]], *,
            registry: SourceRegistry | None = None,
            limits: Limits | None = None) -> Extraction:
    """The packages of every known file under ``paths`` (files, folders, image tarballs).

    Raises UsageError for a path that does not exist; nothing else.
    """
    if registry is None:
        from watchkeeper.vulns.packages import default_registry

        registry = default_registry()
    limits = limits or Limits()
    result = Extraction()
    given = [os.fspath(path) for path in paths]
    for path in given:
        if not os.path.lexists(path):
            raise UsageError(f"{path}: no such file or folder")
    for path in given:
        _extract_path(path, registry, limits, result)
    result.packages = _unique(result.packages)
    result.skipped = list(dict.fromkeys(result.skipped))
    return result


def _extract_path(path: str, registry: SourceRegistry, limits: Limits,
                  result: Extraction) -> None:
    if os.path.isdir(path):
        tree = DirectoryTree(path)
        for relative in _walk(path, registry):
            _run(registry, tree, relative, limits, result)
        return
    parts = os.path.normpath(path).split(os.sep)
    for count in range(1, len(parts) + 1):
        relative = "/".join(parts[-count:])
        if registry.source_for(relative) is not None:
            folder = os.sep.join(parts[:-count])
            _run(registry, DirectoryTree(folder or ("/" if path.startswith("/") else "."),
                                         folder), relative, limits, result)
            return
    if os.path.isfile(path) and is_image(path):
        _extract_image(path, registry, limits, result)
    else:
        result.skipped.append(Skipped(path, "not a known package source"))


def _extract_image(path: str, registry: SourceRegistry, limits: Limits,
                   result: Extraction) -> None:
    def wanted(member: str) -> bool:
        return member in OS_RELEASE_PATHS or _claimed(member, registry)

    try:
        trees, refused = read_image(path, path, wanted, limits)
    except PackageSourceError as exc:
        result.skipped.append(Skipped(path, exc.message))
        return
    result.skipped.extend(refused)
    for tree in trees:
        for member in tree.files():
            if _claimed(member, registry):
                _run(registry, tree, member, limits, result)


def _claimed(path: str, registry: SourceRegistry) -> bool:
    """Whether a source reads ``path``, outside version-control and ``node_modules``
    folders (npm's own ``node_modules/.package-lock.json`` excepted)."""
    parts = path.split("/")
    if SKIPPED_FOLDERS.intersection(parts[:-1]):
        return False
    if "node_modules" in parts[:-1] and not (
            path == HIDDEN_LOCKFILE or path.endswith("/" + HIDDEN_LOCKFILE)):
        return False
    return registry.source_for(path) is not None


def _walk(root: str, registry: SourceRegistry) -> list[str]:
    """The files under ``root`` that a source claims, relative and sorted."""
    found: list[str] = []
    for folder, folders, files in os.walk(root):
        relative = os.path.relpath(folder, root).replace(os.sep, "/")
        relative = "" if relative == "." else relative
        folders[:] = sorted(f for f in folders if f not in SKIPPED_FOLDERS)
        if "node_modules" in folders:
            folders.remove("node_modules")
            if "package-lock.json" not in files:
                hidden = f"{relative}/{HIDDEN_LOCKFILE}".lstrip("/")
                if os.path.lexists(os.path.join(root, *hidden.split("/"))):
                    found.append(hidden)
        for name in sorted(files):
            path = f"{relative}/{name}" if relative else name
            if _claimed(path, registry):
                found.append(path)
    return sorted(found)


def _run(registry: SourceRegistry, tree: FileTree, path: str, limits: Limits,
         result: Extraction) -> None:
    source = registry.source_for(path)
    if source is None:
        return
    file = SourceFile(path, tree, limits)
    try:
        packages = source().extract(file)
    except FORMAT_ERRORS as exc:
        message = exc.message if isinstance(exc, PackageSourceError) else str(exc)
        result.skipped.extend(file.skipped)
        result.skipped.append(Skipped(file.location, f"cannot read {source.name}: {message}"))
        return
    result.packages.extend(packages)
    result.skipped.extend(file.skipped)


def _unique(packages: list[Package]) -> list[Package]:
    seen: set[tuple[str, str, str, str]] = set()
    kept: list[Package] = []
    for package in packages:
        key = (package.ecosystem, package.name, package.version, package.location)
        if key not in seen:
            seen.add(key)
            kept.append(package)
    return kept
