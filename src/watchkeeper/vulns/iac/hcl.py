"""Terraform files read into blocks and attributes that know their line numbers.

python-hcl2 parses; its dictionary output carries no line numbers, so this adapter walks
the syntax tree it builds instead. Literals (strings, numbers, booleans, lists, objects,
heredocs, ``jsonencode(...)``) become Python values; anything Terraform computes at plan
time (references, other calls, interpolations, conditionals) becomes an
:class:`Expression` holding its source text, which policies treat as unknown.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

import hcl2
from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from watchkeeper.errors import InputError

_NOTHING: Any = object()


@dataclass(frozen=True)
class Expression:
    """A value known only when Terraform plans: ``aws_s3_bucket.logs.id``, ``var.cidr``."""

    text: str


@dataclass(frozen=True)
class Attribute:
    name: str
    value: Any
    line: int


@dataclass
class Block:
    """``type "label" "label" { … }``: a resource, a data source, or a nested block."""

    type: str
    labels: tuple[str, ...]
    line: int
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def get(self, name: str, default: Any = None) -> Any:
        attribute = self.attributes.get(name)
        return default if attribute is None else attribute.value

    def line_of(self, name: str) -> int:
        """The line of an attribute or nested block, or the block's own when it is absent."""
        if name in self.attributes:
            return self.attributes[name].line
        for block in self.blocks:
            if block.type == name:
                return block.line
        return self.line

    def children(self, block_type: str) -> list[Block]:
        return [block for block in self.blocks if block.type == block_type]


def parse_hcl(text: str, *, path: str = "") -> Block:
    """The file as one unnamed block holding its top-level blocks and attributes."""
    if not text.endswith("\n"):
        text += "\n"
    try:
        tree = hcl2.parses_to_tree(text)
    except UnexpectedInput as error:
        raise InputError(f"not valid HCL: unexpected input at column {error.column}",
                         location=f"{path}:{error.line}") from error
    except LarkError as error:
        raise InputError(f"not valid HCL: {_first_line(error)}", location=path) from error
    body = _child(tree, "body")
    root = Block("", (), 1)
    if body is not None:
        _fill(root, body)
    return root


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _child(tree: Tree[Any], name: str) -> Tree[Any] | None:
    for child in tree.children:
        if isinstance(child, Tree) and child.data == name:
            return child
    return None


def _trees(tree: Tree[Any]) -> list[Tree[Any]]:
    return [c for c in tree.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


def _fill(block: Block, body: Tree[Any]) -> None:
    for item in _trees(body):
        if item.data == "attribute":
            name_tree, *_, value = _trees(item)
            name = _name(name_tree)
            block.attributes[name] = Attribute(name, _value(value), item.meta.line)
        elif item.data == "block":
            parts = _trees(item)
            inner = parts[-1]
            labels = tuple(_name(p) if p.data != "string" else _string(p) for p in parts[:-1])
            child = Block(labels[0], labels[1:], item.meta.line)
            _fill(child, inner)
            block.blocks.append(child)


def _name(tree: Tree[Any]) -> str:
    return "".join(str(t) for t in tree.scan_values(lambda v: isinstance(v, Token)))


def _text(tree: Tree[Any] | Token) -> str:
    """Source-like text of an expression: tokens joined, enough to recognise a reference."""
    if isinstance(tree, Token):
        return str(tree)
    return "".join(str(t) for t in tree.scan_values(lambda v: isinstance(v, Token))).strip()


def _string(tree: Tree[Any]) -> Any:
    parts: list[str] = []
    for part in tree.children:
        if not isinstance(part, Tree):
            continue  # the quotes
        token = part.children[0]
        if not isinstance(token, Token) or token.type != "STRING_CHARS":
            if isinstance(token, Token) and token.type == "ESCAPED_INTERPOLATION":
                parts.append(str(token)[1:])
                continue
            return Expression(_text(tree))
        parts.append(_unescape(str(token)))
    return "".join(parts)


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    replacements = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    out: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append(replacements.get(following, "\\" + following))
        else:
            out.append(char)
    return "".join(out)


def _heredoc(token: str, *, trim: bool) -> Any:
    lines = token.split("\n")
    body = "\n".join(lines[1:-2]) + "\n" if len(lines) > 2 else ""
    if "${" in body or "%{" in body:
        return Expression(token)
    return textwrap.dedent(body) if trim else body


def _value(tree: Tree[Any]) -> Any:
    kind = tree.data
    if kind == "expr_term":
        inner = _trees(tree)
        return _value(inner[0]) if len(inner) == 1 else Expression(_text(tree))
    if kind == "string":
        return _string(tree)
    if kind == "int_lit":
        return int(str(tree.children[0]))
    if kind == "float_lit":
        return float(str(tree.children[0]))
    if kind == "literal_value":
        return {"true": True, "false": False, "null": None}[str(tree.children[0])]
    if kind == "tuple":
        return [_value(item) for item in _trees(tree)]
    if kind == "object":
        result: dict[str, Any] = {}
        for element in _trees(tree):
            key_tree, value = _trees(element)
            key = _value(_trees(key_tree)[0])
            result[key if isinstance(key, str) else _text(key_tree)] = _value(value)
        return result
    if kind == "identifier":
        return Expression(_text(tree))
    if kind in ("heredoc_template", "heredoc_template_trim"):
        return _heredoc(str(tree.children[0]), trim=kind.endswith("trim"))
    if kind == "function_call":
        name = _text(tree.children[0])
        arguments = _child(tree, "arguments")
        args = _trees(arguments) if arguments is not None else []
        if name == "jsonencode" and len(args) == 1:
            return _value(args[0])
    return Expression(_text(tree))
