"""Yarn's ``yarn.lock``: classic (v1, its own syntax) and berry (v2+, YAML)."""

from __future__ import annotations

import re

from watchkeeper.vulns.model import Package
from watchkeeper.vulns.packages.base import (
    PackageSource,
    PackageSourceError,
    SourceFile,
    expect,
)
from watchkeeper.vulns.packages.npm import NPM, registry_version, split_spec

_NOT_PUBLISHED = ("file:", "link:", "git", "http:", "https:", "github:", "portal:")
_FIELD = re.compile(r'^"?(?P<key>[^"\s]+)"?\s+"?(?P<value>[^"]*)"?$')


class YarnLock(PackageSource):
    """Every resolved entry of a ``yarn.lock``, classic or berry."""

    name = "yarn.lock"
    patterns = ("yarn.lock",)

    def extract(self, file: SourceFile) -> list[Package]:
        text = file.read_text()
        if re.search(r"^__metadata:", text, re.MULTILINE):
            return self._berry(file)
        return self._classic(file, text)

    def _classic(self, file: SourceFile, text: str) -> list[Package]:
        found: list[Package] = []
        descriptors: list[str] = []
        version: str | None = None

        def flush() -> None:
            if descriptors:
                self._classic_entry(file, descriptors, version, found)

        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if not line.startswith(" "):
                flush()
                if not line.endswith(":"):
                    raise PackageSourceError(f"line {number}: not an entry: {line[:80]!r}")
                descriptors = [d.strip().strip('"') for d in line[:-1].split(",")]
                version = None
            elif line.startswith("  ") and not line.startswith("   "):
                match = _FIELD.match(line.strip())
                if match and match["key"] == "version":
                    version = match["value"]
        flush()
        return found

    def _classic_entry(self, file: SourceFile, descriptors: list[str], version: str | None,
                       found: list[Package]) -> None:
        name, wanted = split_spec(descriptors[0])
        if wanted.startswith("npm:"):
            name, wanted = split_spec(wanted[4:])
        if wanted.startswith(_NOT_PUBLISHED):
            file.skip("a git, file or URL dependency, not a published release",
                      descriptors[0])
        elif version is None or registry_version(version) is None:
            file.skip("an entry without a version", descriptors[0])
        else:
            found.append(file.package(NPM, name, version))

    def _berry(self, file: SourceFile) -> list[Package]:
        document = expect(file.yaml(), dict, "the lockfile")
        found: list[Package] = []
        for key, entry in document.items():
            if key == "__metadata":
                continue
            entry = expect(entry, dict, str(key))
            name, reference = split_spec(str(entry.get("resolution", "")))
            protocol = reference.partition(":")[0] if ":" in reference else ""
            if protocol in ("workspace", "patch"):
                continue  # the project itself; a patched copy of an entry listed as well
            version = registry_version(str(entry.get("version", "")))
            if protocol != "npm" or version is None:
                file.skip(f"a {protocol or 'unknown'} dependency, not a published release",
                          str(key))
                continue
            found.append(file.package(NPM, name, version))
        return found
