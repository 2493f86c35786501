"""Debian and Ubuntu: dpkg's ordering of ``[epoch:]upstream[-revision]``.

The epoch is compared as a number first. Upstream and revision are compared by
alternating runs: non-digit runs character by character, where ``~`` sorts before
everything (even the end of the string), then the end, then letters, then every other
character; digit runs as numbers. So ``1.0~rc1 < 1.0 < 1.0+b1`` and ``1:0.9 > 2.0``.
"""

from __future__ import annotations

import re

from watchkeeper.vulns.versions.base import Comparator

_UPSTREAM = re.compile(r"[0-9A-Za-z.+~:-]+")
_REVISION = re.compile(r"[0-9A-Za-z.+~]+")
_RUN = re.compile(r"(\D*)(\d*)")

Part = tuple[tuple[int, ...], int]
# Every run after the first starts with a non-digit, so the terminator (an empty run, 0)
# differs from it at its first character: with the first run always present, tuple order
# equals dpkg's comparison, where the shorter string goes on with nothing.
_END_PART: Part = ((0,), 0)


def _order(char: str) -> int:
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _runs(text: str) -> tuple[Part, ...]:
    parts: list[Part] = []
    for letters, digits in _RUN.findall(text):
        if not letters and not digits:
            continue
        parts.append(((*(_order(c) for c in letters), 0), int(digits or 0)))
    if not parts:
        parts.append(_END_PART)
    parts.append(_END_PART)
    return tuple(parts)


class Dpkg(Comparator):
    def __init__(self, name: str = "Debian") -> None:
        self.name = name

    def key(self, version: str) -> tuple[int, tuple[Part, ...], tuple[Part, ...]]:
        text = version.strip()
        epoch = 0
        if ":" in text:
            head, text = text.split(":", 1)
            if not head.isdigit():
                raise self.invalid(version, "epoch is not a number")
            epoch = int(head)
        upstream, revision = text, ""
        if "-" in text:
            upstream, revision = text.rsplit("-", 1)
            if _REVISION.fullmatch(revision) is None:
                raise self.invalid(version, "bad revision")
        if _UPSTREAM.fullmatch(upstream) is None or not upstream[0].isdigit():
            raise self.invalid(version, "upstream version must start with a digit")
        return epoch, _runs(upstream), _runs(revision)
