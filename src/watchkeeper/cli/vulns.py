"""``watchkeeper vulns``: the local OSV database that ``watchkeeper scan`` matches
dependencies against."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from watchkeeper.cli.main import EXIT_FOUND


@click.group()
def vulns() -> None:
    """Vulnerability data kept on this machine."""


@vulns.command(name="osv-import")
@click.argument("sources", nargs=-1, required=True)
@click.option("--db", "database", type=click.Path(path_type=Path, dir_okay=False),
              required=True, envvar="WATCHKEEPER_OSV_DB",
              help="The database file (made when missing).")
def osv_import(sources: tuple[str, ...], database: Path) -> None:
    """Import OSV records: an ecosystem's ``all.zip`` (a file or an https:// URL) or a
    folder of JSON records, each record replacing an older copy of itself. Broken records
    are reported and skipped; exit status 1 when there were any."""
    from watchkeeper.vulns.osv import OsvStore

    console = Console(stderr=True)
    broken = 0
    with OsvStore(database) as store:
        for source in sources:
            path = Path(source)
            if source.startswith(("https://", "http://")):
                report = store.refresh(source)
            elif path.is_dir():
                report = store.import_dir(path)
            else:
                report = store.import_zip(path)
            broken += len(report.errors)
            console.print(f"{source}: {report.imported} imported, {report.unchanged} "
                          f"unchanged, {len(report.errors)} broken", highlight=False)
            for error in report.errors[:20]:
                console.print(f"  [yellow]skipped[/yellow] {error}", highlight=False)
    if broken:
        raise SystemExit(EXIT_FOUND)
