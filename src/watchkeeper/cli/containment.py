"""``watchkeeper containment``: list the containment playbooks have taken, roll an entry
back, and roll back what has expired (docs/response.md). Works beside a running server."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from watchkeeper.cli.main import EXIT_FOUND
from watchkeeper.cli.responding import actor_of, print_json, response_service, shown, when
from watchkeeper.cli.server import CONFIG_OPTION

STATUSES = ("active", "rolled_back", "rollback_failed", "all")


@click.group()
def containment() -> None:
    """Containment in force (blocks, quarantines, disabled accounts) and its undo."""


@containment.command(name="list")
@CONFIG_OPTION
@click.option("--status", type=click.Choice(STATUSES), default="active", show_default=True,
              help="Only entries in this state.")
@click.option("--case", "case_id", type=int, help="Only entries of this case.")
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(config: Path | None, status: str, case_id: int | None, limit: int,
          as_json: bool) -> None:
    """List containment entries, newest first."""
    with response_service(config) as response:
        found = response.ledger.find(status=None if status == "all" else status,
                                     case_id=case_id, limit=limit)
    if as_json:
        print_json({"containments": found})
        return
    table = Table(title=f"{len(found)} entries", show_edge=False)
    for column in ("id", "action", "target", "status", "created", "expires", "case", "run"):
        table.add_column(column, no_wrap=column in ("id", "action", "target", "status"))
    for entry in found:
        table.add_row(str(entry["id"]), entry["action"], escape(entry["target"]),
                      entry["status"], when(entry["created_at"]), when(entry["expires_at"]),
                      shown(entry["case_id"]), shown(entry["run_id"]))
    Console().print(table)


def _print_entry(entry: dict[str, Any]) -> None:
    click.echo(f"containment {entry['id']} ({entry['action']} {entry['target']}): "
               f"{entry['status']}")
    if entry["rollback_error"] and entry["status"] == "rollback_failed":
        click.echo(f"error: {entry['rollback_error']}")


@containment.command()
@click.argument("containment_id", metavar="ID", type=int)
@CONFIG_OPTION
@click.option("--reason", default="", help="Why, for the audit log.")
@click.option("--as", "as_user", metavar="USER",
              help="Who rolls it back, in the audit log [default: cli].")
def rollback(containment_id: int, config: Path | None, reason: str,
             as_user: str | None) -> None:
    """Run the undo of containment entry ID (unblock, release, enable).

    Exit status: 0 rolled back, 1 the undo failed (the entry is rollback_failed and can be
    tried again), 2 no such entry, or it is not in force.
    """
    actor = actor_of(as_user)
    with response_service(config) as response:
        entry = response.ledger.rollback(actor, containment_id, datetime.now(UTC), reason)
    _print_entry(entry)
    if entry["status"] == "rollback_failed":
        sys.exit(EXIT_FOUND)


@containment.command()
@CONFIG_OPTION
def expire(config: Path | None) -> None:
    """Roll back every entry whose TTL has run out (and retry failed expiries): what the
    server does on its own, for cron when no server runs.

    Exit status: 0, or 1 when an undo failed.
    """
    with response_service(config) as response:
        done = response.ledger.expire(datetime.now(UTC))
    for entry in done:
        _print_entry(entry)
    failed = sum(entry["status"] == "rollback_failed" for entry in done)
    click.echo(f"{len(done)} expired entries: {len(done) - failed} rolled back, "
               f"{failed} failed")
    if failed:
        sys.exit(EXIT_FOUND)
