"""Evidence files attached to cases: stored once by content, never run or shown inline.

Bytes go to ``<data_dir>/evidence/<sha256>``: written to a temporary file in the same
folder while hashed and counted, then renamed into place (atomic; the same file
uploaded twice is stored once). The file name the uploader gave is kept, sanitized, in
``case_evidence`` only; it never becomes part of a path.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper.audit.service import AuditLog
from watchkeeper.cases.evidence_model import CaseEvidenceRow
from watchkeeper.cases.model import CaseRow
from watchkeeper.errors import NotFoundError, PayloadTooLarge
from watchkeeper.state.db import StateDB

CHUNK = 1 << 16
MAX_NAME = 200
_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()+,=@-]")
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]{1,100}/[A-Za-z0-9!#$&^_.+-]{1,100}")


def sanitize_name(name: str | None) -> str:
    """A file name safe to store and to send back in ``Content-Disposition``: its last
    path part only (``/`` and ``\\`` both separate), ASCII letters, digits and a few
    punctuation marks (others become ``_``), no leading dots, at most 200 characters."""
    base = re.split(r"[/\\]", name or "")[-1]
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE.sub("_", ascii_name).strip(" .")
    if len(cleaned) > MAX_NAME:
        stem, dot, suffix = cleaned.rpartition(".")
        keep = suffix[:20] if dot else ""
        cleaned = (stem if dot else cleaned)[:MAX_NAME - len(keep) - 1].rstrip(" .")
        cleaned = f"{cleaned}.{keep}" if keep else cleaned
    return cleaned if cleaned.strip("_") else "evidence"


def clean_content_type(value: str | None) -> str:
    """The declared media type without parameters, or ``application/octet-stream``."""
    kind = (value or "").split(";", 1)[0].strip().lower()
    return kind if _CONTENT_TYPE.fullmatch(kind) else "application/octet-stream"


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    size: int


def evidence_dict(row: CaseEvidenceRow) -> dict[str, Any]:
    return {"id": row.id, "case_id": row.case_id, "name": row.name, "size": row.size,
            "sha256": row.sha256, "content_type": row.content_type,
            "uploaded_by": row.uploaded_by, "uploaded_at": row.uploaded_at}


class EvidenceService:
    def __init__(self, db: StateDB, audit: AuditLog, folder: Path, max_bytes: int) -> None:
        self.db = db
        self.audit = audit
        self.folder = folder
        self.max_bytes = max_bytes

    def add(self, actor: str, case_id: int, name: str | None, content_type: str | None,
            source: BinaryIO) -> dict[str, Any]:
        """Store ``source`` (read to its end, up to the size limit) as evidence of a case."""
        with self.db.read() as session:
            _case(session, case_id)
        stored = self.store(source)
        with self.db.session() as session:
            case = _case(session, case_id)
            row = CaseEvidenceRow(case_id=case_id, name=sanitize_name(name), size=stored.size,
                                  sha256=stored.sha256,
                                  content_type=clean_content_type(content_type),
                                  uploaded_by=actor, uploaded_at=datetime.now(UTC))
            session.add(row)
            case.updated_at = datetime.now(UTC)
            session.flush()
            found = evidence_dict(row)
            self.audit.append(session, actor, "case.add_evidence", "case", case_id, None,
                              {"evidence_id": row.id, "name": row.name, "size": row.size,
                               "sha256": row.sha256})
            return found

    def store(self, source: BinaryIO) -> StoredFile:
        """Copy ``source`` into the folder under its SHA-256; refuse it past the limit."""
        self.folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as target:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise PayloadTooLarge(
                            f"evidence file over the limit of {self.max_bytes} bytes "
                            "(setting cases.evidence_max_bytes)")
                    digest.update(chunk)
                    target.write(chunk)
                target.flush()
                os.fsync(target.fileno())
            os.chmod(temporary, 0o440)
            final = self.folder / digest.hexdigest()
            os.replace(temporary, final)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return StoredFile(digest.hexdigest(), size)

    def list(self, case_id: int) -> list[dict[str, Any]]:
        with self.db.read() as session:
            _case(session, case_id)
            rows = session.execute(select(CaseEvidenceRow).where(
                CaseEvidenceRow.case_id == case_id).order_by(CaseEvidenceRow.id)).scalars()
            return [evidence_dict(row) for row in rows]

    def file(self, case_id: int, evidence_id: int) -> tuple[dict[str, Any], Path]:
        """An evidence record of the case and the path of its bytes."""
        with self.db.read() as session:
            row = session.get(CaseEvidenceRow, evidence_id)
            if row is None or row.case_id != case_id:
                raise NotFoundError(f"no evidence {evidence_id} in case {case_id}")
            found = evidence_dict(row)
        path = self.folder / found["sha256"]
        if not path.is_file():
            raise NotFoundError(f"the file of evidence {evidence_id} is missing from the store")
        return found, path


def _case(session: Session, case_id: int) -> CaseRow:
    row = session.get(CaseRow, case_id)
    if row is None:
        raise NotFoundError(f"no case {case_id}")
    return row
