"""Playbook tests run by :mod:`watchkeeper.response.testing`: mocks, approvals, waits,
comparisons, and the sandbox seen from a playbook."""

from __future__ import annotations

from tests.response.catalog import catalog, library, playbook
from watchkeeper.response.interpreter import Interpreter, StepRecord
from watchkeeper.response.loader import LoadedPlaybook
from watchkeeper.response.model import PlaybookTest
from watchkeeper.response.testing import MemoryJournal, MockEffects, TestResult, run_tests

BLOCK = """
name: block
title: Block a source
triggers:
  - alert: {tags: [attack.t1110]}
steps:
  - id: approve
    approval: {prompt: "Block {{ trigger.alert.entities.source_ip }}?"}
  - id: block
    action: firewall.block_ip
    connector: firewall
    with:
      ip: "{{ trigger.alert.entities.source_ip }}"
      comment: "{{ trigger.alert.rule_title }}"
    ttl: 1h
outputs:
  reference: "{{ steps.block.reference }}"
tests:
%s
"""
ALERT = ("{alert: {id: 1, rule_title: Brute force, "
         "entities: {source_ip: 185.220.101.34}}}")


def run(text: str, known: tuple[LoadedPlaybook, ...] = ()) -> list[TestResult]:
    loaded = playbook(text, tuple(p.name for p in known))
    return run_tests(loaded, library(loaded, *known), catalog())


def one(test: str) -> TestResult:
    [result] = run(BLOCK % test)
    return result


def test_a_passing_test_passes() -> None:
    result = one(f"""
  - name: blocks
    trigger: {ALERT}
    mocks: {{block: {{target: 185.220.101.34, reference: fw-1}}}}
    expect:
      path: [approve, block]
      outputs: {{reference: fw-1}}
      actions:
        - {{step: block, action: firewall.block_ip, with: {{ip: 185.220.101.34}}}}
""")
    assert result.passed, result.differences
    assert result.playbook == "block"
    assert result.test == "blocks"
    assert result.to_dict()["status"] == "succeeded"


def test_a_wrong_expectation_fails_with_each_difference() -> None:
    result = one(f"""
  - name: wrong
    trigger: {ALERT}
    mocks: {{block: {{target: 185.220.101.34, reference: fw-1}}}}
    expect:
      status: rejected
      path: [block]
      outputs: {{reference: fw-2, missing: 1}}
      actions:
        - {{step: block, action: firewall.block_ip, with: {{ip: 10.0.0.1}}}}
""")
    assert not result.passed
    assert result.differences == [
        "status: expected rejected, got succeeded",
        "path: expected ['block'], got ['approve', 'block']",
        "outputs.reference: expected 'fw-2', got 'fw-1'",
        "outputs.missing: expected 1, but there is no such output",
        "actions[0].with.ip: expected '10.0.0.1', got '185.220.101.34'",
    ]


def test_a_missing_mock_fails_naming_the_step_and_action() -> None:
    result = one(f"""
  - name: no mock
    trigger: {ALERT}
""")
    assert not result.passed
    assert result.differences == [
        "block: no mock for firewall.block_ip (give mocks.block its outputs)"]


def test_inputs_are_checked_against_the_action() -> None:
    result = one("""
  - name: no address
    trigger: {alert: {id: 1, rule_title: x, entities: {source_ip: [1, 2]}}}
    mocks: {block: {target: x, reference: r}}
""")
    assert not result.passed
    [difference] = result.differences
    assert difference.startswith("block: inputs refused by firewall.block_ip: ip:")


def test_mocked_outputs_are_checked_against_the_action() -> None:
    result = one(f"""
  - name: bad mock
    trigger: {ALERT}
    mocks: {{block: {{target: x, reference: r, colour: blue}}}}
""")
    assert not result.passed
    assert result.differences[0].startswith(
        "mocks.block: not outputs of firewall.block_ip: colour:")


def test_a_mocked_error_fails_the_step() -> None:
    result = one(f"""
  - name: refused
    trigger: {ALERT}
    mocks: {{block: {{error: firewall said no}}}}
    expect: {{status: failed, path: [approve, block]}}
""")
    assert result.passed, result.differences
    assert result.outcome is not None
    assert result.outcome.error == "firewall said no"
    assert result.outcome.error_step == "block"


def test_a_rejected_approval_stops_the_run() -> None:
    result = one(f"""
  - name: rejected
    trigger: {ALERT}
    approvals: {{approve: reject}}
    expect: {{status: rejected, path: [approve], actions: []}}
""")
    assert result.passed, result.differences


def test_a_timed_out_approval_takes_its_default() -> None:
    text = BLOCK.replace('approval: {prompt: "Block', 'approval: {default: approve, '
                         'timeout: 2h, prompt: "Block') % f"""
  - name: nobody answers
    trigger: {ALERT}
    approvals: {{approve: timeout}}
    mocks: {{block: {{target: x, reference: fw-3}}}}
    expect: {{outputs: {{reference: fw-3}}}}
"""
    [result] = run(text)
    assert result.passed, result.differences


def test_unknown_names_in_a_test_are_reported() -> None:
    result = one(f"""
  - name: typos
    trigger: {ALERT}
    approvals: {{aprove: reject}}
    mocks: {{blok: {{}}, block: {{target: x, reference: r}}}}
""")
    assert result.differences[:2] == ["approvals.aprove: no approval step 'aprove'",
                                      "mocks.blok: no action step 'blok'"]


def test_only_runs_the_named_test() -> None:
    loaded = playbook(BLOCK % f"""
  - name: first
    trigger: {ALERT}
    mocks: {{block: {{target: x, reference: r}}}}
  - name: second
    trigger: {ALERT}
    approvals: {{approve: reject}}
    expect: {{status: rejected}}
""")
    results = run_tests(loaded, library(loaded), catalog(), only="second")
    assert [r.test for r in results] == ["second"]


def test_waits_loops_pure_actions_and_called_playbooks() -> None:
    notify = playbook("""
name: tell
title: Tell the analysts
inputs:
  text: {required: true}
  role: {default: analyst}
steps:
  - id: say
    action: slack.post
    connector: slack
    with: {text: "{{ inputs.text }} for {{ inputs.role }}"}
outputs:
  said: "{{ inputs.text }}"
""")
    text = """
name: loops
title: Loops, waits and calls
triggers: [{manual: {}}]
steps:
  - id: extract
    action: indicators.extract
    with: {text: "see http://bad.example/x and 185.220.101.34"}
  - id: pause
    wait: 2h
  - id: each
    foreach: "{{ steps.extract.domains + steps.extract.ips }}"
    steps:
      - id: look
        action: intel.lookup
        with: {value: "{{ item }}"}
  - id: call
    playbook: tell
    with: {text: "{{ steps.each.count }} indicators"}
outputs:
  said: "{{ steps.call.said }}"
tests:
  - name: all of it
    mocks:
      each[0].look: {found: true, matches: []}
      look: {found: false, matches: []}
      call>say: {status: 200}
    expect:
      path: [extract, pause, each, look, look, call, say]
      outputs: {said: 2 indicators}
      actions:
        - {step: extract, with: {text: "see http://bad.example/x and 185.220.101.34"}}
        - {step: "each[0].look", with: {value: bad.example}}
        - {step: look, with: {value: 185.220.101.34}}
        - {step: "call>say", action: slack.post, with: {text: 2 indicators for analyst}}
"""
    [result] = run(text, (notify,))
    assert result.passed, result.differences


def test_trigger_data_is_never_rendered() -> None:
    """Text an attacker controls (a command line, a subject) reaches the action as text."""
    injected = "{{ 7*7 }} {{ ''.__class__ }} {% for x in range(3) %}x{% endfor %}"
    loaded = playbook(BLOCK % "  []")
    test = PlaybookTest.model_validate({
        "name": "injection",
        "trigger": {"alert": {"id": 1, "rule_title": injected,
                              "entities": {"source_ip": "203.0.113.9"}}},
        "mocks": {"block": {"target": "x", "reference": "r"}},
    })
    effects = MockEffects(catalog(), test)
    journal = MemoryJournal()
    interpreter = Interpreter(lambda name: loaded.playbook)
    for _ in range(2):  # the approval is pending, then decided a virtual minute later
        outcome = interpreter.run(loaded.playbook, journal, effects, trigger=test.trigger,
                                  inputs={}, run_info={})
        if outcome.wake_at is not None:
            effects.clock = outcome.wake_at
    assert outcome.status == "succeeded", outcome.error
    assert effects.calls["block"].inputs == {"ip": "203.0.113.9", "comment": injected}
    assert effects.prompts["approve"] == "Block 203.0.113.9?"
    assert run_tests(loaded, library(loaded), catalog()) == []


def test_the_sandbox_refuses_internals_in_a_playbook() -> None:
    text = BLOCK.replace('comment: "{{ trigger.alert.rule_title }}"',
                         "comment: \"{{ ''.__class__.__mro__ }}\"") % f"""
  - name: escape
    trigger: {ALERT}
    mocks: {{block: {{target: x, reference: r}}}}
"""
    [result] = run(text)
    assert not result.passed
    assert result.outcome is not None
    assert result.outcome.status == "failed"
    assert result.outcome.error is not None
    assert "refused by the sandbox" in result.outcome.error
    assert result.outcome.error.startswith("block.with.comment: refused by the sandbox")
    assert result.outcome.error_step == "block"
    assert "refused by the sandbox" in result.differences[0]


def test_the_sandbox_is_named_for_a_hidden_attribute() -> None:
    text = BLOCK.replace('comment: "{{ trigger.alert.rule_title }}"',
                         "comment: \"{{ ''.__class__ }}\"") % f"""
  - name: escape
    trigger: {ALERT}
    mocks: {{block: {{target: x, reference: r}}}}
    expect: {{status: failed}}
"""
    [result] = run(text)
    assert result.passed, result.differences
    assert result.outcome is not None
    assert result.outcome.error is not None
    assert "refused by the sandbox" in result.outcome.error


def test_memory_journal_keeps_copies() -> None:
    journal = MemoryJournal()
    record = StepRecord("a", "a", "action", "done", {"items": [1]})
    journal.put(record)
    record.outputs["items"].append(2)
    got = journal.get("a")
    assert got is not None
    assert got.outputs == {"items": [1]}
    got.outputs["items"].append(3)
    assert journal.records["a"].outputs == {"items": [1]}
    assert journal.get("b") is None


def test_an_unknown_case_template_fails_the_case_step() -> None:
    text = """
name: casey
title: Opens a case
steps:
  - id: case
    case: {title: x, template: no-such-template}
tests:
  - name: unknown template
    expect: {status: failed}
"""
    [result] = run(text)
    assert result.passed, result.differences
    assert result.outcome is not None
    assert "unknown case template" in str(result.outcome.error)
