"""``watchkeeper hunt``: Sigma rules over log files, folders and archives."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from watchkeeper.cli.main import EXIT_FOUND
from watchkeeper.cli.render import print_hunt_summary

if TYPE_CHECKING:
    from watchkeeper.parsers.sources import InputFile

LEVEL_CHOICES = click.Choice(["informational", "low", "medium", "high", "critical"])


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--rules", "-r", "rules", multiple=True, required=True, type=click.Path(path_type=Path),
    help="Sigma rule file, folder or zip archive (repeatable).",
)
@click.option("--filters", multiple=True, type=click.Path(path_type=Path),
              help="Sigma filter (meta-filter) file or folder applied to the rules (repeatable).")
@click.option("--min-level", type=LEVEL_CHOICES, help="Only rules of this level or higher.")
@click.option("--status", "statuses", multiple=True,
              help="Only rules of this status: stable, test, experimental… (repeatable).")
@click.option("--tags", "tags", multiple=True,
              help="Only rules with this tag or a sub-tag, e.g. attack.t1059 or execution.")
@click.option("--from", "time_from", help="Only events at or after this ISO 8601 time (UTC).")
@click.option("--to", "time_to", help="Only events at or before this ISO 8601 time (UTC).")
@click.option("--format", "out_format", type=click.Choice(["table", "jsonl", "csv"]),
              default="table", show_default=True, help="How to print matches.")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Write matches to this file instead of standard output.")
@click.option("--log-format", help="Read every input as this format instead of detecting it.")
@click.option("--mapping", "mappings", multiple=True, type=click.Path(path_type=Path),
              help="Logsource mapping file extending the built-in one (repeatable).")
@click.option("--placeholders", type=click.Path(path_type=Path, dir_okay=False),
              help="YAML file of %placeholder% values for the expand modifier.")
@click.option("--exclusions", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="YAML file of known-good activity to take out of rules (repeatable).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Threads for reading and evaluation (default: one per core).")
@click.option("--batch-size", type=click.IntRange(100, 10_000_000), default=50_000,
              show_default=True, help="Events per batch: memory is bounded by it.")
@click.option("--summary-json", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write the end-of-run summary as JSON to this file.")
@click.option("--no-summary", is_flag=True, help="Do not print the summary.")
@click.option("--no-rule-cache", is_flag=True,
              help="Parse every rule again instead of reading the rule-set cache.")
def hunt(
    paths: tuple[Path, ...],
    rules: tuple[Path, ...],
    filters: tuple[Path, ...],
    min_level: str | None,
    statuses: tuple[str, ...],
    tags: tuple[str, ...],
    time_from: str | None,
    time_to: str | None,
    out_format: str,
    output: Path | None,
    log_format: str | None,
    mappings: tuple[Path, ...],
    placeholders: Path | None,
    exclusions: tuple[Path, ...],
    workers: int | None,
    batch_size: int,
    summary_json: Path | None,
    no_summary: bool,
    no_rule_cache: bool,
) -> None:
    """Run Sigma rules over log files, folders and archives (EVTX, XML, JSON, syslog…).

    Exit status: 0 no match, 1 matches found, 2 usage or input error.
    """
    threads = workers or os.cpu_count() or 1
    # Polars sizes its thread pool when first imported: set it before that.
    os.environ.setdefault("POLARS_MAX_THREADS", str(threads))
    import orjson

    from watchkeeper.hunt import Hunt, HuntOptions
    from watchkeeper.hunt.options import parse_time
    from watchkeeper.hunt.output import make_writer

    options = HuntOptions(
        paths=paths,
        rules=rules,
        filters=filters,
        mappings=mappings,
        placeholders=placeholders,
        exclusions=exclusions,
        min_level=min_level,
        statuses=statuses,
        tags=tags,
        time_from=parse_time(time_from, "--from") if time_from else None,
        time_to=parse_time(time_to, "--to") if time_to else None,
        log_format=log_format,
        batch_size=batch_size,
        workers=threads,
        rule_cache=None if no_rule_cache else default_cache_dir(),
    )
    errors = Console(stderr=True)
    job = Hunt(options)
    stream: TextIO = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        writer = make_writer(out_format, stream, Console(file=stream, soft_wrap=True))
        with _Progress(errors, paths) as progress:
            for match in job.run(on_input=progress.on_input, on_batch=progress.on_batch):
                writer.write(match)
                progress.matched()
        writer.close()
    finally:
        if output:
            stream.close()
    if summary_json:
        summary_json.write_bytes(orjson.dumps(job.summary.to_dict(), option=orjson.OPT_INDENT_2))
    if not no_summary:
        print_hunt_summary(errors, job.summary)
    if job.summary.matches:
        sys.exit(EXIT_FOUND)


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/watchkeeper/rules``, or ``~/.cache/watchkeeper/rules``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "watchkeeper" / "rules"


class _Progress:
    """A progress bar on stderr, only when it is a terminal: bytes of the inputs done,
    files, events and matches so far."""

    def __init__(self, console: Console, paths: tuple[Path, ...]) -> None:
        self.live = console.is_terminal
        self.matches = 0
        self.events = 0
        self.pending = 0
        self.bar = Progress(
            TextColumn("[bold]hunting"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not self.live,
        )
        total = sum(_disk_size(path) for path in paths) if self.live else 0
        self.task = self.bar.add_task("hunt", total=total or None, detail="")

    def __enter__(self) -> _Progress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.advance(self.task, self.pending)
        self.bar.__exit__(None, None, None)

    def on_input(self, item: InputFile) -> None:
        self.bar.advance(self.task, self.pending)
        self.pending = item.size
        self._update()

    def on_batch(self, events: int) -> None:
        self.events += events
        self._update()

    def matched(self) -> None:
        self.matches += 1
        if self.matches % 100 == 0:
            self._update()

    def _update(self) -> None:
        detail = f"{self.events:,} events · {self.matches:,} matches"
        self.bar.update(self.task, detail=detail)


def _disk_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
