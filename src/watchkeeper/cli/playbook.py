"""``watchkeeper playbook``: validate playbook files, list them, run their tests, show the
actions they can use and the JSON Schema they follow (docs/playbooks.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from watchkeeper.cli.main import EXIT_ERROR, EXIT_FOUND

if TYPE_CHECKING:
    from watchkeeper.response.actions.base import ActionRegistry
    from watchkeeper.response.loader import LoadReport

PATHS = click.Path(exists=False, path_type=Path)


def _actions() -> ActionRegistry:
    from watchkeeper.response.actions import default_actions

    return default_actions()


def _load(paths: tuple[Path, ...], actions: ActionRegistry) -> LoadReport:
    from watchkeeper.response.loader import load_library

    return load_library(paths, actions, builtins=True)


def _problems(report: LoadReport) -> list[str]:
    """Each problem of each file as ``file: place: reason``."""
    return [f"{error.location}: {problem}" for error in report.errors
            for problem in error.problems]


def _json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


@click.group()
def playbook() -> None:
    """Check, list and test response playbooks."""


@playbook.command()
@click.argument("paths", nargs=-1, required=True, type=PATHS)
def validate(paths: tuple[Path, ...]) -> None:
    """Check every playbook file under PATHS: the schema, the actions and their inputs,
    connectors, templates, approvers and called playbooks.

    Exit status: 0 all files are valid, 2 some are not.
    """
    report = _load(paths, _actions())
    valid = sum(not loaded.builtin for loaded in report.playbooks.values())
    for line in _problems(report):
        click.echo(line)
    invalid = len(report.errors)
    click.echo(f"{valid + invalid} files checked: {valid} valid, {invalid} invalid")
    if invalid:
        sys.exit(EXIT_ERROR)


@playbook.command(name="list")
@click.option("--path", "paths", multiple=True, type=PATHS,
              help="A playbook file or folder besides the built-in ones (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(paths: tuple[Path, ...], as_json: bool) -> None:
    """List the playbooks: built-in ones and those under --path (which replace built-in
    ones of the same name).

    Exit status: 0, or 2 when a file cannot be loaded (reported on stderr).
    """
    report = _load(paths, _actions())
    rows: list[dict[str, Any]] = [
            {"name": p.name, "title": p.playbook.title,
             "triggers": list(dict.fromkeys(t.kind for t in p.playbook.triggers)),
             "version": p.version[:12],
             "origin": p.origin, "enabled": p.playbook.enabled, "tests": len(p.playbook.tests)}
            for p in sorted(report.playbooks.values(), key=lambda p: p.name)]
    if as_json:
        _json({"playbooks": rows, "errors": _problems(report)})
    else:
        table = Table(show_edge=False)
        table.add_column("name", no_wrap=True)
        table.add_column("title")
        table.add_column("triggers")
        table.add_column("version", no_wrap=True)
        table.add_column("origin", overflow="fold")
        for row in rows:
            table.add_row(row["name"], escape(row["title"]), ", ".join(row["triggers"]),
                          row["version"], escape(row["origin"]))
        Console().print(table)
    _report_errors(report)


def _report_errors(report: LoadReport) -> None:
    if report.errors:
        for line in _problems(report):
            click.echo(f"error: {line}", err=True)
        sys.exit(EXIT_ERROR)


@playbook.command(name="test")
@click.argument("paths", nargs=-1, type=PATHS)
@click.option("--builtin/--no-builtin", "builtin", default=None,
              help="Also run the built-in playbooks' tests [default: only when no PATHS].")
@click.option("--only", help="Run only the tests of the playbook of this name.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def test_playbooks(paths: tuple[Path, ...], builtin: bool | None, only: str | None,
                   as_json: bool) -> None:
    """Run the tests written in playbooks (under PATHS, and the built-in ones), with
    mocked actions: nothing is touched.

    Exit status: 0 all tests pass, 1 a test failed, 2 a playbook cannot be loaded.
    """
    from watchkeeper.response.loader import Library
    from watchkeeper.response.testing import run_tests

    actions = _actions()
    report = _load(paths, actions)
    library = Library(report)
    with_builtin = builtin if builtin is not None else not paths
    chosen = [p for p in library.playbooks.values()
              if (with_builtin or not p.builtin) and (only is None or p.name == only)]
    results = [result for loaded in sorted(chosen, key=lambda p: p.name)
               for result in run_tests(loaded, library, actions)]
    untested = sorted(p.name for p in chosen if not p.playbook.tests)
    failed = [r for r in results if not r.passed]
    if as_json:
        _json({"results": [r.to_dict() for r in results], "passed": len(results) - len(failed),
               "failed": len(failed), "untested": untested, "errors": _problems(report)})
    else:
        console = Console()
        table = Table("result", "playbook", "test", show_edge=False)
        for result in results:
            verdict = "[green]pass[/green]" if result.passed else "[red]FAIL[/red]"
            detail = "".join(f"\n  {escape(d)}" for d in result.differences)
            table.add_row(verdict, result.playbook, escape(result.test) + detail)
        console.print(table)
        console.print(f"{len(results) - len(failed)} passed, {len(failed)} failed"
                      + (f" · {len(untested)} playbooks without tests" if untested else ""),
                      highlight=False)
    if report.errors:
        _report_errors(report)
    if failed:
        sys.exit(EXIT_FOUND)


@playbook.command()
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON, with each action's inputs and outputs.")
def actions(as_json: bool) -> None:
    """List the actions playbooks can use: name, kind, connector types, undo."""
    registry = _actions()
    described = [registry.get(name).describe() for name in registry.names()]
    if as_json:
        _json({"actions": described})
        return
    table = Table(show_edge=False)
    table.add_column("name", no_wrap=True)
    for column in ("kind", "connectors", "undo", "inputs"):
        table.add_column(column)
    for item in described:
        inputs = item["inputs"].get("properties", {})
        required = set(item["inputs"].get("required", []))
        table.add_row(item["name"], item["kind"], ", ".join(item["connector_types"]) or "-",
                      item["undo"] or "-",
                      ", ".join(f"{k}*" if k in required else k for k in inputs))
    Console().print(table)


@playbook.command()
def schema() -> None:
    """Print the JSON Schema of a playbook file."""
    from watchkeeper.response.loader import schema_text

    sys.stdout.write(schema_text())
