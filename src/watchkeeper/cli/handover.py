"""``watchkeeper handover``: write the outgoing shift's handover from the command line, or
list past ones. Works beside a running server (the state database is shared)."""

from __future__ import annotations

from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.table import Table

from watchkeeper.cli.server import CONFIG_OPTION, settings_from


@click.command()
@CONFIG_OPTION
@click.option("--shift", help="The outgoing shift [default: the one on duty].")
@click.option("--author", default="system", show_default=True,
              help="Who writes the handover (recorded in it and in the audit log).")
@click.option("--format", "out_format", type=click.Choice(["markdown", "json"]),
              default="markdown", show_default=True)
@click.option("--list", "listing", is_flag=True, help="List past handovers instead.")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True,
              help="How many to list.")
def handover(config: Path | None, shift: str | None, author: str, out_format: str,
             listing: bool, limit: int) -> None:
    """Generate, store and print a shift handover (docs/handover.md)."""
    from watchkeeper.audit.service import AuditLog
    from watchkeeper.cases.sla import SlaPolicy
    from watchkeeper.errors import UsageError
    from watchkeeper.server.stores import open_state_db
    from watchkeeper.shifts.service import HandoverFilter, ShiftService

    if not author.strip():
        raise UsageError("--author must name someone")
    settings = settings_from(config)
    db = open_state_db(settings)
    try:
        shifts = ShiftService(db, AuditLog(db), sla=SlaPolicy.from_settings(settings.cases))
        if listing:
            found, total = shifts.list(HandoverFilter(limit=limit))
        else:
            made = shifts.generate(author.strip(), shift)
    finally:
        db.close()
    if listing:
        if out_format == "json":
            click.echo(orjson.dumps({"total": total, "handovers": found}).decode())
            return
        table = Table("id", "shift", "from", "to", "author", "acknowledged by",
                      title=f"{total} handovers")
        for h in found:
            table.add_row(str(h["id"]), h["shift"], f"{h['period_start']:%Y-%m-%d %H:%M}",
                          f"{h['period_end']:%Y-%m-%d %H:%M}", h["author"],
                          h["acknowledged_by"] or "")
        Console().print(table)
        return
    if out_format == "json":
        click.echo(orjson.dumps(made).decode())
    else:
        click.echo(made["markdown"], nl=False)


@click.command()
@CONFIG_OPTION
@click.option("--kind", type=click.Choice(["daily", "weekly"]), default="daily",
              show_default=True, help="The day or the week that ends now.")
@click.option("--format", "out_format", type=click.Choice(["markdown", "html", "json"]),
              default="markdown", show_default=True)
def briefing(config: Path | None, kind: str, out_format: str) -> None:
    """Print the daily or weekly briefing: alerts, cases, response times, noisiest rules,
    notable changes (docs/handover.md)."""
    from datetime import UTC, datetime

    from watchkeeper.server.stores import open_state_db
    from watchkeeper.shifts import briefing as made

    db = open_state_db(settings_from(config))
    try:
        with db.read() as session:
            content = made.briefing(session, kind, datetime.now(UTC))
    finally:
        db.close()
    if out_format == "json":
        click.echo(orjson.dumps(content).decode())
    elif out_format == "html":
        click.echo(made.to_html(content), nl=False)
    else:
        click.echo(made.to_markdown(content), nl=False)
