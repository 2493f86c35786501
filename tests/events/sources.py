"""Sample logs read by the real parsers, then normalized: the inputs of the normalization tests."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from tests.parsers.golden import DATA
from watchkeeper.events.normalize import Normalizer
from watchkeeper.parsers.base import Parser, ParserRegistry
from watchkeeper.parsers.builtin import builtin_parsers

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "logs"


@cache
def normalizer() -> Normalizer:
    """One normalizer for every test (building it reads and checks the mapping)."""
    return Normalizer()


def parser(name: str) -> Parser:
    registry = ParserRegistry()
    for parser_class in builtin_parsers():
        registry.register(parser_class)
    return registry.get(name)()


def parse(path: Path, format_name: str) -> pl.DataFrame:
    """Every event of ``path`` as one frame, read by the ``format_name`` parser."""
    with path.open("rb") as stream:
        frames = [chunk.frame for chunk in parser(format_name).parse(stream, path.name, 1000)]
    return pl.concat(frames, how="diagonal")


def parse_text(text: str, format_name: str, source: str = "inline") -> pl.DataFrame:
    """The events of ``text``, read by the ``format_name`` parser."""
    chunks = parser(format_name).parse(io.BytesIO(text.encode()), source, 1000)
    return pl.concat([chunk.frame for chunk in chunks], how="diagonal")


def normalized(path: Path, format_name: str) -> list[dict[str, Any]]:
    """The events of ``path`` after normalization, as dicts without nulls."""
    frame = normalizer().apply(parse(path, format_name))
    return [{k: v for k, v in row.items() if v is not None} for row in frame.iter_rows(named=True)]


def sample(folder: str, name: str) -> Path:
    """An input of the parser tests, ``tests/data/<folder>/<name>``."""
    return DATA / folder / name
