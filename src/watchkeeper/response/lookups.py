"""What enrichment actions read from the running Watchkeeper: assets, stored events and
the indicator store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from watchkeeper.assets.service import AssetService
from watchkeeper.intel.service import IntelService
from watchkeeper.search.request import SearchRequest, TimeRange
from watchkeeper.search.service import run_search
from watchkeeper.store.base import EventStore

MAX_EVENTS = 1000


class ServerLookups:
    def __init__(self, assets: AssetService, store: EventStore,
                 intel: IntelService | None = None) -> None:
        self.assets = assets
        self.store = store
        self.intel = intel

    def asset(self, host: str | None, ip: str | None) -> dict[str, Any] | None:
        wanted_host = host.lower() if host else None
        for asset in self.assets.list():
            if (wanted_host and str(asset["name"]).lower() == wanted_host) or \
                    (ip and asset.get("ip") == ip):
                return {k: asset[k] for k in ("name", "ip", "criticality", "owner", "tags")}
        return None

    def search_events(self, query: str, hours: float, limit: int) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        request = SearchRequest(query=query, time=TimeRange(now - timedelta(hours=hours), now),
                                limit=max(1, min(limit, MAX_EVENTS)))
        rows = run_search(self.store, request).rows
        return [{k: _plain(v) for k, v in row.items() if v is not None} for row in rows]

    def indicator(self, value: str) -> list[dict[str, Any]]:
        """The active indicators ``value`` matches, with what the sources say of them."""
        if self.intel is None:
            return []
        return [
            {"id": i.id, "kind": i.kind.value, "value": i.value, "confidence": i.confidence,
             "score": i.score, "tlp": i.tlp, "sources": list(i.sources), "threat": i.threat,
             "tags": list(i.tags), "active": i.active}
            for i in self.intel.lookup(value)
        ]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
