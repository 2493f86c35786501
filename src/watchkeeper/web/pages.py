"""The web UI's pages: sign-in, the alert queue, an alert, rules and exceptions, search,
dead letters. Forms post back with the session's CSRF token; every page checks the
same permissions as the API route it mirrors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from watchkeeper.alerts.service import AlertFilter
from watchkeeper.api.case_evidence import evidence_of, grouping_of, observables_of
from watchkeeper.api.deps import (
    RowId,
    ServicesDep,
    allow,
    client_ip,
    end_session,
    same_origin,
    session_of,
    start_session,
)
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.cases.review import ActionItem, Review, set_review
from watchkeeper.cases.service import NEXT, OPEN_STATUSES
from watchkeeper.detection.rules import LEVELS
from watchkeeper.errors import (
    InputError,
    RuleError,
    UsageError,
    WatchkeeperError,
)
from watchkeeper.kpi import Period, compute
from watchkeeper.kpi.cases import case_report
from watchkeeper.kpi.overview import false_alarm_rates
from watchkeeper.kpi.service import MIN_VERDICTS
from watchkeeper.reports import duration
from watchkeeper.search.request import SearchRequest, TimeRange
from watchkeeper.search.service import SearchResult, run_histogram, run_search
from watchkeeper.web.figures import CHART_HEIGHT, CHART_WIDTH, day_bars
from watchkeeper.web.response_view import case_response, compact, deciders, pretty

if TYPE_CHECKING:
    from watchkeeper.server.services import Services

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)
RANGES = [("1h", "last hour"), ("24h", "last 24 hours"), ("7d", "last 7 days"),
          ("30d", "last 30 days"), ("all", "all time")]
_SPANS = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7),
          "30d": timedelta(days=30)}
OPEN = ("new", "acknowledged")
NOISE_SPAN = timedelta(days=30)
"""The rules page's false-alarm rates: of the alerts created in the last 30 days."""


def when(value: datetime | None) -> str:
    """A time as people read it on the pages: UTC, to the second."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S")


templates.env.filters["when"] = when
templates.env.filters["duration"] = duration
templates.env.filters["compact"] = compact
templates.env.filters["pretty"] = pretty
templates.env.filters["deciders"] = deciders


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


def wants_html(request: Request) -> bool:
    """A person in a browser (a UI page, no bearer token) rather than a program."""
    if "authorization" in request.headers:
        return False
    return not request.url.path.startswith(("/api/", "/metrics", "/healthz"))


TITLES = {400: "That did not work", 403: "Not allowed", 404: "Not found",
          409: "Not possible now", 413: "Too large", 422: "That did not work",
          429: "Too many attempts"}


def error_page(request: Request, status: int, message: str) -> Response:
    """A refusal shown to a person: the same message as the API's, as a page."""
    services = request.app.state.services
    who = None
    try:
        found = session_of(request, services)
        who = found[0] if found else None
    except WatchkeeperError:
        who = None
    page = _page(request, "error.html", who, status=status,
                 title=TITLES.get(status, "Something went wrong"), message=message)
    page.status_code = status
    return page


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _page(
    request: Request, name: str, who: Principal | None, **context: Any
) -> HTMLResponse:
    services = request.app.state.services
    found = session_of(request, services) if who is not None else None
    csrf = found[1].csrf_token if found else ""
    section = "/" + request.url.path.strip("/").split("/")[0]
    return templates.TemplateResponse(
        request, name, {"who": who, "csrf_token": csrf, "section": section, **context}
    )


def _safe_next(target: str) -> str:
    """Only a path on this site: never an open redirect."""
    parts = urlsplit(target)
    # Browsers read a backslash as a slash and drop tabs and newlines: "/\\evil.example"
    # and "/\t/evil.example" would lead off-site.
    odd = "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)
    if odd or parts.scheme or parts.netloc or not target.startswith("/") \
            or target.startswith("//"):
        return "/alerts"
    return target


Viewer = Annotated[Principal, Depends(allow(Permission.ALERTS_READ))]
Triager = Annotated[Principal, Depends(allow(Permission.ALERTS_TRIAGE))]
RuleReader = Annotated[Principal, Depends(allow(Permission.RULES_READ))]
RuleManager = Annotated[Principal, Depends(allow(Permission.RULES_MANAGE))]
Excepter = Annotated[Principal, Depends(allow(Permission.EXCEPTIONS_MANAGE))]
EventReader = Annotated[Principal, Depends(allow(Permission.EVENTS_READ))]
LetterReader = Annotated[Principal, Depends(allow(Permission.DEADLETTERS_READ))]
LetterReplayer = Annotated[Principal, Depends(allow(Permission.DEADLETTERS_REPLAY))]
MetricsReader = Annotated[Principal, Depends(allow(Permission.METRICS_READ))]


@router.get("/")
def home(request: Request, services: ServicesDep) -> Response:
    """The dashboard for someone signed in; the queue (and so the sign-in page) otherwise."""
    try:
        signed_in = session_of(request, services) is not None
    except WatchkeeperError:
        signed_in = False
    return RedirectResponse("/dashboard" if signed_in else "/alerts", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "/alerts") -> HTMLResponse:
    return _page(request, "login.html", None, next=_safe_next(next))


@router.post("/login")
def login(
    request: Request,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form()] = "/alerts",
) -> Response:
    same_origin(request)
    try:
        user = services.auth.authenticate(username, password, client_ip(request))
    except WatchkeeperError as error:
        page = _page(request, "login.html", None, next=_safe_next(next), error=error.message,
                     username=username)
        page.status_code = error.http_status
        page.headers.update(error.http_headers())
        return page
    response = RedirectResponse(_safe_next(next), status_code=303)
    start_session(services, user, response)
    return response


@router.post("/logout")
def logout(request: Request, services: ServicesDep, _: Viewer) -> Response:
    response = RedirectResponse("/login", status_code=303)
    end_session(request, services, response)
    return response


@router.get("/alerts")
def alerts_page(
    request: Request, services: ServicesDep, who: Viewer, status: str = "open",
    host: str | None = None, rule_id: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    statuses = {"open": OPEN, "all": ()}.get(status, (status,))
    alerts, total = services.alerts.list(
        AlertFilter(status=tuple(statuses), host=host or None, rule_id=rule_id or None,
                    limit=200)
    )
    return _page(request, "alerts.html", who, alerts=alerts, total=total, status=status,
                 host=host, can_triage=who.can(Permission.ALERTS_TRIAGE),
                 can_promote=who.can(Permission.CASES_MANAGE))


@router.get("/alerts/{alert_id}")
def alert_page(request: Request, alert_id: RowId, services: ServicesDep,
               who: Viewer) -> HTMLResponse:
    alert = services.alerts.get(alert_id)
    events: list[str] = []
    if who.can(Permission.EVENTS_READ):
        frame = services.store.get(alert["event_ids"][:20])
        events = [
            json.dumps({k: v for k, v in row.items() if v is not None}, default=str, indent=1)
            for row in frame.to_dicts()
        ]
    return _page(request, "alert.html", who, alert=alert, events=events,
                 can_triage=who.can(Permission.ALERTS_TRIAGE),
                 can_promote=who.can(Permission.CASES_MANAGE),
                 templates=services.cases.templates.names,
                 case_id=services.cases.case_of_alert(alert_id))


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(alert_id: RowId, services: ServicesDep, who: Triager) -> Response:
    services.alerts.acknowledge(alert_id, who.actor)
    return RedirectResponse("/alerts", status_code=303)


@router.post("/alerts/{alert_id}/close")
def close(
    alert_id: RowId, services: ServicesDep, who: Triager,
    verdict: Annotated[str, Form()], note: Annotated[str | None, Form(max_length=10_000)] = None,
) -> Response:
    services.alerts.close(alert_id, who.actor, verdict, note or None)
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)


@router.get("/rules")
def rules_page(request: Request, services: ServicesDep, who: RuleReader) -> HTMLResponse:
    return _rules_page(request, services, who)


def _rules_page(request: Request, services: Services, who: Principal,
                **form: Any) -> HTMLResponse:
    active = services.rules.active
    now = datetime.now(UTC)
    with services.db.read() as session:
        noise = false_alarm_rates(session, Period.of(now - NOISE_SPAN, now))
    return _page(
        request, "rules.html", who, rules=services.rules.describe(), noise=noise,
        noise_days=NOISE_SPAN.days, active=len(active.rules),
        loaded=len(active.loaded), failed=active.failed, exceptions=services.rules.exceptions(),
        can_manage=who.can(Permission.RULES_MANAGE),
        can_except=who.can(Permission.EXCEPTIONS_MANAGE), **form,
    )


@router.post("/rules/{rule_id}/{action}")
def switch_rule(rule_id: str, action: str, services: ServicesDep, who: RuleManager) -> Response:
    if action not in ("enable", "disable"):
        raise UsageError(f"unknown action {action!r}")
    services.rules.set_rule(rule_id, who.actor, enabled=action == "enable")
    return RedirectResponse("/rules", status_code=303)


@router.post("/rules/exceptions")
def add_exception(
    request: Request, services: ServicesDep, who: Excepter,
    reason: Annotated[str, Form(max_length=2000)], match: Annotated[str, Form(max_length=20_000)],
    rules: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """A refused exception comes back as the rules page with the reason and the form as
    it was typed, so that nothing has to be typed again."""
    names = [r.strip() for r in rules.split(",") if r.strip()] or None
    try:
        try:
            detection = json.loads(match)
        except json.JSONDecodeError as error:
            raise UsageError(f"match is not valid JSON: {error}") from None
        services.rules.add_exception(who.actor, names, reason, detection)
    except (UsageError, InputError, RuleError) as error:
        page = _rules_page(request, services, who, error=f"exception not added: {error.message}",
                           typed={"rules": rules, "reason": reason, "match": match})
        page.status_code = error.http_status
        return page
    return RedirectResponse("/rules", status_code=303)


@router.post("/rules/exceptions/{exception_id}/delete")
def delete_exception(exception_id: RowId, services: ServicesDep, who: Excepter) -> Response:
    services.rules.delete_exception(exception_id, who.actor)
    return RedirectResponse("/rules", status_code=303)


@router.get("/search")
async def search_page(
    request: Request, services: ServicesDep, who: EventReader, q: str = "", range: str = "24h"
) -> HTMLResponse:
    span = _SPANS.get(range)
    now = datetime.now(UTC)
    search = SearchRequest(query=q, time=TimeRange(now - span if span else None, None), limit=100)
    result: SearchResult | None = None
    bars: list[dict[str, Any]] = []
    error = None
    try:
        result = await run_in_threadpool(run_search, services.store, search)
        if result.kind == "rows":
            closed = SearchRequest(query=q, time=TimeRange(search.time.start, now)) if span \
                else search
            found = await run_in_threadpool(run_histogram, services.store, closed, 60)
            peak = max((b["count"] for b in found), default=0) or 1
            bars = [{**b, "height": round(100 * b["count"] / peak)} for b in found]
    except UsageError as problem:
        error = str(problem)
    return await run_in_threadpool(  # the page reads the session: not on the event loop
        _page, request, "search.html", who, q=q, range=range, ranges=RANGES, result=result,
        histogram=bars, error=error,
    )


@router.get("/dead-letters")
def letters_page(request: Request, services: ServicesDep, who: LetterReader) -> HTMLResponse:
    letters, total = services.dead_letters.list(200, 0)
    return _page(request, "deadletters.html", who, letters=letters, total=total,
                 can_replay=who.can(Permission.DEADLETTERS_REPLAY))


@router.post("/dead-letters/{letter_id}/replay")
def replay_letter(letter_id: RowId, services: ServicesDep, who: LetterReplayer) -> Response:
    services.dead_letters.replay(letter_id, who.actor, services.replay)
    return RedirectResponse("/dead-letters", status_code=303)


# cases ---------------------------------------------------------------------------------------

CaseReader = Annotated[Principal, Depends(allow(Permission.CASES_READ))]
CaseManager = Annotated[Principal, Depends(allow(Permission.CASES_MANAGE))]


@router.get("/cases")
def cases_page(request: Request, services: ServicesDep, who: CaseReader,
               status: str = "open") -> HTMLResponse:
    statuses = {"open": OPEN_STATUSES, "all": ()}.get(status, (status,))
    cases, total = services.cases.find(tuple(statuses), limit=200)
    return _page(request, "cases.html", who, cases=cases, total=total, status=status)


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: RowId, services: ServicesDep,
              who: CaseReader) -> HTMLResponse:
    case = services.cases.get(case_id)
    extras = {"killchain": grouping_of(services).killchain(case_id),
              "observables": observables_of(services).list(case_id),
              "evidence": evidence_of(services).list(case_id)}
    return _page(request, "case.html", who, case=case, timeline=services.cases.timeline(case_id),
                 **extras, **case_response(services, who, case_id),
                 next_statuses=NEXT[case["status"]],
                 can_manage=who.can(Permission.CASES_MANAGE))


@router.post("/alerts/{alert_id}/promote")
def promote_alert(alert_id: RowId, services: ServicesDep, who: CaseManager,
                  template: Annotated[str | None, Form(max_length=100)] = None) -> Response:
    held = services.cases.case_of_alert(alert_id)
    case_id = held if held is not None else services.cases.promote(
        who.actor, alert_id, template or None)["id"]
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/status")
def case_status(case_id: RowId, services: ServicesDep, who: CaseManager,
                status: Annotated[str, Form(max_length=20)]) -> Response:
    services.cases.update(who.actor, case_id, {"status": status})
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/tasks")
def case_task(case_id: RowId, services: ServicesDep, who: CaseManager,
              title: Annotated[str, Form(max_length=500)],
              assignee: Annotated[str | None, Form(max_length=200)] = None) -> Response:
    services.cases.add_task(who.actor, case_id, title, assignee or None)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/comments")
def case_comment(case_id: RowId, services: ServicesDep, who: CaseManager,
                 body: Annotated[str, Form(max_length=20_000)]) -> Response:
    services.cases.comment(who.actor, case_id, body)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


# metrics -------------------------------------------------------------------------------------

KPI_RANGES = [("7d", "last 7 days"), ("30d", "last 30 days"), ("90d", "last 90 days")]


@router.get("/kpi")
def kpi_page(request: Request, services: ServicesDep, who: MetricsReader, range: str = "30d",
             level: str = "") -> HTMLResponse:
    spans = {"7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90)}
    if range not in spans:
        raise UsageError(f"unknown range {range!r} (known: {', '.join(spans)})")
    now = datetime.now(UTC)
    with services.db.read() as session:
        period = Period.of(now - spans[range], now)
        report = compute(session, period, level or None)
        cases = case_report(session, period, services.cases.sla)
    return _page(request, "kpi.html", who, report=report, cases=cases, bars=day_bars(report.volume),
                 chart_width=CHART_WIDTH, chart_height=CHART_HEIGHT, ranges=KPI_RANGES,
                 range=range, levels=LEVELS, min_verdicts=MIN_VERDICTS)


@router.post("/cases/{case_id}/review")
def case_review(
    case_id: RowId, services: ServicesDep, who: CaseManager,
    what_happened: Annotated[str, Form(max_length=20_000)] = "",
    what_worked: Annotated[str, Form(max_length=20_000)] = "",
    what_to_change: Annotated[str, Form(max_length=20_000)] = "",
    action_items: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """The post-incident review from the case page; one action item per line."""
    # the page edits titles; an assignee given through the API stays with its title
    before = services.cases.get(case_id).get("review") or {}
    assignees = {i["title"]: i.get("assignee") for i in before.get("action_items", [])}
    titles = [line.strip() for line in action_items.splitlines() if line.strip()]
    items = tuple(ActionItem(title, assignees.get(title)) for title in titles)
    set_review(services.cases, who.actor, case_id,
               Review(what_happened, what_worked, what_to_change, items))
    return RedirectResponse(f"/cases/{case_id}", status_code=303)
