"""What the browser tests share: the people, the data sent, and how a person signs in.

Importing it skips the importing test module when Playwright is not installed, or fails
it under ``WATCHKEEPER_REQUIRE_SERVICES=1`` (as CI runs).
"""

from __future__ import annotations

import importlib
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import quote

import pytest

from tests.serverfixtures import ROOT
from tests.statefixtures import REQUIRE_ENV


def unavailable(reason: str) -> NoReturn:
    """Skip (a developer without a browser), or fail where the browser is required."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def _sync_api() -> ModuleType:
    try:
        return importlib.import_module("playwright.sync_api")
    except ImportError:
        unavailable("the browser tests need Playwright: pip install -e '.[dev]'")


if TYPE_CHECKING:
    from playwright.sync_api import Page, expect
else:
    expect = _sync_api().expect

ADMIN = ("admin", "correct horse battery staple")
VIEWER = ("viewer1", "viewer password 2026")
WINDOWS_LOG = ROOT / "examples" / "logs" / "windows" / "sysmon-and-security.jsonl"
EXPECTED_TITLES = {"Account Discovery With whoami", "PowerShell With An Encoded Command",
                   "Security Audit Log Cleared"}
RECENT_PROCESSES = 3
SCREENSHOTS_ENV = "WATCHKEEPER_SCREENSHOTS"
"""A folder to keep the screenshots in (the project's docs/screenshots); default: the
test's temporary folder."""


def recent_process_events(now: datetime) -> bytes:
    """Windows 4688 process creations from the last hour, which no example rule matches:
    the search tests find them in the default time range."""
    lines = []
    for n, minutes in enumerate((50, 30, 5)[:RECENT_PROCESSES]):
        lines.append(json.dumps({
            "@timestamp": (now - timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
            "EventID": 4688, "Channel": "Security", "Computer": "ws-hr-02.corp.example",
            "Provider_Name": "Microsoft-Windows-Security-Auditing", "EventRecordID": 9100 + n,
            "NewProcessName": "C:\\Windows\\System32\\notepad.exe",
            "CommandLine": f"notepad.exe report-{n}.txt", "SubjectUserName": "bob",
        }))
    return ("\n".join(lines) + "\n").encode()


def sign_in(page: Page, who: tuple[str, str], then: str = "/alerts") -> None:
    """Sign in through the login form, as a person would, and land on ``then``."""
    page.goto(f"/login?next={quote(then)}")
    page.get_by_label("Username").fill(who[0])
    page.get_by_label("Password").fill(who[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(then) + "$"))
    expect(page.locator("header .who")).to_contain_text(who[0])


def csrf_token(page: Page) -> str:
    """The session's CSRF token, from the hidden field of the page's sign-out form."""
    value = page.locator("header form input[name=csrf_token]").get_attribute("value")
    assert value, "the page carries no CSRF token"
    return value


def screenshot(page: Page, name: str, fallback: Path) -> Path:
    """A PNG of what the browser shows, kept where SCREENSHOTS_ENV says."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or fallback)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), full_page=False)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def now_utc() -> datetime:
    return datetime.now(UTC)
