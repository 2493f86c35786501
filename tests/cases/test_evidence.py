"""Evidence files: uploaded through the API as multipart, stored once by SHA-256 under the
data folder, sent back only as attachments; names cannot reach outside the store."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serverfixtures import Api, make_settings, open_api
from watchkeeper.cases.evidence import EvidenceService, clean_content_type, sanitize_name
from watchkeeper.cases.service import NewCase
from watchkeeper.errors import PayloadTooLarge

LIMIT = 64 << 10


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Api]:
    """A server whose evidence limit is 64 KiB."""
    yield from open_api(make_settings(tmp_path / "data", cases={"evidence_max_bytes": LIMIT}))


def new_case(api: Api) -> int:
    return int(api.services.cases.create("alice", NewCase(title="Evidence case"))["id"])


@pytest.mark.parametrize(("given", "kept"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system32\\evil.dll", "evil.dll"),
    ("/abs/path/report.pdf", "report.pdf"),
    ("..", "evidence"),
    ("....", "evidence"),
    ("", "evidence"),
    (None, "evidence"),
    (".htaccess", "htaccess"),
    ("mal\x00ware\r\n.exe", "mal_ware__.exe"),
    ('quote"and;semi.txt', "quote_and_semi.txt"),
    ("Résumé café.docx", "Resume cafe.docx"),
    ("a" * 300 + ".pcap", "a" * 195 + ".pcap"),
])
def test_names_are_sanitized(given: str | None, kept: str) -> None:
    assert sanitize_name(given) == kept


def test_content_types_are_cleaned() -> None:
    assert clean_content_type("Text/Plain; charset=utf-8") == "text/plain"
    assert clean_content_type("text/html\r\nX-Evil: 1") == "application/octet-stream"
    assert clean_content_type(None) == "application/octet-stream"


def test_an_upload_is_stored_by_its_hash_and_downloaded_as_an_attachment(api: Api) -> None:
    case_id = new_case(api)
    content = b"MZ\x90\x00" + bytes(range(256)) * 40 + b"<script>alert(1)</script>"
    answer = api.client.post(
        f"/api/v1/cases/{case_id}/evidence", headers=api.bearer("analyst"),
        files={"file": ("../../../tmp/dropper.exe", content, "application/x-msdownload")})
    assert answer.status_code == 201, answer.text
    made = answer.json()
    digest = hashlib.sha256(content).hexdigest()
    assert made["sha256"] == digest
    assert made["size"] == len(content)
    assert made["name"] == "dropper.exe"
    assert made["content_type"] == "application/x-msdownload"
    assert made["uploaded_by"] == "analyst"
    folder = api.services.settings.data_dir / "evidence"
    stored = folder / digest
    assert stored.read_bytes() == content
    assert not stored.stat().st_mode & 0o111, "evidence is never executable"
    assert sorted(p.name for p in folder.iterdir()) == [digest], "no temporary file left"
    assert not (api.services.settings.data_dir.parent / "tmp" / "dropper.exe").exists()

    again = api.client.post(
        f"/api/v1/cases/{case_id}/evidence", headers=api.bearer("analyst"),
        files={"file": ("copy.exe", content, "application/octet-stream")})
    assert again.status_code == 201
    assert sorted(p.name for p in folder.iterdir()) == [digest], "stored once"

    listed = api.client.get(f"/api/v1/cases/{case_id}/evidence", headers=api.bearer("viewer"))
    assert [e["name"] for e in listed.json()["evidence"]] == ["dropper.exe", "copy.exe"]
    download = api.client.get(f"/api/v1/cases/{case_id}/evidence/{made['id']}",
                              headers=api.bearer("viewer"))
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-disposition"] == 'attachment; filename="dropper.exe"'
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"] == "application/octet-stream"
    assert "sandbox" in download.headers["content-security-policy"]
    assert api.client.get(f"/api/v1/cases/{case_id}/evidence/999",
                          headers=api.bearer("viewer")).status_code == 404
    other = new_case(api)
    assert api.client.get(f"/api/v1/cases/{other}/evidence/{made['id']}",
                          headers=api.bearer("viewer")).status_code == 404
    audit = api.client.get("/api/v1/audit", headers=api.bearer("analyst"),
                           params={"object_type": "case"}).json()
    assert "case.add_evidence" in {entry["action"] for entry in audit}


def test_uploads_need_the_right_and_a_file(api: Api) -> None:
    case_id = new_case(api)
    url = f"/api/v1/cases/{case_id}/evidence"
    refused = api.client.post(url, headers=api.bearer("viewer"),
                              files={"file": ("a.txt", b"x", "text/plain")})
    assert refused.status_code == 403
    empty = api.client.post(url, headers=api.bearer("analyst"), data={"other": "x"},
                            files={"note": ("a.txt", b"x", "text/plain")})
    assert empty.status_code == 400
    assert "field 'file'" in empty.json()["message"]
    missing = api.client.post("/api/v1/cases/999/evidence", headers=api.bearer("analyst"),
                              files={"file": ("a.txt", b"x", "text/plain")})
    assert missing.status_code == 404
    assert not (api.services.settings.data_dir / "evidence").exists()


def test_files_over_the_limit_get_413(small: Api) -> None:
    case_id = new_case(small)
    url = f"/api/v1/cases/{case_id}/evidence"
    fits = small.client.post(url, headers=small.bearer("analyst"),
                             files={"file": ("fits.bin", b"x" * LIMIT, "text/plain")})
    assert fits.status_code == 201, fits.text
    over = small.client.post(url, headers=small.bearer("analyst"),
                             files={"file": ("big.bin", b"x" * (LIMIT + 1), "text/plain")})
    assert over.status_code == 413
    assert over.json()["message"] == (
        f"evidence file over the limit of {LIMIT} bytes (setting cases.evidence_max_bytes)")
    far_over = small.client.post(url, headers=small.bearer("analyst"),
                                 files={"file": ("huge.bin", b"x" * (LIMIT * 4), "text/plain")})
    assert far_over.status_code == 413
    folder = small.services.settings.data_dir / "evidence"
    assert [p.name for p in folder.iterdir()] == [hashlib.sha256(b"x" * LIMIT).hexdigest()]
    listed = small.client.get(url, headers=small.bearer("viewer")).json()["evidence"]
    assert [e["name"] for e in listed] == ["fits.bin"]


def test_other_routes_keep_the_small_body_limit(small: Api) -> None:
    case_id = new_case(small)
    big = {"body": "x" * (2 << 20)}
    answer = small.client.post(f"/api/v1/cases/{case_id}/comments",
                               headers=small.bearer("analyst"), json=big)
    assert answer.status_code == 413
    observable = small.client.post(
        f"/api/v1/cases/{case_id}/observables", headers=small.bearer("analyst"),
        json={"kind": "user", "value": "x" * (2 << 20)})
    assert observable.status_code == 413
    assert "1048576 bytes" in observable.json()["message"]


def test_the_service_refuses_past_the_limit_and_leaves_nothing(tmp_path: Path) -> None:
    service = EvidenceService(None, None, tmp_path / "evidence", 10)  # type: ignore[arg-type]
    stored = service.store(io.BytesIO(b"0123456789"))
    assert stored.sha256 == hashlib.sha256(b"0123456789").hexdigest()
    with pytest.raises(PayloadTooLarge):
        service.store(io.BytesIO(b"0123456789A"))
    assert [p.name for p in (tmp_path / "evidence").iterdir()] == [stored.sha256]
