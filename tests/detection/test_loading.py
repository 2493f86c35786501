"""Rule loading: every broken rule is reported with its path and a reason while the others
load; ``expand`` placeholders; Sigma meta filters applied by the loader."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.detection.harness import matches
from watchkeeper.detection.rules import RuleFailure, RuleLoader, RuleSet

RULE_ID = "5e5c8a1e-0000-4000-8000-000000000001"
OTHER_ID = "5e5c8a1e-0000-4000-8000-000000000002"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def rule_text(rule_id: str = RULE_ID, selection: str = "Image|endswith: '\\whoami.exe'") -> str:
    return textwrap.dedent(
        f"""\
        title: whoami
        id: {rule_id}
        status: test
        level: medium
        logsource: {{product: windows, category: process_creation}}
        detection:
          selection:
            {selection}
          condition: selection
        """
    )


def only_failure(ruleset: RuleSet) -> RuleFailure:
    assert ruleset.rules == []
    assert len(ruleset.failed) == 1
    return ruleset.failed[0]


# -- failures ----------------------------------------------------------------------------


def test_broken_yaml_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yml", "title: x\ndetection: [unclosed\n")
    failure = only_failure(RuleLoader().load([path]))
    assert failure.path == str(path)
    assert failure.reason


def test_unknown_modifier_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "mod.yml", rule_text(selection="Image|endswithx: 'a'"))
    failure = only_failure(RuleLoader().load([path]))
    assert failure.path == str(path)
    assert failure.rule_id == RULE_ID
    assert "endswithx" in failure.reason


def test_condition_with_unknown_selection_is_reported(tmp_path: Path) -> None:
    text = rule_text().replace("condition: selection", "condition: selection and not filter_x")
    path = write(tmp_path, "cond.yml", text)
    failure = only_failure(RuleLoader().load([path]))
    assert failure.path == str(path)
    assert failure.rule_id == RULE_ID
    assert "filter_x" in failure.reason


def test_selector_matching_no_selection_is_reported(tmp_path: Path) -> None:
    text = rule_text().replace("condition: selection", "condition: 1 of nothing_*")
    path = write(tmp_path, "sel.yml", text)
    failure = only_failure(RuleLoader().load([path]))
    assert failure.path == str(path)
    assert "nothing_" in failure.reason


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n...\n"])
def test_empty_file_is_reported(tmp_path: Path, text: str) -> None:
    path = tmp_path / "empty.yml"
    path.write_text(text, encoding="utf-8")
    failure = only_failure(RuleLoader().load([path]))
    assert failure.path == str(path)
    assert "empty" in failure.reason


def test_invalid_regex_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "re.yml", rule_text(selection="CommandLine|re: 'a(b'"))
    failure = only_failure(RuleLoader().load([path]))
    assert failure.path == str(path)
    assert "a(b" in failure.reason


def test_missing_condition_is_reported(tmp_path: Path) -> None:
    text = rule_text().replace("  condition: selection\n", "")
    failure = only_failure(RuleLoader().load([write(tmp_path, "nocond.yml", text)]))
    assert "condition" in failure.reason


def test_undecodable_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yml"
    path.write_bytes(b"title: caf\xe9\n")
    failure = only_failure(RuleLoader().load([path]))
    assert failure.path == str(path)
    assert "read" in failure.reason


def test_failures_do_not_stop_the_other_rules(tmp_path: Path) -> None:
    write(tmp_path, "a_broken.yml", "title: x\ndetection: [unclosed\n")
    write(tmp_path, "b_good.yml", rule_text())
    write(tmp_path, "c_modifier.yml", rule_text(OTHER_ID, "Image|nosuch: 'a'"))
    write(tmp_path, "d_empty.yml", "")
    text = rule_text("5e5c8a1e-0000-4000-8000-000000000003").replace(
        "condition: selection", "condition: missing"
    )
    write(tmp_path, "e_condition.yml", text)
    write(tmp_path, "f_good.yml", rule_text("5e5c8a1e-0000-4000-8000-000000000004"))
    ruleset = RuleLoader().load([tmp_path])
    assert sorted(r.id for r in ruleset.rules) == [RULE_ID, "5e5c8a1e-0000-4000-8000-000000000004"]
    failed = sorted(Path(f.path).name for f in ruleset.failed)
    assert failed == ["a_broken.yml", "c_modifier.yml", "d_empty.yml", "e_condition.yml"]
    assert all(f.reason for f in ruleset.failed)
    rule = next(r for r in ruleset.rules if r.id == RULE_ID)
    assert rule.path == str(tmp_path / "b_good.yml")
    assert matches(rule, [{"Image": "C:\\whoami.exe"}, {"Image": "C:\\who.exe"}]) == [True, False]


def test_several_rules_in_one_file(tmp_path: Path) -> None:
    text = rule_text() + "---\n" + rule_text(OTHER_ID, "Image|endswith: '\\hostname.exe'")
    ruleset = RuleLoader().load([write(tmp_path, "two.yml", text)])
    assert ruleset.failed == []
    assert sorted(r.id for r in ruleset.rules) == [RULE_ID, OTHER_ID]


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"])
def test_document_that_is_not_a_mapping_is_reported(tmp_path: Path, text: str) -> None:
    write(tmp_path, "good.yml", rule_text())
    path = tmp_path / "odd.yml"
    path.write_text(text, encoding="utf-8")
    ruleset = RuleLoader().load([tmp_path])
    assert [r.id for r in ruleset.rules] == [RULE_ID]
    assert [f.path for f in ruleset.failed] == [str(path)]


# -- expand placeholders --------------------------------------------------------------------


def test_unresolved_placeholder_fails_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, "expand.yml", rule_text(selection="User|expand: '%admin_users%'"))
    failure = only_failure(RuleLoader().load([path]))
    assert failure.path == str(path)
    assert failure.rule_id == RULE_ID
    assert "%admin_users%" in failure.reason


def test_unresolved_placeholder_with_other_placeholders_given(tmp_path: Path) -> None:
    path = write(tmp_path, "expand.yml", rule_text(selection="User|expand: '%admin_users%'"))
    failure = only_failure(RuleLoader({"other": ["x"]}).load([path]))
    assert "admin_users" in failure.reason


def test_resolved_placeholder_loads_and_matches(tmp_path: Path) -> None:
    path = write(tmp_path, "expand.yml", rule_text(selection="User|expand: '%admin_users%'"))
    ruleset = RuleLoader({"admin_users": ["root", "CORP\\adm-*"]}).load([path])
    assert ruleset.failed == []
    events = [{"User": "root"}, {"User": "corp\\adm-alice"}, {"User": "corp\\alice"}]
    assert matches(ruleset.rules[0], events) == [True, True, False]


# -- Sigma filters ----------------------------------------------------------------------------


def filter_text(rules: str = f"[{RULE_ID}]", logsource: str = "process_creation") -> str:
    return textwrap.dedent(
        f"""\
        title: backup agent runs whoami
        id: 5e5c8a1e-0000-4000-8000-0000000000f1
        logsource: {{product: windows, category: {logsource}}}
        filter:
          rules: {rules}
          selection:
            ParentImage|endswith: '\\backup_agent.exe'
          condition: not selection
        """
    )


EVENTS = [
    {"Image": "C:\\Windows\\whoami.exe", "ParentImage": "C:\\Tools\\backup_agent.exe"},
    {"Image": "C:\\Windows\\whoami.exe", "ParentImage": "C:\\Windows\\cmd.exe"},
    {"Image": "C:\\Windows\\whoami.exe"},
    {"Image": "C:\\Windows\\notepad.exe", "ParentImage": "C:\\Windows\\cmd.exe"},
]


def load_with_filter(tmp_path: Path, rule: str, sigma_filter: str) -> RuleSet:
    rules = tmp_path / "rules"
    filters = tmp_path / "filters"
    rules.mkdir()
    filters.mkdir()
    write(rules, "rule.yml", rule)
    write(filters, "filter.yml", sigma_filter)
    return RuleLoader().load([rules], [filters])


def test_rule_without_filter_matches_all_whoami(tmp_path: Path) -> None:
    ruleset = RuleLoader().load([write(tmp_path, "rule.yml", rule_text())])
    assert matches(ruleset.rules[0], EVENTS) == [True, True, True, False]


def test_filter_suppresses_what_it_describes(tmp_path: Path) -> None:
    ruleset = load_with_filter(tmp_path, rule_text(), filter_text())
    assert ruleset.failed == []
    assert len(ruleset.rules) == 1
    assert matches(ruleset.rules[0], EVENTS) == [False, True, True, False]


def test_filter_for_another_rule_id_does_not_apply(tmp_path: Path) -> None:
    ruleset = load_with_filter(tmp_path, rule_text(), filter_text(rules=f"[{OTHER_ID}]"))
    assert matches(ruleset.rules[0], EVENTS) == [True, True, True, False]


def test_filter_for_another_logsource_does_not_apply(tmp_path: Path) -> None:
    ruleset = load_with_filter(tmp_path, rule_text(), filter_text(logsource="image_load"))
    assert matches(ruleset.rules[0], EVENTS) == [True, True, True, False]


def test_filter_for_any_rule_of_the_logsource(tmp_path: Path) -> None:
    ruleset = load_with_filter(tmp_path, rule_text(), filter_text(rules="any"))
    assert matches(ruleset.rules[0], EVENTS) == [False, True, True, False]


def test_filter_does_not_leak_into_all_of_them(tmp_path: Path) -> None:
    rule = rule_text().replace("condition: selection", "condition: all of them")
    ruleset = load_with_filter(tmp_path, rule, filter_text())
    assert matches(ruleset.rules[0], EVENTS) == [False, True, True, False]


def test_filter_in_the_rule_paths_also_applies(tmp_path: Path) -> None:
    write(tmp_path, "rule.yml", rule_text())
    write(tmp_path, "zz_filter.yml", filter_text())
    ruleset = RuleLoader().load([tmp_path])
    assert [r.id for r in ruleset.rules] == [RULE_ID]
    assert matches(ruleset.rules[0], EVENTS) == [False, True, True, False]


def test_broken_filter_is_reported_and_rule_still_loads(tmp_path: Path) -> None:
    broken = filter_text().replace("  condition: not selection\n", "")
    ruleset = load_with_filter(tmp_path, rule_text(), broken)
    assert [r.id for r in ruleset.rules] == [RULE_ID]
    assert [Path(f.path).name for f in ruleset.failed] == ["filter.yml"]
    assert matches(ruleset.rules[0], EVENTS) == [True, True, True, False]
