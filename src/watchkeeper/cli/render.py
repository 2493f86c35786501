"""Human-readable reports on a rich console (stderr for summaries)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # imported lazily: the CLI sets Polars' thread count before Polars loads
    from watchkeeper.detection.rules import RuleFailure
    from watchkeeper.hunt.summary import HuntSummary

MAX_RULE_ROWS = 25


def print_hunt_summary(console: Console, summary: HuntSummary) -> None:
    from watchkeeper.detection.rules import LEVELS

    console.print()
    console.rule("[bold]hunt summary")
    console.print(
        f"files {summary.files} · events {summary.events:,}"
        + (
            f" ({summary.events_in_range:,} in the time range)"
            if summary.events_in_range != summary.events
            else ""
        )
        + f" · skipped {summary.skipped:,} · matches {summary.matches:,}",
        highlight=False,
    )
    console.print(
        f"rules: {summary.rules_loaded} loaded, {summary.rules_selected} selected, "
        f"{len(summary.rules_failed)} failed, {summary.fallback_rules} with Python fallback tests",
        highlight=False,
    )
    if summary.matches:
        levels = Table(title="matches by level", show_edge=False)
        levels.add_column("level")
        levels.add_column("matches", justify="right")
        for level in reversed(LEVELS):
            if summary.by_level[level]:
                levels.add_row(level, f"{summary.by_level[level]:,}")
        console.print(levels)
        rules = Table(title="matches by rule", show_edge=False)
        rules.add_column("rule")
        rules.add_column("matches", justify="right")
        for rule_id, count in summary.by_rule.most_common(MAX_RULE_ROWS):
            rules.add_row(summary.rule_titles[rule_id], f"{count:,}")
        if len(summary.by_rule) > MAX_RULE_ROWS:
            rules.add_row(f"… {len(summary.by_rule) - MAX_RULE_ROWS} more rules", "")
        console.print(rules)
        if summary.by_tactic:
            tactics = Table(title="matches by ATT&CK tactic", show_edge=False)
            tactics.add_column("tactic")
            tactics.add_column("matches", justify="right")
            for tactic, count in summary.by_tactic.most_common():
                tactics.add_row(tactic, f"{count:,}")
            console.print(tactics)
    if summary.skipped:
        skipped = Table(title="skipped input", show_edge=False)
        skipped.add_column("reason")
        skipped.add_column("count", justify="right")
        for reason, count in summary.skip_reasons.most_common():
            skipped.add_row(reason, f"{count:,}")
        console.print(skipped)
        for skip in summary.skip_examples[:5]:
            console.print(f"  [dim]{skip}[/dim]", highlight=False)
    if summary.rules_failed:
        print_failure_reasons(console, summary.rules_failed)
    for stale in summary.stale_exclusions:
        console.print(f"[yellow]exclusion names no loaded rule:[/yellow] {stale}", highlight=False)


def print_failures(console: Console, failed: list[RuleFailure], limit: int | None = None) -> None:
    table = Table(title=f"rules that did not load ({len(failed)})", show_edge=False)
    table.add_column("path", overflow="fold")
    table.add_column("rule id")
    table.add_column("reason", overflow="fold")
    shown = failed if limit is None else failed[:limit]
    for failure in shown:
        table.add_row(failure.path, failure.rule_id or "-", failure.reason)
    if limit is not None and len(failed) > limit:
        table.add_row(f"… {len(failed) - limit} more (watchkeeper rules check)", "", "")
    console.print(table)


def print_failure_reasons(console: Console, failed: list[RuleFailure], limit: int = 10) -> None:
    """Rules that did not load, grouped by reason (the full list: ``rules check``)."""
    groups: dict[str, list[RuleFailure]] = {}
    for failure in failed:
        groups.setdefault(failure.reason, []).append(failure)
    table = Table(title=f"rules that did not load ({len(failed)})", show_edge=False)
    table.add_column("rules", justify="right")
    table.add_column("reason", overflow="fold")
    table.add_column("for example", overflow="fold")
    ranked = sorted(groups.items(), key=lambda item: -len(item[1]))
    for reason, members in ranked[:limit]:
        table.add_row(str(len(members)), reason, members[0].path.rsplit("/", 1)[-1])
    if len(ranked) > limit:
        rest = sum(len(members) for _, members in ranked[limit:])
        table.add_row(str(rest), f"… {len(ranked) - limit} more reasons", "")
    console.print(table)
    console.print("[dim]every rule and its reason: watchkeeper rules check RULES[/dim]")
