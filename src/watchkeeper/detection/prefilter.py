"""Necessary literals: a cheap multi-pattern pass that tells which rules can match.

For most Sigma rules some literal must occur in some field for the rule to match
(``Image|endswith: '\\whoami.exe'`` needs ``\\whoami.exe`` in ``Image``). The
engine searches every such literal of every rule at once per field — one
Aho-Corasick pass over a lower-cased column — and evaluates a rule only on the
rows where one of its literals occurred. On typical data most rules then have
no candidate row at all and cost nothing.

The property must hold exactly: if a rule matches an event, one of the rule's
atoms occurs in the event. Where that cannot be shown (negations, regexes,
numeric tests …) a rule has no atoms and is evaluated on every row.
"""

from __future__ import annotations

from watchkeeper.detection import ir
from watchkeeper.detection.compiler import KEYWORDS

KEYWORDS_FIELD = KEYWORDS
"""The pseudo-field of keyword atoms: the lower-cased text of all of an event's fields."""

Atom = tuple[str, str]
"""(field, lower-cased literal that must occur in the lower-cased field value)."""


def necessary_atoms(node: ir.Node) -> frozenset[Atom] | None:
    """Atoms of which at least one occurs in every event ``node`` matches, or None."""
    if isinstance(node, ir.FieldTest):
        return _leaf(node.field, node.test)
    if isinstance(node, ir.KeywordTest):
        atoms = _leaf(KEYWORDS_FIELD, node.test)
        # Keywords are searched per column without ASCII case: only ASCII literals that
        # cannot span two columns are sound atoms.
        if atoms and all(lit.isascii() and "\x1f" not in lit for _, lit in atoms):
            return atoms
        return None
    if isinstance(node, ir.Const):
        return None if node.value else frozenset()
    if isinstance(node, ir.Or):
        union: set[Atom] = set()
        for child in node.children:
            atoms = necessary_atoms(child)
            if atoms is None:
                return None
            union |= atoms
        return frozenset(union)
    if isinstance(node, ir.And):
        options = [a for a in (necessary_atoms(c) for c in node.children) if a is not None]
        if not options:
            return None
        return max(options, key=_selectivity)
    return None


def _selectivity(atoms: frozenset[Atom]) -> tuple[int, int]:
    """Prefer sets whose shortest literal is longest (rarer), then smaller sets."""
    if not atoms:
        return (1 << 30, 0)
    return (min(len(literal) for _, literal in atoms), -len(atoms))


def _leaf(field: str, test: ir.Test) -> frozenset[Atom] | None:
    if not isinstance(test, ir.StrMatch):
        return None
    if test.kind is ir.StrKind.GLOB:
        literals = [p for p in test.parts if isinstance(p, str)]
        literal = max(literals, key=len) if literals else ""
    else:
        literal = test.value
    if test.cased:
        # Lower-casing a fragment can differ from lower-casing it in context
        # (final sigma), so only ASCII literals of cased tests are used.
        if not literal.isascii():
            return None
        literal = literal.lower()
    if not literal:
        return None
    return frozenset({(field, literal)})


def necessary_clauses(node: ir.Node) -> list[frozenset[Atom]]:
    """Clauses that every event matching ``node`` satisfies: from each clause, one atom occurs.

    ``[]`` says nothing (every event is a candidate); a clause with no atoms can never
    be satisfied (``node`` never matches). AND joins the clauses of its children; an OR
    becomes one clause, the union of its children's necessary atoms.
    """
    if isinstance(node, ir.And):
        return [clause for child in node.children for clause in necessary_clauses(child)]
    if isinstance(node, ir.Const):
        return [] if node.value else [frozenset()]
    atoms = necessary_atoms(node)
    return [] if atoms is None else [atoms]


MIN_LITERAL = 3
MAX_CLAUSES = 4


def strong_clauses(clauses: list[frozenset[Atom]]) -> list[frozenset[Atom]]:
    """The clauses worth searching for: literals of a few characters occur nearly everywhere
    and cost more to find than they save. Dropping a clause keeps the rest necessary."""
    if any(not clause for clause in clauses):
        return [frozenset()]
    ranked = sorted(clauses, key=_selectivity, reverse=True)
    strong = [c for c in ranked if min(len(lit) for _, lit in c) >= MIN_LITERAL]
    return (strong or ranked[:1])[:MAX_CLAUSES]
