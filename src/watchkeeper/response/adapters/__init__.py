"""Connector types: the name a stored connector's ``type`` says → its configuration model.

Built-in types are registered by :func:`default_connector_types`; third parties add theirs
through the ``watchkeeper.connectors`` entry point group (a :class:`ConnectorType`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from watchkeeper.errors import UsageError
from watchkeeper.response.adapters.common import ConnectorConfig, explain
from watchkeeper.response.adapters.directory import LdapConfig
from watchkeeper.response.adapters.httpapi import HttpConfig
from watchkeeper.response.adapters.mail import SmtpConfig
from watchkeeper.response.adapters.netfilter import IptablesConfig, NftablesConfig
from watchkeeper.response.adapters.webhooks import InboundConfig, WebhookConfig

__all__ = ["ConnectorConfig", "ConnectorType", "ConnectorTypes", "default_connector_types"]


@dataclass(frozen=True)
class ConnectorType:
    name: str
    config: type[ConnectorConfig]
    description: str


BUILT_IN = (
    ConnectorType("http", HttpConfig, "any HTTP/JSON API through named operations"),
    ConnectorType("nftables", NftablesConfig, "a host firewall driven by nft"),
    ConnectorType("iptables", IptablesConfig, "a host firewall driven by iptables/ip6tables"),
    ConnectorType("ldap", LdapConfig, "a directory (Active Directory, OpenLDAP)"),
    ConnectorType("smtp", SmtpConfig, "a mail relay"),
    ConnectorType("slack", WebhookConfig, "a Slack incoming webhook"),
    ConnectorType("teams", WebhookConfig, "a Microsoft Teams incoming webhook"),
    ConnectorType("webhook", WebhookConfig, "any URL that takes a JSON POST"),
    ConnectorType("inbound-webhook", InboundConfig,
                  "the secret that signs deliveries to a playbook's webhook trigger"),
)


class ConnectorTypes:
    """Type name → :class:`ConnectorType`; checks a connector's config and secret names."""

    def __init__(self, types: tuple[ConnectorType, ...] = ()) -> None:
        self._types: dict[str, ConnectorType] = {}
        for kind in types:
            self.register(kind)

    def register(self, kind: ConnectorType) -> None:
        if kind.name in self._types and self._types[kind.name] != kind:
            raise UsageError(f"two connector types are registered as {kind.name!r}")
        self._types[kind.name] = kind

    def names(self) -> list[str]:
        return sorted(self._types)

    def get(self, name: str) -> ConnectorType:
        try:
            return self._types[name]
        except KeyError:
            raise UsageError(f"unknown connector type {name!r} "
                             f"(known: {', '.join(self.names())})") from None

    def load_entry_points(self) -> None:
        for entry in entry_points(group="watchkeeper.connectors"):
            self.register(entry.load())

    def validate(self, name: str, type_name: str, config: Mapping[str, Any],
                 secret_names: set[str]) -> dict[str, Any]:
        """The config as stored (JSON), after checking it and the secrets it needs."""
        kind = self.get(type_name)
        try:
            parsed = kind.config.model_validate(dict(config))
        except ValidationError as error:
            raise UsageError(f"connector {name!r} ({type_name}): {explain(error)}") from None
        required, optional = parsed.secret_names()
        missing = sorted(required - secret_names)
        if missing:
            raise UsageError(f"connector {name!r} ({type_name}) needs the secrets "
                             f"{', '.join(missing)}")
        unknown = sorted(secret_names - required - optional)
        if unknown:
            raise UsageError(f"connector {name!r} ({type_name}) has no use for the secrets "
                             f"{', '.join(unknown)}")
        return parsed.model_dump(mode="json", exclude_unset=True)


def default_connector_types() -> ConnectorTypes:
    return ConnectorTypes(BUILT_IN)
