"""The built-in actions, and the registry that also holds third parties' actions.

Actions are registered in one :class:`ActionRegistry`: the built-ins first, then the
``watchkeeper.actions`` entry points, then every declared undo is checked to exist.
"""

from __future__ import annotations

from typing import Any

from watchkeeper.response.actions.base import Action, ActionRegistry
from watchkeeper.response.actions.communication import (
    EmailSend,
    SlackPost,
    TeamsPost,
    TicketCreate,
    WebhookPost,
)
from watchkeeper.response.actions.containment import (
    BlockSender,
    DisableUser,
    EnableUser,
    QuarantineHost,
    ReleaseHost,
    UnblockSender,
)
from watchkeeper.response.actions.enrichment import (
    AssetLookup,
    DnsResolve,
    EventsSearch,
    HttpLookup,
    IntelLookup,
)
from watchkeeper.response.actions.extract import ExtractIndicators
from watchkeeper.response.actions.firewall import BlockDomain, BlockIp, UnblockDomain, UnblockIp
from watchkeeper.response.actions.operations import ChangeRequest, RevokeSessions, VulnRescan
from watchkeeper.response.outbound import Outbound

__all__ = ["built_in_actions", "default_actions"]


def built_in_actions(outbound: Outbound | None = None) -> list[Action[Any, Any]]:
    """One instance of each built-in action, all calling out through ``outbound``."""
    out = outbound or Outbound()
    return [
        BlockIp(out), UnblockIp(out), BlockDomain(out), UnblockDomain(out),
        QuarantineHost(out), ReleaseHost(out), DisableUser(out), EnableUser(out),
        BlockSender(out), UnblockSender(out),
        AssetLookup(), IntelLookup(), EventsSearch(), DnsResolve(), HttpLookup(out),
        ExtractIndicators(),
        EmailSend(out), SlackPost(out), TeamsPost(out), WebhookPost(out), TicketCreate(out),
        ChangeRequest(out), VulnRescan(out), RevokeSessions(out),
    ]


def default_actions(*, outbound: Outbound | None = None,
                    entry_points: bool = True) -> ActionRegistry:
    """The registry every part of Watchkeeper uses: built-ins, then entry points, checked."""
    registry = ActionRegistry()
    for action in built_in_actions(outbound):
        registry.register(action)
    if entry_points:
        registry.load_entry_points()
    registry.check_undo()
    return registry
