"""The ``ldap`` connector type: disable and enable accounts in a directory (ldap3).

Active Directory marks a disabled account with bit 2 (ACCOUNTDISABLE) of
``userAccountControl``; other directories (OpenLDAP, 389-ds) use an attribute such as
``pwdAccountLockedTime`` or ``nsAccountLock``, named in the configuration.
"""

from __future__ import annotations

import importlib
import ssl
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from watchkeeper.response.actions.base import ActionContext, ActionFailed, Connector
from watchkeeper.response.adapters.common import ConnectorConfig, config_of, secret
from watchkeeper.response.outbound import Resolver, connector_timeout, pinned_address

ACCOUNTDISABLE = 0x2


def ldap3_module() -> ModuleType:
    """ldap3, imported on first use: its ASN.1 library warns about its own deprecations on
    import, which is no concern of Watchkeeper's users."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for extra in ("ldap3.core.exceptions", "ldap3.utils.conv"):
            importlib.import_module(extra)
        return importlib.import_module("ldap3")


class LdapConfig(ConnectorConfig):
    url: str
    """``ldap://host[:389]`` or ``ldaps://host[:636]``."""
    starttls: bool = False
    verify_tls: bool = True
    base_dn: str = Field(min_length=1)
    user_filter: str = "(sAMAccountName={user})"
    """``{user}`` is replaced by the escaped user name."""
    mode: Literal["active_directory", "attribute"] = "active_directory"
    attribute: str = "nsAccountLock"
    disabled_value: str = "TRUE"
    enabled_value: str | None = None
    """Value when enabled; ``None`` removes the attribute."""

    @field_validator("url")
    @classmethod
    def _ldap_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
            raise ValueError("url must be ldap://host or ldaps://host")
        return value

    def secret_names(self) -> tuple[frozenset[str], frozenset[str]]:
        return frozenset({"bind_dn", "password"}), frozenset()


Connect = Callable[[Connector, LdapConfig, float], Any]
"""Opens a bound connection; tests pass one that returns an ldap3 MOCK_SYNC connection."""


def make_connect(resolve: Resolver) -> Connect:
    """A real connection to the address the host resolves to, checked like HTTP calls."""

    def connect(connector: Connector, config: LdapConfig, timeout: float) -> Any:
        ldap3 = ldap3_module()
        parts = urlsplit(config.url)
        host = parts.hostname or ""
        use_ssl = parts.scheme == "ldaps"
        port = parts.port or (636 if use_ssl else 389)
        address = pinned_address(connector, host, port, resolve)
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED if config.verify_tls else ssl.CERT_NONE,
                        valid_names=[host], sni=host)
        server = ldap3.Server(address, port=port, use_ssl=use_ssl, tls=tls,
                              connect_timeout=timeout)
        connection = ldap3.Connection(server, user=secret(connector, "bind_dn"),
                                      password=secret(connector, "password"),
                                      receive_timeout=timeout, raise_exceptions=True)
        connection.open()
        if config.starttls and not use_ssl:
            connection.start_tls()
        connection.bind()
        return connection

    return connect


@dataclass(frozen=True)
class AccountChange:
    dn: str
    was_disabled: bool
    changed: bool


class Directory:
    """Finds one account by name and flips its disabled state."""

    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    def set_disabled(self, ctx: ActionContext, connector: Connector, user: str,
                     disabled: bool) -> AccountChange:
        config = config_of(connector, LdapConfig)
        try:
            connection = self._connect(connector, config, connector_timeout(ctx, connector))
            try:
                return self._change(connection, config, user, disabled)
            finally:
                connection.unbind()
        except ldap3_module().core.exceptions.LDAPException as exc:
            raise ActionFailed(f"connector {connector.name!r}: LDAP error "
                               f"({type(exc).__name__})") from None

    def state(self, ctx: ActionContext, connector: Connector, user: str) -> AccountChange:
        """Where the account stands, changing nothing (for ``before()``)."""
        config = config_of(connector, LdapConfig)
        connection = self._connect(connector, config, connector_timeout(ctx, connector))
        try:
            dn, disabled, _ = self._find(connection, config, user)
            return AccountChange(dn, disabled, changed=False)
        finally:
            connection.unbind()

    def _find(self, connection: Any, config: LdapConfig,
              user: str) -> tuple[str, bool, Any]:
        attribute = "userAccountControl" if config.mode == "active_directory" else config.attribute
        escaped = ldap3_module().utils.conv.escape_filter_chars(user)
        query = config.user_filter.replace("{user}", escaped)
        connection.search(config.base_dn, query, attributes=[attribute])
        entries = list(connection.response or [])
        entries = [e for e in entries if e.get("type") == "searchResEntry"]
        if len(entries) != 1:
            raise ActionFailed(f"{len(entries)} directory accounts match {user!r}; "
                               "expected exactly one", retryable=False)
        dn = str(entries[0]["dn"])
        values = entries[0]["attributes"].get(attribute)
        value = values[0] if isinstance(values, list) and values else values
        if config.mode == "active_directory":
            flags = int(value or 0)
            return dn, bool(flags & ACCOUNTDISABLE), flags
        return dn, value is not None and str(value) == config.disabled_value, value

    def _change(self, connection: Any, config: LdapConfig, user: str,
                disabled: bool) -> AccountChange:
        ldap3 = ldap3_module()
        dn, was_disabled, value = self._find(connection, config, user)
        if was_disabled == disabled:
            return AccountChange(dn, was_disabled, changed=False)
        if config.mode == "active_directory":
            flags = value | ACCOUNTDISABLE if disabled else value & ~ACCOUNTDISABLE
            change: dict[str, Any] = {"userAccountControl": [(ldap3.MODIFY_REPLACE, [flags])]}
        elif disabled or config.enabled_value is not None:
            new = config.disabled_value if disabled else config.enabled_value
            change = {config.attribute: [(ldap3.MODIFY_REPLACE, [new])]}
        else:
            change = {config.attribute: [(ldap3.MODIFY_DELETE, [])]}
        if not connection.modify(dn, change):
            raise ActionFailed(f"the directory refused to change {dn}: "
                               f"{connection.result.get('description')}", retryable=False)
        return AccountChange(dn, was_disabled, changed=True)
