"""Loading playbooks from YAML files: every problem reported with its file, place and reason.

A playbook file is checked in two passes: against the model (the JSON Schema's rules),
then against what exists: actions and their inputs, connectors an action needs,
template syntax, roles of approvers, playbooks it calls. A folder is loaded whole: a
broken file is reported and left out, the others load. Each loaded playbook carries the
SHA-256 of its file, which every run pins.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from watchkeeper.auth.roles import Role
from watchkeeper.errors import NotFoundError, UsageError
from watchkeeper.response.actions.base import ActionKind, ActionRegistry
from watchkeeper.response.model import (
    ActionStep,
    ApprovalStep,
    BranchStep,
    ForEachStep,
    Playbook,
    PlaybookStep,
    error_lines,
    walk,
)
from watchkeeper.response.templating import Templates

MAX_FILE_BYTES = 1 << 20
SUFFIXES = (".yml", ".yaml")


class PlaybookError(UsageError):
    """A playbook file that cannot be used; ``problems`` lists every reason found."""

    http_status = 422

    def __init__(self, location: str, problems: list[str]) -> None:
        super().__init__("; ".join(problems), location=location)
        self.problems = problems


@dataclass(frozen=True)
class LoadedPlaybook:
    playbook: Playbook
    version: str
    """SHA-256 of the file's bytes."""
    source: str
    """The file's text, kept so that a run can be replayed against the version it pinned."""
    origin: str
    """The file it came from, or ``builtin:NAME``."""
    builtin: bool = False

    @property
    def name(self) -> str:
        return self.playbook.name


def parse(text: str, origin: str) -> Playbook:
    """A playbook from YAML text, checked against the model only."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{origin}:{mark.line + 1}" if mark is not None else origin
        reason = getattr(error, "problem", None) or str(error)
        raise PlaybookError(where, [f"invalid YAML: {reason}"]) from None
    if not isinstance(data, dict):
        raise PlaybookError(origin, ["a playbook is a YAML mapping (name, title, steps, …)"])
    try:
        return Playbook.model_validate(data)
    except ValidationError as error:
        problems = [f"{where.lstrip('.') or 'playbook'}: {problem}"
                    for where, problem in error_lines(error)]
        raise PlaybookError(origin, problems) from None


def check(playbook: Playbook, actions: ActionRegistry, known_playbooks: Iterable[str] = (),
          templates: Templates | None = None) -> list[str]:
    """What in ``playbook`` refers to something that does not exist or cannot work."""
    templates = templates or Templates()
    known = set(known_playbooks) | {playbook.name}
    roles = {role.value for role in Role}
    problems: list[str] = []
    for step in walk(playbook.steps):
        where = f"steps.{step.id}"
        if step.when is not None:
            problems.extend(templates.check_expression(step.when, f"{where}.when"))
        if isinstance(step, ActionStep):
            problems.extend(_check_action(step, actions, templates, where))
        elif isinstance(step, BranchStep):
            problems.extend(templates.check_expression(step.if_, f"{where}.if"))
        elif isinstance(step, ForEachStep) and isinstance(step.foreach, str):
            problems.extend(templates.check(step.foreach, f"{where}.foreach"))
        elif isinstance(step, ApprovalStep):
            problems.extend(templates.check(step.approval.prompt, f"{where}.approval.prompt"))
            problems.extend(f"{where}.approval.approvers.roles: unknown role {role!r}"
                            for role in step.approval.approvers.roles if role not in roles)
        elif isinstance(step, PlaybookStep):
            if step.playbook not in known:
                problems.append(f"{where}.playbook: no playbook named {step.playbook!r}")
            problems.extend(templates.check(step.with_, f"{where}.with"))
        else:
            problems.extend(templates.check(step.model_dump(by_alias=True), where))
    problems.extend(templates.check(playbook.outputs, "outputs"))
    return problems


def _check_action(step: ActionStep, actions: ActionRegistry, templates: Templates,
                  where: str) -> list[str]:
    if step.action not in actions:
        return [f"{where}.action: unknown action {step.action!r} "
                f"(known: {', '.join(actions.names())})"]
    action = actions.get(step.action)
    problems = templates.check(step.with_, f"{where}.with")
    fields = action.Inputs.model_fields
    for key in step.with_:
        if key not in fields:
            problems.append(f"{where}.with.{key}: {step.action} has no input {key!r} "
                            f"(inputs: {', '.join(fields) or 'none'})")
    for name, info in fields.items():
        if info.is_required() and name not in step.with_:
            problems.append(f"{where}.with: {step.action} needs input {name!r}")
    if action.connector_types and step.connector is None:
        problems.append(f"{where}.connector: {step.action} acts through a connector "
                        f"({' or '.join(action.connector_types)}); name one")
    if step.ttl is not None and action.kind is not ActionKind.CONTAINMENT:
        problems.append(f"{where}.ttl: only containment actions can expire")
    return problems


@dataclass
class LoadReport:
    playbooks: dict[str, LoadedPlaybook] = field(default_factory=dict)
    errors: list[PlaybookError] = field(default_factory=list)


def load_text(text: str, origin: str, actions: ActionRegistry,
              known_playbooks: Iterable[str] = (), builtin: bool = False) -> LoadedPlaybook:
    """One playbook, fully checked (model, then references)."""
    if len(text.encode()) > MAX_FILE_BYTES:
        raise PlaybookError(origin, [f"larger than {MAX_FILE_BYTES} bytes"])
    playbook = parse(text, origin)
    problems = check(playbook, actions, known_playbooks)
    if problems:
        raise PlaybookError(origin, problems)
    return LoadedPlaybook(playbook, hashlib.sha256(text.encode()).hexdigest(), text, origin,
                          builtin)


def builtin_sources() -> list[tuple[str, str]]:
    """(name of file, text) of every playbook shipped with Watchkeeper."""
    folder = resources.files("watchkeeper.response").joinpath("library")
    if not folder.is_dir():
        return []
    return sorted((entry.name, entry.read_text(encoding="utf-8"))
                  for entry in folder.iterdir() if entry.name.endswith(SUFFIXES))


def load_library(paths: Iterable[Path], actions: ActionRegistry, *,
                 builtins: bool = True) -> LoadReport:
    """The built-in playbooks (unless ``builtins`` is off), then every playbook file under
    ``paths``; a user's playbook replaces a built-in one of the same name. Problems are
    collected, not raised."""
    sources: list[tuple[str, str, bool]] = []
    report = LoadReport()
    if builtins:
        sources.extend((f"builtin:{name}", text, True) for name, text in builtin_sources())
    for origin, text in _files(paths, report):
        sources.append((origin, text, False))
    parsed: list[tuple[str, str, bool, Playbook]] = []
    for origin, text, builtin in sources:
        try:
            parsed.append((origin, text, builtin, parse(text, origin)))
        except PlaybookError as error:
            report.errors.append(error)
    names = {playbook.name for *_, playbook in parsed}
    seen_user: dict[str, str] = {}
    for origin, text, builtin, playbook in parsed:
        if not builtin and playbook.name in seen_user:
            report.errors.append(PlaybookError(origin, [
                f"name {playbook.name!r} is already used by {seen_user[playbook.name]}"]))
            continue
        problems = check(playbook, actions, names)
        if problems:
            report.errors.append(PlaybookError(origin, problems))
            continue
        if not builtin:
            seen_user[playbook.name] = origin
        report.playbooks[playbook.name] = LoadedPlaybook(
            playbook, hashlib.sha256(text.encode()).hexdigest(), text, origin, builtin)
    return report


def _files(paths: Iterable[Path], report: LoadReport) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for path in paths:
        if not path.exists():
            report.errors.append(PlaybookError(str(path), ["no such file or folder"]))
            continue
        files = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()) \
            if path.is_dir() else [path]
        for file in files:
            try:
                if file.stat().st_size > MAX_FILE_BYTES:
                    raise PlaybookError(str(file), [f"larger than {MAX_FILE_BYTES} bytes"])
                found.append((str(file), file.read_text(encoding="utf-8")))
            except PlaybookError as error:
                report.errors.append(error)
            except (OSError, UnicodeDecodeError) as error:
                report.errors.append(PlaybookError(str(file), [f"cannot read: {error}"]))
    return found


class Library:
    """The playbooks a server or a command works with, by name."""

    def __init__(self, report: LoadReport) -> None:
        self.playbooks = report.playbooks
        self.errors = report.errors

    def get(self, name: str) -> LoadedPlaybook:
        try:
            return self.playbooks[name]
        except KeyError:
            raise NotFoundError(f"no playbook named {name!r}") from None

    def names(self) -> list[str]:
        return sorted(self.playbooks)


def schema() -> dict[str, Any]:
    """The JSON Schema of a playbook file (published as docs/playbook.schema.json)."""
    document = Playbook.model_json_schema(by_alias=True)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["$id"] = "https://watchkeeper.dev/schemas/playbook.schema.json"
    return document


def schema_text() -> str:
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"
