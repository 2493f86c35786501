"""The detection engine: every rule, compiled once, run over columnar batches.

Per batch the engine
1. routes: one boolean mask per distinct logsource of the rules (a handful of
   column comparisons), so a rule sees only the events of its logsource;
2. prepares each routed slice once: fields read through their aliases, one
   lower-cased copy of each column compared without case, keyword columns;
3. evaluates every rule of that logsource in a single Polars ``select`` — Polars
   runs the expressions in parallel and shares common sub-expressions — and
   returns the (row, rule) pairs that matched.

No Python code runs per event, except the counted fallback tests (see
:mod:`watchkeeper.detection.compiler`), which run once per distinct value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from watchkeeper.detection import ir, reference
from watchkeeper.detection.compiler import (
    KEYWORD_SEPARATOR,
    KEYWORDS,
    KEYWORDS_CASED,
    Compiler,
    cidr_fields,
    ipv4_name,
    ipv4_number,
    lower_name,
)
from watchkeeper.detection.fields import FieldAliases
from watchkeeper.detection.group import Group
from watchkeeper.detection.logsource import LogSource, LogSourceMapping
from watchkeeper.detection.patterns import fold_expr
from watchkeeper.detection.prefilter import necessary_clauses, strong_clauses
from watchkeeper.detection.rules import Rule
from watchkeeper.events.model import RESERVED

ROW = "\x00row"
FEW_ROWS = 16
"""Candidate rows up to which a rule is evaluated by the reference evaluator rather than
by a query of its own (see ``Engine._evaluate_few``)."""
_NO_OPTIMIZATION = pl.QueryOptFlags.none()
"""Each rule's query is one filter over a small frame: planning it would cost more than
it saves, and sub-expressions shared between rules are already computed once."""


def lowered_fields(node: ir.Node) -> set[str]:
    """Fields that some test of ``node`` compares without case."""
    found: set[str] = set()
    for leaf in ir.leaves(node):
        test = leaf.test
        if not isinstance(leaf, ir.FieldTest) or not isinstance(
            test, ir.StrMatch | ir.FieldRefMatch
        ):
            continue
        if not test.cased:
            found.add(leaf.field)
            if isinstance(test, ir.FieldRefMatch):
                found.add(test.other)
    return found


def keyword_regexes(node: ir.Node) -> bool:
    """Whether ``node`` has keyword tests that search column by column (regexes and
    wildcards, which must not match across two fields)."""
    return any(
        isinstance(leaf, ir.KeywordTest)
        and (isinstance(leaf.test, ir.RegexMatch) or leaf.test.kind is ir.StrKind.GLOB)
        for leaf in ir.leaves(node)
    )


class Engine:
    """Evaluates a fixed set of rules over batches of events."""

    def __init__(
        self,
        rules: Sequence[Rule],
        mapping: LogSourceMapping | None = None,
        aliases: FieldAliases | None = None,
        *,
        few_rows: int = FEW_ROWS,
    ) -> None:
        self.rules = list(rules)
        self.few_rows = few_rows
        """Candidate rows up to which a rule goes to the reference evaluator (0: never)."""
        self.mapping = mapping or LogSourceMapping.default()
        self.aliases = aliases or FieldAliases.default()
        self.unrouted: list[Rule] = []
        """Rules whose logsource the mapping does not cover: they are never evaluated."""
        self.fallback_rules: set[int] = set()
        """Rules with at least one test that runs in Python (per distinct value)."""
        self._groups: list[Group] = []
        self._reads: dict[int, list[str]] = {}
        """Per rule, the fields its condition reads."""
        by_source: dict[LogSource, Group] = {}
        for index, rule in enumerate(self.rules):
            group = by_source.get(rule.logsource)
            if group is None:
                route = self.mapping.route(rule.logsource)
                if route is None:
                    self.unrouted.append(rule)
                    continue
                group = by_source[rule.logsource] = Group(rule.logsource, route)
                self._groups.append(group)
            self._add(group, index, rule)
        self._route_fields = set().union(*(ir.fields_of(g.route) for g in self._groups))
        self._route_lowered = set().union(*(lowered_fields(g.route) for g in self._groups))
        routes = Compiler()
        self._routes = [routes.compile(g.route) for g in self._groups]

    def _add(self, group: Group, index: int, rule: Rule) -> None:
        reads = ir.fields_of(rule.condition)
        self._reads[index] = sorted(reads)
        lowered = lowered_fields(rule.condition)
        cidr = cidr_fields(rule.condition)
        keywords = ir.has_keywords(rule.condition)
        group.fields |= reads
        group.lowered |= lowered
        group.cidr |= cidr
        if keywords:
            group.keywords = True
            group.keyword_rules.add(index)
        group.columns[index] = sorted(
            {ROW, *reads, *(lower_name(f) for f in lowered), *(ipv4_name(f) for f in cidr)}
        )
        clauses = strong_clauses(necessary_clauses(rule.condition))
        if not clauses:
            group.always.append(index)
        elif not all(clauses):
            pass  # a clause without atoms: the rule can never match
        else:
            group.clauses[index] = [[group.atom(a) for a in sorted(c)] for c in clauses]
        if keyword_regexes(rule.condition):
            return  # compiled per batch, against that batch's columns
        compiler = Compiler()
        group.compiled[index] = compiler.compile(rule.condition)
        if compiler.fallbacks:
            self.fallback_rules.add(index)

    def evaluate(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The matches in ``frame``: a frame of ``row`` (position in ``frame``) and ``rule``
        (index into ``self.rules``), ordered by row then rule."""
        empty = pl.DataFrame(schema={"row": pl.UInt32, "rule": pl.UInt32})
        if frame.height == 0 or not self._groups:
            return empty
        columns = set(frame.columns)
        frame = frame.with_row_index(ROW)
        routed = _prepare(frame, self._route_fields, self._route_lowered, columns, self.aliases)
        masks = routed.select(
            [route.alias(str(i)) for i, route in enumerate(self._routes)]
        )
        originals = tuple(
            c for c, dtype in frame.schema.items()
            if c not in RESERVED and c != ROW and dtype == pl.String
        )
        rows: list[int] = []
        rules: list[int] = []
        for position, group in enumerate(self._groups):
            mask = masks.get_column(str(position))
            if not mask.any():
                continue
            needed = {ROW} | {s for f in group.fields for s in self.aliases.sources(f, columns)}
            if group.keywords:
                needed |= set(originals)
            sub = frame.select([c for c in frame.columns if c in needed]).filter(mask)
            sub = _prepare(sub, group.fields, group.lowered, columns, self.aliases, group.cidr)
            queries: list[pl.LazyFrame] = []
            names: list[int] = []
            plan, (found_rows, found_rules) = self._plan(group, sub, originals)
            rows.extend(found_rows)
            rules.extend(found_rules)
            for frame_part, indexes in plan:
                part = frame_part.lazy()
                for i in indexes:
                    expr = group.compiled.get(i)
                    if expr is None:
                        expr = Compiler(originals).compile(self.rules[i].condition)
                    queries.append(part.select(pl.col(ROW).filter(expr)))
                    names.append(i)
            results = pl.collect_all(queries, optimizations=_NO_OPTIMIZATION)
            for i, result in zip(names, results, strict=True):
                if result.height:
                    rows.extend(result.get_column(ROW).to_list())
                    rules.extend([i] * result.height)
        if not rows:
            return empty
        return pl.DataFrame(
            {"row": pl.Series(rows, dtype=pl.UInt32), "rule": pl.Series(rules, dtype=pl.UInt32)}
        ).sort("row", "rule")

    def _plan(
        self, group: Group, sub: pl.DataFrame, originals: tuple[str, ...]
    ) -> tuple[list[tuple[pl.DataFrame, list[int]]], tuple[list[int], list[int]]]:
        """Which rules to evaluate on which rows: the rules without necessary literals on
        every row; each other rule only on the rows that satisfy its prefilter clauses.
        A rule left with very few rows is evaluated on them at once, by the reference
        evaluator; the (row, rule) pairs it matched come back beside the plan.

        The keyword columns (all of an event's text) are costly: they are built only for
        the rows a keyword rule is evaluated on."""
        plan: list[tuple[pl.DataFrame, list[int]]] = []
        few: dict[int, np.ndarray] = {}
        nothing: tuple[list[int], list[int]] = ([], [])
        if group.always:
            keyworded = any(i in group.keyword_rules for i in group.always)
            plan.append((_with_keywords(sub, originals) if keyworded else sub, group.always))
        if not group.literals:
            return plan, nothing
        # One query finds every literal of every field (fields run in parallel). Keyword
        # literals are ASCII and searched without ASCII case in each original column.
        fields, queries = group.searches()
        keyword_literals = group.literals.get(KEYWORDS, [])
        keyword_columns = _filled(sub, originals) if keyword_literals else []
        queries = list(queries)
        if keyword_columns:
            # Coarse but sound: a row holding any keyword literal of the group (or a
            # character whose lower case is ASCII, KELVIN SIGN → k) holds them all.
            queries.append(
                pl.any_horizontal(group.keyword_search(c) for c in keyword_columns)
                .alias("keywords")
            )
        hits = sub.select(queries)
        positions: list[np.ndarray] = []
        atoms: list[np.ndarray] = []
        everywhere = np.arange(sub.height, dtype=np.int64)
        found_by = [(f"f{i}", name) for i, name in enumerate(fields)]
        # one query for every field's hit counts: a Series operation each would cost a
        # query of its own, the bulk of a small batch's time
        counted = hits.select(pl.col(c).list.len().fill_null(0) for c, _ in found_by)
        for column, name in found_by:
            counts = counted.get_column(column).to_numpy()
            if not counts.any():
                continue
            literals = hits.get_column(column).explode().drop_nulls()
            old, new = group.id_map(name)
            positions.append(np.repeat(everywhere, counts))
            atoms.append(literals.replace_strict(old, new, return_dtype=pl.UInt32).to_numpy())
        if keyword_columns:
            rows = np.flatnonzero(hits.get_column("keywords").to_numpy())
            for literal in keyword_literals:
                positions.append(rows)
                atom_id = group.atom_ids[(KEYWORDS, literal)]
                atoms.append(np.full(len(rows), atom_id, dtype=np.uint32))
        if not atoms:
            return plan, nothing
        # One row of booleans per atom that occurred: which events it occurred in.
        atom_column = np.concatenate(atoms)
        present, slot = np.unique(atom_column, return_inverse=True)
        seen = np.zeros((len(present), sub.height), dtype=np.bool_)
        seen[slot, np.concatenate(positions)] = True
        index_of = {int(atom_id): i for i, atom_id in enumerate(present)}
        for rule, clauses in group.clauses.items():
            # Cheap first: every clause needs one atom that occurred somewhere in the batch.
            if not all(not index_of.keys().isdisjoint(clause) for clause in clauses):
                continue
            candidates = np.ones(sub.height, dtype=np.bool_)
            for clause in clauses:
                slots = [index_of[a] for a in clause if a in index_of]
                candidates &= seen[slots].any(axis=0) if len(slots) > 1 else seen[slots[0]]
                if not candidates.any():
                    break
            if candidates.any():
                rows = np.flatnonzero(candidates)
                if len(rows) <= self.few_rows and self._by_reference(rule, group, sub):
                    few[rule] = rows
                elif rule in group.keyword_rules:
                    plan.append((_with_keywords(sub[rows], originals), [rule]))
                else:
                    part = pl.DataFrame([sub.get_column(c) for c in group.columns[rule]])
                    plan.append((part[rows], [rule]))
        return plan, self._evaluate_few(sub, few)

    def _by_reference(self, rule: int, group: Group, sub: pl.DataFrame) -> bool:
        """Whether a rule may be evaluated by the reference evaluator on ``sub``'s rows:
        not a keyword rule (it reads every field), and every field it reads is text."""
        schema = sub.schema
        return rule not in group.keyword_rules and all(
            schema.get(name) == pl.String for name in self._reads[rule])

    def _evaluate_few(
        self, sub: pl.DataFrame, few: dict[int, np.ndarray]
    ) -> tuple[list[int], list[int]]:
        """The (row, rule) pairs among a few rows per rule, found one event at a time.

        A vectorized query costs a fixed few hundred microseconds to set up (its
        automata, sets and regular expressions are built anew), while the reference
        evaluator takes microseconds per event; so for a rule with a handful of rows
        left after the prefilter, the reference is the cheaper way to the same answer
        (the two are tested to agree)."""
        found_rows: list[int] = []
        found_rules: list[int] = []
        if not few:
            return found_rows, found_rules
        union = np.unique(np.concatenate(list(few.values())))
        fields = sorted({name for rule in few for name in self._reads[rule]})
        picked = sub[union]
        ids = picked.get_column(ROW).to_list()
        events = [{k: v for k, v in record.items() if v is not None}
                  for record in picked.select(fields).iter_rows(named=True)]
        at = {int(row): i for i, row in enumerate(union)}
        for rule, rows in few.items():
            condition = self.rules[rule].condition
            for row in rows.tolist():
                i = at[row]
                if reference.matches(condition, events[i]):
                    found_rows.append(ids[i])
                    found_rules.append(rule)
        return found_rows, found_rules


def _prepare(
    frame: pl.DataFrame,
    fields: set[str],
    lowered: set[str],
    columns: set[str],
    aliases: FieldAliases,
    cidr: set[str] | None = None,
) -> pl.DataFrame:
    """Make every field a column (through aliases, null when absent), add lower-cased twins
    and, for fields under CIDR tests, their IPv4 addresses as integers."""
    resolved: list[pl.Expr] = []
    for name in sorted(fields):
        sources = aliases.sources(name, columns)
        if not sources:
            resolved.append(pl.lit(None, dtype=pl.String).alias(name))
        elif sources != [name]:
            resolved.append(pl.coalesce([pl.col(s).cast(pl.String) for s in sources]).alias(name))
    if resolved:
        frame = frame.with_columns(resolved)
    derived = [fold_expr(pl.col(name)).alias(lower_name(name)) for name in sorted(lowered)]
    derived += [ipv4_number(pl.col(name)).alias(ipv4_name(name)) for name in sorted(cidr or ())]
    if derived:
        frame = frame.with_columns(derived)
    return frame


def _filled(frame: pl.DataFrame, columns: tuple[str, ...]) -> list[str]:
    """The columns of ``frame`` among ``columns`` that hold a value in some row (null
    counts are kept with each column, so this reads no data)."""
    counts = frame.null_count().row(0, named=True)
    return [c for c in columns if c in counts and counts[c] < frame.height]


def _with_keywords(frame: pl.DataFrame, originals: tuple[str, ...]) -> pl.DataFrame:
    if not originals:
        return frame.with_columns(
            pl.lit(None, dtype=pl.String).alias(KEYWORDS_CASED),
            pl.lit(None, dtype=pl.String).alias(KEYWORDS),
        )
    filled = _filled(frame, originals)
    if not filled:
        return _with_keywords(frame, ())
    joined = pl.concat_str(
        [pl.col(c).cast(pl.String) for c in filled],
        separator=KEYWORD_SEPARATOR,
        ignore_nulls=True,
    )
    frame = frame.with_columns(joined.alias(KEYWORDS_CASED))
    return frame.with_columns(fold_expr(pl.col(KEYWORDS_CASED)).alias(KEYWORDS))
