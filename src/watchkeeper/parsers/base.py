"""The parser abstraction: one class per log format, registered by name.

A parser turns a byte stream into batches (Polars frames, see
:mod:`watchkeeper.events.model`) and a list of what it had to skip. Parsers are
pure: no I/O beyond the stream they are handed, no network, no database.

Third parties add formats through the ``watchkeeper.parsers`` entry point group;
each entry point names a :class:`Parser` subclass.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import BinaryIO, ClassVar

import polars as pl

from watchkeeper.errors import UsageError
from watchkeeper.events.model import Skip

DEFAULT_BATCH_SIZE = 50_000


@dataclass(slots=True)
class ParsedChunk:
    """Up to ``batch_size`` events read from one source, and what was skipped on the way."""

    frame: pl.DataFrame
    skipped: list[Skip] = field(default_factory=list)


class ParseMemory:
    """What parsers learn from one batch that makes the next cheaper (a format's schema),
    kept by whoever reads many batches (the pipeline) and handed to each parser it makes.
    Never needed for a correct result: a parser with an empty memory reads the same events.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], object] = {}

    def get(self, parser: str, key: str) -> object | None:
        return self._entries.get((parser, key))

    def put(self, parser: str, key: str, value: object) -> None:
        self._entries[(parser, key)] = value


class Parser(ABC):
    """Reads one log format. Subclasses set ``name`` and implement ``sniff`` and ``parse``."""

    name: ClassVar[str]
    """The registry name, used by ``--format`` and in configuration (``type:``)."""
    description: ClassVar[str] = ""

    def __init__(self, *, keep_original: bool = False, memory: ParseMemory | None = None) -> None:
        self.keep_original = keep_original
        """Fill ``event.original`` with the raw record (costs memory; off unless asked)."""
        self.memory = memory if memory is not None else ParseMemory()
        """What this parser may remember from earlier batches of its format."""

    @classmethod
    @abstractmethod
    def sniff(cls, head: bytes, filename: str) -> int:
        """How sure this parser is (0 = not mine, 100 = certainly mine) from the first bytes.

        ``head`` holds up to the first 64 KiB of the (decompressed) stream.
        """

    @classmethod
    def joinable(cls, payload: bytes) -> bool:
        """Whether ``payload`` holds whole records, one per line, such that payloads read
        one after another as one stream give the same events at the same offsets as
        each read alone. The pipeline then reads many small payloads (HTTP bodies) in
        one call. No, unless a format says so.
        """
        return False

    @abstractmethod
    def parse(
        self, stream: BinaryIO, source: str, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[ParsedChunk]:
        """Yield batches of at most ``batch_size`` events read from ``stream``.

        A record that cannot be read is reported in ``ParsedChunk.skipped`` and the
        parser goes on with the next one; it never raises for bad input.
        """


class ParserRegistry:
    """Maps parser names to parser classes: the built-ins, then entry points."""

    def __init__(self) -> None:
        self._parsers: dict[str, type[Parser]] = {}

    def register(self, parser: type[Parser]) -> type[Parser]:
        if parser.name in self._parsers and self._parsers[parser.name] is not parser:
            raise UsageError(f"two parsers are registered as {parser.name!r}")
        self._parsers[parser.name] = parser
        return parser

    def names(self) -> list[str]:
        return sorted(self._parsers)

    def get(self, name: str) -> type[Parser]:
        try:
            return self._parsers[name]
        except KeyError:
            known = ", ".join(self.names())
            raise UsageError(f"unknown log format {name!r} (known: {known})") from None

    def detect(self, head: bytes, filename: str) -> type[Parser] | None:
        """The parser most sure of ``head``, or None when none claims it."""
        best: tuple[int, str] = (0, "")
        for name, parser in self._parsers.items():
            score = parser.sniff(head, filename)
            if score > best[0]:
                best = (score, name)
        return self._parsers[best[1]] if best[0] > 0 else None

    def load_entry_points(self) -> None:
        for entry in entry_points(group="watchkeeper.parsers"):
            self.register(entry.load())
