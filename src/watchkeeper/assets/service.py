"""Keeping the asset table: create or update by name, delete, list, and its frame form
for the enrichment stage."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import select

from watchkeeper.assets.model import CRITICALITIES, EXPOSURES, KINDS, AssetRow
from watchkeeper.audit.service import AuditLog
from watchkeeper.errors import NotFoundError, UsageError
from watchkeeper.state.db import StateDB

ASSET_SCHEMA = {
    "name": pl.String,
    "ip": pl.String,
    "criticality": pl.String,
    "owner": pl.String,
    "tags": pl.String,
}


def asset_dict(row: AssetRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "ip": row.ip,
        "criticality": row.criticality,
        "owner": row.owner,
        "tags": row.tags,
        "kind": row.kind,
        "team": row.team,
        "exposure": row.exposure,
        "environment": row.environment,
        "updated_by": row.updated_by,
        "updated_at": row.updated_at,
    }


class AssetService:
    def __init__(self, db: StateDB, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit
        self._versions = itertools.count(1)
        self.version = 0
        """A new value on every change, so that the pipeline knows to reload the table."""

    def put(
        self,
        actor: str,
        name: str,
        criticality: str = "medium",
        ip: str | None = None,
        owner: str | None = None,
        tags: str | None = None,
        *,
        kind: str = "host",
        team: str | None = None,
        exposure: str | None = None,
        environment: str | None = None,
    ) -> dict[str, Any]:
        name = name.strip().lower()
        if not name:
            raise UsageError("an asset needs a name")
        if criticality not in CRITICALITIES:
            raise UsageError(
                f"unknown criticality {criticality!r} (known: {', '.join(CRITICALITIES)})"
            )
        if kind not in KINDS:
            raise UsageError(f"unknown asset kind {kind!r} (known: {', '.join(KINDS)})")
        if exposure is not None and exposure not in EXPOSURES:
            raise UsageError(f"unknown exposure {exposure!r} (known: {', '.join(EXPOSURES)})")
        with self.db.session() as session:
            row = session.execute(select(AssetRow).where(AssetRow.name == name)).scalar()
            before = asset_dict(row) if row else None
            if row is None:
                row = AssetRow(name=name, updated_by=actor)
                session.add(row)
            row.criticality, row.ip, row.owner, row.tags = criticality, ip, owner, tags
            row.kind, row.team, row.exposure, row.environment = kind, team, exposure, environment
            row.updated_by, row.updated_at = actor, datetime.now(UTC)
            session.flush()
            after = asset_dict(row)
            action = "asset.update" if before else "asset.create"
            self.audit.append(session, actor, action, "asset", name, before, after)
        self.version = next(self._versions)
        return after

    def delete(self, actor: str, asset_id: int) -> None:
        with self.db.session() as session:
            row = session.get(AssetRow, asset_id)
            if row is None:
                raise NotFoundError(f"no asset {asset_id}")
            before = asset_dict(row)
            session.delete(row)
            self.audit.append(session, actor, "asset.delete", "asset", row.name, before, None)
        self.version = next(self._versions)

    def list(self) -> list[dict[str, Any]]:
        with self.db.read() as session:
            rows = session.execute(select(AssetRow).order_by(AssetRow.name)).scalars()
            return [asset_dict(row) for row in rows]

    def frame(self) -> pl.DataFrame:
        """The table as enrichment wants it."""
        rows = self.list()
        return pl.DataFrame(
            {key: [row[key] for row in rows] for key in ASSET_SCHEMA}, schema=ASSET_SCHEMA
        )
