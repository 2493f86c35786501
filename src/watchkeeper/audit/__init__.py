"""The audit log: every change on the record, hash-chained, checked by ``watchkeeper audit verify``.

    from watchkeeper.audit import AuditLog
    with db.session() as session:
        ...change something...
        AuditLog(db).append(session, actor, "alert.acknowledge", "alert", alert_id,
                            before={"status": "new"}, after={"status": "acknowledged"})
"""

from watchkeeper.audit.chain import canonical_json, entry_hash
from watchkeeper.audit.model import GENESIS_HASH, AuditEntry, AuditHead
from watchkeeper.audit.service import AuditLog, AuditRecord, VerifyResult, verify

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditHead",
    "AuditLog",
    "AuditRecord",
    "VerifyResult",
    "canonical_json",
    "entry_hash",
    "verify",
]
