"""Alpine: apk-tools' ordering of ``{digits}{.digits}…{letter}{_suffix{#}}…{-r#}``.

Versions are read as a sequence of typed tokens; at the first token where two versions
differ, a differing value decides, and a differing token type means one version goes
on where the other stops: the longer one is newer, unless it goes on with a pre-release
suffix (``_alpha``, ``_beta``, ``_pre``, ``_rc``). Post-release suffixes (``_cvs``,
``_svn``, ``_git``, ``_hg``, ``_p``) and ``-rN`` make a version newer. A component after
a dot that has leading zeros compares as a fraction: ``1.01 < 1.1``.
"""

from __future__ import annotations

from watchkeeper.vulns.versions.base import Comparator

# Token types in apk-tools' order; at a divergence a lower type means a newer version.
_DIGIT_OR_ZERO, _DIGIT, _LETTER, _SUFFIX, _SUFFIX_NO, _REVISION, _END = range(7)
_PRE = ("alpha", "beta", "pre", "rc")
_POST = ("cvs", "svn", "git", "hg", "p")
_PRE_RANK = -1

Token = tuple[int, int]


class Apk(Comparator):
    name = "Alpine"

    def key(self, version: str) -> tuple[Token, ...]:
        if not version[:1].isdigit():
            raise self.invalid(version, "must start with a digit")
        tokens: list[Token] = []
        kind, rest = _DIGIT, version
        while kind != _END:
            value, kind_read, kind, rest = self._token(version, kind, rest)
            rank = _PRE_RANK if kind_read == _SUFFIX and value < 0 else 6 - kind_read
            tokens.append((rank, value))
        tokens.append((0, 0))
        return tuple(tokens)

    def _token(self, version: str, kind: int, rest: str) -> tuple[int, int, int, str]:
        """Read one token of type ``kind``: its value, its type, the next type, the rest."""
        value, length, forced = 0, 0, -1
        if kind == _DIGIT_OR_ZERO and rest[:1] == "0":
            length = len(rest) - len(rest.lstrip("0"))
            value, forced = -length, _DIGIT
        elif kind in (_DIGIT_OR_ZERO, _DIGIT, _SUFFIX_NO, _REVISION):
            while length < len(rest) and rest[length].isdigit():
                length += 1
            value = int(rest[:length] or 0)
        elif kind == _LETTER:
            value, length = ord(rest[0]), 1
        elif kind == _SUFFIX:
            value, length = self._suffix(version, rest)
        rest = rest[length:]
        if not rest:
            return value, kind, _END, rest
        if forced >= 0:
            return value, kind, forced, rest
        following, rest = self._next_type(version, kind, rest)
        return value, kind, following, rest

    def _suffix(self, version: str, rest: str) -> tuple[int, int]:
        for index, suffix in enumerate(_PRE):
            if rest.startswith(suffix):
                return index - len(_PRE), len(suffix)
        for index, suffix in enumerate(_POST):
            if rest.startswith(suffix):
                return index, len(suffix)
        raise self.invalid(version, "unknown suffix")

    def _next_type(self, version: str, kind: int, rest: str) -> tuple[int, str]:
        char = rest[0]
        if kind in (_DIGIT, _DIGIT_OR_ZERO) and char.islower() and char.isascii():
            following = _LETTER
        elif kind == _LETTER and char.isdigit():
            following = _DIGIT
        elif kind == _SUFFIX and char.isdigit():
            following = _SUFFIX_NO
        else:
            if char == ".":
                following = _DIGIT_OR_ZERO
            elif char == "_":
                following = _SUFFIX
            elif char == "-" and rest[1:2] == "r":
                following, rest = _REVISION, rest[1:]
            else:
                raise self.invalid(version, f"unexpected {char!r}")
            rest = rest[1:]
        allowed = {
            (_DIGIT_OR_ZERO, _DIGIT),
            (_SUFFIX, _SUFFIX_NO),
            (_DIGIT, _LETTER),
        }
        if following < kind and (following, kind) not in allowed:
            raise self.invalid(version, "components out of order")
        return following, rest
