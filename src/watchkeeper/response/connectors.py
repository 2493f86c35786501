"""Configured connectors: stored in the state database, secrets sealed, every change audited.

Listings and audit entries carry secret *names* only; values are decrypted by :meth:`get`,
for the call that needs them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper.audit.service import AuditLog
from watchkeeper.errors import NotFoundError, UsageError
from watchkeeper.response.actions.base import Connector
from watchkeeper.response.adapters import ConnectorTypes, default_connector_types
from watchkeeper.response.connector_model import ConnectorRow
from watchkeeper.response.secrets import SecretBox
from watchkeeper.state.base import utcnow
from watchkeeper.state.db import StateDB

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
"""The same names a playbook step's ``connector:`` accepts."""


def _public(row: ConnectorRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "type": row.type,
        "config": row.config,
        "secrets": sorted(row.secret_names),
        "allow_private": row.allow_private,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _audited(row: ConnectorRow) -> dict[str, Any]:
    return {"type": row.type, "config": row.config, "secrets": sorted(row.secret_names),
            "allow_private": row.allow_private}


class ConnectorStore:
    """Create, read, list and delete connectors."""

    def __init__(self, db: StateDB, audit: AuditLog, box: SecretBox,
                 types: ConnectorTypes | None = None) -> None:
        self.db = db
        self.audit = audit
        self.box = box
        self.types = types or default_connector_types()

    def put(self, actor: str, name: str, type: str, config: Mapping[str, Any],
            secrets: Mapping[str, str] | None = None, allow_private: bool = False
            ) -> dict[str, Any]:
        """Create or replace the connector ``name``. ``secrets=None`` keeps the stored ones
        (so that configuration can change without retyping them); a mapping replaces them."""
        if not NAME.fullmatch(name):
            raise UsageError(f"connector name {name!r} must match {NAME.pattern}")
        with self.db.session() as session:
            row = self._row(session, name)
            if secrets is None:
                kept = self.box.open(row.secrets) if row is not None else {}
            else:
                kept = {str(k): str(v) for k, v in secrets.items()}
            empty = sorted(k for k, v in kept.items() if not v)
            if empty:
                raise UsageError(f"connector {name!r}: secret {empty[0]!r} is empty")
            stored = self.types.validate(name, type, config, set(kept))
            before = None if row is None else _audited(row)
            now = utcnow()
            if row is None:
                row = ConnectorRow(name=name, created_by=actor, created_at=now)
                session.add(row)
            row.type = type
            row.config = stored
            row.secrets = self.box.seal(kept)
            row.secret_names = sorted(kept)
            row.allow_private = allow_private
            row.updated_at = now
            session.flush()
            self.audit.append(session, actor, "connector.put", "connector", name,
                              before=before, after=_audited(row))
            return _public(row)

    def get(self, name: str) -> Connector:
        """The connector with its secrets decrypted: for the action about to use it."""
        with self.db.read() as session:
            row = self._existing(session, name)
            return Connector(name=row.name, type=row.type, config=dict(row.config),
                             secrets=self.box.open(row.secrets),
                             allow_private=row.allow_private)

    def describe(self, name: str) -> dict[str, Any]:
        """One connector as :meth:`list` shows it (no secret values)."""
        with self.db.read() as session:
            return _public(self._existing(session, name))

    def list(self) -> list[dict[str, Any]]:
        with self.db.read() as session:
            rows = session.execute(select(ConnectorRow).order_by(ConnectorRow.name))
            return [_public(row) for row in rows.scalars()]

    def delete(self, actor: str, name: str) -> None:
        with self.db.session() as session:
            row = self._existing(session, name)
            before = _audited(row)
            session.delete(row)
            session.flush()
            self.audit.append(session, actor, "connector.delete", "connector", name,
                              before=before)

    @staticmethod
    def _row(session: Session, name: str) -> ConnectorRow | None:
        return session.execute(
            select(ConnectorRow).where(ConnectorRow.name == name)).scalar_one_or_none()

    def _existing(self, session: Session, name: str) -> ConnectorRow:
        row = self._row(session, name)
        if row is None:
            raise NotFoundError(f"no connector named {name!r}")
        return row
