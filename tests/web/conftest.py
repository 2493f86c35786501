"""Fixtures of the browser tests: one live server and one Chromium for the folder, and a
fresh browser context (cookies of its own) for each test.

They run when ``WATCHKEEPER_TEST_CHROMIUM`` names a Chromium binary (Debian's
``chromium`` package; Playwright's own browser download is not used); without it they
are skipped, unless ``WATCHKEEPER_REQUIRE_SERVICES=1``, which makes that a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.serverfixtures import EXAMPLE_RULES
from tests.web.liveserver import LiveServer
from tests.web.seed import ADMIN, ANALYST, VIEWER, WINDOWS_LOG, recent_process_events, unavailable

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM_ENV = "WATCHKEEPER_TEST_CHROMIUM"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    named = os.environ.get(CHROMIUM_ENV)
    if not named:
        unavailable(f"the browser tests need {CHROMIUM_ENV} (e.g. /usr/bin/chromium)")
    path = Path(named)
    if not (path.is_file() and os.access(path, os.X_OK)):
        unavailable(f"{CHROMIUM_ENV}={named} is not an executable file")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium_path),
                                              args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def live(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with an administrator, a viewer, and the example Windows log ingested over
    HTTP (three alerts), plus recent process events to search."""
    server = LiveServer.start(tmp_path_factory.mktemp("site"), EXAMPLE_RULES, ADMIN[1])
    try:
        server.add_user(VIEWER[0], "viewer", VIEWER[1])
        server.add_user(ANALYST[0], "analyst", ANALYST[1])
        token = server.ingest_token(ADMIN[0])
        server.ingest(token, WINDOWS_LOG.read_bytes(), "winlog-json")
        server.ingest(token, recent_process_events(), "winlog-json")
        yield server
    finally:
        server.stop()


@pytest.fixture
def context(browser: Browser, live: LiveServer) -> Iterator[BrowserContext]:
    opened = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 760})
    opened.set_default_timeout(TIMEOUT_MS)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
