"""A local copy of OSV data in one SQLite file: an offline cache of public records,
indexed by (ecosystem, normalized package name), that matching reads from.

Records are stored as they came (JSON) beside the index; a record replaces the stored
one with the same id unless the stored one was modified later.
"""

from __future__ import annotations

import sqlite3
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from watchkeeper.errors import InputError, UsageError
from watchkeeper.vulns.model import Finding, Package
from watchkeeper.vulns.osv.match import match_records
from watchkeeper.vulns.osv.model import Record
from watchkeeper.vulns.osv.names import normalize_name
from watchkeeper.vulns.osv.parse import OsvError, parse_record
from watchkeeper.vulns.versions import InvalidVersion, base_ecosystem

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS packages (
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    id TEXT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    PRIMARY KEY (ecosystem, name, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS packages_by_id ON packages(id);
"""

MAX_MEMBER_BYTES = 16 * 1024 * 1024
"""The largest record a zip member may hold, uncompressed (the largest OSV records are
well under a megabyte)."""
MAX_RATIO = 200
"""The most a member may be compressed: JSON compresses some tens of times, not more."""
MAX_TOTAL_BYTES = 8 * 1024 * 1024 * 1024
"""The most one zip may hold, uncompressed, in all."""
MAX_DOWNLOAD_BYTES = 2 * 1024 * 1024 * 1024
"""The largest ``all.zip`` downloaded."""
MAX_REDIRECTS = 5


@dataclass
class ImportReport:
    """What one import did: records stored, records kept because the stored copy is
    as new or newer, and the broken ones with their reasons."""

    source: str
    imported: int = 0
    unchanged: int = 0
    errors: list[OsvError] = field(default_factory=list)

    @property
    def broken(self) -> int:
        return len(self.errors)


class OsvStore:
    """OSV records in SQLite, by id and by (ecosystem, normalized package name)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        try:
            self._db = sqlite3.connect(self.path)
        except sqlite3.Error as error:
            raise UsageError(f"not an OSV database: {self.path} ({error})") from None
        try:
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise UsageError(f"not an OSV database: {self.path} ({error})") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> OsvStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- import ---------------------------------------------------------------------

    def import_zip(self, path: Path | str, *, max_member_bytes: int = MAX_MEMBER_BYTES,
                   max_total_bytes: int = MAX_TOTAL_BYTES) -> ImportReport:
        """Import an OSV ``all.zip``: one JSON record per member. Broken members are
        counted and reported (member name and reason); the rest are imported.

        A member larger than ``max_member_bytes`` or compressed more than ``MAX_RATIO``
        times is refused (a zip bomb), and a zip holding more than ``max_total_bytes``
        in all is an error."""
        report = ImportReport(str(path))
        try:
            archive = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as error:
            raise InputError(f"not a readable zip: {error}", location=str(path)) from error
        total = 0
        with archive, self._db:
            for member in archive.infolist():
                if member.is_dir() or not member.filename.endswith(".json"):
                    continue
                source = f"{path}!{member.filename}"
                refused = _refused(member, max_member_bytes)
                if refused:
                    report.errors.append(OsvError(refused, location=source))
                    continue
                total += member.file_size
                if total > max_total_bytes:
                    raise InputError(f"refused: more than {max_total_bytes} bytes uncompressed",
                                     location=str(path))
                try:
                    with archive.open(member) as handle:
                        data = handle.read(max_member_bytes + 1)
                except (OSError, zipfile.BadZipFile, ValueError) as error:
                    report.errors.append(OsvError(f"unreadable member: {error}", location=source))
                    continue
                if len(data) > max_member_bytes:  # the header lied about the size
                    report.errors.append(OsvError(
                        f"refused: over {max_member_bytes} bytes", location=source))
                    continue
                self._import_bytes(data, source, report)
        return report

    def import_dir(self, path: Path | str) -> ImportReport:
        """Import every ``*.json`` file under a folder (as an OSV export unpacked)."""
        root = Path(path)
        if not root.is_dir():
            raise UsageError(f"not a folder: {root}")
        report = ImportReport(str(root))
        with self._db:
            for file in sorted(root.rglob("*.json")):
                try:
                    data = file.read_bytes()
                except OSError as error:
                    report.errors.append(OsvError(f"unreadable: {error}", location=str(file)))
                    continue
                self._import_bytes(data, str(file), report)
        return report

    def import_records(self, records: Iterable[dict[str, Any]], source: str = "") -> ImportReport:
        """Import records already loaded (from YAML, say), each a JSON-shaped dict."""
        report = ImportReport(source)
        with self._db:
            for index, data in enumerate(records):
                self._import_data(data, f"{source}[{index}]", report)
        return report

    def refresh(
        self, url_or_path: str | Path, *, client: httpx.Client | None = None,
        timeout: float = 60.0, max_bytes: int = MAX_DOWNLOAD_BYTES,
    ) -> ImportReport:
        """Import from an ``https://`` URL of an ``all.zip`` (downloaded to a temporary
        file, at most ``max_bytes``; redirects followed only to other ``https://`` URLs),
        or from a local zip or folder."""
        text = str(url_or_path)
        if "://" not in text:
            local = Path(text)
            return self.import_dir(local) if local.is_dir() else self.import_zip(local)
        if not text.lower().startswith("https://"):
            raise UsageError(f"OSV data is downloaded over HTTPS only, not {text!r}")
        own = client is None
        http = client or httpx.Client(timeout=timeout, follow_redirects=False)
        try:
            with tempfile.TemporaryDirectory() as folder:
                target = Path(folder) / "all.zip"
                try:
                    _download(http, text, target, timeout, max_bytes)
                except httpx.HTTPError as error:
                    raise InputError(f"download failed: {error}", location=text) from error
                report = self.import_zip(target)
                report.source = text
                return report
        finally:
            if own:
                http.close()

    def _import_bytes(self, data: bytes, source: str, report: ImportReport) -> None:
        try:
            loaded = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            report.errors.append(OsvError(f"not JSON: {error}", location=source))
            return
        self._import_data(loaded, source, report)

    def _import_data(self, data: Any, source: str, report: ImportReport) -> None:
        try:
            record = parse_record(data, source=source)
            modified = _instant(record.modified, source)
        except OsvError as error:
            report.errors.append(error)
            return
        row = self._db.execute("SELECT modified FROM records WHERE id = ?", (record.id,))
        stored = row.fetchone()
        if stored is not None and stored[0] >= modified:
            report.unchanged += 1
            return
        self._db.execute("DELETE FROM records WHERE id = ?", (record.id,))
        self._db.execute(
            "INSERT INTO records (id, modified, data) VALUES (?, ?, ?)",
            (record.id, modified, orjson.dumps(data)),
        )
        keys = {
            (base_ecosystem(p.ecosystem), normalize_name(p.ecosystem, p.name))
            for p in (entry.package for entry in record.affected)
            if p is not None
        }
        self._db.executemany(
            "INSERT INTO packages (ecosystem, name, id) VALUES (?, ?, ?)",
            [(ecosystem, name, record.id) for ecosystem, name in sorted(keys)],
        )
        report.imported += 1

    # -- reading --------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM records").fetchone()[0])

    def raw(self, record_id: str) -> bytes | None:
        """The record as stored (JSON), unparsed."""
        row = self._db.execute("SELECT data FROM records WHERE id = ?", (record_id,)).fetchone()
        return None if row is None else bytes(row[0])

    def record(self, record_id: str) -> Record | None:
        data = self.raw(record_id)
        return None if data is None else parse_record(orjson.loads(data), source=record_id)

    def packages(self) -> list[tuple[str, str]]:
        """Every (ecosystem, normalized name) some record names."""
        rows = self._db.execute("SELECT DISTINCT ecosystem, name FROM packages ORDER BY 1, 2")
        return [(str(ecosystem), str(name)) for ecosystem, name in rows]

    def ids(self, ecosystem: str, name: str) -> list[str]:
        """Ids of the records that name this package (any release of the ecosystem)."""
        rows = self._db.execute(
            "SELECT id FROM packages WHERE ecosystem = ? AND name = ? ORDER BY id",
            (base_ecosystem(ecosystem), normalize_name(ecosystem, name)),
        )
        return [row[0] for row in rows]

    def vulnerabilities(self, ecosystem: str, name: str) -> list[Record]:
        """The records that name this package, by id."""
        return list(self._records(self.ids(ecosystem, name)))

    def _records(self, ids: Iterable[str]) -> Iterator[Record]:
        for record_id in ids:
            found = self.record(record_id)
            if found is not None:
                yield found

    # -- matching -------------------------------------------------------------------

    def match(
        self, packages: Iterable[Package], *, errors: list[InvalidVersion] | None = None
    ) -> list[Finding]:
        """One finding per (package, vulnerability) that affects the package's version.

        Versions the ecosystem's rules cannot read are skipped, and collected in
        ``errors`` when a list is given."""
        return match_records(packages, self.ids, self.record, errors=errors)


def _refused(member: zipfile.ZipInfo, max_bytes: int) -> str:
    """Why a zip member is not read (too large, or compressed like a bomb), or ""."""
    if member.file_size > max_bytes:
        return f"refused: {member.file_size} bytes uncompressed, the limit is {max_bytes}"
    if member.file_size > 1024 * 1024 and (
            member.compress_size == 0 or member.file_size / member.compress_size > MAX_RATIO):
        return (f"refused: compressed {member.compress_size} bytes expand to "
                f"{member.file_size}, more than {MAX_RATIO} times")
    return ""


def _download(http: httpx.Client, url: str, target: Path, timeout: float,
              max_bytes: int) -> None:
    """``url`` into ``target``: redirects only to ``https://``, at most ``max_bytes``."""
    for _ in range(MAX_REDIRECTS + 1):
        with http.stream("GET", url, timeout=timeout, follow_redirects=False) as response:
            if response.is_redirect:
                location = str(response.url.join(response.headers.get("location", "")))
                if not location.lower().startswith("https://"):
                    raise UsageError(f"refused: {url} redirects to {location!r}, not HTTPS")
                url = location
                continue
            response.raise_for_status()
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise InputError(f"refused: {declared} bytes, the limit is {max_bytes}",
                                 location=url)
            size = 0
            with target.open("wb") as out:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise InputError(f"refused: over {max_bytes} bytes", location=url)
                    out.write(chunk)
            return
    raise InputError(f"more than {MAX_REDIRECTS} redirects", location=url)


def _instant(value: str, source: str) -> str:
    """An RFC 3339 time as a UTC string that sorts in time order."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        reason = f"'modified' is not an RFC 3339 time: {value!r}"
        raise OsvError(reason, location=source) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
