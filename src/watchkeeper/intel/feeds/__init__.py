"""Feed parsers: STIX 2.1, MISP (feeds and the REST API), plain lists and CSV. Each is
pure: it reads what it is handed and returns a :class:`FeedResult`."""

from watchkeeper.intel.feeds.misp import (
    ManifestEntry,
    changed_events,
    parse_misp_event,
    parse_misp_event_dict,
    read_manifest,
    read_misp_feed,
)
from watchkeeper.intel.feeds.mispapi import pull_misp_api
from watchkeeper.intel.feeds.stix import parse_stix, parse_stix_objects
from watchkeeper.intel.feeds.text import TextMapping, parse_text

__all__ = [
    "ManifestEntry",
    "TextMapping",
    "changed_events",
    "parse_misp_event",
    "parse_misp_event_dict",
    "parse_stix",
    "parse_stix_objects",
    "parse_text",
    "pull_misp_api",
    "read_manifest",
    "read_misp_feed",
]
