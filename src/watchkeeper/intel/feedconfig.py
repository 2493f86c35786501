"""What a feed may be: its name, type, location, options and schedule, checked before it
is stored so that a scheduled run never meets a configuration it cannot use."""

from __future__ import annotations

import re
from typing import Any

from watchkeeper.errors import UsageError
from watchkeeper.intel.feedfetch import check_location
from watchkeeper.intel.feeds import TextMapping

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
FEED_TYPES = ("stix", "taxii", "misp-feed", "misp-api", "csv", "text")
FILE_TYPES = frozenset({"stix", "misp-feed", "csv", "text"})
"""Types that may be a local file (a folder for ``misp-feed``) instead of a URL."""
MIN_INTERVAL_S = 60
MAX_INTERVAL_S = 30 * 86400
_BOOL_OPTIONS = frozenset({"verify_tls"})
_OPTIONS: dict[str, frozenset[str]] = {
    "stix": frozenset({"auth_header"}),
    "misp-feed": frozenset({"auth_header"}),
    "csv": frozenset({"auth_header"}),
    "text": frozenset({"auth_header"}),
    "taxii": frozenset({"collection", "username", "verify_tls", "max_pages"}),
    "misp-api": frozenset({"verify_tls"}),
}
"""Options of each type besides a list mapping's keys (``csv`` and ``text``)."""


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise UsageError(f"feed name {name!r}: lower-case letters, digits, '-' and '_', "
                         "starting with a letter or digit, at most 100")
    return name


def check_type(type_: str) -> str:
    if type_ not in FEED_TYPES:
        raise UsageError(f"unknown feed type {type_!r} (known: {', '.join(FEED_TYPES)})")
    return type_


def check_url_for(type_: str, url: str) -> str:
    return check_location(url, folder=type_ == "misp-feed", files_allowed=type_ in FILE_TYPES)


def check_interval(seconds: int) -> int:
    if isinstance(seconds, bool) or not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
        raise UsageError(f"interval {seconds!r} s is not within {MIN_INTERVAL_S}–"
                         f"{MAX_INTERVAL_S} s")
    return seconds


def check_options(type_: str, options: dict[str, Any], has_secret: bool) -> dict[str, Any]:
    """``options`` when they fit ``type_``; :class:`UsageError` naming the bad one."""
    known = _OPTIONS[type_]
    extra = {k: v for k, v in options.items() if k not in known}
    if type_ in ("csv", "text"):
        mapping(extra)
    elif extra:
        raise UsageError(f"unknown option {sorted(extra)[0]!r} for a {type_} feed "
                         f"(known: {', '.join(sorted(known)) or 'none'})")
    for key, value in options.items():
        if key in _BOOL_OPTIONS and not isinstance(value, bool):
            raise UsageError(f"option {key} must be true or false, not {value!r}")
        if key in ("auth_header", "collection", "username") and (
                not isinstance(value, str) or not value.strip() or len(value) > 500):
            raise UsageError(f"option {key} must be a non-empty text")
    if type_ == "taxii":
        if "collection" not in options:
            raise UsageError("a taxii feed needs the option collection (its id)")
        pages = options.get("max_pages", 100)
        if isinstance(pages, bool) or not isinstance(pages, int) or not 1 <= pages <= 10000:
            raise UsageError(f"option max_pages must be a whole number within 1–10000, "
                             f"not {pages!r}")
        if "username" in options and not has_secret:
            raise UsageError("a taxii feed with a username needs its password as the secret")
    if type_ == "misp-api" and not has_secret:
        raise UsageError("a misp-api feed needs the API key as its secret")
    return dict(options)


def mapping(options: dict[str, Any]) -> TextMapping:
    """The list mapping of a ``csv`` or ``text`` feed (its options less ``auth_header``)."""
    return TextMapping.from_dict({k: v for k, v in options.items() if k != "auth_header"})


def coerce_option(text: str) -> Any:
    """A ``KEY=VALUE`` option's value as typed on a command line: ``true``/``false``,
    whole numbers and JSON lists are converted, anything else stays text."""
    import orjson

    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if text.strip().lstrip("-").isdigit():
        return int(text)
    if text.strip().startswith("["):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
    return text
