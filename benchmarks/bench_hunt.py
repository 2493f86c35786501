"""Throughput of the detection engine against a per-event reference, in one run.

    python benchmarks/bench_hunt.py --events EVENTS.jsonl --rules SIGMA_RULES_DIR \
        [--repeat 3] [--reference-sample 2000] [--batch-size 50000]

Prints, as medians over ``--repeat`` runs:

* rule loading and compilation time;
* end to end: reading and parsing the file plus evaluation (what ``hunt`` does,
  without writing output), events/s;
* evaluation alone over batches already in memory, events/s;
* the per-event reference evaluator (plain Python, one event and one rule at a
  time, same routing and field aliases) over a sample, events/s — and the ratio;
* whether both evaluators found the same (event, rule) pairs on that sample;
* peak resident memory of the process.

The events file and the rules stay outside the repository: generate events with
``benchmarks/gen_events.py`` and take rules from a SigmaHQ checkout.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from watchkeeper.detection import ir, reference
from watchkeeper.detection.engine import Engine
from watchkeeper.detection.fields import FieldAliases
from watchkeeper.detection.rules import RuleLoader
from watchkeeper.events.model import RESERVED
from watchkeeper.parsers import read_paths


def median_time(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def reference_pairs(
    engine: Engine, frame: pl.DataFrame, aliases: FieldAliases
) -> set[tuple[int, int]]:
    """(row, rule) pairs found by the per-event reference evaluator."""
    routes = [(engine.mapping.route(rule.logsource), rule) for rule in engine.rules]
    fields = [ir.fields_of(rule.condition) for rule in engine.rules]
    pairs: set[tuple[int, int]] = set()
    for row, record in enumerate(frame.iter_rows(named=True)):
        event = {k: v for k, v in record.items() if v is not None}
        originals = [k for k in event if k not in RESERVED]
        for index, (route, rule) in enumerate(routes):
            if route is None or not reference.matches(route, event):
                continue
            view = dict(event)
            for name in fields[index]:
                if name not in view:
                    sources = aliases.sources(name, set(event))
                    if sources:
                        view[name] = event[sources[0]]
            if reference.matches(rule.condition, view, originals):
                pairs.add((row, index))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--rules", type=Path, required=True, action="append")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reference-sample", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=50_000)
    args = parser.parse_args()

    start = time.perf_counter()
    ruleset = RuleLoader().load(args.rules)
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    engine = Engine(ruleset.rules)
    compiled = time.perf_counter() - start
    routed = len(engine.rules) - len(engine.unrouted)
    print(f"rules: {len(ruleset.rules)} loaded, {len(ruleset.failed)} failed, {routed} routed, "
          f"{len(engine.fallback_rules)} with Python fallback tests")
    print(f"rule loading: {loaded:.2f} s, compilation: {compiled:.2f} s")

    def end_to_end() -> int:
        events = matches = 0
        for chunk in read_paths([args.events], batch_size=args.batch_size):
            events += chunk.frame.height
            matches += engine.evaluate(chunk.frame).height
        return matches

    e2e = median_time(args.repeat, end_to_end)
    streaming_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    frames = [c.frame for c in read_paths([args.events], batch_size=args.batch_size)]
    total = sum(f.height for f in frames)
    size = args.events.stat().st_size
    print(f"events: {total:,} ({size / 1e6:.0f} MB)")

    def evaluate_only() -> int:
        return sum(engine.evaluate(frame).height for frame in frames)

    found = evaluate_only()
    evaluation = median_time(args.repeat, evaluate_only)
    print(f"matches: {found:,}")
    print(f"end to end (read + parse + evaluate): {e2e:.2f} s, {total / e2e:,.0f} events/s")
    print(f"evaluation alone: {evaluation:.2f} s, {total / evaluation:,.0f} events/s")

    sample = frames[0].head(args.reference_sample)
    start = time.perf_counter()
    expected = reference_pairs(engine, sample, engine.aliases)
    slow = time.perf_counter() - start
    fast_rate = total / evaluation
    slow_rate = sample.height / slow
    print(f"reference evaluator (per event, per rule): {sample.height:,} events in {slow:.2f} s, "
          f"{slow_rate:,.0f} events/s")
    print(f"ratio, evaluation alone / reference: {fast_rate / slow_rate:.1f}x")
    got = {
        (int(r), int(i)) for r, i in engine.evaluate(sample).select("row", "rule").iter_rows()
    }
    agree = "yes" if got == expected else f"NO ({len(got ^ expected)} pairs differ)"
    print(f"engine and reference agree on the sample: {agree} ({len(expected)} matches)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS, streaming end to end: {streaming_peak:.0f} MiB; "
          f"with every batch held for the evaluation-only run: {peak:.0f} MiB")
    if got != expected:
        sys.exit(1)


if __name__ == "__main__":
    main()
