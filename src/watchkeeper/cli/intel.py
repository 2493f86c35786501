"""``watchkeeper intel``: threat intelligence of the data folder — imports, search, lookups,
sightings, the allowlist, exports (docs/intel-feeds.md). Feeds: :mod:`.intel_feeds`.

The commands open the state database directly, so they work beside a running server (it
picks up what they change within seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from watchkeeper.cli.main import EXIT_FOUND
from watchkeeper.cli.responding import actor_of, print_json
from watchkeeper.cli.server import CONFIG_OPTION, settings_from
from watchkeeper.errors import UsageError
from watchkeeper.intel.model import Kind, StoredIndicator, tlp_rank

if TYPE_CHECKING:
    from watchkeeper.config import Settings
    from watchkeeper.intel.feedrunner import FeedService
    from watchkeeper.intel.service import IntelService

AS_OPTION = click.option("--as", "as_user", metavar="USER",
                         help="Who acts, in the audit log [default: cli].")
KINDS = click.Choice([k.value for k in Kind])
FORMATS = click.Choice(["auto", "stix", "misp", "csv", "text"])


@dataclass
class Opened:
    settings: Settings
    intel: IntelService
    feeds: FeedService


@contextmanager
def intel_services(config: Path | None) -> Iterator[Opened]:
    """The intel and feed services of the data folder; the state database is closed
    afterwards."""
    from watchkeeper.audit.service import AuditLog
    from watchkeeper.intel.feedrunner import open_feed_service
    from watchkeeper.intel.service import IntelService
    from watchkeeper.server.stores import open_state_db

    settings = settings_from(config)
    db = open_state_db(settings)
    try:
        audit = AuditLog(db)
        intel = IntelService(db, audit, settings.intel)
        intel.refresh()  # the allowlist and the matcher, for imports and lookups
        yield Opened(settings, intel, open_feed_service(settings, db, audit, intel))
    finally:
        db.close()


@click.group()
def intel() -> None:
    """Threat intelligence: indicators, feeds, sightings, the allowlist."""


def print_report(name: str, report: dict[str, Any]) -> None:
    click.echo(f"{name}: {report['received']} received, {report['new']} new, "
               f"{report['updated']} updated, {report['unchanged']} unchanged, "
               f"{report['suppressed']} suppressed, "
               f"{report['withdrawn']} withdrawn, {report['problem_count']} problems")
    for problem in report["problems"][:20]:
        click.echo(f"  problem: {problem}")
    if report["problem_count"] > 20:
        click.echo(f"  … and {report['problem_count'] - 20} more")


@intel.command(name="import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(path_type=Path, exists=True))
@CONFIG_OPTION
@click.option("--source", required=True, help="The source the indicators are credited to.")
@click.option("--format", "format_", type=FORMATS, default="auto", show_default=True,
              help="The files' format; auto: STIX bundle, MISP event, MISP feed folder "
                   "(with manifest.json), else a list.")
@click.option("--kind", type=KINDS, help="Kind of every value of a list [default: guessed].")
@click.option("--column", help="A CSV's value column: a header name or an index from 0.")
@click.option("--delimiter", help="A CSV's delimiter (one character, or 'tab').")
@click.option("--header", is_flag=True, help="A CSV's first row is its header.")
@click.option("--tlp", help="TLP of every indicator (clear, green, amber, amber+strict, red).")
@click.option("--confidence", type=click.IntRange(0, 100), help="Confidence of every one.")
@AS_OPTION
def import_(files: tuple[Path, ...], config: Path | None, source: str, format_: str,
            kind: str | None, column: str | None, delimiter: str | None, header: bool,
            tlp: str | None, confidence: int | None, as_user: str | None) -> None:
    """Import indicators from FILES (or MISP feed folders); exit status 1 when some
    values could not be read (the others are imported)."""
    from watchkeeper.intel.feedfetch import Fetcher
    from watchkeeper.intel.importing import (
        mapping_of,
        override,
        parse_document,
        parse_misp_folder,
    )

    actor = actor_of(as_user)
    if not source.strip() or source.startswith("analyst:"):
        raise UsageError("--source must name the source (not starting with 'analyst:')")
    mapping = mapping_of(kind, column, delimiter, header)
    problems = 0
    with intel_services(config) as opened:
        max_bytes = opened.settings.intel.max_feed_mb << 20
        for path in files:
            if path.is_dir():
                if format_ not in ("auto", "misp") or not (path / "manifest.json").is_file():
                    raise UsageError(f"{path} is a folder: only a MISP feed folder (with "
                                     "manifest.json) can be imported")
                result = parse_misp_folder(path, source, max_bytes)
            else:
                data = Fetcher(max_bytes).read(str(path))
                result = parse_document(data, format_, source, mapping, max_bytes=max_bytes)
            override(result, tlp, confidence)
            report = opened.intel.ingest(actor, result, source).as_dict()
            problems += report["problem_count"]
            print_report(str(path), report)
    if problems:
        raise SystemExit(EXIT_FOUND)


def indicator_table(items: list[StoredIndicator], title: str) -> Table:
    table = Table("id", "kind", "value", "score", "conf", "tlp", "active", "sources", "threat",
                  "seen", "fp", title=title, show_edge=False)
    for item in items:
        value = item.value if len(item.value) <= 80 else item.value[:77] + "..."
        table.add_row(str(item.id), item.kind.value, escape(value), f"{item.score:.0f}",
                      str(item.confidence), item.tlp, "yes" if item.active else "no",
                      escape(", ".join(item.sources)), escape(item.threat or ""),
                      str(item.sightings), str(item.false_positives))
    return table


def jsonable(item: StoredIndicator) -> dict[str, Any]:
    return asdict(item)


@intel.command()
@click.argument("value", default="")
@CONFIG_OPTION
@click.option("--kind", type=KINDS)
@click.option("--source")
@click.option("--active/--inactive", default=None, help="Only active (or inactive) ones.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def search(value: str, config: Path | None, kind: str | None, source: str | None,
           active: bool | None, limit: int, as_json: bool) -> None:
    """Indicators whose value or threat contains VALUE."""
    with intel_services(config) as opened:
        items, total = opened.intel.search(value, kind=kind, source=source, active=active,
                                           limit=limit)
    if as_json:
        print_json({"items": [jsonable(i) for i in items], "total": total})
        return
    Console().print(indicator_table(items, f"{len(items)} of {total} indicators"))


@intel.command()
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats(config: Path | None, as_json: bool) -> None:
    """Indicators by kind and source, sightings, the matcher's size."""
    with intel_services(config) as opened:
        found = opened.intel.stats()
    if as_json:
        print_json(found)
        return
    click.echo(f"{found['total']} indicators, {found['active']} active, "
               f"{found['suppressed']} suppressed; matcher holds {found['matcher_size']}")
    table = Table("kind", "total", "active", title="by kind", show_edge=False)
    for kind, counts in sorted(found["by_kind"].items()):
        table.add_row(kind, str(counts["total"]), str(counts["active"]))
    Console().print(table)
    sources = Table("source", "indicators", title="by source", show_edge=False)
    for name, count in sorted(found["by_source"].items()):
        sources.add_row(escape(name), str(count))
    Console().print(sources)
    click.echo("sightings: " + (", ".join(f"{k} {v}" for k, v in found["sightings"].items())
                                or "none"))


@intel.command()
@click.argument("value")
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def lookup(value: str, config: Path | None, as_json: bool) -> None:
    """The indicators VALUE would match in an event; exit status 1 when there are any."""
    with intel_services(config) as opened:
        items = opened.intel.lookup(value)
    if as_json:
        print_json({"value": value, "items": [jsonable(i) for i in items]})
    else:
        Console().print(indicator_table(items, f"{len(items)} indicators match {value}"))
    if items:
        raise SystemExit(EXIT_FOUND)


@intel.command()
@click.argument("indicator_id", type=click.IntRange(1))
@CONFIG_OPTION
@click.option("--seen", "kind", flag_value="seen", help="It was seen (restarts its decay).")
@click.option("--false-positive", "kind", flag_value="false-positive",
              help="It matched something benign (lowers its score).")
@click.option("--note", default="", help="Why, for the record.")
@AS_OPTION
def sight(indicator_id: int, config: Path | None, kind: str | None, note: str,
          as_user: str | None) -> None:
    """Report a sighting of the indicator ID."""
    if kind is None:
        raise UsageError("say --seen or --false-positive")
    with intel_services(config) as opened:
        item = opened.intel.sight(actor_of(as_user), indicator_id, kind, note)
    click.echo(f"indicator {item.id} ({item.kind.value} {item.value}): {kind} recorded; "
               f"score {item.score:.0f}, {'active' if item.active else 'inactive'}")


@intel.command(name="allow")
@click.argument("kind", type=KINDS)
@click.argument("value")
@CONFIG_OPTION
@click.option("--reason", required=True, help="Why it is benign.")
@AS_OPTION
def allow_(kind: str, value: str, config: Path | None, reason: str,
           as_user: str | None) -> None:
    """Put KIND VALUE on the allowlist: it never matches."""
    with intel_services(config) as opened:
        entry = opened.intel.allow(actor_of(as_user), kind, value, reason)
    click.echo(f"allowlisted {entry['kind']} {entry['value']} (entry {entry['id']})")


@intel.command()
@CONFIG_OPTION
@click.option("--max-tlp", default=None,
              help="The most restrictive TLP to include [default: intel.share_max_tlp].")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the bundle here [default: standard output].")
@click.option("--include-inactive", is_flag=True, help="Also inactive indicators.")
def export(config: Path | None, max_tlp: str | None, output: Path | None,
           include_inactive: bool) -> None:
    """Export indicators and their sightings as a STIX 2.1 bundle."""
    from watchkeeper.intel.export import export_bundle

    with intel_services(config) as opened:
        allowed = opened.settings.intel.share_max_tlp
        label = max_tlp or allowed
        if tlp_rank(label) > tlp_rank(allowed):
            raise UsageError(f"--max-tlp {label} is more restrictive than intel.share_max_tlp "
                             f"({allowed}) allows")
        items = _all(opened.intel, None if include_inactive else True)
        sightings = [s for item in items for s in opened.intel.sightings(item.id, 100)]
        bundle = export_bundle(items, sightings, max_tlp=label)
    if output is None:
        print_json(bundle)
        return
    import orjson

    output.write_bytes(orjson.dumps(bundle, option=orjson.OPT_INDENT_2))
    click.echo(f"wrote {len(bundle['objects'])} STIX objects to {output}", err=True)


def _all(service: IntelService, active: bool | None) -> list[StoredIndicator]:
    items: list[StoredIndicator] = []
    while True:
        page, total = service.search(active=active, limit=1000, offset=len(items))
        items += page
        if not page or len(items) >= total:
            return items


def _register() -> None:
    from watchkeeper.cli.intel_feeds import feeds

    intel.add_command(feeds)


_register()
