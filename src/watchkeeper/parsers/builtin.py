"""The built-in parsers: each module listed here exposes ``PARSERS``, a list of classes."""

from __future__ import annotations

from importlib import import_module

from watchkeeper.parsers.base import Parser

BUILTIN_MODULES = (
    "evtx",
    "winxml",
    "jsonlog",
    "sysmon_linux",
    "syslog",
    "auditd",
    "cloudtrail",
    "zeek",
    "suricata",
    "parsed",
)


def builtin_parsers() -> list[type[Parser]]:
    parsers: list[type[Parser]] = []
    for module in BUILTIN_MODULES:
        parsers.extend(import_module(f"watchkeeper.parsers.{module}").PARSERS)
    return parsers
