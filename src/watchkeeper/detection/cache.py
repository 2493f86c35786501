"""A cache of loaded rule sets, so that a hunt over a small input does not spend most
of its time parsing thousands of rules again.

The key is a hash of the Watchkeeper version, the placeholder values and every rule
file's path and content; the value is the loaded rules (their IR) and failures, as
JSON — data only, nothing in the cache can run code. The newest few entries are kept.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from watchkeeper import __version__
from watchkeeper.detection import ir
from watchkeeper.detection.logsource import LogSource
from watchkeeper.detection.rules import Rule, RuleFailure, RuleSet

KEEP = 8
FORMAT = 2


def ruleset_key(
    documents: Sequence[tuple[str, str | RuleFailure]],
    placeholders: Mapping[str, Sequence[str]] | None,
) -> str:
    digest = hashlib.sha256(f"{__version__}\0{FORMAT}\0".encode())
    digest.update(orjson.dumps(placeholders or {}, option=orjson.OPT_SORT_KEYS))
    for where, text in documents:
        digest.update(where.encode() + b"\0")
        digest.update(text.encode() if isinstance(text, str) else repr(text).encode())
        digest.update(b"\0")
    return digest.hexdigest()


class RuleCache:
    """Rule sets stored as JSON files in ``directory`` (created private to the user)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def get(self, key: str) -> RuleSet | None:
        path = self.directory / f"{key}.json"
        try:
            document = orjson.loads(path.read_bytes())
            ruleset = RuleSet(
                rules=[decode_rule(item) for item in document["rules"]],
                failed=[RuleFailure(**item) for item in document["failed"]],
            )
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None
        os.utime(path)
        return ruleset

    def put(self, key: str, ruleset: RuleSet) -> None:
        document = {
            "rules": [encode_rule(rule) for rule in ruleset.rules],
            "failed": [
                {"path": f.path, "rule_id": f.rule_id, "reason": f.reason} for f in ruleset.failed
            ],
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            with tempfile.NamedTemporaryFile(dir=self.directory, delete=False) as handle:
                handle.write(orjson.dumps(document))
            os.replace(handle.name, self.directory / f"{key}.json")
            self._prune()
        except OSError:
            return  # a cache that cannot be written is only slower

    def _prune(self) -> None:
        entries = sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for stale in entries[:-KEEP]:
            stale.unlink(missing_ok=True)


def encode_rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "title": rule.title,
        "level": rule.level,
        "status": rule.status,
        "tags": list(rule.tags),
        "logsource": [rule.logsource.product, rule.logsource.service, rule.logsource.category],
        "condition": encode_node(rule.condition),
        "path": rule.path,
        "description": rule.description,
        "falsepositives": list(rule.falsepositives),
        "author": rule.author,
    }


def decode_rule(item: dict[str, Any]) -> Rule:
    product, service, category = item["logsource"]
    return Rule(
        id=item["id"],
        title=item["title"],
        level=item["level"],
        status=item["status"],
        tags=tuple(item["tags"]),
        logsource=LogSource(product, service, category),
        condition=decode_node(item["condition"]),
        path=item["path"],
        description=item["description"],
        falsepositives=tuple(item["falsepositives"]),
        author=item["author"],
    )


def encode_node(node: ir.Node) -> Any:
    if isinstance(node, ir.And | ir.Or):
        return [type(node).__name__, [encode_node(c) for c in node.children]]
    if isinstance(node, ir.Not):
        return ["Not", encode_node(node.child)]
    if isinstance(node, ir.Const):
        return ["Const", node.value]
    if isinstance(node, ir.FieldTest):
        return ["FieldTest", node.field, encode_test(node.test)]
    return ["KeywordTest", encode_test(node.test)]


def decode_node(item: Any) -> ir.Node:
    kind = item[0]
    if kind == "And":
        return ir.And(tuple(decode_node(c) for c in item[1]))
    if kind == "Or":
        return ir.Or(tuple(decode_node(c) for c in item[1]))
    if kind == "Not":
        return ir.Not(decode_node(item[1]))
    if kind == "Const":
        return ir.Const(bool(item[1]))
    if kind == "FieldTest":
        return ir.FieldTest(item[1], decode_test(item[2]))
    if kind == "KeywordTest":
        test = decode_test(item[1])
        if not isinstance(test, ir.StrMatch | ir.RegexMatch):
            raise ValueError(f"a keyword cannot hold {type(test).__name__}")
        return ir.KeywordTest(test)
    raise ValueError(f"unknown node {kind!r}")


def encode_test(test: ir.Test) -> Any:
    if isinstance(test, ir.StrMatch):
        parts = [[1, p.value] if isinstance(p, ir.Wildcard) else [0, p] for p in test.parts]
        return ["Str", test.kind.value, test.value, test.cased, parts]
    if isinstance(test, ir.RegexMatch):
        return ["Regex", test.pattern, test.ignore_case, test.multiline, test.dotall]
    if isinstance(test, ir.CidrMatch):
        return ["Cidr", [str(n) for n in test.networks]]
    if isinstance(test, ir.NullMatch):
        return ["Null"]
    if isinstance(test, ir.ExistsMatch):
        return ["Exists", test.exists]
    if isinstance(test, ir.CompareMatch):
        return ["Compare", test.op.value, test.number]
    if isinstance(test, ir.FieldRefMatch):
        return ["FieldRef", test.other, test.kind.value, test.cased]
    return ["TimePart", test.part, test.number]


def decode_test(item: Any) -> ir.Test:
    kind = item[0]
    if kind == "Str":
        parts = tuple(ir.Wildcard(text) if wild else str(text) for wild, text in item[4])
        return ir.StrMatch(ir.StrKind(item[1]), item[2], bool(item[3]), parts)
    if kind == "Regex":
        return ir.RegexMatch(item[1], bool(item[2]), bool(item[3]), bool(item[4]))
    if kind == "Cidr":
        return ir.CidrMatch(tuple(ipaddress.ip_network(n) for n in item[1]))
    if kind == "Null":
        return ir.NullMatch()
    if kind == "Exists":
        return ir.ExistsMatch(bool(item[1]))
    if kind == "Compare":
        return ir.CompareMatch(ir.CompareOp(item[1]), float(item[2]))
    if kind == "FieldRef":
        return ir.FieldRefMatch(item[1], ir.StrKind(item[2]), bool(item[3]))
    if kind == "TimePart":
        return ir.TimePartMatch(str(item[1]), int(item[2]))
    raise ValueError(f"unknown test {kind!r}")
