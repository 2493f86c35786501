"""What the response pages say about a playbook, computed without a server: triggers in a
line, the steps as a tree, the start form's fields as typed inputs, who may decide."""

from __future__ import annotations

from typing import Any

import pytest

from watchkeeper.errors import UsageError
from watchkeeper.response.loader import LoadedPlaybook, parse
from watchkeeper.response.model import InputSpec, Trigger
from watchkeeper.web.response_view import (
    deciders,
    form_inputs,
    playbook_state,
    step_tree,
    trigger_summary,
)

NESTED = """
name: nested
title: Nested
triggers:
  - alert: {levels: [high, critical], tags: [attack.t1110], where: {source_ip: "*"}}
  - schedule: {cron: "0 6 * * *"}
steps:
  - id: each
    foreach: "{{ trigger.alert.entities.ips }}"
    steps:
      - id: gate
        if: "item != '10.0.0.1'"
        then:
          - id: ask
            approval:
              prompt: "Block {{ item }}?"
              approvers: {roles: [responder], users: [carol]}
              four_eyes: true
              timeout: 15m
        else:
          - id: note
            notify: {role: analyst, message: "skipped {{ item }}"}
  - id: pause
    wait: 90s
    when: "steps.each.count > 0"
"""


@pytest.mark.parametrize(("trigger", "text"), [
    ({"alert": {"levels": ["high"], "rules": ["r-*"], "where": {"user": "adm*"}}},
     "alert: rules r-*; levels high; user = adm*"),
    ({"alert": {}}, "alert: every new alert"),
    ({"case": {"severities": ["critical"], "template": "ransomware"}},
     "case: severities critical; template ransomware"),
    ({"schedule": {"cron": "*/5 * * * *"}}, "schedule: */5 * * * * (UTC)"),
    ({"webhook": {"secret": "siem-hook"}}, "webhook signed with siem-hook"),
    ({"manual": {}}, "manual"),
])
def test_a_trigger_in_one_line(trigger: dict[str, Any], text: str) -> None:
    assert trigger_summary(Trigger.model_validate(trigger)) == text


def test_the_steps_as_a_tree_with_their_details() -> None:
    playbook = parse(NESTED, "nested.yml")
    each, pause = step_tree(playbook.steps)
    assert (each.kind, each.id) == ("foreach", "each")
    assert dict(each.details)["at most"] == "100"
    [(label, [gate])] = each.branches
    assert label == "do"
    assert dict(gate.details) == {"if": "item != '10.0.0.1'"}
    (then, [ask]), (otherwise, [note]) = gate.branches
    assert (then, otherwise) == ("then", "else")
    assert dict(ask.details) == {
        "prompt": "Block {{ item }}?", "approvers": "role responder, carol",
        "four eyes": "two people approve; not the one who started the run",
        "timeout": "15m 0s, then reject", "on reject": "stop"}
    assert dict(note.details) == {"to": "role analyst", "message": "skipped {{ item }}"}
    assert (pause.when, dict(pause.details)) == ("steps.each.count > 0", {"wait": "1m 30s"})

    loaded = LoadedPlaybook(playbook, "0" * 64, NESTED, "nested.yml")
    assert playbook_state(loaded, active=True) == "active"
    assert playbook_state(loaded, active=False) == "manual only"


def test_the_start_form_fields_become_typed_inputs() -> None:
    specs = {name: InputSpec(type=kind) for name, kind in (
        ("host", "string"), ("count", "integer"), ("ratio", "number"), ("force", "boolean"),
        ("ips", "list"), ("extra", "object"))}
    fields = {"input.host": " ws-01 ", "input.count": "3", "input.ratio": "0.5",
              "input.force": "true", "input.ips": '["192.0.2.1"]', "input.extra": "",
              "csrf_token": "ignored"}
    assert form_inputs(specs, fields) == {"host": "ws-01", "count": 3, "ratio": 0.5,
                                          "force": True, "ips": ["192.0.2.1"]}
    assert form_inputs({"ratio": InputSpec(type="number")}, {"input.ratio": "2"}) == {
        "ratio": 2}
    for name, value, message in (("count", "2.5", "whole number"), ("ratio", "half", "number"),
                                 ("force", "yes", "true or false"), ("ips", "[1,", "JSON")):
        with pytest.raises(UsageError, match=message):
            form_inputs(specs, {f"input.{name}": value})


def test_who_may_decide_an_approval() -> None:
    approval = {"roles": ["responder"], "users": ["carol"], "required": 2,
                "requested_by": "dave"}
    assert deciders(approval) == ("role responder, carol, admins; four eyes: 2 people, "
                                  "not dave")
    assert deciders({**approval, "users": [], "required": 1}) == "role responder, admins"
