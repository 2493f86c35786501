"""Reading logs: from paths to batches of events, whatever the format or the archive.

    for chunk in read_paths(["logs/"], keep_original=False):
        chunk.frame      # a batch (see watchkeeper.events.model)
        chunk.skipped    # what could not be read, and why

Each file (or archive member) is read by the parser named by ``format`` or, when
none is given, by the one most sure of the file's first 64 KiB. A file that no
parser claims, an unreadable file or a corrupt archive becomes a Skip and the run
goes on; a path that does not exist at all is a UsageError, raised at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator

import polars as pl

from watchkeeper.errors import UsageError
from watchkeeper.events.model import ORIGINAL, RESERVED, Skip
from watchkeeper.parsers.base import DEFAULT_BATCH_SIZE, ParsedChunk, Parser, ParserRegistry
from watchkeeper.parsers.builtin import builtin_parsers
from watchkeeper.parsers.sources import READ_ERRORS, InputFile, iter_inputs

SNIFF_SIZE = 64 * 1024

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "InputFile",
    "ParsedChunk",
    "Parser",
    "ParserRegistry",
    "Skip",
    "default_registry",
    "iter_inputs",
    "read_paths",
]


def default_registry() -> ParserRegistry:
    """The built-in parsers, then those of installed plugins (entry points)."""
    registry = ParserRegistry()
    for parser in builtin_parsers():
        registry.register(parser)
    registry.load_entry_points()
    return registry


def empty_frame() -> pl.DataFrame:
    """A batch with no event: the reserved columns only."""
    return pl.DataFrame(schema={name: dtype for name, dtype in RESERVED.items()
                                if name != ORIGINAL})


def read_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    registry: ParserRegistry | None = None,
    format: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    keep_original: bool = False,
    on_input: Callable[[InputFile], None] | None = None,
) -> Iterator[ParsedChunk]:
    """Parse every log under ``paths``: batches of at most ``batch_size`` events.

    Raises UsageError at once for a path that does not exist, an unknown ``format``
    or a batch size below 1; nothing else: what cannot be read is reported in ``skipped``.
    ``on_input`` is called with each input as its reading starts (progress bars).
    """
    if batch_size < 1:
        raise UsageError(f"the batch size must be at least 1, not {batch_size}")
    registry = registry if registry is not None else default_registry()
    chosen = registry.get(format) if format else None
    inputs = iter_inputs(paths)
    return _read(inputs, registry, chosen, batch_size, keep_original, on_input)


def _read(
    inputs: Iterator[InputFile],
    registry: ParserRegistry,
    chosen: type[Parser] | None,
    batch_size: int,
    keep_original: bool,
    on_input: Callable[[InputFile], None] | None,
) -> Iterator[ParsedChunk]:
    for item in inputs:
        if on_input is not None:
            on_input(item)
        if item.error is not None:
            yield ParsedChunk(empty_frame(), [Skip(item.name, "file", item.error)])
            continue
        try:
            parser = chosen or _detect(item, registry)
            if isinstance(parser, str):
                yield ParsedChunk(empty_frame(), [Skip(item.name, "file", parser)])
                continue
            with item.open() as stream:
                yield from parser(keep_original=keep_original).parse(stream, item.name, batch_size)
        except READ_ERRORS as exc:
            reason = f"cannot read: {exc}"
            yield ParsedChunk(empty_frame(), [Skip(item.name, "file", reason)])


def _detect(item: InputFile, registry: ParserRegistry) -> type[Parser] | str:
    """The parser for ``item``, or why there is none."""
    head = b""
    cut: EOFError | None = None
    try:
        with item.open() as stream:
            head = stream.read(SNIFF_SIZE)
    except EOFError as exc:  # a cut gzip stream: the parser reports it after reading it
        cut = exc
    parser = registry.detect(head, item.sniff_name) if head else None
    if parser is not None:
        return parser
    if cut is not None:
        return f"cannot read: {cut}"
    if not head:
        return "empty file"
    return "unknown log format (no parser recognises it; name one with --format)"
