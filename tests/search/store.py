"""A small in-memory event table in DuckDB, shaped like the store's relation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb

from watchkeeper.search import CompiledQuery

TZ = "TIMESTAMP WITH TIME ZONE"
COLUMNS: dict[str, str] = {
    "@timestamp": TZ,
    "event.ingested": TZ,
    "event.id": "VARCHAR",
    "event.dataset": "VARCHAR",
    "event.original": "VARCHAR",
    "log.offset": "BIGINT",
    "log.line": "BIGINT",
    "process.name": "VARCHAR",
    "process.executable": "VARCHAR",
    "user.name": "VARCHAR",
    "source.ip": "VARCHAR",
    "EventID": "VARCHAR",
    'odd"name': "VARCHAR",
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


EVENTS: list[dict[str, Any]] = [
    {
        "@timestamp": at("2024-05-01T10:00:00"),
        "event.id": "e1",
        "event.dataset": "windows.sysmon",
        "event.original": "Process Create: powershell.exe -enc SQBFAFgA user=Administrator",
        "log.offset": 100,
        "log.line": 1,
        "process.name": "powershell.exe",
        "process.executable": r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
        "user.name": "Administrator",
        "source.ip": "10.1.2.3",
        "EventID": "1",
        'odd"name': "yes",
    },
    {
        "@timestamp": at("2024-05-01T10:05:00"),
        "event.id": "e2",
        "event.dataset": "windows.sysmon",
        "event.original": "Process Create: cmd.exe /c whoami",
        "log.offset": 2000,
        "process.name": "CMD.EXE",
        "process.executable": r"C:\Windows\System32\cmd.exe",
        "user.name": "admin",
        "source.ip": "192.168.1.20",
        "EventID": "1",
    },
    {
        "@timestamp": at("2024-05-01T11:30:00"),
        "event.id": "e3",
        "event.dataset": "windows.security",
        "event.original": "An account was successfully logged on: alice",
        "log.offset": 50,
        "user.name": "alice",
        "source.ip": "10.200.0.9",
        "EventID": "4624",
    },
    {
        "@timestamp": at("2024-05-02T00:00:00"),
        "event.id": "e4",
        "event.dataset": "linux.auditd",
        "event.original": "type=EXECVE a0=bash 100% done_now",
        "log.offset": 7,
        "process.name": "bash",
        "process.executable": "/usr/bin/bash",
        "user.name": "root",
        "source.ip": "fe80::1",
    },
    {
        "@timestamp": at("2024-04-30T23:59:59.500000"),
        "event.id": "e5",
        "event.dataset": "syslog",
        "event.original": "Failed password for invalid user ärger from 11.0.0.1",
        "process.name": "sshd",
        "user.name": "Ärger",
        "source.ip": "11.0.0.1",
    },
    {
        "event.id": "e6",
        "event.dataset": "syslog",
        "event.original": 'quote " and \\ backslash',
        "log.offset": 9,
        "process.name": "50%_off.exe",
    },
]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect(
    events: list[dict[str, Any]] = EVENTS, columns: dict[str, str] = COLUMNS
) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory database with an ``events`` table holding ``events``."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    spec = ", ".join(f"{quote(name)} {kind}" for name, kind in columns.items())
    connection.execute(f"CREATE TABLE events ({spec})")
    names = list(columns)
    marks = ", ".join("?" for _ in names)
    for event in events:
        row = [event.get(name) for name in names]
        connection.execute(f"INSERT INTO events VALUES ({marks})", row)
    return connection


def run(connection: duckdb.DuckDBPyConnection, compiled: CompiledQuery) -> list[dict[str, Any]]:
    """The result rows as dicts keyed by column name."""
    cursor = connection.execute(compiled.sql, compiled.params)
    names = [column[0] for column in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
