"""``indicators.extract``: addresses, domains, URLs, hashes and e-mail addresses in free text.

Analysts paste defanged indicators (``hxxp://evil[.]com``); they are refanged first. Each
kind is deduplicated in the order first seen. A pure function, no connector.
"""

from __future__ import annotations

import ipaddress
import re
from typing import ClassVar

from pydantic import Field

from watchkeeper.response.actions.base import (
    Action,
    ActionContext,
    ActionInputs,
    ActionKind,
    ActionOutputs,
    Plan,
)

_REFANG = [
    (re.compile(r"h[xX]{2}p(s?)", re.IGNORECASE), r"http\1"),
    (re.compile(r"[\[({]\s*(?:\.|dot)\s*[\])}]", re.IGNORECASE), "."),
    (re.compile(r"[\[({]\s*(?:@|at)\s*[\])}]", re.IGNORECASE), "@"),
    (re.compile(r"[\[({]\s*(:|://)\s*[\])}]"), r"\1"),
]
_URL = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}\b")
_DOMAIN = re.compile(r"(?<![\w@.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                     r"[A-Za-z]{2,24}(?![\w-])")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]*\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_HEX = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32,64}(?![0-9A-Fa-f])")
_HASH_KINDS = {32: "md5", 40: "sha1", 64: "sha256"}
_FILE_SUFFIXES = frozenset({
    "exe", "dll", "sys", "bat", "cmd", "ps1", "vbs", "js", "jar", "txt", "log", "ini", "cfg",
    "conf", "dat", "tmp", "bin", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "pdf", "rtf",
    "png", "jpg", "jpeg", "gif", "bmp", "htm", "html", "php", "asp", "aspx", "json", "xml",
    "csv", "yaml", "yml", "py", "sh", "lnk", "hta", "msi", "iso", "img", "tar", "gz", "tgz",
    "rar", "7z",
})
"""Last labels that are far more often a file name's suffix than a top-level domain."""
_TRAILING = ".,;:!?)]}>'\""


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def refang(text: str) -> str:
    for pattern, replacement in _REFANG:
        text = pattern.sub(replacement, text)
    return text


def extract_indicators(text: str) -> dict[str, list[str]]:
    """``ips``, ``domains``, ``urls``, ``emails``, ``md5``, ``sha1`` and ``sha256`` found."""
    text = refang(text)
    urls = _unique([m.group(0).rstrip(_TRAILING) for m in _URL.finditer(text)])
    emails = _unique([m.group(0).lower() for m in _EMAIL.finditer(text)])
    ips: list[str] = []
    for match in [*_IPV4.finditer(text), *_IPV6.finditer(text)]:
        try:
            ips.append(ipaddress.ip_address(match.group(0)).compressed)
        except ValueError:
            continue
    domains = [m.group(0).lower().rstrip(".") for m in _DOMAIN.finditer(text)]
    domains += [e.rpartition("@")[2] for e in emails]
    found: dict[str, list[str]] = {
        "ips": _unique(ips),
        "domains": _unique([d for d in domains if d.rpartition(".")[2] not in _FILE_SUFFIXES]),
        "urls": urls,
        "emails": emails,
        "md5": [], "sha1": [], "sha256": [],
    }
    for match in _HEX.finditer(text):
        kind = _HASH_KINDS.get(len(match.group(0)))
        if kind is not None:
            found[kind].append(match.group(0).lower())
    for kind in _HASH_KINDS.values():
        found[kind] = _unique(found[kind])
    return found


class ExtractInputs(ActionInputs):
    text: str = Field(max_length=1_000_000)
    """Free text; defanged indicators (``hxxp``, ``[.]``) are refanged."""


class Hashes(ActionOutputs):
    md5: list[str]
    sha1: list[str]
    sha256: list[str]


class ExtractOutputs(ActionOutputs):
    ips: list[str]
    domains: list[str]
    urls: list[str]
    emails: list[str]
    hashes: Hashes
    count: int
    """Indicators found in all."""


class ExtractIndicators(Action[ExtractInputs, ExtractOutputs]):
    """Find IP addresses, domains, URLs, e-mail addresses and MD5/SHA-1/SHA-256 hashes in
    text (an alert, a mail, a report), defanged ones included; each listed once."""

    name = "indicators.extract"
    title = "Extract indicators from text"
    kind: ClassVar[ActionKind] = ActionKind.ENRICHMENT
    Inputs = ExtractInputs
    Outputs = ExtractOutputs
    pure = True

    def run(self, ctx: ActionContext, inputs: ExtractInputs) -> ExtractOutputs:
        found = extract_indicators(inputs.text)
        hashes = Hashes(md5=found["md5"], sha1=found["sha1"], sha256=found["sha256"])
        return ExtractOutputs(ips=found["ips"], domains=found["domains"], urls=found["urls"],
                              emails=found["emails"], hashes=hashes,
                              count=sum(len(v) for v in found.values()))

    def plan(self, ctx: ActionContext, inputs: ExtractInputs) -> Plan:
        outputs = self.run(ctx, inputs)
        return Plan("extract indicators from the text (reads only)", [],
                    outputs.model_dump(mode="json"))
