"""A handover's snapshot rendered as Markdown and as a printable, self-contained HTML page.

Both escape every value that came from data (rule titles, hosts, reasons, names): in
Markdown each punctuation character a renderer might act on is backslash-escaped, so that
a ``<script>`` in a rule title stays text; in HTML everything goes through ``html.escape``.
"""

from __future__ import annotations

import html
from typing import Any

from watchkeeper.reports import NONE_RECORDED, STYLE, md


def clock(value: Any) -> str:
    """An ISO 8601 time from the snapshot, as people read it: ``2026-11-29 07:00 UTC``."""
    text = str(value or "")
    return f"{text[:10]} {text[11:16]} UTC" if len(text) >= 16 else text


def sections(content: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The handover as (title, lines of plain text) pairs: what both renderings show."""
    alerts = content.get("alerts", {})
    opened = alerts.get("open", {})
    listed = alerts.get("new_high", [])
    lines = [f"{opened.get('new', 0)} new, {opened.get('acknowledged', 0)} acknowledged",
             f"{alerts.get('new_high_total', len(listed))} high or critical raised in the period"]
    notable = [
        f"#{a['id']} [{a['level']}] {a['rule_title']} on {a.get('host') or 'unknown host'}"
        f" (risk {a['risk_score']}, {a['status']})"
        for a in listed
    ]
    changes = [f"{clock(c['at'])} {c['actor']}: {c['summary']}"
               for c in content.get("changes", [])]
    return [
        ("Open alerts", lines),
        ("High and critical alerts in the period", notable),
        ("Notable changes", changes),
        ("Open incidents", _titles(content.get("incidents", {}))),
        ("SLAs breached or due soon", _titles(content.get("slas", {}))),
        ("Pending approvals and tasks", _titles(content.get("tasks", {}))),
        ("Containment in force", _titles(content.get("containment", {}))),
    ]


def _titles(section: dict[str, Any]) -> list[str]:
    return [str(item.get("title", item)) for item in section.get("items", [])]


def heading(content: dict[str, Any]) -> tuple[str, str]:
    period = content.get("period", {})
    title = f"Handover {content.get('id', '')}: shift {content.get('shift', '')}"
    about = (f"From {clock(period.get('start'))} to {clock(period.get('end'))}, "
             f"written by {content.get('author', '')}")
    members = content.get("members") or []
    if members:
        about += f"; on shift: {', '.join(str(m) for m in members)}"
    return title, about


def to_markdown(content: dict[str, Any]) -> str:
    title, about = heading(content)
    out = [f"# {md(title)}", "", md(about) + ".", ""]
    for name, lines in sections(content):
        out += [f"## {name}", ""]
        out += [f"- {md(line)}" for line in lines] or [NONE_RECORDED]
        out.append("")
    return "\n".join(out)





def to_html(handover: dict[str, Any]) -> str:
    """A page to print or mail: no scripts, no outside resources."""
    content = handover.get("content", {})
    title, about = heading(content)
    e = html.escape
    body = [f"<h1>{e(title)}</h1>", f'<p class="muted">{e(about)}.</p>']
    for name, lines in sections(content):
        body.append(f"<h2>{e(name)}</h2>")
        if lines:
            body.append("<ul>" + "".join(f"<li>{e(line)}</li>" for line in lines) + "</ul>")
        else:
            body.append(f"<p>{NONE_RECORDED}</p>")
    if handover.get("acknowledged_by"):
        body.append(f'<p class="ack">Acknowledged by {e(str(handover["acknowledged_by"]))} '
                    f"at {e(clock(_iso(handover.get('acknowledged_at'))))}.</p>")
    else:
        body.append('<p class="ack">Not acknowledged yet.</p>')
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body) + "\n</body>\n</html>\n"
    )


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")
