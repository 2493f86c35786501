"""What the response commands (``playbook run``, ``containment``, ``connector``) share: the
response service of the configured data folder, opened beside a running server, and the
parsing and printing of their options and records."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from watchkeeper.cli.server import settings_from
from watchkeeper.errors import UsageError

if TYPE_CHECKING:
    from watchkeeper.response.service import Response

CLI_ACTOR = "cli"
"""Who the commands act as in the audit log unless ``--as`` says otherwise."""


@contextmanager
def response_service(config: Path | None) -> Iterator[Response]:
    """The response service of the data folder; the state database is closed afterwards."""
    from watchkeeper.audit.service import AuditLog
    from watchkeeper.response.service import open_response
    from watchkeeper.server.stores import open_state_db

    settings = settings_from(config)
    db = open_state_db(settings)
    try:
        yield open_response(settings, db, AuditLog(db))
    finally:
        db.close()


def actor_of(name: str | None) -> str:
    if name is None:
        return CLI_ACTOR
    if not name.strip():
        raise UsageError("--as must name someone")
    return name.strip()


def split_pair(text: str, option: str) -> tuple[str, str]:
    """``KEY=VALUE`` as its two parts; anything else is a usage error naming the option."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"{option} takes KEY=VALUE, not {text!r}")
    return key.strip(), value


def json_or_text(text: str) -> Any:
    """``text`` as JSON when it parses (``3``, ``true``, ``["a"]``), else as typed."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def json_object(text: str, option: str) -> dict[str, Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise UsageError(f"{option} is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise UsageError(f"{option} must be a JSON object")
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def when(value: datetime | None) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M:%S}"


def shown(value: Any) -> str:
    return "" if value is None else str(value)


def may_decide(approval: dict[str, Any]) -> str:
    who = " or ".join([*(f"role {r}" for r in approval["roles"]), *approval["users"]])
    if approval["required"] > 1:
        who += f" (four eyes: two different people, not {approval['requested_by']})"
    return who


def print_run(run: dict[str, Any], pending: list[dict[str, Any]]) -> None:
    click.echo(f"run {run['id']} of {run['playbook']}: {run['status']}")
    click.echo(f"path: {' → '.join(run['path']) or '(no step finished yet)'}")
    for approval in pending:
        click.echo(f"waiting for approval {approval['id']} (until "
                   f"{when(approval['expires_at'])}): {approval['prompt']}")
        click.echo(f"  may decide: {may_decide(approval)}")
    if run["status"] == "waiting" and not pending:
        click.echo(f"waiting: {run['waiting_for']} (until {when(run['wake_at'])})")
    if run["error"]:
        click.echo(f"error at {run['error_step'] or 'the run'}: {run['error']}")


def print_dry_run(report: dict[str, Any]) -> None:
    click.echo(f"dry run of {report['playbook']}: {report['status']} (nothing was done)")
    for number, step in enumerate(report["steps"], 1):
        what = " ".join(filter(None, [step["kind"], step.get("action")]))
        click.echo(f"{number}. {step['step']}: {what}")
        for line in str(step["summary"]).splitlines():
            click.echo(f"   {line}")
        if step["targets"]:
            click.echo(f"   targets: {', '.join(step['targets'])}")
    if report["error"]:
        click.echo(f"error at {report['error_step'] or 'the run'}: {report['error']}")
    click.echo(f"blast radius: {', '.join(report['blast_radius']) or 'nothing'}")
