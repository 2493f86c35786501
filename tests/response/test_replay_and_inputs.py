"""The interpreter keeps a stopping rejection on replay and binds declared inputs."""

from __future__ import annotations

from datetime import timedelta

from tests.response.catalog import catalog, playbook
from watchkeeper.response.interpreter import Interpreter, bind_inputs
from watchkeeper.response.model import PlaybookTest
from watchkeeper.response.testing import MemoryJournal, MockEffects

GATED = """
name: gated
title: Approval before a block
inputs:
  ip: {required: true}
  hours: {type: integer, default: 24}
steps:
  - id: approve
    approval: {prompt: "Block {{ inputs.ip }} for {{ inputs.hours }}h?"}
  - id: block
    action: firewall.block_ip
    connector: firewall
    with: {ip: "{{ inputs.ip }}"}
"""


def test_a_replayed_rejection_still_stops_the_run() -> None:
    """A restart between recording the rejection and ending the run must not act."""
    loaded = playbook(GATED)
    test = PlaybookTest.model_validate({"name": "t", "approvals": {"approve": "reject"},
                                        "mocks": {"block": {"target": "x", "reference": "r"}}})
    effects = MockEffects(catalog(), test)
    journal = MemoryJournal()
    interpreter = Interpreter(lambda name: loaded.playbook)
    outcomes = []
    for _ in range(3):
        outcomes.append(interpreter.run(loaded.playbook, journal, effects, trigger={},
                                        inputs={"ip": "185.220.101.34"}, run_info={}))
        effects.clock += timedelta(minutes=5)
    assert [o.status for o in outcomes] == ["waiting", "rejected", "rejected"]
    assert outcomes[2].error == "rejected by approver-1"
    assert effects.calls == {}


def test_declared_defaults_are_applied_and_required_inputs_checked() -> None:
    loaded = playbook(GATED).playbook
    assert bind_inputs(loaded, {"ip": "1.2.3.4", "extra": 1}) == {
        "ip": "1.2.3.4", "hours": 24, "extra": 1}
    outcome = Interpreter(lambda name: loaded).run(
        loaded, MemoryJournal(), MockEffects(catalog(), PlaybookTest(name="t")),
        trigger={}, inputs={"hours": "many"}, run_info={})
    assert outcome.status == "failed"
    assert outcome.error == "inputs.ip: required; inputs.hours: expected integer, got str"


def test_a_called_playbook_gets_its_defaults() -> None:
    called = playbook(GATED)
    caller = playbook("""
name: caller
title: Calls gated
steps:
  - id: call
    playbook: gated
    with: {ip: 185.220.101.34}
""", ("gated",))
    mock = {"call>block": {"target": "x", "reference": "r"}}
    effects = MockEffects(catalog(), PlaybookTest(name="t", mocks=mock))
    journal = MemoryJournal()
    interpreter = Interpreter(lambda name: called.playbook)
    interpreter.run(caller.playbook, journal, effects, trigger={}, inputs={}, run_info={})
    effects.clock += timedelta(minutes=5)
    outcome = interpreter.run(caller.playbook, journal, effects, trigger={}, inputs={},
                              run_info={})
    assert outcome.status == "succeeded", outcome.error
    assert effects.prompts["call>approve"] == "Block 185.220.101.34 for 24h?"


def test_a_called_playbook_without_its_required_input_fails_the_call() -> None:
    called = playbook(GATED)
    caller = playbook("""
name: caller
title: Calls gated
steps:
  - id: call
    playbook: gated
""", ("gated",))
    outcome = Interpreter(lambda name: called.playbook).run(
        caller.playbook, MemoryJournal(), MockEffects(catalog(), PlaybookTest(name="t")),
        trigger={}, inputs={}, run_info={})
    assert outcome.status == "failed"
    assert outcome.error_step == "call"
    assert outcome.error == "playbook 'gated': inputs.ip: required"
