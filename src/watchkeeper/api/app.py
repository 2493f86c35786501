"""The ASGI application: every router, one error handler, health and metrics."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from watchkeeper import __version__
from watchkeeper.api.deps import Authenticated
from watchkeeper.api.limits import OTHER_BODY_BYTES, BodyLimit
from watchkeeper.errors import WatchkeeperError

if TYPE_CHECKING:
    from watchkeeper.server.services import Services

log = logging.getLogger(__name__)


def create_app(services: Services) -> FastAPI:
    import watchkeeper.web.admin as admin_pages
    import watchkeeper.web.bulk as bulk_pages
    import watchkeeper.web.dashboard as dashboard_pages
    import watchkeeper.web.handover as handover_pages
    import watchkeeper.web.intel as intel_pages
    import watchkeeper.web.pages as pages
    import watchkeeper.web.playbooks as playbook_pages
    import watchkeeper.web.vulns as vuln_pages
    from watchkeeper.api import (
        alerts,
        assets,
        audit,
        auth,
        case_evidence,
        cases,
        deadletters,
        events,
        ingest,
        intel,
        intel_feeds,
        kpi,
        notifications,
        playbooks,
        rules,
        shifts,
        taxii,
        vulns,
    )

    app = FastAPI(
        title="Watchkeeper",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.services = services
    limit = min(OTHER_BODY_BYTES, services.settings.http.max_body_bytes)
    wider = (*case_evidence.wider_limits(services), *vulns.WIDER_LIMITS, *assets.WIDER_LIMITS,
             *intel.WIDER_LIMITS)
    app.add_middleware(BodyLimit, limit=limit, wider=wider)
    for module in (auth, alerts, cases, kpi, shifts, rules, assets, deadletters, events, ingest,
                   audit, notifications, playbooks, vulns, intel, intel_feeds):
        app.include_router(module.router)
    app.include_router(case_evidence.router)
    taxii.install(app)
    app.include_router(pages.router)
    app.include_router(handover_pages.router)
    app.include_router(dashboard_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(bulk_pages.router)
    app.include_router(playbook_pages.router)
    app.include_router(vuln_pages.router)
    app.include_router(intel_pages.router)
    pages.mount_static(app)

    @app.exception_handler(WatchkeeperError)
    async def watchkeeper_error(request: Request, error: WatchkeeperError) -> Response:
        if pages.wants_html(request) and error.http_status == 401:
            return pages.login_redirect(request)
        if pages.wants_html(request) and error.http_status < 500:
            response = await run_in_threadpool(
                pages.error_page, request, error.http_status, error.message
            )
            response.headers.update(error.http_headers())
            return response
        body: dict[str, object] = {"error": type(error).__name__, "message": error.message}
        if error.location:
            body["location"] = error.location
        headers = error.http_headers()
        if error.http_status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if error.http_status >= 500:
            log.error("request failed", extra={"path": request.url.path, "error": str(error)})
        return JSONResponse(body, status_code=error.http_status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        problems = [
            {"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
            for e in error.errors()
        ]
        return JSONResponse(
            {"error": "UsageError", "message": "invalid request", "problems": problems},
            status_code=422,
        )

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, object]:
        """Liveness and the pipeline's state; needs no authentication."""
        pipeline = services.pipeline
        return {
            "status": "ok" if pipeline.running else "degraded",
            "pipeline": "running" if pipeline.running else "stopped",
            "spool_backlog_bytes": services.spool.backlog_bytes,
            "stored_seq": pipeline.position,
        }

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def metrics(_: Authenticated) -> Response:
        """Prometheus text format; any signed-in user or token (give Prometheus a viewer
        token)."""
        services.metrics.spool_backlog.set(services.spool.backlog_bytes)
        return Response(
            services.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    return app
