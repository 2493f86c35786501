"""How a person uses the pages: signing in, the CSRF token a page carries, screenshots.

Importing it skips the importing test module when Playwright is not installed, or fails
it under ``WATCHKEEPER_REQUIRE_SERVICES=1`` (as CI runs).
"""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING
from urllib.parse import quote

from tests.web.seed import unavailable

__all__ = ["csrf_token", "expect", "screenshot", "sign_in"]

SCREENSHOTS_ENV = "WATCHKEEPER_SCREENSHOTS"
"""A folder to keep the screenshots in (the project's docs/screenshots); default: the
test's temporary folder."""


def _sync_api() -> ModuleType:
    try:
        return importlib.import_module("playwright.sync_api")
    except ImportError:
        unavailable("the browser tests need Playwright: pip install -e '.[dev]'")


if TYPE_CHECKING:
    from playwright.sync_api import Page, expect
else:
    expect = _sync_api().expect


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
