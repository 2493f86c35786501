"""What every printable report shares (handover, briefing, post-mortem): Markdown that
renders data literally, the page style, durations as people read them.

Reports escape every value that came from data: in Markdown each punctuation character a
renderer might act on is backslash-escaped, so that a ``<script>`` in a rule title stays
text; in HTML everything goes through ``html.escape``.
"""

from __future__ import annotations

import re
from typing import Any

NONE_RECORDED = "None recorded."
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~&])")
STYLE = """body{font:14px/1.45 system-ui,sans-serif;max-width:50em;margin:2em auto;color:#111}
h1{font-size:1.4em}h2{font-size:1.1em;border-bottom:1px solid #ccc;margin-top:1.5em}
.muted{color:#555}.ack{border:1px solid #999;padding:.5em}
@media print{body{margin:0;max-width:none}}"""


def md(value: Any) -> str:
    """``value`` as Markdown text that renders literally, on one line."""
    text = " ".join(str("" if value is None else value).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def duration(seconds: float | None) -> str:
    """``3d 4h``, ``2h 5m``, ``4m 10s``, ``42s``; a dash when there is nothing to measure."""
    if seconds is None:
        return "–"
    whole = round(seconds)
    sign, whole = ("-" if whole < 0 else ""), abs(whole)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes}m"
    if minutes:
        return f"{sign}{minutes}m {secs}s"
    return f"{sign}{secs}s"
