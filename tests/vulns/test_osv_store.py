from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from watchkeeper.errors import InputError, UsageError
from watchkeeper.vulns.osv import OsvStore

RECORDS = Path(__file__).parent.parent / "data" / "osv" / "records"


def _zip(path: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for record in sorted(RECORDS.glob("*.json")):
            archive.write(record, record.name)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[OsvStore]:
    with OsvStore(tmp_path / "osv.sqlite") as opened:
        yield opened


def test_import_zip_counts_and_reports_broken_members(store: OsvStore, tmp_path: Path) -> None:
    broken = {
        "BROKEN-1.json": b"{not json",
        "BROKEN-2.json": json.dumps({"id": "BROKEN-2"}).encode(),
        "README.txt": b"not a record",
    }
    report = store.import_zip(_zip(tmp_path / "all.zip", broken))
    assert (report.imported, report.unchanged, report.broken) == (9, 0, 2)
    reasons = sorted(str(error) for error in report.errors)
    assert reasons[0].startswith(f"{tmp_path / 'all.zip'}!BROKEN-1.json: not JSON")
    assert reasons[1] == f"{tmp_path / 'all.zip'}!BROKEN-2.json: BROKEN-2: missing 'modified'"
    assert len(store) == 9


def test_reimport_replaces_by_id_only_when_newer(store: OsvStore, tmp_path: Path) -> None:
    store.import_zip(_zip(tmp_path / "all.zip"))
    again = store.import_zip(tmp_path / "all.zip")
    assert (again.imported, again.unchanged) == (0, 9)

    record = json.loads((RECORDS / "GHSA-93q8-gq69-wqmw.json").read_text())
    older = dict(record, modified="2020-01-01T00:00:00Z", summary="older")
    newer = dict(record, modified="2025-01-01T00:00:00.5+00:00", summary="newer")
    newer["affected"] = [
        {
            "package": {"ecosystem": "npm", "name": "strip-ansi"},
            "ranges": record["affected"][0]["ranges"],
        }
    ]
    assert store.import_records([older]).unchanged == 1
    assert store.import_records([newer]).imported == 1
    stored = store.record("GHSA-93q8-gq69-wqmw")
    assert stored is not None
    assert stored.summary == "newer"
    # the package index follows the new version of the record
    assert store.ids("npm", "ansi-regex") == []
    assert store.ids("npm", "strip-ansi") == ["GHSA-93q8-gq69-wqmw"]


def test_modified_compares_as_time_not_text(store: OsvStore) -> None:
    base = {"id": "T-1", "summary": "first", "modified": "2024-01-01T10:00:00Z"}
    store.import_records([base])
    same_instant = dict(base, modified="2024-01-01T11:00:00+01:00", summary="same")
    later = dict(base, modified="2024-01-01T10:00:00.250Z", summary="later")
    assert store.import_records([same_instant]).unchanged == 1
    assert store.import_records([later]).imported == 1


def test_vulnerabilities_by_normalized_name(store: OsvStore) -> None:
    store.import_dir(RECORDS)
    assert [r.id for r in store.vulnerabilities("PyPI", "AccessControl")] == [
        "PYSEC-2020-99",
        "PYSEC-2021-335",
    ]
    assert [r.id for r in store.vulnerabilities("PyPI", "foo.parser")] == ["OSV-2022-1"]
    assert [r.id for r in store.vulnerabilities("PyPI", "FOO__Parser")] == ["OSV-2022-1"]
    assert [r.id for r in store.vulnerabilities("Debian:11", "openssh")] == ["DSA-5586-1"]
    assert [r.id for r in store.vulnerabilities("Alpine", "openssl")] == ["ALPINE-CVE-2023-5363"]
    # RubyGems names keep their case
    assert store.vulnerabilities("RubyGems", "ActiveSupport") == []
    assert store.vulnerabilities("npm", "nothing-here") == []


def test_import_dir_reports_broken_files(store: OsvStore, tmp_path: Path) -> None:
    folder = tmp_path / "osv"
    folder.mkdir()
    (folder / "ok.json").write_bytes((RECORDS / "OSV-2022-1.json").read_bytes())
    (folder / "bad.json").write_text('{"id": "X", "modified": "yesterday"}')
    report = store.import_dir(folder)
    assert (report.imported, report.broken) == (1, 1)
    assert (
        str(report.errors[0])
        == f"{folder / 'bad.json'}: 'modified' is not an RFC 3339 time: 'yesterday'"
    )
    with pytest.raises(UsageError):
        store.import_dir(tmp_path / "missing")


def test_import_zip_that_is_not_a_zip(store: OsvStore, tmp_path: Path) -> None:
    path = tmp_path / "all.zip"
    path.write_text("nope")
    with pytest.raises(InputError) as caught:
        store.import_zip(path)
    assert caught.value.location == str(path)


def test_refresh_from_a_local_zip_or_folder(store: OsvStore, tmp_path: Path) -> None:
    assert store.refresh(_zip(tmp_path / "all.zip")).imported == 9
    assert store.refresh(str(RECORDS)).unchanged == 9


def test_refresh_downloads_over_https(store: OsvStore, tmp_path: Path) -> None:
    payload = _zip(tmp_path / "all.zip").read_bytes()
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=payload)

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        url = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
        report = store.refresh(url, client=client)
    assert seen == [url]
    assert (report.source, report.imported) == (url, 9)


def test_refresh_reports_a_failed_download(store: OsvStore) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404)

    with httpx.Client(transport=httpx.MockTransport(answer)) as client, pytest.raises(InputError):
        store.refresh("https://example.org/all.zip", client=client)


def test_refresh_refuses_plain_http(store: OsvStore) -> None:
    with pytest.raises(UsageError):
        store.refresh("http://example.org/all.zip")


def test_oversized_and_bomb_members_are_refused(store: OsvStore, tmp_path: Path) -> None:
    path = _zip(tmp_path / "all.zip")
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("BOMB-1.json", b"[" + b" " * (4 * 1024 * 1024) + b"]")
        archive.writestr("BIG-1.json", json.dumps({"id": "BIG-1", "pad": "x" * 5000}))
    report = store.import_zip(path, max_member_bytes=3 * 1024 * 1024)
    assert report.imported == 9
    refused = [e.location for e in report.errors if str(e).startswith(f"{e.location}: refused")]
    assert refused == [f"{path}!BOMB-1.json"]  # 4 MiB of spaces, compressed a thousandfold
    small = store.import_zip(path, max_member_bytes=4000)
    assert [e.location for e in small.errors if "refused" in str(e)] == [
        f"{path}!BOMB-1.json", f"{path}!BIG-1.json"]


def test_a_zip_larger_than_the_total_cap_is_refused(store: OsvStore, tmp_path: Path) -> None:
    path = _zip(tmp_path / "all.zip")
    with pytest.raises(InputError, match="refused: more than 100 bytes"):
        store.import_zip(path, max_total_bytes=100)


def test_a_file_that_is_not_sqlite_is_a_usage_error(tmp_path: Path) -> None:
    bogus = tmp_path / "osv.sqlite"
    bogus.write_bytes(b"this is not a database, just text" * 100)
    with pytest.raises(UsageError, match="not an OSV database: "):
        OsvStore(bogus)


def _serve(routes: dict[str, httpx.Response]) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        return routes[str(request.url)]
    return httpx.Client(transport=httpx.MockTransport(answer), follow_redirects=True)


def test_refresh_follows_only_https_redirects(store: OsvStore, tmp_path: Path) -> None:
    payload = _zip(tmp_path / "all.zip").read_bytes()
    with _serve({"https://a.example/all.zip": httpx.Response(
                     302, headers={"location": "https://b.example/all.zip"}),
                 "https://b.example/all.zip": httpx.Response(200, content=payload)}) as client:
        assert store.refresh("https://a.example/all.zip", client=client).imported == 9
    downgrade = _serve({"https://a.example/all.zip": httpx.Response(
                            301, headers={"location": "http://b.example/all.zip"}),
                        "http://b.example/all.zip": httpx.Response(200, content=payload)})
    with downgrade as client, pytest.raises(UsageError, match="not HTTPS"):
        store.refresh("https://a.example/all.zip", client=client)


def test_refresh_caps_the_download(store: OsvStore, tmp_path: Path) -> None:
    payload = _zip(tmp_path / "all.zip").read_bytes()
    served = _serve({"https://a.example/all.zip": httpx.Response(200, content=payload)})
    with served as client, pytest.raises(InputError, match="refused: "):
        store.refresh("https://a.example/all.zip", client=client, max_bytes=1000)
