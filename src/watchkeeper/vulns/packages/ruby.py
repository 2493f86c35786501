"""Ruby: ``Gemfile.lock``, the specs of its ``GEM`` sections."""

from __future__ import annotations

import re

from watchkeeper.vulns.model import Package
from watchkeeper.vulns.packages.base import PackageSource, SourceFile

_SPEC = re.compile(r"^    (?P<name>\S+) \((?P<version>[^)]+)\)$")
_PLATFORM = re.compile(r"-[A-Za-z_].*$")
"""A platform suffix: ``1.15.4-x86_64-linux``, ``9.4.3.0-java``."""


class GemfileLock(PackageSource):
    """Gems of ``GEM`` sections; those of ``DEPENDENCIES`` are direct. ``GIT`` and
    ``PATH`` gems are reported as skipped."""

    name = "Gemfile.lock"
    patterns = ("Gemfile.lock", "gems.locked")

    def extract(self, file: SourceFile) -> list[Package]:
        section = ""
        specs: list[tuple[int, str, str, str]] = []
        direct: set[str] = set()
        for number, line in enumerate(file.read_text().splitlines(), 1):
            if line and not line[0].isspace():
                section = line.strip()
                continue
            if section == "DEPENDENCIES" and line.strip():
                direct.add(line.split()[0].rstrip("!"))
            match = _SPEC.match(line)
            if match:
                specs.append((number, section, match["name"], match["version"]))
        found: list[Package] = []
        for number, kind, name, version in specs:
            if kind != "GEM":
                file.skip(f"a {kind} gem, not a published release: {name}", str(number))
                continue
            version = _PLATFORM.sub("", version)
            found.append(file.package("RubyGems", name, version,
                                      direct=(name in direct) if direct else None))
        return found
