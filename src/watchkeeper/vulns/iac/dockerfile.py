"""Dockerfiles read into instructions with the line each starts on, grouped in stages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from watchkeeper.errors import InputError

KEYWORDS = frozenset({
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
    "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
    "WORKDIR",
})
_HEREDOC = re.compile(r"<<-?[\"']?([A-Za-z_][A-Za-z0-9_]*)[\"']?")
_ESCAPE = re.compile(r"^#\s*escape\s*=\s*(\S)", re.IGNORECASE)


@dataclass(frozen=True)
class Instruction:
    keyword: str
    """Upper-cased: ``FROM``, ``RUN``, …"""
    value: str
    """The arguments, continuation lines joined with a space."""
    line: int


@dataclass
class Stage:
    """From one ``FROM`` to the next."""

    image: str
    alias: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class Dockerfile:
    path: str
    instructions: list[Instruction]

    @property
    def kind(self) -> str:
        return "Dockerfile"

    @property
    def address(self) -> str:
        return self.path

    @property
    def stages(self) -> list[Stage]:
        stages: list[Stage] = []
        for instruction in self.instructions:
            if instruction.keyword == "FROM":
                words = [w for w in instruction.value.split() if not w.startswith("--")]
                image = words[0] if words else ""
                alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
                stages.append(Stage(image, alias, instruction.line))
            elif stages:
                stages[-1].instructions.append(instruction)
        return stages


def parse_dockerfile(text: str, *, path: str) -> Dockerfile:
    """Raises ``InputError`` for an unknown instruction or a file without ``FROM``."""
    lines = text.splitlines()
    escape = "\\"
    for line in lines:
        match = _ESCAPE.match(line)
        if match:
            escape = match.group(1)
        if not line.startswith("#"):
            break
    instructions: list[Instruction] = []
    index = 0
    while index < len(lines):
        start = index
        raw = lines[index].strip()
        index += 1
        if not raw or raw.startswith("#"):
            continue
        continued = raw.endswith(escape)
        parts = [raw[:-1].rstrip() if continued else raw]
        while continued and index < len(lines):
            following = lines[index].strip()
            index += 1
            if not following or following.startswith("#"):
                continue  # comments and blank lines do not end a continued instruction
            continued = following.endswith(escape)
            parts.append(following[:-1].rstrip() if continued else following)
        joined = " ".join(p for p in parts if p)
        for marker in _HEREDOC.findall(joined):
            while index < len(lines) and lines[index].strip() != marker:
                joined += "\n" + lines[index]
                index += 1
            index += 1
        keyword, _, value = joined.partition(" ")
        keyword = keyword.upper()
        if keyword not in KEYWORDS:
            raise InputError(f"unknown Dockerfile instruction {keyword}",
                             location=f"{path}:{start + 1}")
        instructions.append(Instruction(keyword, value.strip(), start + 1))
    if not any(i.keyword == "FROM" for i in instructions):
        raise InputError("no FROM instruction", location=path)
    return Dockerfile(path, instructions)


def is_dockerfile(name: str) -> bool:
    lower = name.lower()
    return (lower in ("dockerfile", "containerfile") or lower.startswith("dockerfile.")
            or lower.endswith(".dockerfile") or lower.startswith("containerfile."))
