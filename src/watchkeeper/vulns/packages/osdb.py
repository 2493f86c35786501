"""Operating-system package databases: dpkg's ``status`` file and apk's ``installed``."""

from __future__ import annotations

from collections.abc import Iterator

from watchkeeper.vulns.model import Package
from watchkeeper.vulns.packages.base import PackageSource, SourceFile
from watchkeeper.vulns.packages.osrelease import release_ecosystem


def _root(file: SourceFile, tail: str) -> str:
    """The root filesystem a database at ``…/tail`` belongs to."""
    return file.path[: -len(tail)].rstrip("/")


def _paragraphs(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Blank-line separated records of ``Field: value`` lines, with their first line."""
    record: dict[str, str] = {}
    start = 1
    last = ""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            if record:
                yield start, record
            record, last = {}, ""
            start = number + 1
        elif line[0] in " \t" and last:
            record[last] += "\n" + line.strip()
        else:
            key, _, value = line.partition(":")
            last = key.strip()
            record[last] = value.strip()
    if record:
        yield start, record


class Dpkg(PackageSource):
    """Debian and Ubuntu: packages whose ``Status`` says they are installed."""

    name = "dpkg"
    patterns = ("var/lib/dpkg/status",)

    def extract(self, file: SourceFile) -> list[Package]:
        ecosystem = release_ecosystem(file, "Debian", _root(file, self.patterns[0]))
        found: list[Package] = []
        for line, record in _paragraphs(file.read_text()):
            status = record.get("Status", "").split()
            if len(status) != 3 or status[1:] != ["ok", "installed"]:
                continue
            name, version = record.get("Package"), record.get("Version")
            if not name or not version:
                file.skip("an installed package without Package or Version", str(line))
                continue
            found.append(file.package(ecosystem, name, version))
        return found


class Apk(PackageSource):
    """Alpine: the ``P:`` (name) and ``V:`` (version) lines of each installed package."""

    name = "apk"
    patterns = ("lib/apk/db/installed",)

    def extract(self, file: SourceFile) -> list[Package]:
        ecosystem = release_ecosystem(file, "Alpine", _root(file, self.patterns[0]))
        found: list[Package] = []
        for line, record in _paragraphs(file.read_text()):
            name, version = record.get("P"), record.get("V")
            if not name or not version:
                file.skip("a record without P: or V:", str(line))
                continue
            found.append(file.package(ecosystem, name, version))
        return found
