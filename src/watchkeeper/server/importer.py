"""One-shot import of log files into a data folder, or into a running server.

Files are parsed here in bounded batches (any format ``hunt`` reads, any size) and each
batch travels as ``watchkeeper-events`` — through the spool and the pipeline of this
process when no server holds the data folder, or to the server's ingest API when one
does — so that imported events are detected on, alerted and stored exactly as live ones.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console

from watchkeeper.config import Settings
from watchkeeper.errors import UsageError
from watchkeeper.events.model import Skip
from watchkeeper.parsers import read_paths
from watchkeeper.parsers.parsed import ParsedEventsParser, dump_events
from watchkeeper.server.services import Services

BATCH_EVENTS = 10_000
MAX_PIECE_BYTES = 8 << 20
"""Each piece sent is at most this big (large events are sent in smaller batches), well
under the spool's chunk limit and the server's ingest body limit."""
SOURCE_TYPE = ParsedEventsParser.name
MAX_RETRIES = 120


@dataclass(slots=True)
class ImportReport:
    events: int = 0
    alerts: int = 0
    batches: int = 0
    skipped: list[Skip] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"imported {self.events} events in {self.batches} batches"
                 + (f", {self.alerts} new alerts" if self.alerts else "")]
        lines += [f"skipped: {skip}" for skip in self.skipped[:20]]
        if len(self.skipped) > 20:
            lines.append(f"… and {len(self.skipped) - 20} more skipped records")
        return "\n".join(lines)


def import_direct(
    settings: Settings, paths: list[Path], log_format: str | None, console: Console
) -> ImportReport:
    report = ImportReport()
    services = Services.open(settings)
    try:
        pipeline, spool = services.pipeline, services.spool
        for chunk in read_paths(paths, format=log_format, keep_original=True,
                                batch_size=BATCH_EVENTS):
            _note_skips(services, chunk.skipped, report)
            if chunk.frame.height == 0:
                continue
            for piece in pieces(chunk.frame):
                spool.append(SOURCE_TYPE, "import", piece)
            while pipeline.position < spool.last_seq():
                result = pipeline.process(spool.read(pipeline.position, pipeline.batch_bytes))
                report.events += result.events
                report.alerts += result.alerts
                report.batches += 1
            console.print(f"… {report.events} events", highlight=False)
    finally:
        services.close()
    return report


def pieces(frame: pl.DataFrame) -> Iterator[bytes]:
    """The batch in the ``watchkeeper-events`` form, cut in halves until each piece is
    under :data:`MAX_PIECE_BYTES` (one event is never cut)."""
    body = dump_events(frame)
    if len(body) <= MAX_PIECE_BYTES or frame.height == 1:
        yield body
        return
    middle = frame.height // 2
    yield from pieces(frame.slice(0, middle))
    yield from pieces(frame.slice(middle))


def _note_skips(services: Services, skipped: list[Skip], report: ImportReport) -> None:
    for skip in skipped:
        report.skipped.append(skip)
        services.dead_letters.put("import", skip.source, f"{skip.reason} ({skip.location})", b"")


def import_over_http(
    url: str, token: str, paths: list[Path], log_format: str | None, console: Console
) -> ImportReport:
    report = ImportReport()
    endpoint = url.rstrip("/") + f"/api/v1/ingest/{SOURCE_TYPE}"
    for chunk in read_paths(paths, format=log_format, keep_original=True,
                            batch_size=BATCH_EVENTS):
        report.skipped.extend(chunk.skipped)
        if chunk.frame.height == 0:
            continue
        for piece in pieces(chunk.frame):
            _post(endpoint, token, piece)
        report.events += chunk.frame.height
        report.batches += 1
        console.print(f"… {report.events} events sent", highlight=False)
    return report


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would carry the token to wherever it points: refuse it instead."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _post(endpoint: str, token: str, body: bytes) -> None:
    for _ in range(MAX_RETRIES):
        request = urllib.request.Request(  # noqa: S310 - the URL is the user's own server
            endpoint, data=body, method="POST",
            headers={"Authorization": f"Bearer {token}",
                     "Content-Type": "application/x-ndjson"},
        )
        try:
            with _OPENER.open(request, timeout=60) as answer:
                answer.read()
                return
        except urllib.error.HTTPError as error:
            if error.code == 429:
                time.sleep(float(error.headers.get("Retry-After") or 1))
                continue
            detail = error.read().decode("utf-8", "replace")
            with contextlib.suppress(ValueError, AttributeError):
                detail = json.loads(detail).get("message", detail)
            raise UsageError(f"the server refused the import ({error.code}): {detail}") from None
        except urllib.error.URLError as error:
            raise UsageError(f"cannot reach {endpoint}: {error.reason}") from None
    raise UsageError("the server stayed overloaded; try again later")
