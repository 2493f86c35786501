"""``watchkeeper scan``: vulnerable dependencies and misconfigurations in a folder, and
optionally on to a server.

Exit status: 0 nothing new at or above ``--fail-on``, 1 something is, 2 a usage error
(a missing path, an unreadable baseline).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from rich.console import Console
from rich.table import Table

from watchkeeper.cli.main import EXIT_FOUND
from watchkeeper.errors import UsageError
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
@click.option("--push", "push_url", metavar="URL",
              help="Also send the findings to a Watchkeeper server at URL "
                   "(token from WATCHKEEPER_TOKEN; needs vulns:manage).")
@click.option("--source", "push_source", help="With --push: what was scanned, e.g. "
              "repo:shop (default: the folder's name).")
@click.option("--asset", "push_asset", help="With --push: the asset it runs on, for priority.")
@click.option("--push-token", envvar="WATCHKEEPER_TOKEN", show_envvar=True,
              help="With --push: an API token; give it through the variable, not the "
                   "command line (which shell histories keep).")
def scan(path: Path, out_format: str, output: Path | None, fail_on: str,
         baseline: Path | None, write_baseline: Path | None, osv_db: Path | None,
         push_url: str | None, push_source: str | None, push_asset: str | None,
         push_token: str | None) -> None:
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
    if push_url is not None:
        # a scan that could not see everything must not mark unseen findings fixed
        complete = osv_db is not None and not result.problems
        pushed = push(push_url, push_token or "", result,
                      push_source or f"repo:{path.resolve().name}", push_asset,
                      complete=complete)
        err.print(f"pushed to {push_url}: {pushed['new']} new, {pushed['updated']} updated, "
                  f"{pushed['fixed']} fixed", highlight=False)
    if result.failing(Severity(fail_on)):
        raise SystemExit(EXIT_FOUND)


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
"""Hosts a token may be sent to over plain HTTP: it never leaves the machine."""


def push(url: str, token: str, result: ScanResult, source: str,
         asset: str | None, *, complete: bool = True) -> dict[str, Any]:
    """Send the scan's JSON report to a server's ``/api/v1/vulns/import``.

    ``complete=False`` (no OSV database, or files the scan could not read) tells the
    server not to mark fixed the findings this scan did not report."""
    import httpx

    check_push_url(url)
    if not token:
        raise UsageError("--push needs a token in WATCHKEEPER_TOKEN")
    params = {"source": source, "format": "watchkeeper"}
    if asset:
        params["asset"] = asset
    if not complete:
        params["complete"] = "false"
    try:
        answer = httpx.post(f"{url.rstrip('/')}/api/v1/vulns/import", params=params,
                            content=dumps(to_json(result)).encode(), timeout=60.0,
                            headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as error:
        raise UsageError(f"cannot push to {url}: {error}") from None
    if answer.status_code != 200:
        raise UsageError(f"the server refused the push: {answer.status_code} {answer.text}")
    pushed: dict[str, Any] = answer.json()
    return pushed


def check_push_url(url: str) -> None:
    """Refuse a URL the bearer token would travel to in clear: ``https://`` only, or
    ``http://`` to the loopback interface."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        host = (parts.hostname or "").lower()
    except ValueError:
        host = ""
    if scheme == "https" and host:
        return
    if scheme == "http" and host in LOOPBACK:
        return
    if scheme == "http":
        raise UsageError(f"refusing to send the token over plain HTTP to {url}")
    raise UsageError(f"--push needs an https:// URL, not {url!r}")


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
