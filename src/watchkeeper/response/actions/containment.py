"""Isolate hosts (EDR), disable accounts (identity provider or directory), block senders."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator

from watchkeeper.response.actions._support import (
    EMAIL,
    ContainmentOutputs,
    HttpOperationAction,
    domain,
)
from watchkeeper.response.actions.base import (
    ActionContext,
    ActionInputs,
    ActionKind,
    Connector,
    Plan,
)
from watchkeeper.response.adapters import httpapi
from watchkeeper.response.adapters.directory import Directory, make_connect
from watchkeeper.response.outbound import Outbound


class _HttpContainment(HttpOperationAction[Any, ContainmentOutputs]):
    kind: ClassVar[ActionKind] = ActionKind.CONTAINMENT
    Outputs = ContainmentOutputs
    target_field: ClassVar[str]

    def targets(self, inputs: Any) -> list[str]:
        return [str(getattr(inputs, self.target_field))]

    def outputs(self, ctx: ActionContext, connector: Connector, inputs: Any,
                result: httpapi.Result, request: httpapi.Prepared) -> ContainmentOutputs:
        reference = str(result.outputs.get("reference") or getattr(inputs, "reference", "")
                        or ctx.idempotency_key)
        return ContainmentOutputs(target=self.targets(inputs)[0], reference=reference,
                                  connector=connector.name, applied=[request.describe()])

    def assumed(self, ctx: ActionContext, connector: Connector, inputs: Any,
                request: httpapi.Prepared) -> dict[str, Any]:
        return ContainmentOutputs(target=self.targets(inputs)[0], reference=ctx.idempotency_key,
                                  connector=connector.name,
                                  applied=[request.describe()]).model_dump(mode="json")

    def undo_inputs(self, inputs: Any, outputs: ContainmentOutputs) -> dict[str, Any]:
        return {**inputs.model_dump(mode="json"), "reference": outputs.reference}


class HostInputs(ActionInputs):
    host: str = Field(min_length=1, max_length=255)
    """The host name or agent id the EDR knows it by."""
    reason: str = Field("", max_length=500)
    """Why: passed to the remote as ``{reason}``."""
    reference: str = Field("", max_length=200)
    """For a release: the quarantine's ``reference``."""


class QuarantineHost(_HttpContainment):
    """Cut a host off the network through the EDR, leaving its agent reachable:
    operation ``quarantine_host``."""

    name = "edr.quarantine_host"
    title = "Quarantine a host"
    Inputs = HostInputs
    operation = "quarantine_host"
    target_field = "host"
    undo = "edr.release_host"


class ReleaseHost(_HttpContainment):
    """Lift a host's quarantine: operation ``release_host``."""

    name = "edr.release_host"
    title = "Release a host from quarantine"
    Inputs = HostInputs
    operation = "release_host"
    target_field = "host"
    undo = "edr.quarantine_host"


class SenderInputs(ActionInputs):
    sender: str
    """An address (``a@example.com``) or a whole domain (``example.com``)."""
    reason: str = Field("", max_length=500)
    """Why: passed to the remote as ``{reason}``."""
    reference: str = Field("", max_length=200)
    """For an unblock: the block's ``reference``."""

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        value = value.strip()
        if "@" in value:
            if not EMAIL.fullmatch(value):
                raise ValueError(f"{value!r} is not an e-mail address")
            local, _, host = value.rpartition("@")
            return f"{local}@{host.lower()}"
        return domain(value)


class BlockSender(_HttpContainment):
    """Stop mail from an address or domain at the mail gateway: operation ``block_sender``."""

    name = "mail.block_sender"
    title = "Block a mail sender"
    Inputs = SenderInputs
    operation = "block_sender"
    target_field = "sender"
    undo = "mail.unblock_sender"


class UnblockSender(_HttpContainment):
    """Let mail from a blocked sender through again: operation ``unblock_sender``."""

    name = "mail.unblock_sender"
    title = "Unblock a mail sender"
    Inputs = SenderInputs
    operation = "unblock_sender"
    target_field = "sender"
    undo = "mail.block_sender"


class UserInputs(ActionInputs):
    user: str = Field(min_length=1, max_length=256)
    """The account name (``sAMAccountName`` on Active Directory by default)."""
    reason: str = Field("", max_length=500)
    """Why: passed to the remote as ``{reason}``."""
    reference: str = Field("", max_length=500)
    """For an enable: the disable's ``reference`` (on ``ldap``, the account's DN)."""
    was_disabled: bool = False
    """For an enable: the account was already disabled before the disable it undoes, so
    enabling it is skipped and the earlier state stays."""


class _Account(_HttpContainment):
    Inputs = UserInputs
    target_field = "user"
    connector_types: ClassVar[tuple[str, ...]] = ("http", "ldap")
    disable: ClassVar[bool]

    def __init__(self, outbound: Outbound | None = None,
                 directory: Directory | None = None) -> None:
        super().__init__(outbound)
        self.directory = directory or Directory(make_connect(self.outbound.resolve))

    def run(self, ctx: ActionContext, inputs: UserInputs) -> ContainmentOutputs:
        connector = ctx.connector(self.connector_types)
        if not self.disable and inputs.was_disabled:
            return ContainmentOutputs(target=inputs.user, reference=inputs.reference,
                                      connector=connector.name, changed=False)
        if connector.type != "ldap":
            return super().run(ctx, inputs)
        change = self.directory.set_disabled(ctx, connector, inputs.user, self.disable)
        verb = "disable" if self.disable else "enable"
        return ContainmentOutputs(target=inputs.user, reference=change.dn,
                                  connector=connector.name, changed=change.changed,
                                  applied=[f"{verb} {change.dn}"] if change.changed else [])

    def plan(self, ctx: ActionContext, inputs: UserInputs) -> Plan:
        connector = ctx.connector(self.connector_types)
        if connector.type != "ldap":
            return super().plan(ctx, inputs)
        verb = "disable" if self.disable else "enable"
        outputs = ContainmentOutputs(target=inputs.user, reference=inputs.reference,
                                     connector=connector.name, applied=[f"{verb} {inputs.user}"])
        return Plan(f"{connector.name}: {verb} the directory account {inputs.user!r}",
                    [inputs.user], outputs.model_dump(mode="json"))

    def before(self, ctx: ActionContext, inputs: UserInputs) -> dict[str, Any]:
        connector = ctx.connector(self.connector_types)
        if connector.type != "ldap":
            return {}
        state = self.directory.state(ctx, connector, inputs.user)
        return {"dn": state.dn, "disabled": state.was_disabled}


class DisableUser(_Account):
    """Disable an account so that it can no longer sign in: operation ``disable_user`` of an
    ``http`` connector, or the account's disabled flag on an ``ldap`` connector."""

    name = "identity.disable_user"
    title = "Disable a user account"
    operation = "disable_user"
    undo = "identity.enable_user"
    disable = True

    def undo_inputs(self, inputs: UserInputs, outputs: ContainmentOutputs) -> dict[str, Any]:
        return {"user": inputs.user, "reason": inputs.reason, "reference": outputs.reference,
                "was_disabled": not outputs.changed}


class EnableUser(_Account):
    """Enable an account again: operation ``enable_user``, or the ``ldap`` disabled flag."""

    name = "identity.enable_user"
    title = "Enable a user account"
    operation = "enable_user"
    undo = "identity.disable_user"
    disable = False

    def undo_inputs(self, inputs: UserInputs, outputs: ContainmentOutputs) -> dict[str, Any]:
        return {"user": inputs.user, "reason": inputs.reason, "reference": outputs.reference}
