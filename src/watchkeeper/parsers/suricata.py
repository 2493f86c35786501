"""Suricata EVE JSON (``eve.json``): one JSON object per line.

Nested objects are flattened with dots, as the field names of Sigma rules and of
Suricata's own documentation read them: ``event_type``, ``src_ip``, ``dest_port``,
``alert.signature``, ``alert.signature_id``, ``dns.rrname``, ``http.hostname``,
``tls.sni``, ``flow.bytes_toserver``…; lists stay whole, as compact JSON.
``@timestamp`` comes from ``timestamp``. Dataset ``suricata.eve``.
"""

from __future__ import annotations

from typing import ClassVar

from watchkeeper.parsers.base import Parser
from watchkeeper.parsers.jsonlines import JsonLinesParser, sample_objects, windows_json


class SuricataParser(JsonLinesParser):
    """Suricata EVE JSON lines, flattened with dots."""

    name: ClassVar[str] = "suricata"
    description: ClassVar[str] = "Suricata EVE JSON (eve.json)"
    dataset: ClassVar[str] = "suricata.eve"
    time_field: ClassVar[str] = "timestamp"

    @classmethod
    def sniff(cls, head: bytes, filename: str) -> int:
        objects = sample_objects(head)
        if not objects or windows_json(objects):
            return 0
        if not all("event_type" in obj and "timestamp" in obj for obj in objects):
            return 0
        flows = ("flow_id", "src_ip", "in_iface")
        return 95 if any(key in obj for obj in objects for key in flows) else 85


PARSERS: list[type[Parser]] = [SuricataParser]
