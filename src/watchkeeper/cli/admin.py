"""``watchkeeper search``, ``users``, ``tokens`` and ``audit``: working on a data folder
from the command line, beside a running server or without one.

User and token commands act as the platform itself (``system`` in the audit log):
whoever may read the configuration and the state database is its administrator anyway.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
import orjson
from rich.console import Console
from rich.table import Table

from watchkeeper.cli.main import EXIT_FOUND
from watchkeeper.cli.server import CONFIG_OPTION, settings_from

if TYPE_CHECKING:
    from watchkeeper.auth.service import AuthService


@click.command()
@CONFIG_OPTION
@click.argument("query", default="")
@click.option("--from", "start", type=click.DateTime(), help="Events at or after (UTC).")
@click.option("--to", "end", type=click.DateTime(), help="Events before (UTC).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--format", "out_format", type=click.Choice(["table", "jsonl"]), default="table",
              show_default=True)
def search(config: Path | None, query: str, start: datetime | None, end: datetime | None,
           limit: int, out_format: str) -> None:
    """Search stored events (the language is in docs/search.md); works while the server runs."""
    from datetime import UTC

    from watchkeeper.search.request import SearchRequest, TimeRange
    from watchkeeper.search.service import run_search
    from watchkeeper.server.stores import open_events

    settings = settings_from(config)
    store = open_events(settings, read_only=True)
    try:
        request = SearchRequest(
            query=query,
            time=TimeRange(start and start.replace(tzinfo=UTC), end and end.replace(tzinfo=UTC)),
            limit=limit,
        )
        result = run_search(store, request)
    finally:
        store.close()
    if out_format == "jsonl":
        for row in result.rows:
            sys.stdout.write(orjson.dumps(
                {k: v for k, v in row.items() if v is not None}, default=str).decode() + "\n")
        return
    table = Table(*result.columns[:8], title=f"{result.total} events ({result.took_ms} ms)")
    for row in result.rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in result.columns[:8]))
    Console().print(table)


@contextmanager
def _auth(config: Path | None) -> Iterator[AuthService]:
    from watchkeeper.auth.service import AuthService
    from watchkeeper.server.stores import open_state_db

    db = open_state_db(settings_from(config))
    try:
        yield AuthService(db)
    finally:
        db.close()


@click.group()
def users() -> None:
    """Users and roles (admin, analyst, responder, viewer)."""


@users.command("add")
@CONFIG_OPTION
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "analyst", "responder",
                                                          "viewer"]))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_add(config: Path | None, username: str, role: str, password_stdin: bool) -> None:
    from watchkeeper.auth.principal import SYSTEM

    password = (sys.stdin.readline().rstrip("\r\n") if password_stdin else
                click.prompt("Password", hide_input=True, confirmation_prompt=True))
    with _auth(config) as auth:
        user = auth.create_user(SYSTEM, username, role, password)
    Console().print(f"created {user.username} ({user.role.value})", highlight=False)


@users.command("list")
@CONFIG_OPTION
def users_list(config: Path | None) -> None:
    with _auth(config) as auth:
        found = auth.list_users()
    table = Table("id", "username", "role", "active", "last login")
    for user in found:
        table.add_row(str(user.id), user.username, user.role.value, str(user.active),
                      str(user.last_login_at or ""))
    Console().print(table)


@click.group()
def tokens() -> None:
    """API and ingest tokens."""


@tokens.command("create")
@CONFIG_OPTION
@click.option("--user", "username", required=True, help="The token's owner.")
@click.option("--name", required=True, help="What the token is for, e.g. 'firewall-01'.")
@click.option("--kind", type=click.Choice(["api", "ingest"]), default="api", show_default=True)
@click.option("--scope", "scopes", multiple=True, help="Narrow an API token to a permission.")
@click.option("--source-type", help="Bind an ingest token to one log format.")
def tokens_create(config: Path | None, username: str, name: str, kind: str,
                  scopes: tuple[str, ...], source_type: str | None) -> None:
    """Create a token; it is printed once and never shown again."""
    from watchkeeper.auth.principal import SYSTEM
    from watchkeeper.errors import NotFoundError

    with _auth(config) as auth:
        owner = auth.find_user(username)
        if owner is None:
            raise NotFoundError(f"no user {username!r}")
        token, plaintext = auth.issue_token(SYSTEM, owner.id, kind, name,
                                            scopes=list(scopes) or None, source_type=source_type)
    Console(stderr=True).print(f"token {token.id} ({token.kind.value}) for {username}:",
                               highlight=False)
    click.echo(plaintext)


@tokens.command("revoke")
@CONFIG_OPTION
@click.argument("token_id")
def tokens_revoke(config: Path | None, token_id: str) -> None:
    from watchkeeper.auth.principal import SYSTEM

    with _auth(config) as auth:
        auth.revoke_token(SYSTEM, token_id)
    Console().print(f"revoked {token_id}", highlight=False)


@click.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@CONFIG_OPTION
@click.option("--expect", help="A head hash recorded earlier: the chain must still end there "
              "or continue from it.")
def audit_verify(config: Path | None, expect: str | None) -> None:
    """Check every entry's hash and link; exit status 1 when the log was altered."""
    from watchkeeper.audit.service import AuditLog
    from watchkeeper.server.stores import open_state_db

    db = open_state_db(settings_from(config))
    try:
        result = AuditLog(db).verify(expect=expect)
    finally:
        db.close()
    console = Console()
    if result.ok:
        console.print(f"audit log intact: {result.checked} entries, head {result.head_id} "
                      f"{result.head_hash}", highlight=False)
        return
    console.print(f"[bold red]audit log altered[/bold red] at entry {result.first_bad_id}: "
                  f"{result.reason} ({result.checked} entries checked)", highlight=False)
    sys.exit(EXIT_FOUND)
