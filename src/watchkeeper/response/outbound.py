"""The one way a connector reaches the network: checked addresses, pinned IPs, bounded calls.

A playbook's inputs come from alerts, so a URL or host name an action calls may be chosen by
an attacker. Every call therefore resolves the host once, refuses loopback, private,
link-local, multicast and reserved addresses (unless the connector says ``allow_private``),
connects to the address it checked (no second lookup, so no DNS-rebinding window), follows
no redirect, stops at a deadline and at a size cap, and sends the step's ``Idempotency-Key``.
Error messages name the connector, the method, the host and the address, never a path, a
query or a header, which may carry secrets (a webhook URL is one).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from watchkeeper.errors import UsageError
from watchkeeper.response.actions.base import ActionContext, ActionFailed, Connector

log = logging.getLogger(__name__)

Resolver = Callable[[str, int], list[str]]
"""Host and port → the addresses it resolves to (text), in preference order."""

MAX_RESPONSE_BYTES = 1 << 20
DEFAULT_TIMEOUT_S = 30.0
_RETRYABLE_4XX = frozenset({408, 425, 429})
"""Client errors that mean "later", not "never": timeout, too early, too many requests."""
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses ``getaddrinfo`` gives for ``host``, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ActionFailed(f"cannot resolve {host!r}: {exc}", retryable=True) from None
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in seen:
            seen.append(address)
    return seen


def forbidden_reason(address: str) -> str | None:
    """Why ``address`` is not a public unicast address (``None`` when it is one)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = forbidden_reason(str(embedded))
            return None if inner is None else f"IPv6 embedding {embedded}, {inner}"
    checks = (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback),
              ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
              ("reserved", ip.is_reserved), ("private", ip.is_private),
              ("not globally routable", not ip.is_global))
    return next((f"a {name} address" if name != "not globally routable" else name
                 for name, hit in checks if hit), None)


def pinned_address(connector: Connector, host: str, port: int,
                   resolve: Resolver = system_resolve) -> str:
    """The address to connect to for ``host``, every resolved address checked first.

    One forbidden address among several refuses the lot: an attacker's DNS answer could
    mix a public decoy with the private target."""
    addresses = resolve(host, port)
    if not addresses:
        raise ActionFailed(f"connector {connector.name!r}: {host!r} resolves to no address")
    if not connector.allow_private:
        for address in addresses:
            reason = forbidden_reason(address)
            if reason is not None:
                shown = host if host == address else f"{host!r} ({address})"
                raise ActionFailed(
                    f"connector {connector.name!r}: refused to connect to {shown}: {reason}; "
                    "set allow_private on the connector to allow it", retryable=False)
    return addresses[0]


@dataclass(frozen=True)
class Response:
    """A finished response: status, headers (lower-case names) and the whole body."""

    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    def json(self) -> Any:
        """The body as JSON, or its text when it is not JSON (``None`` when empty)."""
        if not self.body:
            return None
        text = self.body.decode("utf-8", errors="replace")
        try:
            return json.loads(text)
        except ValueError:
            return text


def connector_timeout(ctx: ActionContext, connector: Connector) -> float:
    """The smaller of the step's timeout and the connector's ``timeout_s``."""
    configured = connector.config.get("timeout_s")
    limit = float(configured) if isinstance(configured, int | float) else DEFAULT_TIMEOUT_S
    return max(0.001, min(float(ctx.timeout_s), limit))


@dataclass(frozen=True)
class Outbound:
    """Makes the HTTP calls of every connector. ``resolve`` and ``transport`` are seams for
    tests; the defaults are the system resolver and a real connection."""

    resolve: Resolver = system_resolve
    transport: httpx.BaseTransport | None = None
    max_response_bytes: int = MAX_RESPONSE_BYTES

    def request(self, ctx: ActionContext, connector: Connector, method: str, url: str, *,
                headers: Mapping[str, str] | None = None, json_body: Any = None,
                params: Mapping[str, str] | None = None, verify_tls: bool = True,
                expect: Collection[int] | None = None) -> Response:
        """Send one request; a status outside ``expect`` (default: any 2xx) is ActionFailed."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"connector {connector.name!r}: only http and https URLs with a "
                             f"host can be called, not {parts.scheme or 'a relative'!r} URL")
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
        where = f"connector {connector.name!r}: {method} {host}"
        address = pinned_address(connector, host, port, self.resolve)
        netloc = f"[{address}]" if ":" in address else address
        pinned = urlunsplit((parts.scheme, f"{netloc}:{port}", parts.path or "/", parts.query,
                             ""))
        sent = {"Host": parts.netloc.rpartition("@")[2],
                "Idempotency-Key": ctx.idempotency_key, **(headers or {})}
        timeout = connector_timeout(ctx, connector)
        extensions: dict[str, Any] = {"timeout": httpx.Timeout(timeout).as_dict()}
        if parts.scheme == "https":
            extensions["sni_hostname"] = host
        request = httpx.Request(method, pinned, headers=sent, json=json_body, params=params,
                                extensions=extensions)
        deadline = time.monotonic() + timeout
        # The transport is called directly, not through httpx.Client: the client logs whole
        # URLs, and a webhook URL is a secret. No client also means no proxy from the
        # environment and no redirect handling.
        own = self.transport is None
        transport = self.transport or httpx.HTTPTransport(verify=verify_tls, retries=0)
        try:
            answer = transport.handle_request(request)
            try:
                body = self._read(answer, deadline, where)
            finally:
                answer.close()
            response = Response(answer.status_code,
                                {k.lower(): v for k, v in answer.headers.items()}, body)
        except httpx.TimeoutException:
            raise ActionFailed(f"{where} ({address}): timed out after {timeout:g}s") from None
        except httpx.TransportError as exc:
            raise ActionFailed(f"{where} ({address}): connection failed "
                               f"({type(exc).__name__})") from None
        finally:
            if own:
                transport.close()
        log.info("%s (%s) answered %d", where, address, response.status)
        return _checked(response, where, expect)

    def _read(self, answer: httpx.Response, deadline: float, where: str) -> bytes:
        declared = answer.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            raise ActionFailed(f"{where}: response of {declared} bytes is over the "
                               f"{self.max_response_bytes}-byte cap", retryable=False)
        chunks: list[bytes] = []
        size = 0
        for chunk in answer.iter_bytes():
            size += len(chunk)
            if size > self.max_response_bytes:
                raise ActionFailed(f"{where}: response over the {self.max_response_bytes}-byte "
                                   "cap", retryable=False)
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("deadline")
            chunks.append(chunk)
        return b"".join(chunks)


def _checked(response: Response, where: str, expect: Collection[int] | None) -> Response:
    status = response.status
    if (status in expect) if expect is not None else 200 <= status < 300:
        return response
    if 300 <= status < 400:
        target = urlsplit(response.headers.get("location", "")).hostname or "?"
        raise ActionFailed(f"{where}: answered {status}, a redirect to {target}; redirects "
                           "are not followed", retryable=False)
    retryable = status >= 500 or status in _RETRYABLE_4XX
    raise ActionFailed(f"{where}: answered {status}", retryable=retryable)
