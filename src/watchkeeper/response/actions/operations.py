"""Ask other teams' systems for work: change (patch) requests, rescans, session revocation."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from watchkeeper.response.actions._support import HttpOperationAction
from watchkeeper.response.actions.base import (
    ActionContext,
    ActionInputs,
    ActionKind,
    ActionOutputs,
    Connector,
)
from watchkeeper.response.adapters import httpapi


class RequestOutputs(ActionOutputs):
    status: int
    """The HTTP status of the answer."""
    reference: str | None
    """The remote's id for the request (operation ``outputs.reference``, else ``id``)."""


class _Request(HttpOperationAction[Any, RequestOutputs]):
    kind: ClassVar[ActionKind] = ActionKind.OPERATIONS
    Outputs = RequestOutputs
    target_field: ClassVar[str]

    def targets(self, inputs: Any) -> list[str]:
        return [str(getattr(inputs, self.target_field))]

    def outputs(self, ctx: ActionContext, connector: Connector, inputs: Any,
                result: httpapi.Result, request: httpapi.Prepared) -> RequestOutputs:
        reference = result.outputs.get("reference", httpapi.dig(result.body, "id"))
        return RequestOutputs(status=result.status,
                              reference=None if reference is None else str(reference))

    def assumed(self, ctx: ActionContext, connector: Connector, inputs: Any,
                request: httpapi.Prepared) -> dict[str, Any]:
        return {"status": 202, "reference": None}


class ChangeInputs(ActionInputs):
    asset: str = Field(min_length=1, max_length=255)
    """The host or application to change."""
    summary: str = Field(min_length=1, max_length=2000)
    """What to change and why."""
    cve: str | None = Field(None, pattern=r"^CVE-\d{4}-\d{4,}$")
    """The vulnerability a patch request is for."""


class ChangeRequest(_Request):
    """Ask for a change on an asset, such as a patch for a CVE: operation ``request_change``."""

    name = "change.request"
    title = "Request a change"
    Inputs = ChangeInputs
    operation = "request_change"
    target_field = "asset"


class RescanInputs(ActionInputs):
    target: str = Field(min_length=1, max_length=255)
    """A host, address or scan target the scanner knows."""


class VulnRescan(_Request):
    """Ask the vulnerability scanner to scan a target again: operation ``rescan``."""

    name = "vuln.rescan"
    title = "Rescan a target"
    Inputs = RescanInputs
    operation = "rescan"
    target_field = "target"


class RevokeInputs(ActionInputs):
    user: str = Field(min_length=1, max_length=256)
    """The account whose sessions end."""


class RevokeSessions(_Request):
    """Sign a user out everywhere (sessions and refresh tokens): operation ``revoke_sessions``."""

    name = "identity.revoke_sessions"
    title = "Revoke a user's sessions"
    Inputs = RevokeInputs
    operation = "revoke_sessions"
    target_field = "user"
