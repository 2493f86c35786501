"""Go modules: ``go.mod`` (its ``require`` and ``replace`` directives) and ``go.sum``.

``go.mod`` lists every module of the build since Go 1.17, so ``go.sum`` (which also
lists modules only consulted, never built) is read only where no ``go.mod`` is beside it.
OSV's Go versions carry no ``v``: ``v1.2.3`` is reported as ``1.2.3``.
"""

from __future__ import annotations

import re

from watchkeeper.vulns.model import Package
from watchkeeper.vulns.packages.base import PackageSource, SourceFile
from watchkeeper.vulns.packages.purl import go_version

GO = "Go"
_COMMENT = re.compile(r"//.*$")


def _directives(text: str) -> list[tuple[int, str, str, str]]:
    """(line, verb, arguments, comment) of each directive, blocks ``( … )`` unrolled."""
    found: list[tuple[int, str, str, str]] = []
    block: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        comment = _COMMENT.search(raw)
        line = _COMMENT.sub("", raw).strip()
        note = comment[0][2:].strip() if comment else ""
        if block is not None:
            if line == ")":
                block = None
            elif line:
                found.append((number, block, line, note))
            continue
        verb, _, rest = line.partition(" ")
        rest = rest.strip()
        if rest == "(":
            block = verb
        elif line:
            found.append((number, verb, rest, note))
    return found


class GoMod(PackageSource):
    """The ``require`` directives of ``go.mod``; ``// indirect`` ones are not direct."""

    name = "go.mod"
    patterns = ("go.mod",)

    def extract(self, file: SourceFile) -> list[Package]:
        directives = _directives(file.read_text())
        replaced: dict[str, tuple[str, str] | None] = {}
        for number, verb, rest, _ in directives:
            if verb != "replace":
                continue
            old, arrow, new = rest.partition("=>")
            target = new.split()
            if not arrow or not target:
                file.skip(f"an unreadable replace: {rest}", str(number))
                continue
            replaced[old.split()[0]] = (target[0], target[1]) if len(target) == 2 else None
        found: list[Package] = []
        for number, verb, rest, note in directives:
            words = rest.split()
            if verb != "require":
                continue
            if len(words) != 2:
                file.skip(f"an unreadable require: {rest}", str(number))
                continue
            module, version = words
            if module in replaced:
                replacement = replaced[module]
                if replacement is None:
                    file.skip(f"replaced by a local folder: {module}", str(number))
                    continue
                module, version = replacement
            direct = not re.match(r"indirect\b", note)
            found.append(file.package(GO, module, go_version(version), direct=direct))
        return found


class GoSum(PackageSource):
    """``go.sum`` without a ``go.mod`` beside it: the modules whose code was hashed."""

    name = "go.sum"
    patterns = ("go.sum",)

    def extract(self, file: SourceFile) -> list[Package]:
        if file.tree.exists(file.sibling("go.mod")):
            return []
        found: list[Package] = []
        for number, line in enumerate(file.read_text().splitlines(), 1):
            words = line.split()
            if not words:
                continue
            if len(words) != 3:
                file.skip("not a go.sum line", str(number))
            elif not words[1].endswith("/go.mod"):
                found.append(file.package(GO, words[0], go_version(words[1])))
        return found
