"""``watchkeeper intel feeds``: feeds pulled on a schedule by the server, or now by hand.
Secrets come from an environment variable or a prompt, never from the command line,
and are never printed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from watchkeeper.cli.intel import AS_OPTION, intel_services, print_report
from watchkeeper.cli.main import EXIT_FOUND
from watchkeeper.cli.responding import actor_of, print_json, split_pair, when
from watchkeeper.cli.server import CONFIG_OPTION
from watchkeeper.errors import UsageError
from watchkeeper.intel.feedconfig import FEED_TYPES, coerce_option


@click.group()
def feeds() -> None:
    """Feeds: STIX, TAXII, MISP (feeds and API), CSV and plain lists."""


@feeds.command(name="list")
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(config: Path | None, as_json: bool) -> None:
    """Every feed: type, schedule, last run and its outcome."""
    with intel_services(config) as opened:
        found = opened.feeds.list()
    if as_json:
        print_json({"feeds": found})
        return
    table = Table("name", "type", "every", "enabled", "last run", "last ok", "new", "error",
                  title=f"{len(found)} feeds", show_edge=False)
    for item in found:
        table.add_row(item["name"], item["type"], f"{item['interval_s']} s",
                      "yes" if item["enabled"] else "no", when(item["last_run_at"]),
                      when(item["last_ok_at"]), str(item["last_counts"].get("new", "")),
                      escape((item["last_error"] or "")[:80]))
    Console().print(table)


def print_feed(item: dict[str, Any]) -> None:
    click.echo(f"feed {item['name']} ({item['type']}): {item['url']}")
    click.echo(f"enabled: {'yes' if item['enabled'] else 'no'}, every {item['interval_s']} s, "
               f"next {when(item['next_run_at']) or 'now'}")
    click.echo(f"secret: {'set' if item['has_secret'] else 'none'}; cursor: "
               f"{item['cursor'] or 'none'}")
    if item["options"]:
        click.echo("options: " + ", ".join(f"{k}={v}" for k, v in item["options"].items()))
    click.echo(f"last run: {when(item['last_run_at']) or 'never'}; last success: "
               f"{when(item['last_ok_at']) or 'never'}")
    if item["last_error"]:
        click.echo(f"last error: {item['last_error']}")
    if item["last_counts"]:
        print_report("last counts", item["last_counts"])


@feeds.command()
@click.argument("name")
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(name: str, config: Path | None, as_json: bool) -> None:
    """One feed, its cursor and its last run."""
    with intel_services(config) as opened:
        item = opened.feeds.get(name)
    if as_json:
        print_json(item)
    else:
        print_feed(item)


def _secret(variable: str | None, prompt: bool) -> str | None:
    if variable is not None:
        value = os.environ.get(variable)
        if value is None:
            raise UsageError(f"--secret-env: the environment variable {variable!r} is not set")
        return value
    if prompt:
        return str(click.prompt("secret", hide_input=True))
    return None


@feeds.command()
@click.argument("name")
@CONFIG_OPTION
@click.option("--type", "type_", type=click.Choice(FEED_TYPES), required=True)
@click.option("--url", required=True,
              help="An https:// URL (http:// only on loopback), or a file or folder.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE",
              help="A type option (repeatable): collection=…, verify_tls=false, header=true…")
@click.option("--secret-env", metavar="VAR",
              help="Read the API key, token or password from this environment variable.")
@click.option("--secret-prompt", is_flag=True, help="Ask for the secret.")
@click.option("--interval", type=click.IntRange(60), default=3600, show_default=True,
              help="Seconds between pulls.")
@click.option("--disabled", is_flag=True, help="Add it without scheduling it.")
@AS_OPTION
def add(name: str, config: Path | None, type_: str, url: str, options: tuple[str, ...],
        secret_env: str | None, secret_prompt: bool, interval: int, disabled: bool,
        as_user: str | None) -> None:
    """Add the feed NAME (it is pulled when the server next checks, or by `feeds run`)."""
    parsed = {key: coerce_option(value)
              for key, value in (split_pair(o, "--option") for o in options)}
    secret = _secret(secret_env, secret_prompt)
    with intel_services(config) as opened:
        item = opened.feeds.add(actor_of(as_user), name, type_, url, options=parsed,
                                secret=secret, interval_s=interval, enabled=not disabled)
    click.echo(f"added feed {item['name']} ({item['type']}); secret: "
               f"{'set' if item['has_secret'] else 'none'}")


@feeds.command()
@click.argument("name")
@CONFIG_OPTION
@AS_OPTION
def remove(name: str, config: Path | None, as_user: str | None) -> None:
    """Remove the feed NAME (its indicators stay)."""
    with intel_services(config) as opened:
        opened.feeds.remove(actor_of(as_user), name)
    click.echo(f"removed feed {name}")


@feeds.command()
@click.argument("name", required=False)
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@AS_OPTION
def run(name: str | None, config: Path | None, as_json: bool, as_user: str | None) -> None:
    """Pull the feed NAME now, or every feed that is due; exit status 1 when one failed."""
    with intel_services(config) as opened:
        if name is None:
            done = opened.feeds.run_due()
        else:
            done = [opened.feeds.run(actor_of(as_user), name)]
    if as_json:
        print_json({"feeds": done})
    else:
        for item in done:
            if item["last_error"]:
                click.echo(f"{item['name']}: failed: {item['last_error']}")
            else:
                print_report(item["name"], item["last_counts"])
        if not done:
            click.echo("no feed is due")
    if any(item["last_error"] for item in done):
        raise SystemExit(EXIT_FOUND)
