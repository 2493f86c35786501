"""PHP: ``composer.lock``, its ``packages`` and ``packages-dev``."""

from __future__ import annotations

import json

from watchkeeper.vulns.model import Package
from watchkeeper.vulns.packages.base import (
    PackageSource,
    PackageSourceError,
    SourceFile,
    expect,
)


class ComposerLock(PackageSource):
    """Released packages of both lists; direct when ``composer.json`` beside requires them."""

    name = "composer.lock"
    patterns = ("composer.lock",)

    def extract(self, file: SourceFile) -> list[Package]:
        document = expect(file.json(), dict, "the lockfile")
        direct = self._required(file)
        found: list[Package] = []
        for section in ("packages", "packages-dev"):
            for entry in expect(document.get(section) or [], list, section):
                entry = expect(entry, dict, f"an entry of {section}")
                name, version = str(entry.get("name", "")), str(entry.get("version", ""))
                if not name or not version:
                    file.skip("a package without name or version", name or section)
                elif version.startswith("dev-") or version.endswith("-dev"):
                    file.skip(f"a branch ({version}), not a release", name)
                else:
                    found.append(file.package("Packagist", name, version,
                                              direct=None if direct is None
                                              else name.lower() in direct))
        return found

    def _required(self, file: SourceFile) -> set[str] | None:
        """Names ``composer.json`` requires, or None when it cannot say."""
        path = file.sibling("composer.json")
        if not file.tree.exists(path):
            return None
        try:
            manifest = json.loads(file.tree.read(path, file.limits))
        except (PackageSourceError, ValueError):
            return None
        if not isinstance(manifest, dict):
            return None
        return {str(name).lower() for field in ("require", "require-dev")
                for name in (manifest.get(field) or {})}
