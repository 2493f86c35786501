"""The language reference stays true: its examples parse, its pipes are all described."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from watchkeeper.search import parse
from watchkeeper.search.pipes import COMMANDS

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "search.md"


def examples() -> list[str]:
    """Every line of the ``text`` code blocks before the section on errors."""
    body = REFERENCE.read_text(encoding="utf-8").split("## Errors", 1)[0]
    blocks = re.findall(r"```text\n(.*?)```", body, flags=re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_there_are_examples() -> None:
    assert len(examples()) >= 15


@pytest.mark.parametrize("query", examples())
def test_every_example_parses(query: str) -> None:
    parsed = parse(query)
    assert parsed.filter is not None or parsed.pipes


@pytest.mark.parametrize("command", COMMANDS)
def test_every_pipe_is_documented(command: str) -> None:
    assert f"### `{command}" in REFERENCE.read_text(encoding="utf-8")
