"""The action registry the response tests run on.

It is whatever :func:`default_actions` returns: for now the stand-in catalog (same names,
inputs, kinds, connector types and undo as the built-in actions), later the real actions,
with no change to the playbooks or their tests.
"""

from __future__ import annotations

from watchkeeper.response.actions import default_actions
from watchkeeper.response.actions.base import ActionRegistry
from watchkeeper.response.loader import Library, LoadedPlaybook, load_library, load_text


def catalog() -> ActionRegistry:
    return default_actions()


def library(*extra: LoadedPlaybook, builtins: bool = False) -> Library:
    """A library of ``extra`` (and the built-in playbooks when asked)."""
    loaded = Library(load_library([], catalog(), builtins=builtins))
    for playbook in extra:
        loaded.playbooks[playbook.name] = playbook
    return loaded


def playbook(text: str, known: tuple[str, ...] = ()) -> LoadedPlaybook:
    """A playbook from YAML text, fully checked against the catalog."""
    return load_text(text, "test.yml", catalog(), known)
