"""The ``smtp`` connector type: send mail through a relay (STARTTLS, implicit TLS or plain).

The relay's name is resolved and checked once, the connection goes to that address, and TLS
still verifies the certificate against the name. The Message-ID comes from the step's
idempotency key, so a retried send is recognisably the same message.
"""

from __future__ import annotations

import hashlib
import smtplib
import socket
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate
from typing import Literal

from pydantic import Field

from watchkeeper.response.actions.base import ActionContext, ActionFailed, Connector
from watchkeeper.response.adapters.common import ConnectorConfig, config_of
from watchkeeper.response.outbound import Resolver, connector_timeout, pinned_address


class SmtpConfig(ConnectorConfig):
    host: str = Field(min_length=1)
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    from_address: str = Field(pattern=r"^[^@\s<>]+@[^@\s<>]+$")
    verify_tls: bool = True

    def secret_names(self) -> tuple[frozenset[str], frozenset[str]]:
        return frozenset(), frozenset({"username", "password"})


class _PinnedSMTP(smtplib.SMTP):
    def __init__(self, address: str, host: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._address = address
        self._host = host

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection((self._address, port), timeout)


class _PinnedSMTPSSL(smtplib.SMTP_SSL):
    def __init__(self, address: str, host: str, timeout: float,
                 context: ssl.SSLContext) -> None:
        super().__init__(timeout=timeout, context=context)
        self.context = context
        self._address = address
        self._host = host

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        plain = socket.create_connection((self._address, port), timeout)
        return self.context.wrap_socket(plain, server_hostname=self._host)


def message_id(key: str) -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@watchkeeper>"


def send_mail(ctx: ActionContext, connector: Connector, resolve: Resolver,
              to: Sequence[str], subject: str, body: str) -> str:
    """Send one plain-text message; returns its Message-ID."""
    config = config_of(connector, SmtpConfig)
    message = EmailMessage()
    message["From"] = config.from_address
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(ctx.now.timestamp(), usegmt=True)
    message["Message-ID"] = message_id(ctx.idempotency_key)
    message.set_content(body)
    address = pinned_address(connector, config.host, config.port, resolve)
    timeout = connector_timeout(ctx, connector)
    context = ssl.create_default_context()
    if not config.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    where = f"connector {connector.name!r}: SMTP {config.host} ({address})"
    client: smtplib.SMTP = (_PinnedSMTPSSL(address, config.host, timeout, context)
                            if config.security == "ssl"
                            else _PinnedSMTP(address, config.host, timeout))
    try:
        client.connect(config.host, config.port)
        if config.security == "starttls":
            client.starttls(context=context)
        username, password = connector.secrets.get("username"), connector.secrets.get("password")
        if username and password:
            client.login(username, password)
        client.send_message(message)
    except smtplib.SMTPResponseException as exc:
        raise ActionFailed(f"{where}: answered {exc.smtp_code}",
                           retryable=exc.smtp_code >= 400 and exc.smtp_code < 500) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise ActionFailed(f"{where}: refused recipients {sorted(exc.recipients)}",
                           retryable=False) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise ActionFailed(f"{where}: {type(exc).__name__}") from None
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    return message_id(ctx.idempotency_key)
