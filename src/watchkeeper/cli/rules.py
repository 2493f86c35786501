"""``watchkeeper rules``: check that rules load, run rules' own test cases."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.table import Table

from watchkeeper.cli.main import EXIT_FOUND
from watchkeeper.cli.render import print_failures

FORMAT = click.Choice(["table", "json"])


@click.group()
def rules() -> None:
    """Check Sigma rules and run their test cases."""


@rules.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "out_format", type=FORMAT, default="table", show_default=True)
@click.option("--mapping", "mappings", multiple=True, type=click.Path(path_type=Path),
              help="Logsource mapping file extending the built-in one (repeatable).")
@click.option("--placeholders", type=click.Path(path_type=Path, dir_okay=False),
              help="YAML file of %placeholder% values for the expand modifier.")
@click.option("--filters", multiple=True, type=click.Path(path_type=Path),
              help="Sigma filter files applied to the rules (repeatable).")
def check(
    paths: tuple[Path, ...],
    out_format: str,
    mappings: tuple[Path, ...],
    placeholders: Path | None,
    filters: tuple[Path, ...],
) -> None:
    """Load and compile every rule under PATHS; report each one that cannot run, and why.

    Exit status: 0 all rules load, 1 some failed, 2 usage error.
    """
    from watchkeeper.detection.check import check_rules
    from watchkeeper.detection.logsource import LogSourceMapping
    from watchkeeper.detection.rules import load_placeholders

    values = load_placeholders(placeholders) if placeholders else None
    mapping = LogSourceMapping.with_overrides(list(mappings))
    report = check_rules(paths, mapping, values, filters)
    if out_format == "json":
        sys.stdout.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        console = Console()
        total = len(report.loaded) + len(report.failed)
        console.print(
            f"[bold]{len(report.loaded)}[/bold] of {total} rules loaded, "
            f"[bold]{len(report.failed)}[/bold] failed, "
            f"{len(report.fallback)} use Python fallback tests",
            highlight=False,
        )
        if report.failed:
            print_failures(console, report.failed)
    if report.failed:
        sys.exit(EXIT_FOUND)


@rules.command(name="test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "out_format", type=FORMAT, default="table", show_default=True)
@click.option("--mapping", "mappings", multiple=True, type=click.Path(path_type=Path),
              help="Logsource mapping file extending the built-in one (repeatable).")
def test_rules(paths: tuple[Path, ...], out_format: str, mappings: tuple[Path, ...]) -> None:
    """Run the test cases beside rules (rule.tests.yml next to rule.yml).

    Exit status: 0 all cases pass, 1 a case failed, 2 usage error.
    """
    from watchkeeper.detection.logsource import LogSourceMapping
    from watchkeeper.detection.testing import run_rule_tests

    report = run_rule_tests(paths, LogSourceMapping.with_overrides(list(mappings)))
    if out_format == "json":
        sys.stdout.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        console = Console()
        table = Table(show_edge=False)
        table.add_column("result")
        table.add_column("test")
        table.add_column("file", overflow="fold")
        for result in report.results:
            if result.passed:
                verdict = "[green]pass[/green]"
            elif result.error:
                verdict = "[red]error[/red]"
            else:
                verdict = "[red]FAIL[/red]"
            detail = result.error or (
                f"expected {'match' if result.expected else 'no match'}"
                if not result.passed
                else ""
            )
            name = result.name + (f" — {detail}" if detail else "")
            table.add_row(verdict, name, result.tests_file)
        console.print(table)
        passed = sum(r.passed for r in report.results)
        console.print(
            f"{passed} passed, {len(report.failed)} failed"
            + (f" · {len(report.untested)} rules without tests" if report.untested else ""),
            highlight=False,
        )
    if report.failed:
        sys.exit(EXIT_FOUND)
