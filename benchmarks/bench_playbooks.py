"""What durable execution costs: playbook runs per second through the state database,
against the same playbook walked in memory.

    python benchmarks/bench_playbooks.py [--runs 300] [--steps 8] [--repeat 5] [--url URL]

Each run of the benchmark playbook takes ``--steps`` enrichment actions (an action that
only returns a value, so that the engine is what is measured), a branch and a loop of
three. A run goes through everything a live run does: it is started (version pinned,
audited), claimed by lease, walked with every step written to the journal as it happens,
and finished (audited). The reference, measured in the same process, walks the same
playbook with the same interpreter over an in-memory journal: the ratio is what
durability (and the audit record) costs per run. Medians over ``--repeat`` rounds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from watchkeeper.audit.service import AuditLog
from watchkeeper.cases.service import CaseService
from watchkeeper.response.actions.base import (
    Action,
    ActionContext,
    ActionInputs,
    ActionKind,
    ActionOutputs,
    ActionRegistry,
    Plan,
)
from watchkeeper.response.approvals import ApprovalDesk
from watchkeeper.response.calls import Caller, NoConnectors
from watchkeeper.response.containment import Ledger
from watchkeeper.response.effects import Desks
from watchkeeper.response.interpreter import Interpreter
from watchkeeper.response.loader import Library, LoadReport, load_text
from watchkeeper.response.runs import RunService, Start
from watchkeeper.response.testing import MemoryJournal
from watchkeeper.state.db import migrate, open_state


class In(ActionInputs):
    value: str


class Out(ActionOutputs):
    score: int


class Score(Action[In, Out]):
    name = "bench.score"
    title = "Score a value"
    kind = ActionKind.ENRICHMENT
    Inputs = In
    Outputs = Out

    def run(self, ctx: ActionContext, inputs: In) -> Out:
        return Out(score=len(inputs.value))

    def plan(self, ctx: ActionContext, inputs: In) -> Plan:
        return Plan("score", [], {"score": 0})


def playbook(steps: int) -> str:
    body = "".join(f"""
  - id: s{i}
    action: bench.score
    with: {{value: "{{{{ inputs.host }}}}-{i}"}}""" for i in range(steps))
    return f"""
name: bench
title: Benchmark
inputs:
  host: {{type: string, default: ws1}}
steps:{body}
  - id: pick
    if: "{{{{ steps.s0.score > 2 }}}}"
    then:
      - id: each
        foreach: [a, b, c]
        steps:
          - id: inner
            action: bench.score
            with: {{value: "{{{{ item }}}}"}}
outputs:
  total: "{{{{ steps.s0.score }}}}"
"""


class Direct:
    """Effects that run the action in process (the reference's only work besides walking)."""

    def __init__(self, caller: Caller) -> None:
        self.caller = caller

    def now(self):  # type: ignore[no-untyped-def]
        return self.caller.clock()

    def act(self, step, path, inputs, attempt):  # type: ignore[no-untyped-def]
        return self.caller.call(step.action, None, inputs, key=path, timeout_s=10).outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--url", help="a state database URL (default: SQLite in a temp dir)")
    args = parser.parse_args()
    actions = ActionRegistry()
    actions.register(Score())
    loaded = load_text(playbook(args.steps), "bench", actions)
    report = LoadReport()
    report.playbooks[loaded.name] = loaded
    library = Library(report)
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'state.db'}"
        migrate(url)
        db = open_state(url)
        audit = AuditLog(db)
        caller = Caller(actions, NoConnectors())
        desks = Desks(db, audit, caller, ApprovalDesk(db, audit), Ledger(db, audit, caller),
                      CaseService(db, audit))
        runs = RunService(desks, lambda: library)
        interpreter = Interpreter(lambda name: library.get(name).playbook)

        def durable() -> float:
            started = time.perf_counter()
            for _ in range(args.runs):
                run = runs.start(Start("bench", "bench", "manual", {}, {}))
                assert run is not None
                done = runs.advance(run["id"])
                assert done is not None
                assert done["status"] == "succeeded", done
            return args.runs / (time.perf_counter() - started)

        def in_memory() -> float:
            started = time.perf_counter()
            for _ in range(args.runs):
                outcome = interpreter.run(loaded.playbook, MemoryJournal(), Direct(caller),
                                          trigger={}, inputs={"host": "ws1"},
                                          run_info={"id": 0})
                assert outcome.status == "succeeded", outcome
            return args.runs / (time.perf_counter() - started)

        durable()
        in_memory()
        rates = [(durable(), in_memory()) for _ in range(args.repeat)]
        db.close()
    steps = args.steps + 2 + 3
    durable_rate = statistics.median(r[0] for r in rates)
    memory_rate = statistics.median(r[1] for r in rates)
    backend = "PostgreSQL" if args.url and args.url.startswith("postgres") else "SQLite"
    print(f"playbook: {steps} steps ({args.steps} actions, a branch, a loop of 3); "
          f"{args.runs} runs per round, median of {args.repeat} rounds; {backend}")
    print(f"durable runs:   {durable_rate:8.1f} runs/s  "
          f"({1000 / durable_rate / steps:.2f} ms per step)")
    print(f"in memory:      {memory_rate:8.1f} runs/s  "
          f"({1000 / memory_rate / steps:.3f} ms per step)  [reference]")
    print(f"ratio durable / in memory: {durable_rate / memory_rate:.3f}")


if __name__ == "__main__":
    main()
