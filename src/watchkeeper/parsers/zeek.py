"""Zeek logs: JSON (one object per line) and TSV (``#fields`` headers).

Field names are Zeek's own (``ts``, ``uid``, ``id.orig_h``, ``id.resp_p``, ``query``,
``method``, ``server_name``…); a nested ``{"id": {"orig_h": …}}`` layout is flattened
to the same dotted names. ``@timestamp`` comes from ``ts``, epoch seconds or ISO 8601.

Which log a record belongs to (dataset ``zeek.<log>``) is decided, in this order, by
the record's ``_path`` field (Zeek's Kafka and Corelight exports), the TSV ``#path``
header, the file name (``conn.log``, ``dns.00:00:00-01:00:00.log.gz``: the part before
the first dot, when it names a known log), and last by the fields present (see
:data:`FIELD_RULES`); ``zeek.unknown`` when nothing tells.

TSV values are made to read as their JSON counterparts: the unset field (``-``) is
null, the empty field (``(empty)``) an empty string or ``[]``, ``set``/``vector`` values
JSON lists, ``T``/``F`` ``true``/``false``, and ``\\xHH`` escapes are decoded. Numbers
keep Zeek's TSV text (``0.001000`` where JSON writes ``0.001``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from watchkeeper.events.model import DATASET
from watchkeeper.parsers.base import DEFAULT_BATCH_SIZE, ParsedChunk, Parser
from watchkeeper.parsers.jsonlines import (
    JsonLinesParser,
    Record,
    RecordError,
    flatten,
    load_object,
    sample_objects,
    windows_json,
)
from watchkeeper.parsers.lines import sample_lines

KNOWN_LOGS = frozenset(
    (
        "analyzer", "broker", "capture_loss", "cluster", "config", "conn", "conn_long", "dce_rpc",
        "dhcp", "dnp3", "dns", "dpd", "files", "ftp", "http", "intel", "irc", "kerberos",
        "known_certs", "known_hosts", "known_modbus", "known_services", "loaded_scripts", "modbus",
        "mqtt_connect", "mqtt_publish", "mqtt_subscribe", "mysql", "netcontrol", "notice",
        "notice_alarm", "ntlm", "ntp", "ocsp", "openflow", "packet_filter", "pe", "print", "quic",
        "radius", "rdp", "reporter", "rfb", "signatures", "sip", "smb_files", "smb_mapping",
        "smtp", "snmp", "socks", "software", "ssh", "ssl", "stats", "syslog", "traceroute",
        "tunnel", "unified2", "websocket", "weird", "weird_stats", "x509",
    )
)  # fmt: skip
"""Log names taken from file names; another file name says nothing."""


def _any(*alternatives: str) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(keys.split()) for keys in alternatives)


FIELD_RULES: tuple[tuple[str, tuple[frozenset[str], ...]], ...] = (
    ("conn", _any("conn_state", "history orig_pkts")),
    ("dns", _any("qtype_name", "query trans_id", "query rcode")),
    ("x509", _any("certificate.serial", "certificate.subject")),
    ("smb_files", _any("action path name fuid")),
    ("smb_mapping", _any("share_type")),
    ("files", _any("fuid seen_bytes", "fuid analyzers", "fuid mime_type")),
    ("smtp", _any("mailfrom", "rcptto", "helo")),
    ("http", _any("trans_depth method", "trans_depth status_code", "trans_depth uri")),
    ("quic", _any("client_initial_dcid")),
    ("ssl", _any("resumed", "server_name cipher", "ssl_history")),
    ("ssh", _any("auth_success", "auth_attempts")),
    ("rdp", _any("cookie security_protocol", "security_protocol")),
    ("kerberos", _any("request_type client", "request_type service")),
    ("ntlm", _any("server_nb_computer_name", "server_dns_computer_name", "domainname username")),
    ("dce_rpc", _any("endpoint operation")),
    ("dhcp", _any("msg_types", "assigned_addr", "lease_time")),
    ("ftp", _any("command reply_code")),
    ("notice", _any("note")),
    ("weird", _any("name notice peer")),
    ("software", _any("software_type")),
    ("pe", _any("is_exe", "machine os")),
    ("analyzer", _any("analyzer_kind")),
    ("dpd", _any("failure_reason")),
    ("tunnel", _any("tunnel_type")),
    ("snmp", _any("community")),
    ("sip", _any("call_id")),
    ("ocsp", _any("hashAlgorithm")),
    ("intel", _any("seen.indicator")),
    ("capture_loss", _any("percent_lost")),
    ("stats", _any("pkts_proc")),
    ("known_services", _any("port_num port_proto")),
    ("known_certs", _any("issuer_subject serial")),
    ("ntp", _any("stratum")),
    ("socks", _any("bound.host")),
    ("signatures", _any("sig_id")),
)
"""Fields that only one log has, tried in order on records of an unnamed log."""

_PATH = re.compile(r"[A-Za-z0-9_]+")
_HEX_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")
_CACHE_LIMIT = 4096


def log_from_filename(source: str) -> str | None:
    """The log a file name names (``conn.log``, ``conn.00:00:00-01:00:00.log.gz``), if any."""
    base = re.split(r"[/\\!]", source)[-1]
    stem = base.split(".", 1)[0].lower()
    return stem if stem in KNOWN_LOGS else None


def log_from_fields(keys: frozenset[str]) -> str | None:
    """The log whose distinctive fields ``keys`` has (see :data:`FIELD_RULES`)."""
    for log, alternatives in FIELD_RULES:
        if any(required <= keys for required in alternatives):
            return log
    return None


def unescape(value: str) -> str:
    """Zeek TSV's ``\\xHH`` escapes decoded (the bytes read as UTF-8)."""
    if "\\x" not in value:
        return value
    raw = _HEX_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), value.encode())
    return raw.decode("utf-8", "replace")


def _header_value(text: str) -> str:
    return unescape(text) if text.startswith("\\x") else text


class _TsvHeader:
    """The ``#separator``/``#fields``/``#types``… lines in force."""

    def __init__(self) -> None:
        self.separator = "\t"
        self.set_separator = ","
        self.empty = "(empty)"
        self.unset = "-"
        self.path: str | None = None
        self.fields: list[str] = []
        self.types: list[str] = []

    def read(self, line: str) -> None:
        if line.startswith("#separator "):
            self.separator = _header_value(line.split(" ", 1)[1])
            return
        name, _, rest = line[1:].partition(self.separator)
        values = rest.split(self.separator)
        if name == "set_separator":
            self.set_separator = _header_value(values[0])
        elif name == "empty_field":
            self.empty = values[0]
        elif name == "unset_field":
            self.unset = values[0]
        elif name == "path":
            self.path = values[0]
        elif name == "fields":
            self.fields, self.types = values, []
        elif name == "types":
            self.types = values

    def record(self, line: str) -> Record:
        if not self.fields:
            raise RecordError("TSV line before any #fields header")
        values = line.split(self.separator)
        if len(values) != len(self.fields):
            raise RecordError(f"{len(values)} values for {len(self.fields)} #fields")
        types = self.types if len(self.types) == len(values) else [""] * len(values)
        record: Record = {}
        for name, kind, value in zip(self.fields, types, values, strict=True):
            if value == self.unset:
                continue
            if kind.startswith(("set[", "vector[", "table[")):
                items = [] if value == self.empty else value.split(self.set_separator)
                record[name] = [unescape(item) for item in items]
            elif kind == "bool":
                record[name] = value == "T"
            else:
                record[name] = "" if value == self.empty else unescape(value)
        return record


class _ZeekReader:
    """What one stream needs while it is read: its TSV header and the log of each record."""

    def __init__(self, source: str) -> None:
        self.from_filename = log_from_filename(source)
        self.header = _TsvHeader()
        self.logs: dict[frozenset[str], str | None] = {}

    def events(self, line: str) -> list[Record]:
        if line.startswith("#"):
            self.header.read(line)
            return []
        if line.startswith(("{", "[")) or not (self.header.fields or "\t" in line):
            record = flatten(load_object(line))
            path = None
        else:
            record = self.header.record(line)
            path = self.header.path
        record[DATASET] = "zeek." + (self._log(record, path) or "unknown")
        return [record]

    def _log(self, record: Record, tsv_path: str | None) -> str | None:
        named = record.get("_path")
        if isinstance(named, str) and _PATH.fullmatch(named):
            return named
        if tsv_path is not None and _PATH.fullmatch(tsv_path):
            return tsv_path
        if self.from_filename is not None:
            return self.from_filename
        keys = frozenset(record)
        if keys not in self.logs:
            if len(self.logs) >= _CACHE_LIMIT:
                self.logs.clear()
            self.logs[keys] = log_from_fields(keys)
        return self.logs[keys]


class ZeekParser(JsonLinesParser):
    """Zeek JSON and TSV logs; the dataset of each record is ``zeek.<log>``."""

    name: ClassVar[str] = "zeek"
    description: ClassVar[str] = "Zeek logs, JSON or TSV (conn.log, dns.log, http.log…)"
    dataset: ClassVar[str] = "zeek.unknown"
    time_field: ClassVar[str] = "ts"

    @classmethod
    def sniff(cls, head: bytes, filename: str) -> int:
        lines = sample_lines(head)
        starts = {line.split(None, 1)[0] for line in lines if line.startswith("#")}
        if {"#separator", "#fields"} <= starts:
            return 95
        objects = sample_objects(head)
        if not objects or windows_json(objects):
            return 0
        if not all("ts" in obj and "event_type" not in obj for obj in objects):
            return 0
        zeek_keys = ("uid", "id.orig_h", "id", "fuid", "_path")
        if any(key in obj for obj in objects for key in zeek_keys):
            return 90
        return 70 if log_from_filename(filename) else 0

    def parse(
        self, stream: BinaryIO, source: str, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[ParsedChunk]:
        return self.parse_lines(stream, source, batch_size, _ZeekReader(source).events)


PARSERS: list[type[Parser]] = [ZeekParser]
