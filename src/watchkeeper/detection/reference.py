"""The per-event reference evaluator: plain Python over one event at a time.

It is the yardstick the vectorized engine is tested and benchmarked against, and
the fallback for tests that Polars cannot run (regular expressions that the Rust
regex engine lacks, such as look-around and back-references).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from watchkeeper.detection import ir
from watchkeeper.detection.patterns import WHITESPACE, fold, glob_regex, regex_search, regex_text

Event = Mapping[str, str | None]


@lru_cache(maxsize=65536)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def string_matches(match: ir.StrMatch, value: str) -> bool:
    text = value if match.cased else fold(value)
    kind = match.kind
    if kind is ir.StrKind.EQ:
        return text == match.value
    if kind is ir.StrKind.CONTAINS:
        return match.value in text
    if kind is ir.StrKind.PREFIX:
        return text.startswith(match.value)
    if kind is ir.StrKind.SUFFIX:
        return text.endswith(match.value)
    return _compiled(glob_regex(match.parts, anchored=False)).fullmatch(text) is not None


def regex_matches(match: ir.RegexMatch, value: str) -> bool:
    return regex_search(regex_text(match), value)


def parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = value.strip(WHITESPACE)
    if ":" in text and text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text and "%" in text:  # IPv6 zone index
        text = text.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def cidr_matches(match: ir.CidrMatch, value: str) -> bool:
    address = parse_ip(value)
    if address is None:
        return False
    return any(address.version == net.version and address in net for net in match.networks)


def parse_number(value: str) -> float | None:
    text = value.strip(WHITESPACE)
    if "_" in text or not text.isascii():  # Python reads 1_000 and '５'; the engine does not
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return None if math.isnan(number) else number


def compare_matches(match: ir.CompareMatch, value: str) -> bool:
    number = parse_number(value)
    if number is None:
        return False
    op = match.op
    if op is ir.CompareOp.LT:
        return number < match.number
    if op is ir.CompareOp.LTE:
        return number <= match.number
    if op is ir.CompareOp.GT:
        return number > match.number
    if op is ir.CompareOp.GTE:
        return number >= match.number
    return number != match.number


def time_part_matches(match: ir.TimePartMatch, value: str) -> bool:
    text = value.strip(WHITESPACE)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return False
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    part: object = (
        moment.isocalendar().week if match.part == "week" else getattr(moment, match.part, None)
    )
    return part == match.number


def fieldref_matches(match: ir.FieldRefMatch, value: str, other: str) -> bool:
    if not match.cased:
        value, other = fold(value), fold(other)
    if match.kind is ir.StrKind.PREFIX:
        return value.startswith(other)
    if match.kind is ir.StrKind.SUFFIX:
        return value.endswith(other)
    if match.kind is ir.StrKind.CONTAINS:
        return other in value
    return value == other


def test_value(test: ir.Test, value: str | None, event: Event) -> bool:
    """Whether one field value passes one test; a missing value fails all but null/exists."""
    if isinstance(test, ir.NullMatch):
        return value is None
    if isinstance(test, ir.ExistsMatch):
        return (value is not None) == test.exists
    if value is None:
        return False
    if isinstance(test, ir.StrMatch):
        return string_matches(test, value)
    if isinstance(test, ir.RegexMatch):
        return regex_matches(test, value)
    if isinstance(test, ir.CidrMatch):
        return cidr_matches(test, value)
    if isinstance(test, ir.CompareMatch):
        return compare_matches(test, value)
    if isinstance(test, ir.TimePartMatch):
        return time_part_matches(test, value)
    other = event.get(test.other)
    return other is not None and fieldref_matches(test, value, other)


def matches(node: ir.Node, event: Event, keyword_fields: Iterable[str] | None = None) -> bool:
    """Whether ``event`` satisfies ``node``.

    ``keyword_fields`` names the fields that keyword detections search (all fields
    of the event by default).
    """
    if isinstance(node, ir.FieldTest):
        return test_value(node.test, event.get(node.field), event)
    if isinstance(node, ir.And):
        return all(matches(child, event, keyword_fields) for child in node.children)
    if isinstance(node, ir.Or):
        return any(matches(child, event, keyword_fields) for child in node.children)
    if isinstance(node, ir.Not):
        return not matches(node.child, event, keyword_fields)
    if isinstance(node, ir.Const):
        return node.value
    names = event.keys() if keyword_fields is None else keyword_fields
    values = (event.get(name) for name in names)
    return any(v is not None and test_value(node.test, v, event) for v in values)
