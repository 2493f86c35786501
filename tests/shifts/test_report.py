"""Markdown and HTML renderings, compared exactly; data never becomes markup."""

from __future__ import annotations

from typing import Any

from watchkeeper.shifts.report import md, to_html, to_markdown

CONTENT: dict[str, Any] = {
    "id": 3, "shift": "night", "author": "nick", "members": ["nick"],
    "period": {"start": "2026-11-23T20:00:00.000000+00:00",
               "end": "2026-11-24T07:30:00.000000+00:00"},
    "alerts": {"open": {"new": 2, "acknowledged": 1}, "new_high_total": 1, "new_high": [
        {"id": 9, "level": "critical", "rule_title": "<script>alert(1)</script> & *bold*",
         "host": "h1", "risk_score": 95, "status": "new"}]},
    "changes": [{"at": "2026-11-23T21:00:00.000000+00:00", "actor": "ann",
                 "summary": "rule r-1 disabled"}],
    "incidents": {"items": [], "source": None}, "tasks": {"items": [], "source": None},
}


def test_markdown_exactly() -> None:
    assert to_markdown(CONTENT) == """\
# Handover 3: shift night

From 2026-11-23 20:00 UTC to 2026-11-24 07:30 UTC, written by nick; on shift: nick.

## Open alerts

- 2 new, 1 acknowledged
- 1 high or critical raised in the period

## High and critical alerts in the period

- \\#9 \\[critical\\] \\<script\\>alert\\(1\\)\\</script\\> \\& \\*bold\\* on h1 \\(risk 95, new\\)

## Notable changes

- 2026-11-23 21:00 UTC ann: rule r-1 disabled

## Open incidents

None recorded.

## SLAs breached or due soon

None recorded.

## Pending approvals and tasks

None recorded.

## Containment in force

None recorded.
"""


def test_markdown_escapes_on_one_line() -> None:
    assert md("a\nb <i>") == "a b \\<i\\>"


def test_html_escapes_and_is_self_contained() -> None:
    page = to_html({"content": CONTENT, "acknowledged_by": "<b>dana</b>",
                    "acknowledged_at": "2026-11-24T08:00:00+00:00"})
    assert "<script>" not in page
    assert ("<li>#9 [critical] &lt;script&gt;alert(1)&lt;/script&gt; &amp; *bold* on h1 "
            "(risk 95, new)</li>") in page
    assert "Acknowledged by &lt;b&gt;dana&lt;/b&gt; at 2026-11-24 08:00 UTC." in page
    assert "<h2>Open incidents</h2>\n<p>None recorded.</p>" in page
    assert "src=" not in page
    assert "href=" not in page
    assert page.startswith("<!doctype html>")
