"""The ``slack``, ``teams`` and ``webhook`` connector types: post JSON to an incoming webhook.

The webhook URL is itself a credential (whoever has it can post), so it is the secret
``url``, never configuration, and errors name only its host.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from watchkeeper.response.actions.base import ActionContext, Connector
from watchkeeper.response.adapters.common import ConnectorConfig, config_of, secret
from watchkeeper.response.outbound import Outbound, Response


class WebhookConfig(ConnectorConfig):
    headers: dict[str, str] = Field(default_factory=dict)
    verify_tls: bool = True

    def secret_names(self) -> tuple[frozenset[str], frozenset[str]]:
        return frozenset({"url"}), frozenset()


class InboundConfig(ConnectorConfig):
    """The secret that signs deliveries to a playbook's webhook trigger (nothing is sent
    out through it)."""

    def secret_names(self) -> tuple[frozenset[str], frozenset[str]]:
        return frozenset({"signing_key"}), frozenset()


def slack_payload(text: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"text": text}
    if fields:
        payload["attachments"] = [{"fields": [
            {"title": str(k), "value": str(v), "short": True} for k, v in fields.items()]}]
    return payload


def teams_payload(text: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"@type": "MessageCard", "@context": "https://schema.org/extensions",
                               "summary": text[:100], "text": text}
    if fields:
        payload["sections"] = [{"facts": [
            {"name": str(k), "value": str(v)} for k, v in fields.items()]}]
    return payload


def webhook_payload(text: str, fields: Mapping[str, Any],
                    payload: Mapping[str, Any] | None) -> dict[str, Any]:
    if payload is not None:
        return dict(payload)
    return {"text": text, "fields": dict(fields)}


def post(outbound: Outbound, ctx: ActionContext, connector: Connector,
         payload: Mapping[str, Any]) -> Response:
    config = config_of(connector, WebhookConfig)
    return outbound.request(ctx, connector, "POST", secret(connector, "url"),
                            headers=config.headers, json_body=dict(payload),
                            verify_tls=config.verify_tls)
