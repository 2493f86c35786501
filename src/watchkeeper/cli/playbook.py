"""``watchkeeper playbook``: validate playbook files, list them, run their tests, show the
actions they can use and the JSON Schema they follow (docs/playbooks.md); start runs in a
data folder, dry-run them, list and show runs (docs/response.md)."""

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
from watchkeeper.cli.responding import (
    actor_of,
    json_object,
    json_or_text,
    may_decide,
    print_dry_run,
    print_json,
    print_run,
    response_service,
    shown,
    split_pair,
    when,
)
from watchkeeper.cli.server import CONFIG_OPTION

if TYPE_CHECKING:
    from watchkeeper.response.actions.base import ActionRegistry
    from watchkeeper.response.loader import LoadReport
    from watchkeeper.response.model import Playbook

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


RUN_STATUSES = ("queued", "running", "waiting", "succeeded", "failed", "rejected", "cancelled")
ENDED_BADLY = ("failed", "rejected")


def _inputs(playbook: Playbook, pairs: tuple[str, ...], as_json: str | None) -> dict[str, Any]:
    """``--inputs-json`` and then each ``--input``: a value is JSON when it parses, except
    for inputs the playbook declares as strings, which keep the text as typed."""
    inputs = json_object(as_json, "--inputs-json") if as_json is not None else {}
    for pair in pairs:
        key, text = split_pair(pair, "--input")
        spec = playbook.inputs.get(key)
        inputs[key] = text if spec is not None and spec.type == "string" else json_or_text(text)
    return inputs


@playbook.command(name="run")
@click.argument("name")
@CONFIG_OPTION
@click.option("--input", "pairs", multiple=True, metavar="KEY=VALUE",
              help="An input of the run (repeatable); the value is read as JSON when it "
                   "parses (3, true, [\"a\"]), else as text; inputs declared as strings "
                   "keep the text.")
@click.option("--inputs-json", metavar="JSON", help="The inputs as one JSON object "
              "(--input values are added to it).")
@click.option("--case", "case_id", type=int, help="Run for this case.")
@click.option("--dry-run", is_flag=True,
              help="Print what the run would do and touch; nothing is done or stored.")
@click.option("--as", "as_user", metavar="USER",
              help="Who starts the run, in the audit log [default: cli].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def run_playbook(name: str, config: Path | None, pairs: tuple[str, ...],
                 inputs_json: str | None, case_id: int | None, dry_run: bool,
                 as_user: str | None, as_json: bool) -> None:
    """Start a run of the playbook NAME in the configured data folder (a running server
    goes on with it), or with --dry-run, show what it would do.

    Exit status: 0 the run succeeded or waits (for an approval, a timer), 1 it failed or
    was rejected, 2 a usage or input error.
    """
    actor = actor_of(as_user)
    pending: list[dict[str, Any]] = []
    with response_service(config) as response:
        loaded = response.library().get(name)
        inputs = _inputs(loaded.playbook, pairs, inputs_json)
        if case_id is not None:
            response.desks.cases.get(case_id)  # no such case: a clear error, not a crash
        if dry_run:
            trigger: dict[str, Any] = {"manual": {"by": actor}}
            if case_id is not None:
                trigger["case"] = {"id": case_id}
            result = response.dry_run(loaded.name, trigger, inputs)
        else:
            result = response.start_manual(actor, loaded.name, inputs, case_id=case_id)
            pending = response.approvals.find(status="pending", run_id=result["id"])
    if as_json:
        print_json(result if dry_run else {**result, "approvals": pending})
    elif dry_run:
        print_dry_run(result)
    else:
        print_run(result, pending)
    if result["status"] in ENDED_BADLY:
        sys.exit(EXIT_FOUND)


@playbook.command(name="runs")
@CONFIG_OPTION
@click.option("--playbook", "name", help="Only runs of this playbook.")
@click.option("--status", type=click.Choice(RUN_STATUSES), help="Only runs in this state.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_runs(config: Path | None, name: str | None, status: str | None, limit: int,
              as_json: bool) -> None:
    """List playbook runs, newest first."""
    with response_service(config) as response:
        found, total = response.runs.find(playbook=name, status=status, limit=limit)
    if as_json:
        print_json({"total": total, "runs": found})
        return
    table = Table(title=f"{total} runs", show_edge=False)
    for column in ("id", "playbook", "status", "trigger", "started by", "created", "case",
                   "waiting for / error"):
        table.add_column(column, no_wrap=column in ("id", "status"))
    for run in found:
        table.add_row(str(run["id"]), run["playbook"], run["status"], run["trigger_kind"],
                      escape(run["started_by"]), when(run["created_at"]),
                      shown(run["case_id"]), escape(run["error"] or run["waiting_for"] or ""))
    Console().print(table)


@playbook.command(name="show")
@click.argument("run_id", type=int)
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show_run(run_id: int, config: Path | None, as_json: bool) -> None:
    """Show one run: its steps (status, attempts, error), approvals and containment."""
    with response_service(config) as response:
        run = response.runs.get(run_id)
    if as_json:
        print_json(run)
        return
    pending = [a for a in run["approvals"] if a["status"] == "pending"]
    print_run(run, pending)
    click.echo(f"started by {run['started_by']} ({run['trigger_kind']}) at "
               f"{when(run['created_at'])}" + (f", finished {when(run['finished_at'])}"
                                                if run["finished_at"] else ""))
    if run["case_id"] is not None or run["alert_id"] is not None:
        click.echo(f"case {shown(run['case_id']) or '-'} · alert {shown(run['alert_id']) or '-'}")
    console = Console()
    steps = Table("step", "kind", "action", "status", "attempts", "error", title="steps",
                  show_edge=False)
    for step in run["steps"]:
        steps.add_row(escape(step["path"]), step["kind"], step["action"] or "", step["status"],
                      str(step["attempts"]), escape(step["error"] or ""))
    console.print(steps)
    if run["approvals"]:
        approvals = Table("id", "step", "status", "outcome", "who may decide", "decided",
                          title="approvals", show_edge=False)
        for approval in run["approvals"]:
            approvals.add_row(str(approval["id"]), escape(approval["path"]), approval["status"],
                              approval["outcome"] or "", escape(may_decide(approval)),
                              when(approval["decided_at"]))
        console.print(approvals)
    if run["containments"]:
        contained = Table("id", "action", "target", "status", "expires", title="containment",
                          show_edge=False)
        for entry in run["containments"]:
            contained.add_row(str(entry["id"]), entry["action"], escape(entry["target"]),
                              entry["status"], when(entry["expires_at"]))
        console.print(contained)
