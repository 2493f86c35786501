"""``watchkeeper``: one command, a subcommand per job.

Exit status, for every subcommand: 0 success with nothing found, 1 something
found (matches, failed rules, failed rule tests), 2 a usage or input error.
"""

from __future__ import annotations

import sys

import click
from rich.console import Console

from watchkeeper import __version__
from watchkeeper.errors import WatchkeeperError

EXIT_FOUND = 1
EXIT_ERROR = 2


class WatchkeeperGroup(click.Group):
    """Turns Watchkeeper's errors into one clear line on stderr and exit status 2."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except WatchkeeperError as error:
            Console(stderr=True).print(f"[bold red]error:[/bold red] {error}", highlight=False)
            ctx.exit(EXIT_ERROR)


@click.group(cls=WatchkeeperGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="watchkeeper")
def cli() -> None:
    """Watchkeeper: Sigma detection and security operations."""


def register() -> None:
    from watchkeeper.cli.admin import audit, search, tokens, users
    from watchkeeper.cli.connector import connector
    from watchkeeper.cli.containment import containment
    from watchkeeper.cli.handover import briefing, handover
    from watchkeeper.cli.hunt import hunt
    from watchkeeper.cli.intel import intel
    from watchkeeper.cli.playbook import playbook
    from watchkeeper.cli.rules import rules
    from watchkeeper.cli.scan import scan
    from watchkeeper.cli.server import import_, init, serve
    from watchkeeper.cli.vulns import vulns

    for command in (hunt, rules, init, serve, import_, search, users, tokens, audit):
        cli.add_command(command)
    cli.add_command(handover)
    cli.add_command(briefing)
    cli.add_command(playbook)
    cli.add_command(containment)
    cli.add_command(connector)
    cli.add_command(scan)
    cli.add_command(vulns)
    cli.add_command(intel)


def main() -> None:
    register()
    sys.exit(cli.main(standalone_mode=True))


if __name__ == "__main__":
    main()
