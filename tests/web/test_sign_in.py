"""Signing in and out with a real browser: the form, the session cookie, the redirects."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tests.web.seed import ADMIN
from tests.web.ui import expect, sign_in
from watchkeeper.auth.sessions import cookie_name

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

SESSION = cookie_name(False)


def _session_cookies(context: BrowserContext) -> list[dict[str, object]]:
    return [dict(c) for c in context.cookies() if c["name"] == SESSION]


def test_the_admin_signs_in_and_gets_an_http_only_session(page: Page,
                                                          context: BrowserContext) -> None:
    sign_in(page, ADMIN)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Alerts")
    expect(page.locator("header .who")).to_contain_text("(admin)")
    [cookie] = _session_cookies(context)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"


def test_a_wrong_password_shows_an_error_and_opens_no_session(
    page: Page, context: BrowserContext
) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(ADMIN[0])
    page.get_by_label("Password").fill("not the password at all")
    with page.expect_response(lambda r: r.url.endswith("/login")
                              and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 401
    expect(page.get_by_role("alert")).to_contain_text(re.compile("password", re.IGNORECASE))
    expect(page.get_by_label("Password")).to_be_visible()
    assert _session_cookies(context) == []
    page.goto("/alerts")
    expect(page).to_have_url(re.compile(r"/login\?next=/alerts$"))


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(page: Page) -> None:
    page.goto("/rules")
    expect(page).to_have_url(re.compile(r"/login\?next=/rules$"))
    page.get_by_label("Username").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/rules$"))
    page.get_by_role("button", name="Sign out").click()
    page.goto("/login?next=//elsewhere.example/steal")
    page.get_by_label("Username").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/alerts$"))


def test_signing_out_ends_the_session(page: Page, context: BrowserContext) -> None:
    sign_in(page, ADMIN)
    [old] = context.cookies()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Sign in to Watchkeeper")).to_be_visible()
    assert _session_cookies(context) == []
    page.goto("/alerts")
    expect(page).to_have_url(re.compile(r"/login\?next=/alerts$"))
    expect(page.locator("header")).to_have_count(0)
    # The old cookie, put back: the server has ended its session, not only the browser.
    context.add_cookies([{"name": old["name"], "value": old["value"], "domain": old["domain"],
                          "path": old["path"]}])
    page.goto("/alerts")
    expect(page).to_have_url(re.compile(r"/login\?next=/alerts$"))
