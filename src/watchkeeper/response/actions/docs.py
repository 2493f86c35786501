"""Render ``docs/actions.md`` from the registry, so the reference cannot drift from the code.

Regenerate with ``python -m watchkeeper.response.actions.docs docs/actions.md``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from watchkeeper.response.actions import default_actions
from watchkeeper.response.actions.base import ActionRegistry

REGENERATE = "python -m watchkeeper.response.actions.docs docs/actions.md"

_HEADER = f"""# Actions

What a playbook step's `action:` can name. Each action checks its `with:` inputs against the
table below before anything runs; a containment action records what it changed and names
the action that undoes it. A dry run (`plan`) reports what each would do without doing it.
Connectors are described in [connectors.md](connectors.md).

<!-- Generated from the code: do not edit; run `{REGENERATE}`. -->
"""


def _type(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _type(defs.get(name, {}), defs) if name in defs else name
    if "anyOf" in schema:
        return " or ".join(dict.fromkeys(_type(s, defs) for s in schema["anyOf"]))
    if "enum" in schema:
        return " or ".join(f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    kind = schema.get("type")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}), defs)}"
    if kind == "object" and "properties" in schema:
        return "object (" + ", ".join(schema["properties"]) + ")"
    if kind == "object":
        return "object"
    return str(kind or "any")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _table(model: type[BaseModel], with_default: bool) -> list[str]:
    schema = model.model_json_schema()
    properties: dict[str, Any] = schema.get("properties", {})
    if not properties:
        return ["(none)"]
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    if with_default:
        rows = ["| name | type | required | default | description |",
                "| --- | --- | --- | --- | --- |"]
    else:
        rows = ["| name | type | description |", "| --- | --- | --- |"]
    for name, field in properties.items():
        kind = _cell(_type(field, defs))
        description = _cell(field.get("description", ""))
        if with_default:
            value = model.model_fields[name].get_default(call_default_factory=True)
            default = "" if name in required else f"`{json.dumps(value, default=str)}`"
            rows.append(f"| `{name}` | {kind} | {'yes' if name in required else 'no'} "
                        f"| {_cell(default)} | {description} |")
        else:
            rows.append(f"| `{name}` | {kind} | {description} |")
    return rows


def render(registry: ActionRegistry) -> str:
    """The Markdown reference of every action in ``registry``, by name."""
    out = [_HEADER]
    for name in registry.names():
        action = registry.get(name)
        info = action.describe()
        connectors = ", ".join(f"`{c}`" for c in info["connector_types"]) or "none"
        undo = f"`{info['undo']}`" if info["undo"] else "none"
        out += [f"## `{name}`: {info['title']}", "",
                f"kind: {info['kind']} · connectors: {connectors} · undo: {undo}", "",
                " ".join(info["description"].split()), "", "Inputs:", "",
                *_table(action.Inputs, with_default=True), "", "Outputs:", "",
                *_table(action.Outputs, with_default=False), ""]
    return "\n".join(out)


def built_in_reference() -> str:
    """The reference of the built-in actions only (installed plugins do not change it)."""
    return render(default_actions(entry_points=False))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(f"usage: {REGENERATE}", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(built_in_reference(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
