"""Tell people: mail, chat webhooks (Slack, Teams, any URL) and tickets."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from watchkeeper.response.actions._support import EMAIL, HttpOperationAction
from watchkeeper.response.actions.base import (
    Action,
    ActionContext,
    ActionFailed,
    ActionInputs,
    ActionKind,
    ActionOutputs,
    Connector,
    Plan,
)
from watchkeeper.response.adapters import httpapi, webhooks
from watchkeeper.response.adapters.mail import message_id, send_mail
from watchkeeper.response.outbound import Outbound


class EmailInputs(ActionInputs):
    to: list[str] = Field(min_length=1, max_length=100)
    """Recipients' addresses."""
    subject: str = Field(min_length=1, max_length=500)
    """One line."""
    body: str = Field(max_length=1_000_000)
    """Plain text."""

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if not EMAIL.fullmatch(a.strip())]
        if bad:
            raise ValueError(f"not e-mail addresses: {', '.join(map(repr, bad))}")
        return [a.strip() for a in value]

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("the subject must be one line")
        return value


class EmailOutputs(ActionOutputs):
    message_id: str
    """The same for every try of the step."""
    recipients: list[str]


class EmailSend(Action[EmailInputs, EmailOutputs]):
    """Send a plain-text mail through an ``smtp`` connector."""

    name = "email.send"
    title = "Send an e-mail"
    kind: ClassVar[ActionKind] = ActionKind.COMMUNICATION
    Inputs = EmailInputs
    Outputs = EmailOutputs
    connector_types: ClassVar[tuple[str, ...]] = ("smtp",)

    def __init__(self, outbound: Outbound | None = None) -> None:
        self.outbound = outbound or Outbound()

    def run(self, ctx: ActionContext, inputs: EmailInputs) -> EmailOutputs:
        connector = ctx.connector(self.connector_types)
        sent = send_mail(ctx, connector, self.outbound.resolve, inputs.to, inputs.subject,
                         inputs.body)
        return EmailOutputs(message_id=sent, recipients=inputs.to)

    def plan(self, ctx: ActionContext, inputs: EmailInputs) -> Plan:
        connector = ctx.connector(self.connector_types)
        return Plan(f"{connector.name}: mail {inputs.subject!r} to {', '.join(inputs.to)}",
                    list(inputs.to), {"message_id": message_id(ctx.idempotency_key),
                                      "recipients": inputs.to})


class PostInputs(ActionInputs):
    text: str = Field(min_length=1, max_length=40_000)
    """The message."""
    fields: dict[str, Any] = Field(default_factory=dict)
    """Name → value pairs shown under the text."""


class WebhookInputs(PostInputs):
    payload: dict[str, Any] | None = None
    """Sent as it is instead of ``{"text": …, "fields": …}``."""


class PostOutputs(ActionOutputs):
    status: int
    """The HTTP status of the answer."""


class _Post(Action[Any, PostOutputs]):
    kind: ClassVar[ActionKind] = ActionKind.COMMUNICATION
    Outputs = PostOutputs
    style: ClassVar[Literal["slack", "teams", "webhook"]]

    def __init__(self, outbound: Outbound | None = None) -> None:
        self.outbound = outbound or Outbound()

    def payload(self, inputs: Any) -> dict[str, Any]:
        if self.style == "slack":
            return webhooks.slack_payload(inputs.text, inputs.fields)
        if self.style == "teams":
            return webhooks.teams_payload(inputs.text, inputs.fields)
        return webhooks.webhook_payload(inputs.text, inputs.fields, inputs.payload)

    def run(self, ctx: ActionContext, inputs: Any) -> PostOutputs:
        connector = ctx.connector(self.connector_types)
        response = webhooks.post(self.outbound, ctx, connector, self.payload(inputs))
        return PostOutputs(status=response.status)

    def plan(self, ctx: ActionContext, inputs: Any) -> Plan:
        connector: Connector = ctx.connector(self.connector_types)
        return Plan(f"{connector.name}: post {self.style} message {inputs.text[:80]!r}",
                    [connector.name], {"status": 200})


class SlackPost(_Post):
    """Post a message to a Slack channel through its incoming webhook (secret ``url``)."""

    name = "slack.post"
    title = "Post to Slack"
    Inputs = PostInputs
    connector_types: ClassVar[tuple[str, ...]] = ("slack",)
    style = "slack"


class TeamsPost(_Post):
    """Post a message card to a Microsoft Teams channel through its incoming webhook."""

    name = "teams.post"
    title = "Post to Teams"
    Inputs = PostInputs
    connector_types: ClassVar[tuple[str, ...]] = ("teams",)
    style = "teams"


class WebhookPost(_Post):
    """POST JSON to a URL (secret ``url``): ``payload`` when given, else the text and fields."""

    name = "webhook.post"
    title = "Post to a webhook"
    Inputs = WebhookInputs
    connector_types: ClassVar[tuple[str, ...]] = ("webhook",)
    style = "webhook"


class TicketInputs(ActionInputs):
    title: str = Field(min_length=1, max_length=500)
    description: str = Field("", max_length=100_000)
    severity: Literal["info", "low", "medium", "high", "critical"] = "medium"
    """Passed as ``{severity}``; map it in the operation's body."""


class TicketOutputs(ActionOutputs):
    ticket_id: str
    """The ticket system's id of the new ticket."""
    status: int


class TicketCreate(HttpOperationAction[TicketInputs, TicketOutputs]):
    """Open a ticket: operation ``create_ticket``; ``ticket_id`` is read from the answer at
    the operation's ``outputs.ticket_id`` path (default ``id``)."""

    name = "ticket.create"
    title = "Create a ticket"
    kind: ClassVar[ActionKind] = ActionKind.COMMUNICATION
    Inputs = TicketInputs
    Outputs = TicketOutputs
    operation = "create_ticket"

    def outputs(self, ctx: ActionContext, connector: Connector, inputs: TicketInputs,
                result: httpapi.Result, request: httpapi.Prepared) -> TicketOutputs:
        ticket = result.outputs.get("ticket_id", httpapi.dig(result.body, "id"))
        if ticket is None:
            raise ActionFailed(f"connector {connector.name!r}: the ticket system's answer has "
                               "no id (set outputs.ticket_id on create_ticket)", retryable=False)
        return TicketOutputs(ticket_id=str(ticket), status=result.status)

    def assumed(self, ctx: ActionContext, connector: Connector, inputs: TicketInputs,
                request: httpapi.Prepared) -> dict[str, Any]:
        return {"ticket_id": "(dry run)", "status": 201}
