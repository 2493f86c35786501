"""Python: pinned requirements files, ``poetry.lock``, ``Pipfile.lock`` and ``uv.lock``."""

from __future__ import annotations

import re
from typing import Any

from watchkeeper.vulns.model import Package
from watchkeeper.vulns.packages.base import (
    PackageSource,
    PackageSourceError,
    Skipped,
    SourceFile,
    expect,
    join,
)
from watchkeeper.vulns.packages.purl import package_name

PYPI = "PyPI"
_REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?P<rest>[^;]*)")
_PIN = re.compile(r"^===?\s*(?P<version>[^\s,*]+)$")
_INCLUDES = ("-r", "--requirement")
_OPTIONS = re.compile(r"\s+--?[A-Za-z]")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://|^\.{0,2}/", re.IGNORECASE)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with ``\\`` continuations joined and comments removed, with line numbers."""
    lines: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        line = re.sub(r"(^|\s)#.*$", "", raw)
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            lines.append((start, line))
    if pending.strip():
        lines.append((start, pending.strip()))
    return lines


class Requirements(PackageSource):
    """pip requirements: ``name==version`` pins count; ``-r`` includes are followed."""

    name = "requirements"
    patterns = ("requirements*.txt", "requirements/*.txt")

    def extract(self, file: SourceFile) -> list[Package]:
        found: list[Package] = []
        self._read(file, file.path, [], found)
        return found

    def _read(self, file: SourceFile, path: str, chain: list[str],
              found: list[Package]) -> None:
        location = file.tree.location(path)
        text = file.tree.read(path, file.limits).decode("utf-8-sig")
        for number, line in _logical_lines(text):
            where = f"{location}:{number}"
            if line.startswith("-"):
                self._option(file, path, line, where, [*chain, path], found)
                continue
            requirement = _OPTIONS.split(line, maxsplit=1)[0]  # --hash=…, --config-settings …
            reason = self._requirement(file, path, requirement, found)
            if reason:
                file.skipped.append(Skipped(where, f"{reason}: {line}"))

    def _option(self, file: SourceFile, path: str, line: str, where: str,
                chain: list[str], found: list[Package]) -> None:
        option, _, value = line.replace("=", " ", 1).partition(" ")
        value = value.strip()
        if option not in _INCLUDES:
            if option in ("-e", "--editable"):
                file.skipped.append(Skipped(where, f"an editable install, no version: {value}"))
            return  # index options, hashes, constraints: nothing to count
        try:
            included = join(path.rpartition("/")[0], value)
        except PackageSourceError as exc:
            file.skipped.append(Skipped(where, f"include refused: {exc.message}"))
            return
        if included in chain:
            file.skipped.append(Skipped(where, f"an include cycle through {value}"))
        elif len(chain) > file.limits.max_include_depth:
            file.skipped.append(Skipped(where, f"includes nested deeper than "
                                             f"{file.limits.max_include_depth}: {value}"))
        else:
            try:
                self._read(file, included, chain, found)
            except (PackageSourceError, UnicodeDecodeError) as exc:
                message = exc.message if isinstance(exc, PackageSourceError) else str(exc)
                file.skipped.append(Skipped(where, f"cannot read the include {value}: {message}"))

    def _requirement(self, file: SourceFile, path: str, line: str,
                     found: list[Package]) -> str | None:
        """Adds the pinned package of ``line``, or says why it is not counted."""
        if _URL.match(line):
            return "a path or URL, no version"
        match = _REQUIREMENT.match(line)
        if match is None:
            return "not a requirement"
        rest = match["rest"].strip()
        if rest.startswith("@"):
            return "a direct URL, no version"
        clauses = [c.strip() for c in rest.split(",") if c.strip()]
        pins = [m["version"] for m in map(_PIN.match, clauses) if m]
        if len(pins) != 1:
            return "not pinned: no version" if not clauses else "not pinned to one version with =="
        found.append(file.package(PYPI, package_name(PYPI, match["name"]), pins[0],
                                  path=path))
        return None


class PoetryLock(PackageSource):
    """``poetry.lock``: every ``[[package]]`` published on an index."""

    name = "poetry.lock"
    patterns = ("poetry.lock",)

    def extract(self, file: SourceFile) -> list[Package]:
        found: list[Package] = []
        for entry in expect(file.toml().get("package", []), list, "package"):
            entry = expect(entry, dict, "a package")
            name, version = str(entry.get("name", "")), str(entry.get("version", ""))
            source = entry.get("source")
            kind = source.get("type") if isinstance(source, dict) else None
            if kind in ("git", "directory", "file", "url"):
                file.skip(f"a {kind} source, not a published release", name)
            elif not name or not version:
                file.skip("a package without name or version", name or None)
            else:
                found.append(file.package(PYPI, package_name(PYPI, name), version))
        return found


class PipfileLock(PackageSource):
    """``Pipfile.lock``: the ``default`` and ``develop`` sections' ``==`` versions."""

    name = "Pipfile.lock"
    patterns = ("Pipfile.lock",)

    def extract(self, file: SourceFile) -> list[Package]:
        document = expect(file.json(), dict, "Pipfile.lock")
        found: list[Package] = []
        for section in ("default", "develop"):
            entries = expect(document.get(section, {}), dict, section)
            for name, entry in entries.items():
                entry = expect(entry, dict, f"{section}.{name}")
                pin = _PIN.match(str(entry.get("version", "")))
                if pin is None:
                    file.skip("no == version (a git, path or editable install)",
                              f"{section}.{name}")
                    continue
                found.append(file.package(PYPI, package_name(PYPI, name), pin["version"]))
        return found


class UvLock(PackageSource):
    """``uv.lock``: packages from a registry; direct when the project itself needs them."""

    name = "uv.lock"
    patterns = ("uv.lock",)

    def extract(self, file: SourceFile) -> list[Package]:
        entries = [expect(e, dict, "a package")
                   for e in expect(file.toml().get("package", []), list, "package")]
        roots = [e for e in entries if _source_kind(e) in ("editable", "virtual")]
        direct = {package_name(PYPI, str(dep.get("name", "")))
                  for root in roots for dep in _dependencies(root)}
        found: list[Package] = []
        for entry in entries:
            name, version = str(entry.get("name", "")), str(entry.get("version", ""))
            kind = _source_kind(entry)
            if kind in ("editable", "virtual"):
                continue  # the project itself
            if kind != "registry":
                file.skip(f"a {kind} source, not a published release", name)
                continue
            if not name or not version:
                file.skip("a package without name or version", name or None)
                continue
            normal = package_name(PYPI, name)
            found.append(file.package(PYPI, normal, version,
                                      direct=(normal in direct) if roots else None))
        return found


def _source_kind(entry: dict[str, Any]) -> str:
    source = entry.get("source")
    if isinstance(source, dict) and source:
        return str(next(iter(source)))
    return "unknown"


def _dependencies(root: dict[str, Any]) -> list[dict[str, Any]]:
    deps = [d for d in root.get("dependencies", []) if isinstance(d, dict)]
    for table in ("optional-dependencies", "dev-dependencies"):
        groups = root.get(table, {})
        if isinstance(groups, dict):
            for group in groups.values():
                if isinstance(group, list):
                    deps.extend(d for d in group if isinstance(d, dict))
    return deps
