"""Hunt output: ``table`` for people, ``jsonl`` and ``csv`` for tools."""

from __future__ import annotations

import csv
from typing import Protocol, TextIO

import orjson
from rich.console import Console
from rich.markup import escape

from watchkeeper.errors import UsageError
from watchkeeper.hunt.service import HuntMatch

LEVEL_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "informational": "dim",
}
HOST_FIELDS = ("Computer", "hostname", "host.name", "host.hostname", "recipientAccountId")


class MatchWriter(Protocol):
    def write(self, match: HuntMatch) -> None: ...

    def close(self) -> None: ...


class JsonlWriter:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, match: HuntMatch) -> None:
        line = orjson.dumps(match.to_dict(), option=orjson.OPT_NON_STR_KEYS, default=str)
        self.stream.write(line.decode() + "\n")

    def close(self) -> None:
        self.stream.flush()


CSV_COLUMNS = (
    "timestamp", "level", "rule_title", "rule_id", "tags", "host", "source", "record_id",
    "line", "event",
)


class CsvWriter:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.writer = csv.writer(stream)
        self.writer.writerow(CSV_COLUMNS)

    def write(self, match: HuntMatch) -> None:
        data = match.to_dict()
        self.writer.writerow(
            [
                data["timestamp"] or "",
                data["level"],
                data["rule_title"],
                data["rule_id"],
                ";".join(data["tags"]),
                host_of(match),
                data["source"],
                data["record_id"] or "",
                data["line"] if data["line"] is not None else "",
                orjson.dumps(data["event"], default=str).decode(),
            ]
        )

    def close(self) -> None:
        self.stream.flush()


class TableWriter:
    """Streams aligned rows (a hunt can find millions of matches: nothing is held back)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.header = False

    def write(self, match: HuntMatch) -> None:
        if not self.header:
            self.console.print(
                f"[bold]{'timestamp':<24} {'level':<13} {'host':<20} rule[/bold]", highlight=False
            )
            self.header = True
        stamp = match.timestamp
        timestamp = stamp.strftime("%Y-%m-%d %H:%M:%S.%f")[:23] if stamp else "-"
        level = match.rule.level
        style = LEVEL_STYLE.get(level, "")
        where = match.source + (f":{match.line}" if match.line else "")
        self.console.print(
            f"{timestamp:<24} [{style}]{level:<13}[/] {escape(host_of(match)[:20]):<20} "
            f"{escape(match.rule.title)} [dim]({escape(where)})[/dim]",
            highlight=False,
            soft_wrap=True,
        )

    def close(self) -> None:
        if not self.header:
            self.console.print("no matches", style="dim")


def host_of(match: HuntMatch) -> str:
    return next((str(match.event[f]) for f in HOST_FIELDS if f in match.event), "")


def make_writer(kind: str, stream: TextIO, console: Console) -> MatchWriter:
    if kind == "jsonl":
        return JsonlWriter(stream)
    if kind == "csv":
        return CsvWriter(stream)
    if kind == "table":
        return TableWriter(console)
    raise UsageError(f"unknown output format {kind!r} (table, jsonl, csv)")
