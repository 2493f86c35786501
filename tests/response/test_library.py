"""The built-in playbooks: valid by the published JSON Schema and by the loader, documented,
tested, and their tests pass. The published schema is the one the code generates."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.response.catalog import catalog, library
from watchkeeper.response.loader import builtin_sources, load_text, schema_text
from watchkeeper.response.testing import run_tests

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "docs" / "playbook.schema.json"
BUILTINS = builtin_sources()
NAMES = [name.removesuffix(".yml") for name, _ in BUILTINS]


def test_the_published_schema_is_current() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == schema_text(), (
        "docs/playbook.schema.json is stale; regenerate it with "
        "`watchkeeper playbook schema > docs/playbook.schema.json`")


def test_there_are_builtin_playbooks() -> None:
    assert set(NAMES) >= {"ransomware", "phishing", "insider-threat", "brute-force",
                          "malware-endpoint", "cloud-credentials", "data-exfiltration",
                          "critical-vulnerability"}


@pytest.mark.parametrize(("file", "text"), BUILTINS, ids=NAMES)
def test_a_builtin_playbook_follows_the_json_schema(file: str, text: str) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(text)),
                    key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


@pytest.mark.parametrize(("file", "text"), BUILTINS, ids=NAMES)
def test_a_builtin_playbook_loads_without_problems(file: str, text: str) -> None:
    loaded = load_text(text, f"builtin:{file}", catalog(), NAMES, builtin=True)
    assert loaded.name == file.removesuffix(".yml"), "the file is named after the playbook"


@pytest.mark.parametrize("name", NAMES)
def test_a_builtin_playbook_is_documented_and_tested(name: str) -> None:
    page = ROOT / "docs" / "playbooks" / f"{name}.md"
    assert page.is_file(), f"docs/playbooks/{name}.md is missing"
    everything = library(builtins=True)
    loaded = everything.get(name)
    tests = loaded.playbook.tests
    assert len(tests) >= 2, "a built-in playbook has its main path and another branch tested"
    for test in tests:
        assert test.name in page.read_text(encoding="utf-8"), (
            f"docs/playbooks/{name}.md does not list the test {test.name!r}")
    results = run_tests(loaded, everything, catalog())
    failures = [f"{r.test}: {d}" for r in results for d in r.differences]
    assert not failures, "\n".join(failures)
    assert all(r.passed for r in results)


def test_every_playbook_page_is_linked_from_the_reference() -> None:
    reference = (ROOT / "docs" / "playbooks.md").read_text(encoding="utf-8")
    for name in NAMES:
        assert f"playbooks/{name}.md" in reference
