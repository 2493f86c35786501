"""``watchkeeper init``, ``serve`` and ``import``: setting up and running the SIEM."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from watchkeeper.errors import UsageError

if TYPE_CHECKING:
    from watchkeeper.config import Settings

CONFIG_OPTION = click.option(
    "--config", "-c", "config", type=click.Path(path_type=Path, dir_okay=False),
    envvar="WATCHKEEPER_CONFIG", show_envvar=True,
    help="Configuration file [default: ./watchkeeper.toml when it exists].",
)
CONFIG_TEMPLATE = """\
# Watchkeeper configuration; every key is described in docs/configuration.md.
# Any key can be overridden by a variable: WATCHKEEPER_HTTP__PORT=8443.
data_dir = "{data_dir}"

[http]
host = "127.0.0.1"   # the API and web UI; keep it on loopback unless you mean to expose it
port = 8000

[syslog]
host = "127.0.0.1"
udp_port = 5514
tcp_port = 5514
# tls_port = 6514
# tls_cert = "/etc/watchkeeper/syslog.crt"
# tls_key = "/etc/watchkeeper/syslog.key"

[rules]
paths = [{rules}]

[retention]
default_days = 30

[response]
playbooks = [{playbooks}]   # folders of playbooks (docs/playbooks.md)
# enable_builtin = ["brute-force"]   # built-in playbooks whose triggers fire

# [[files]]
# path = "/var/log/auth.log"
# format = "syslog"
"""


def settings_from(config: Path | None, **overrides: Any) -> Settings:
    from watchkeeper.config import CONFIG_NAME, load_settings

    if config is None and Path(CONFIG_NAME).is_file():
        config = Path(CONFIG_NAME)
    return load_settings(config, **overrides)


@click.command()
@click.option("--dir", "folder", type=click.Path(path_type=Path, file_okay=False),
              default=Path("."), show_default=True, help="Where to write watchkeeper.toml.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path("watchkeeper-data"),
              show_default=True, help="The data folder (relative to the config file).")
@click.option("--rules", "rules", multiple=True, type=click.Path(path_type=Path, exists=True),
              help="A folder of Sigma rules to detect with (repeatable).")
@click.option("--playbooks", "playbooks", multiple=True,
              type=click.Path(path_type=Path, exists=True),
              help="A folder of playbooks to respond with (repeatable).")
@click.option("--admin", "admin", default="admin", show_default=True,
              help="Username of the first administrator.")
@click.option("--password-stdin", is_flag=True,
              help="Read the administrator's password from standard input.")
@click.option("--generate-password", is_flag=True,
              help="Generate the administrator's password and print it once.")
def init(folder: Path, data_dir: Path, rules: tuple[Path, ...], playbooks: tuple[Path, ...],
         admin: str, password_stdin: bool, generate_password: bool) -> None:
    """Create a configuration file, the data folder and the first administrator."""
    from watchkeeper.auth.passwords import check_policy
    from watchkeeper.auth.principal import SYSTEM
    from watchkeeper.auth.service import AuthService
    from watchkeeper.config import CONFIG_NAME, load_settings
    from watchkeeper.server.stores import open_state_db

    console = Console()
    config = folder / CONFIG_NAME
    if config.exists():
        raise UsageError(f"{config} exists already; edit it, or init another folder")
    password = _admin_password(password_stdin, generate_password)
    check_policy(password, admin)  # before anything is written
    folder.mkdir(parents=True, exist_ok=True)
    listed = ", ".join(f'"{p.resolve().as_posix()}"' for p in rules)
    responders = ", ".join(f'"{p.resolve().as_posix()}"' for p in playbooks)
    config.write_text(CONFIG_TEMPLATE.format(data_dir=data_dir.as_posix(), rules=listed,
                                             playbooks=responders), encoding="utf-8")
    settings = load_settings(config)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.data_dir, 0o700)
    db = open_state_db(settings)
    try:
        auth = AuthService(db)
        if auth.find_user(admin) is not None:
            raise UsageError(f"user {admin!r} exists already in the state database")
        auth.create_user(SYSTEM, admin, "admin", password)
    finally:
        db.close()
    console.print(f"wrote {config}, data folder {settings.data_dir}", highlight=False)
    console.print(f"administrator: [bold]{admin}[/bold]", highlight=False)
    if generate_password or not (password_stdin or sys.stdin.isatty()):
        console.print(f"password (shown once, keep it safe): [bold]{password}[/bold]",
                      highlight=False)
    console.print("start it with: watchkeeper serve" + (
        f" --config {config}" if folder != Path(".") else ""), highlight=False)


def _admin_password(from_stdin: bool, generate: bool) -> str:
    if from_stdin and generate:
        raise UsageError("--password-stdin and --generate-password exclude each other")
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if generate or not sys.stdin.isatty():
        return secrets.token_urlsafe(18)
    return str(click.prompt("Administrator password (12 characters or more)", hide_input=True,
                            confirmation_prompt=True))


@click.command()
@CONFIG_OPTION
@click.option("--host", help="Listen address of the API and web UI (overrides the config).")
@click.option("--port", type=int, help="Port of the API and web UI (overrides the config).")
def serve(config: Path | None, host: str | None, port: int | None) -> None:
    """Run the SIEM: API and web UI, syslog and HTTP receivers, file inputs, the pipeline."""
    from watchkeeper.ops.compute import configure_compute
    from watchkeeper.ops.logs import configure_logging

    settings = settings_from(config)
    if host is not None:
        settings.http.host = host
    if port is not None:
        settings.http.port = port
    configure_logging(settings.log_level, settings.log_format)
    configure_compute(settings.pipeline.compute_threads)  # before Polars is imported
    from watchkeeper.server.run import serve as run

    run(settings)


@click.command("import")
@CONFIG_OPTION
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "log_format", help="Read every input as this format.")
@click.option("--url", help="Send to a running server at this URL instead "
              "[default: the configured address, when the server is running].")
@click.option("--token", envvar="WATCHKEEPER_TOKEN", show_envvar=True,
              help="Ingest token, to send to a running server.")
def import_(config: Path | None, paths: tuple[Path, ...], log_format: str | None,
            url: str | None, token: str | None) -> None:
    """Import log files once: parsed here, detected on and stored like live events.

    With the server stopped, the data folder is written directly; with it running, the
    events are sent to its ingest API (give an ingest token)."""
    from watchkeeper.server.importer import import_direct, import_over_http
    from watchkeeper.server.services import DataDirLock

    settings = settings_from(config)
    console = Console(stderr=True)
    if url is None and not DataDirLock.held(settings.data_dir):
        report = import_direct(settings, list(paths), log_format, console)
    else:
        if not token:
            raise UsageError("the server is running: give an ingest token with --token "
                             "(or WATCHKEEPER_TOKEN)")
        target = url or _server_url(settings)
        report = import_over_http(target, token, list(paths), log_format, console)
    Console(soft_wrap=True).print(report.summary(), highlight=False)
    if report.skipped:
        sys.exit(1)


def _server_url(settings: Settings) -> str:
    scheme = "https" if settings.http.tls_cert else "http"
    wildcard = settings.http.host in ("0.0.0.0", "::")  # noqa: S104 - read, not bound
    host = "127.0.0.1" if wildcard else settings.http.host
    return f"{scheme}://{host}:{settings.http.port}"
