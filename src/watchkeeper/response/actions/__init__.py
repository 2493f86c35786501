"""The actions playbooks can take: built-in ones, then those of installed plugins."""

from __future__ import annotations

from watchkeeper.response.actions.base import ActionRegistry


def default_actions() -> ActionRegistry:
    """Every registered action (built-ins, then the ``watchkeeper.actions`` entry points)."""
    registry = ActionRegistry()
    registry.load_entry_points()
    registry.check_undo()
    return registry
