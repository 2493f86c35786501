"""The ``http`` connector type: any JSON API, reached through named operations.

A firewall manager, an EDR, an identity provider or a ticketing system is an ``http``
connector whose ``operations`` carry the names the actions call (``block_ip``,
``quarantine_host``, ``create_ticket``…). Each operation's ``path``, ``query`` and ``body``
may hold ``{placeholders}`` filled from the action's inputs: URL-encoded in the path,
JSON values in the body (so an input can never change the request's structure).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from watchkeeper.errors import UsageError
from watchkeeper.response.actions.base import ActionContext, ActionFailed, Connector
from watchkeeper.response.adapters.common import ConnectorConfig, config_of, secret
from watchkeeper.response.outbound import Outbound

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


class Operation(BaseModel):
    """One call of the API: ``{"method": "POST", "path": "/block", "body": {"ip": "{ip}"}}``."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = Field(pattern=r"^/")
    query: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    """JSON sent as the request body; ``None`` sends none."""
    expect_status: list[int] = Field(default_factory=lambda: [200, 201, 202, 204])
    outputs: dict[str, str] = Field(default_factory=dict)
    """Output name → dotted path in the JSON answer, e.g. ``{"ticket_id": "result.number"}``."""


class HttpAuth(BaseModel):
    """``bearer`` (secret ``token``), ``basic`` (``username``, ``password``) or ``header``
    (the secret named by ``secret`` sent as header ``header``)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["none", "bearer", "basic", "header"] = "none"
    header: str = "X-API-Key"
    secret: str = "token"  # noqa: S105 - the name of the secret, not its value


class HttpConfig(ConnectorConfig):
    base_url: str
    headers: dict[str, str] = Field(default_factory=dict)
    """Fixed headers; credentials belong in ``auth`` and the secrets, not here."""
    auth: HttpAuth = Field(default_factory=HttpAuth)
    verify_tls: bool = True
    operations: dict[str, Operation] = Field(default_factory=dict)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be an http:// or https:// URL with a host")
        if parts.username or parts.password:
            raise ValueError("base_url must not hold credentials: use auth and secrets")
        return value.rstrip("/")

    @field_validator("headers")
    @classmethod
    def _no_credentials(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(name for name in value if name.lower() in _CREDENTIAL_HEADERS)
        if bad:
            raise ValueError(f"header {bad[0]!r} carries credentials: use auth and secrets")
        return value

    def secret_names(self) -> tuple[frozenset[str], frozenset[str]]:
        needed = {"none": (), "bearer": ("token",), "basic": ("username", "password"),
                  "header": (self.auth.secret,)}[self.auth.type]
        return frozenset(needed), frozenset()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def fill(template: str, values: Mapping[str, Any], *, encode: bool, where: str) -> str:
    """``template`` with each ``{name}`` replaced (URL-encoded when ``encode``); ``{{`` and
    ``}}`` are literal braces. An unknown name is a UsageError listing the known ones."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)[0]
        if name not in values:
            known = ", ".join(sorted(values)) or "none"
            raise UsageError(f"{where}: unknown placeholder {{{name}}} (known: {known})")
        text = _text(values[name])
        if not encode:
            return text
        if text in (".", ".."):
            # a path segment of dots would climb the API's paths (clients remove them)
            raise UsageError(f"{where}: {{{name}}} cannot be {text!r} in a path")
        return quote(text, safe="")

    return _PLACEHOLDER.sub(one, template)


def fill_body(body: Any, values: Mapping[str, Any], where: str) -> Any:
    """The body with placeholders filled: ``"{ip}"`` alone becomes the input's JSON value,
    inside longer text it becomes text."""
    if isinstance(body, str):
        whole = _PLACEHOLDER.fullmatch(body)
        if whole is not None and whole.group(1) is not None:
            if whole.group(1) not in values:
                fill(body, values, encode=False, where=where)
            return values[whole.group(1)]
        return fill(body, values, encode=False, where=where)
    if isinstance(body, list):
        return [fill_body(item, values, where) for item in body]
    if isinstance(body, dict):
        return {key: fill_body(item, values, where) for key, item in body.items()}
    return body


def dig(data: Any, path: str) -> Any:
    """``data["a"]["b"][0]`` for ``a.b.0``; ``None`` when the path is not there."""
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


@dataclass(frozen=True)
class Prepared:
    """A request ready to send; ``describe()`` is what a dry run shows."""

    method: str
    url: str
    query: dict[str, str]
    body: Any
    operation: Operation

    def describe(self) -> str:
        shown = f"{self.method} {self.url}"
        if self.query:
            shown += "?" + "&".join(f"{k}={v}" for k, v in self.query.items())
        if self.body is not None:
            shown += " " + json.dumps(self.body, sort_keys=True)
        return shown


@dataclass(frozen=True)
class Result:
    status: int
    body: Any
    outputs: dict[str, Any] = field(default_factory=dict)


def prepare(connector: Connector, name: str, values: Mapping[str, Any]) -> Prepared:
    """The request operation ``name`` of ``connector`` makes with ``values``."""
    config = config_of(connector, HttpConfig)
    operation = config.operations.get(name)
    if operation is None:
        known = ", ".join(sorted(config.operations)) or "none"
        raise UsageError(f"connector {connector.name!r} has no operation {name!r} "
                         f"(it has: {known}); add it under operations")
    where = f"connector {connector.name!r} operation {name!r}"
    path = fill(operation.path, values, encode=True, where=where)
    query = {k: fill(v, values, encode=False, where=where) for k, v in operation.query.items()}
    body = fill_body(operation.body, values, where)
    return Prepared(operation.method, config.base_url + path, query, body, operation)


def _auth_headers(connector: Connector, auth: HttpAuth) -> dict[str, str]:
    if auth.type == "bearer":
        return {"Authorization": f"Bearer {secret(connector, 'token')}"}
    if auth.type == "basic":
        pair = f"{secret(connector, 'username')}:{secret(connector, 'password')}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode("ascii")}
    if auth.type == "header":
        return {auth.header: secret(connector, auth.secret)}
    return {}


def call(outbound: Outbound, ctx: ActionContext, connector: Connector, name: str,
         values: Mapping[str, Any]) -> Result:
    """Make operation ``name``; its ``outputs`` paths are read from the JSON answer."""
    config = config_of(connector, HttpConfig)
    request = prepare(connector, name, values)
    headers = {**config.headers, **_auth_headers(connector, config.auth)}
    response = outbound.request(
        ctx, connector, request.method, request.url, headers=headers, json_body=request.body,
        params=request.query or None, verify_tls=config.verify_tls,
        expect=request.operation.expect_status)
    body = response.json()
    outputs: dict[str, Any] = {}
    for output, path in request.operation.outputs.items():
        outputs[output] = dig(body, path)
        if outputs[output] is None:
            raise ActionFailed(f"connector {connector.name!r} operation {name!r}: the answer "
                               f"has nothing at {path!r} (for {output})", retryable=False)
    return Result(response.status, body, outputs)
