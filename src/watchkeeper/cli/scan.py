"""``watchkeeper scan``: misconfigurations (and, later, vulnerable dependencies) in a folder.

Exit status: 0 nothing new at or above ``--fail-on``, 1 something is, 2 a usage error
(a missing path, an unreadable baseline).
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from watchkeeper.cli.main import EXIT_FOUND
from watchkeeper.vulns.model import Severity
from watchkeeper.vulns.report import dumps, to_json, to_sarif
from watchkeeper.vulns.scan import ScanResult, baseline_text, default_sources, load_baseline
from watchkeeper.vulns.scan import scan as run_scan

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red", Severity.HIGH: "red", Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan", Severity.INFO: "dim", Severity.UNKNOWN: "dim",
}


@click.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "out_format", type=click.Choice(["table", "json", "sarif"]),
              default="table", show_default=True, help="How to report findings.")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the report to this file instead of standard output.")
@click.option("--fail-on", type=click.Choice(["low", "medium", "high", "critical"]),
              default="high", show_default=True,
              help="Exit 1 when a new finding is at least this severe.")
@click.option("--baseline", type=click.Path(path_type=Path, dir_okay=False),
              help="JSON list of finding keys already known: only other findings fail.")
@click.option("--write-baseline", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the keys of every current finding to this file.")
@click.option("--osv-db", type=click.Path(path_type=Path, dir_okay=False),
              envvar="WATCHKEEPER_OSV_DB",
              help="The OSV database to match dependencies against "
                   "(`watchkeeper vulns osv-import` builds it).")
def scan(path: Path, out_format: str, output: Path | None, fail_on: str,
         baseline: Path | None, write_baseline: Path | None, osv_db: Path | None) -> None:
    """Scan PATH (a folder or a file): vulnerable dependencies in lockfiles, SBOMs, package
    databases and images, and infrastructure-as-code misconfigurations."""
    known = load_baseline(baseline) if baseline is not None else frozenset()
    result = run_scan(path, default_sources(osv_db), known)
    if out_format == "table":
        _table(result, output)
    else:
        document = to_json(result) if out_format == "json" else to_sarif(result)
        text = dumps(document)
        if output is None:
            click.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
    if write_baseline is not None:
        write_baseline.write_text(baseline_text(result.findings), encoding="utf-8")
    err = Console(stderr=True)
    if osv_db is None:
        err.print("dependencies not checked: no OSV database (--osv-db; "
                  "`watchkeeper vulns osv-import` builds one)", highlight=False)
    for problem in result.problems:
        err.print(f"[yellow]skipped[/yellow] {problem.location}: {problem.message}",
                  highlight=False, markup=True)
    if result.failing(Severity(fail_on)):
        raise SystemExit(EXIT_FOUND)


def _table(result: ScanResult, output: Path | None) -> None:
    handle = output.open("w", encoding="utf-8") if output is not None else None
    try:
        console = Console(file=handle, width=160) if handle else Console()
        if result.findings:
            table = Table(show_edge=False)
            for column in ("severity", "policy", "location", "finding", "status"):
                table.add_column(column)
            for finding in result.findings:
                message = finding.title + (f": {finding.description}"
                                           if finding.description else "")
                table.add_row(
                    f"[{SEVERITY_STYLE[finding.severity]}]{finding.severity.value}[/]",
                    finding.rule, finding.location, message,
                    "new" if result.is_new(finding) else "baseline",
                )
            console.print(table)
        new = sum(result.is_new(f) for f in result.findings)
        console.print(
            f"{len(result.findings)} findings ({new} new), {len(result.suppressed)} suppressed, "
            f"{len(result.problems)} files skipped",
            highlight=False,
        )
        for suppressed in result.suppressed:
            console.print(f"  suppressed {suppressed.finding.rule} at "
                          f"{suppressed.finding.location}: {suppressed.reason or '(no reason)'}",
                          highlight=False, markup=False)
    finally:
        if handle is not None:
            handle.close()
