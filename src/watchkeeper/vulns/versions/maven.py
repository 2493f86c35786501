"""Maven: the ordering of ``ComparableVersion``.

A version splits at ``.``, at ``-`` (which opens a nested list) and where digits and
letters meet (which also opens one); a run of letters goes into a list of its own unless
it starts one (Maven 3.8's reading). Numbers compare numerically; qualifiers in the
order ``alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp``,
unknown qualifiers after those, alphabetically; ``a1``, ``b1``, ``m1`` mean alpha, beta,
milestone. Trailing "null" items (0, the release qualifiers) are dropped, so
``1.0 == 1 == 1-ga``. Between kinds, a number beats a list, which beats a qualifier.
"""

from __future__ import annotations

import functools
from typing import Any, Union

from watchkeeper.vulns.versions.base import Comparator

Item = Union[int, str, "list[Item]"]
_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}
_RELEASE = str(_QUALIFIERS.index(""))


def _qualifier(text: str, followed_by_digit: bool) -> str:
    if followed_by_digit and text in _SHORT:
        return _SHORT[text]
    return _ALIASES.get(text, text)


def _comparable(qualifier: str) -> str:
    if qualifier in _QUALIFIERS:
        return str(_QUALIFIERS.index(qualifier))
    return f"{len(_QUALIFIERS)}-{qualifier}"


def _is_null(item: Item) -> bool:
    return item == 0 or item == "" or item == []


def _normalize(items: list[Item]) -> None:
    for index in range(len(items) - 1, -1, -1):
        if _is_null(items[index]):
            del items[index]
        elif not isinstance(items[index], list):
            break


def _parse(version: str) -> list[Item]:
    text = version.lower()
    root: list[Item] = []
    current, stack = root, [root]
    start, digits = 0, False

    def token(end: int, followed_by_digit: bool = False) -> Item:
        part = text[start:end]
        return int(part) if digits else _qualifier(part, followed_by_digit)

    def open_list() -> list[Item]:
        nested: list[Item] = []
        current.append(nested)
        stack.append(nested)
        return nested

    for index, char in enumerate(text):
        if char in ".-":
            current.append(0 if index == start else token(index))
            start = index + 1
            if char == "-":
                current = open_list()
        elif char.isdigit():
            if not digits and index > start:
                if current:
                    current = open_list()
                current.append(token(index, followed_by_digit=True))
                start = index
                current = open_list()
            digits = True
            continue
        else:
            if digits and index > start:
                current.append(token(index))
                start = index
                current = open_list()
            digits = False
            continue
        digits = False
    if len(text) > start:
        if not digits and current:
            current = open_list()
        current.append(token(len(text)))
    for items in reversed(stack):
        _normalize(items)
    return root


def _compare(left: Item | None, right: Item | None) -> int:
    if left is None:
        return 0 if right is None else -_compare(right, None)
    if isinstance(left, int):
        if right is None or isinstance(right, int):
            other = right or 0
            return (left > other) - (left < other)
        return 1
    if isinstance(left, str):
        if right is None or isinstance(right, str):
            a, b = _comparable(left), _RELEASE if right is None else _comparable(right)
            return (a > b) - (a < b)
        return -1
    if right is None:
        return next((r for r in (_compare(item, None) for item in left) if r), 0)
    if isinstance(right, int):
        return -1
    if isinstance(right, str):
        return 1
    for index in range(max(len(left), len(right))):
        mine = left[index] if index < len(left) else None
        theirs = right[index] if index < len(right) else None
        result = _compare(mine, theirs)
        if result:
            return result
    return 0


_KEY = functools.cmp_to_key(_compare)


class Maven(Comparator):
    name = "Maven"

    def key(self, version: str) -> Any:
        if not version.strip():
            raise self.invalid(version, "empty")
        return _KEY(_parse(version.strip()))
