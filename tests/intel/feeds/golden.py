"""Golden files for feed parsers: ``<input>.expected.json`` beside each input under
``tests/data/intel`` holds the exact result. After a deliberate change, rewrite them all
with ``python -m tests.intel.feeds.golden`` (from the repository root, ``src`` on the
path) and review the diff."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path
from typing import Any

from watchkeeper.intel.feeds import TextMapping, parse_misp_event, parse_stix, parse_text
from watchkeeper.intel.model import FeedResult

DATA = Path(__file__).resolve().parents[2] / "data" / "intel"


def as_data(result: FeedResult) -> dict[str, Any]:
    """The result as plain JSON data."""
    data = {
        "indicators": [dataclasses.asdict(indicator) for indicator in result.indicators],
        "problems": [[problem.where, problem.reason] for problem in result.problems],
        "withdrawn": [[str(kind), value] for kind, value in result.withdrawn],
        "cursor": result.cursor,
    }
    loaded: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return loaded


def mapping(path: Path) -> TextMapping:
    """The mapping of a list: ``<name>.toml`` beside it."""
    return TextMapping.from_dict(tomllib.loads(path.with_suffix(".toml").read_text()))


def parse(relative: str) -> FeedResult:
    """Parse ``tests/data/intel/<relative>`` with the parser its folder is for."""
    path = DATA / relative
    data = path.read_bytes()
    folder = path.parent.name
    if folder == "stix":
        return parse_stix(data, path.name)
    if folder == "misp":
        return parse_misp_event(data, path.name)
    return parse_text(data, path.name, mapping(path))


def inputs() -> list[str]:
    """Every input that has a golden file."""
    return sorted(str(path.relative_to(DATA)).removesuffix(".expected.json")
                  for path in DATA.rglob("*.expected.json"))


def expected(relative: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / f"{relative}.expected.json").read_text())
    return loaded


def write(relative: str) -> None:
    text = json.dumps(as_data(parse(relative)), indent=2, ensure_ascii=False)
    (DATA / f"{relative}.expected.json").write_text(text + "\n")


GOLDEN = ["stix/bundle.json", "misp/5f0c2a7e-1b3d-4c8e-9f10-2a3b4c5d6e01.json",
          "misp/5f0c2a7e-1b3d-4c8e-9f10-2a3b4c5d6e02.json", "lists/plain.txt",
          "lists/blocklist.csv", "lists/columns.csv"]
"""The inputs with golden files; a new one is added here, then written."""

if __name__ == "__main__":
    for name in GOLDEN:
        write(name)
