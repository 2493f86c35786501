"""``watchkeeper connector``: the endpoints playbooks act through, configured in the state
database (docs/connectors.md). Secret values go in and are never printed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from watchkeeper.cli.responding import (
    actor_of,
    json_object,
    print_json,
    response_service,
    split_pair,
    when,
)
from watchkeeper.cli.server import CONFIG_OPTION
from watchkeeper.errors import NotFoundError, UsageError

HISTORY_WARNING = ("warning: --secret leaves the value in your shell history and the process "
                   "list; prefer --secret-from-env KEY=ENVVAR")


@click.group()
def connector() -> None:
    """Connectors: firewalls, EDRs, directories, mail relays, chat channels."""


@connector.command(name="list")
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(config: Path | None, as_json: bool) -> None:
    """List the connectors: name, type, secret names (never values)."""
    with response_service(config) as response:
        found = response.connectors.list()
    if as_json:
        print_json({"connectors": found})
        return
    table = Table("name", "type", "secrets", "allow_private", "updated", "by",
                  title=f"{len(found)} connectors", show_edge=False)
    for item in found:
        table.add_row(item["name"], item["type"], ", ".join(item["secrets"]) or "-",
                      "yes" if item["allow_private"] else "no", when(item["updated_at"]),
                      escape(item["created_by"]))
    Console().print(table)


def _print_connector(item: dict[str, Any]) -> None:
    click.echo(f"connector {item['name']} ({item['type']})")
    click.echo(f"secrets: {', '.join(item['secrets']) or 'none'}")
    click.echo(f"allow_private: {'yes' if item['allow_private'] else 'no'}")
    click.echo("config:")
    print_json(item["config"])


@connector.command()
@click.argument("name")
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(name: str, config: Path | None, as_json: bool) -> None:
    """Show one connector: its config and the names of its secrets."""
    with response_service(config) as response:
        item = response.connectors.describe(name)
    if as_json:
        print_json(item)
    else:
        _print_connector(item)


def _config_file(path: Path) -> dict[str, Any]:
    import yaml

    try:
        value = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"--config-file {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise UsageError(f"--config-file {path}: not YAML or JSON: {error}") from None
    if not isinstance(value, dict):
        raise UsageError(f"--config-file {path} must hold a mapping (the connector's config)")
    return value


def _secrets(pairs: tuple[str, ...], from_env: tuple[str, ...]) -> dict[str, str] | None:
    """The secrets given, or None when none are (the stored ones are kept)."""
    if not pairs and not from_env:
        return None
    secrets = dict(split_pair(pair, "--secret") for pair in pairs)
    for pair in from_env:
        key, variable = split_pair(pair, "--secret-from-env")
        value = os.environ.get(variable)
        if value is None:
            raise UsageError(f"--secret-from-env {key}: the environment variable "
                             f"{variable!r} is not set")
        secrets[key] = value
    return secrets


@connector.command(name="set")
@click.argument("name")
@CONFIG_OPTION
@click.option("--type", "type_", required=True, metavar="TYPE",
              help="The connector type (docs/connectors.md); an unknown one is refused with "
                   "the list of known types.")
@click.option("--config-json", metavar="JSON", help="The type's config as a JSON object.")
@click.option("--config-file", type=click.Path(path_type=Path, dir_okay=False),
              help="The type's config in a YAML or JSON file.")
@click.option("--secret", "secret_pairs", multiple=True, metavar="KEY=VALUE",
              help="A secret (repeatable); the value lands in the shell history, so prefer "
                   "--secret-from-env.")
@click.option("--secret-from-env", "env_pairs", multiple=True, metavar="KEY=ENVVAR",
              help="A secret read from an environment variable (repeatable).")
@click.option("--allow-private/--no-allow-private", default=None,
              help="Allow connecting to private, loopback and link-local addresses "
                   "[default: as stored, else no].")
@click.option("--as", "as_user", metavar="USER",
              help="Who makes the change, in the audit log [default: cli].")
def set_(name: str, config: Path | None, type_: str, config_json: str | None,
         config_file: Path | None, secret_pairs: tuple[str, ...], env_pairs: tuple[str, ...],
         allow_private: bool | None, as_user: str | None) -> None:
    """Create or replace the connector NAME.

    Without --config-json or --config-file an existing connector keeps its config; without
    any secret option it keeps its secrets (secrets given replace all the stored ones).
    """
    actor = actor_of(as_user)
    if config_json is not None and config_file is not None:
        raise UsageError("--config-json and --config-file exclude each other")
    if secret_pairs:
        click.echo(HISTORY_WARNING, err=True)
    secrets = _secrets(secret_pairs, env_pairs)
    given = (json_object(config_json, "--config-json") if config_json is not None
             else _config_file(config_file) if config_file is not None else None)
    with response_service(config) as response:
        store = response.connectors
        try:
            stored: dict[str, Any] | None = store.describe(name)
        except NotFoundError:
            stored = None
        if given is None:
            given = dict(stored["config"]) if stored is not None else {}
        if allow_private is None:
            allow_private = bool(stored and stored["allow_private"])
        item = store.put(actor, name, type_, given, secrets, allow_private=allow_private)
    click.echo(f"{'replaced' if stored else 'created'} connector {name} ({item['type']}); "
               f"secrets: {', '.join(item['secrets']) or 'none'}; "
               f"allow_private: {'yes' if item['allow_private'] else 'no'}")


@connector.command()
@click.argument("name")
@CONFIG_OPTION
@click.option("--as", "as_user", metavar="USER",
              help="Who deletes it, in the audit log [default: cli].")
def delete(name: str, config: Path | None, as_user: str | None) -> None:
    """Delete the connector NAME (steps naming it fail until it is set again)."""
    actor = actor_of(as_user)
    with response_service(config) as response:
        response.connectors.delete(actor, name)
    click.echo(f"deleted connector {name}")
