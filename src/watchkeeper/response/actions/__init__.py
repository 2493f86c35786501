"""Actions a playbook step can run, and the registry of them by name."""

from __future__ import annotations

from watchkeeper.response.actions.base import ActionRegistry


def default_actions() -> ActionRegistry:
    """TEMPORARY: the stand-in catalog, until the built-in actions land; replace this
    function with the real registry and delete ``_standin.py``."""
    from watchkeeper.response.actions._standin import standin_actions

    return standin_actions()
