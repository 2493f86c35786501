"""A bound on request bodies, checked before any route reads or parses one.

Ingest routes have their own, larger limit (``http.max_body_bytes``, checked as they
stream); every other body — JSON for the API, forms for the web UI — is small, so anything
beyond :data:`OTHER_BODY_BYTES` is refused with 413 before authentication runs, and an
anonymous caller cannot make the server read megabytes. A few upload routes (evidence
files) are given a wider limit of their own, by method and path pattern.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

OTHER_BODY_BYTES = 1 << 20
INGEST_PREFIX = "/api/v1/ingest"


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int,
                 wider: Sequence[tuple[str, re.Pattern[str], int]] = ()) -> None:
        self.app = app
        self.limit = limit
        self.wider = tuple(wider)
        """``(method, path pattern, limit)``: routes allowed more than ``limit``."""

    def limit_for(self, method: str, path: str) -> int:
        for wide_method, pattern, limit in self.wider:
            if method == wide_method and pattern.fullmatch(path):
                return limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(INGEST_PREFIX):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        seen = 0
        refused = False

        async def bounded() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the app's answer to a body it never got whole: 413 instead
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, bounded, watch)
        except Exception:
            if not refused:
                raise
        if refused and not started:
            await _too_large(send, limit)


async def _too_large(send: Send, limit: int) -> None:
    body = (b'{"error":"PayloadTooLarge","message":"request body over the limit of '
            + str(limit).encode() + b' bytes"}')
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
