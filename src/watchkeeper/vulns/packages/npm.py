"""npm's ``package-lock.json`` (layouts 1, 2 and 3) and ``npm-shrinkwrap.json``."""

from __future__ import annotations

from typing import Any

from watchkeeper.vulns.model import Package
from watchkeeper.vulns.packages.base import PackageSource, SourceFile, expect

NPM = "npm"
DEPENDENCY_FIELDS = ("dependencies", "devDependencies", "optionalDependencies",
                     "peerDependencies")


def split_spec(spec: str) -> tuple[str, str]:
    """``@scope/name@range`` → (``@scope/name``, ``range``); the ``@`` of a scope is kept."""
    at = spec.find("@", 1)
    return (spec, "") if at < 0 else (spec[:at], spec[at + 1:])


def registry_version(version: str) -> str | None:
    """The version when it names a published release, None for git, file and URL ones."""
    if not version or ":" in version or "/" in version:
        return None
    return version


class PackageLock(PackageSource):
    """Every installed package of ``packages`` (layouts 2, 3), else of ``dependencies``."""

    name = "package-lock.json"
    patterns = ("package-lock.json", "npm-shrinkwrap.json", "node_modules/.package-lock.json")

    def extract(self, file: SourceFile) -> list[Package]:
        document = expect(file.json(), dict, "the lockfile")
        if "packages" in document:
            return self._packages(file, expect(document["packages"], dict, "packages"))
        found: list[Package] = []
        self._dependencies(file, expect(document.get("dependencies", {}), dict,
                                        "dependencies"), "", found)
        return found

    def _packages(self, file: SourceFile, packages: dict[str, Any]) -> list[Package]:
        root = packages.get("")
        direct: set[str] | None = None
        if isinstance(root, dict):
            direct = {name for field in DEPENDENCY_FIELDS
                      for name in (root.get(field) or {})}
        found: list[Package] = []
        for key, entry in packages.items():
            if not key.startswith("node_modules/") and "/node_modules/" not in key:
                continue  # the project and its workspaces
            entry = expect(entry, dict, key)
            if entry.get("link"):
                continue  # a link to a workspace folder, listed under its own key
            installed = key.rsplit("node_modules/", 1)[-1]
            name = str(entry.get("name") or installed)
            version = registry_version(str(entry.get("version", "")))
            if str(entry.get("resolved", "")).startswith(("file:", "git", "link:")):
                version = None
            if version is None:
                file.skip("no registry version (a git, file or URL dependency)", key)
                continue
            is_direct = None if direct is None else (
                key == f"node_modules/{installed}" and installed in direct)
            found.append(file.package(NPM, name, version, direct=is_direct))
        return found

    def _dependencies(self, file: SourceFile, dependencies: dict[str, Any], parent: str,
                      found: list[Package]) -> None:
        for name, entry in dependencies.items():
            entry = expect(entry, dict, f"{parent}{name}")
            version = str(entry.get("version", ""))
            real = name
            if version.startswith("npm:"):
                real, version = split_spec(version[4:])
            published = registry_version(version)
            if published is None:
                file.skip("no registry version (a git, file or URL dependency)",
                          parent + name)
            else:
                found.append(file.package(NPM, real, published))
            nested = expect(entry.get("dependencies", {}), dict, f"{parent}{name}")
            self._dependencies(file, nested, f"{parent}{name}>", found)
