"""A case's post-mortem report, as Markdown and as a self-contained HTML page.

Both escape every value that came from data (titles, hosts, comments, review text): in
Markdown the punctuation a renderer might act on is backslash-escaped; in HTML everything
goes through ``html.escape``. No scripts, no outside resources.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from watchkeeper.cases.review import QUESTIONS
from watchkeeper.reports import NONE_RECORDED as NONE
from watchkeeper.reports import STYLE, md


def when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def sections(case: dict[str, Any], timeline: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """The report's sections, each a heading and its lines of plain text."""
    review = case.get("review") or {}
    found: list[tuple[str, list[str]]] = [
        ("Summary", [
            f"Severity {case['severity']}, priority {case['priority']}, status "
            f"{case['status']}, TLP:{str(case['tlp']).upper()}",
            f"Opened {when(case['created_at'])} by {case['created_by']}",
            *([f"Contained {when(case['contained_at'])}"] if case.get("contained_at") else []),
            *([f"Resolved {when(case['resolved_at'])}"] if case.get("resolved_at") else []),
            *([f"Closed {when(case['closed_at'])}"] if case.get("closed_at") else []),
        ]),
        ("Timeline", [f"{when(i['at'])} · {i['kind']}"
                      + (f" · {i['who']}" if i.get("who") else "") + f" · {i['text']}"
                      for i in timeline]),
        ("Alerts", [f"{a['rule_title']} ({a['level']}) · first event {when(a['first_seen'])}"
                    for a in case.get("alerts", [])]),
        ("Tasks", [f"[{'x' if t['status'] == 'done' else ' '}] {t['title']}"
                   + (f" · {t['assignee'] or t['role']}" if t.get("assignee") or t.get("role")
                      else "")
                   for t in case.get("tasks", [])]),
    ]
    for key, heading in QUESTIONS:
        text = str(review.get(key) or "")
        found.append((heading, [line for line in text.splitlines() if line.strip()]))
    found.append(("Action items", [item["title"] for item in review.get("action_items", [])]))
    return found


def title_of(case: dict[str, Any]) -> str:
    return f"Post-incident report: case {case['id']} — {case['title']}"


def to_markdown(case: dict[str, Any], timeline: list[dict[str, Any]]) -> str:
    out = [f"# {md(title_of(case))}", ""]
    for name, lines in sections(case, timeline):
        out += [f"## {name}", ""]
        out += [f"- {md(line)}" for line in lines] or [NONE]
        out.append("")
    return "\n".join(out)


def to_html(case: dict[str, Any], timeline: list[dict[str, Any]]) -> str:
    e = html.escape
    title = title_of(case)
    body = [f"<h1>{e(title)}</h1>"]
    for name, lines in sections(case, timeline):
        body.append(f"<h2>{e(name)}</h2>")
        if lines:
            body.append("<ul>" + "".join(f"<li>{e(line)}</li>" for line in lines) + "</ul>")
        else:
            body.append(f'<p class="muted">{NONE}</p>')
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body) + "\n</body>\n</html>\n"
    )
