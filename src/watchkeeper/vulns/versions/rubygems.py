"""RubyGems: ``Gem::Version`` ordering.

A version is split into segments (runs of digits become numbers, runs of letters stay
strings; a ``-`` reads as ``.pre.``). Trailing zeros of the release part and of the
pre-release part are dropped, a missing segment counts as 0, and a string segment sorts
before any number: ``1.0.a < 1.0 == 1 == 1.0.0 < 1.0.1``.
"""

from __future__ import annotations

import re

from watchkeeper.vulns.versions.base import Comparator

_VALID = re.compile(r"\s*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?\s*")
_SEGMENT = re.compile(r"[0-9]+|[a-zA-Z]+")

Segment = tuple[int, int | str, int]
# A zero segment's third field says what follows it (0: a string, 2: a positive number),
# and the terminator (1, 0, 1) stands for the endless zeros after the last segment; with
# that, plain tuple order equals Gem::Version's padded comparison.
_END: Segment = (1, 0, 1)


class RubyGems(Comparator):
    name = "RubyGems"

    def key(self, version: str) -> tuple[Segment, ...]:
        if _VALID.fullmatch(version) is None:
            raise self.invalid(version, "not a Gem::Version")
        text = version.strip().replace("-", ".pre.") or "0"
        segments: list[int | str] = [
            int(part) if part.isdigit() else part for part in _SEGMENT.findall(text)
        ]
        first_string = next(
            (i for i, s in enumerate(segments) if isinstance(s, str)), len(segments)
        )
        canonical = _drop_zeros(segments[:first_string]) + _drop_zeros(segments[first_string:])
        key: list[Segment] = []
        for i, segment in enumerate(canonical):
            if isinstance(segment, str):
                key.append((0, segment, 0))
            elif segment:
                key.append((1, segment, 0))
            else:
                following = next(s for s in canonical[i + 1 :] if s != 0)
                key.append((1, 0, 0 if isinstance(following, str) else 2))
        key.append(_END)
        return tuple(key)


def _drop_zeros(segments: list[int | str]) -> list[int | str]:
    end = len(segments)
    while end and segments[end - 1] == 0:
        end -= 1
    return segments[:end]
