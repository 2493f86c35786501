"""Case templates per incident type: a severity, tags and tasks with a role and an SLA.

The built-in templates are ``data/templates.yml``; a user file (setting
``cases.templates``) adds templates or replaces built-in ones by name. Loading checks every
template and reports all problems at once, each with its file, template and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from watchkeeper.errors import UsageError

SEVERITIES = ("low", "medium", "high", "critical")
BUILT_IN = "templates.yml"


class TemplateError(UsageError):
    """A templates file that cannot be used; ``problems`` lists every fault found."""

    def __init__(self, location: str, problems: list[str]) -> None:
        super().__init__("; ".join(problems), location=location)
        self.problems = problems


@dataclass(frozen=True, slots=True)
class TaskTemplate:
    title: str
    role: str
    """A role (analyst, responder, admin) or a team name."""
    sla_hours: float
    """Hours after the case is opened at which the task is due."""


@dataclass(frozen=True, slots=True)
class CaseTemplate:
    name: str
    severity: str
    description: str = ""
    tags: tuple[str, ...] = ()
    tasks: tuple[TaskTemplate, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "severity": self.severity, "description": self.description,
                "tags": list(self.tags),
                "tasks": [{"title": t.title, "role": t.role, "sla_hours": t.sla_hours}
                          for t in self.tasks]}


class TemplateBook:
    """The templates known by name."""

    def __init__(self, templates: dict[str, CaseTemplate]) -> None:
        self._templates = dict(sorted(templates.items()))

    @property
    def names(self) -> list[str]:
        return list(self._templates)

    def all(self) -> list[CaseTemplate]:
        return list(self._templates.values())

    def get(self, name: str) -> CaseTemplate:
        found = self._templates.get(name)
        if found is None:
            raise UsageError(f"unknown case template {name!r} (known: {', '.join(self.names)})")
        return found


def load_templates(user_file: Path | None = None) -> TemplateBook:
    """The built-in templates, extended or overridden by ``user_file``."""
    text = resources.files("watchkeeper.cases").joinpath(f"data/{BUILT_IN}").read_text("utf-8")
    templates = parse_templates(text, BUILT_IN)
    if user_file is not None:
        try:
            user_text = user_file.read_text(encoding="utf-8")
        except OSError as error:
            raise TemplateError(str(user_file), [f"cannot read: {error.strerror}"]) from None
        templates.update(parse_templates(user_text, str(user_file)))
    return TemplateBook(templates)


def parse_templates(text: str, location: str) -> dict[str, CaseTemplate]:
    """Templates from YAML text; a :class:`TemplateError` lists every problem."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise TemplateError(location, [f"not YAML: {error}"]) from None
    if not isinstance(document, dict):
        raise TemplateError(location, ["expected a mapping of template names to templates"])
    problems: list[str] = []
    found: dict[str, CaseTemplate] = {}
    for name, body in document.items():
        template = _template(str(name), body, problems)
        if template is not None:
            found[template.name] = template
    if problems:
        raise TemplateError(location, problems)
    return found


def _template(name: str, body: Any, problems: list[str]) -> CaseTemplate | None:
    def bad(field: str, why: str) -> None:
        problems.append(f"template {name!r}: {field}: {why}")

    before = len(problems)
    if not isinstance(body, dict):
        bad("template", "expected a mapping")
        return None
    for key in sorted(set(body) - {"severity", "description", "tags", "tasks"}):
        bad(str(key), "unknown field")
    severity = body.get("severity")
    if severity not in SEVERITIES:
        bad("severity", f"{severity!r} is not one of {', '.join(SEVERITIES)}")
    description = body.get("description", "")
    if not isinstance(description, str):
        bad("description", "expected a text")
    tags = body.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        bad("tags", "expected a list of texts")
    tasks: list[TaskTemplate] = []
    raw_tasks = body.get("tasks", [])
    if not isinstance(raw_tasks, list):
        bad("tasks", "expected a list")
        raw_tasks = []
    for index, task in enumerate(raw_tasks, 1):
        made = _task(task, lambda field, why, i=index: bad(f"tasks[{i}].{field}", why))
        if made is not None:
            tasks.append(made)
    if len(problems) > before:
        return None
    return CaseTemplate(name=name, severity=str(severity), description=description,
                        tags=tuple(tags), tasks=tuple(tasks))


def _task(task: Any, bad: Any) -> TaskTemplate | None:
    if not isinstance(task, dict):
        bad("task", "expected a mapping with title, role and sla_hours")
        return None
    for key in sorted(set(task) - {"title", "role", "sla_hours"}):
        bad(str(key), "unknown field")
    title, role, hours = task.get("title"), task.get("role"), task.get("sla_hours")
    ok = True
    if not isinstance(title, str) or not title.strip():
        bad("title", "a task needs a title")
        ok = False
    if not isinstance(role, str) or not role.strip():
        bad("role", "expected a role (analyst, responder, admin) or a team")
        ok = False
    if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
        bad("sla_hours", f"expected a number of hours above 0, not {hours!r}")
        ok = False
    if not ok or not isinstance(hours, int | float):
        return None
    return TaskTemplate(title=str(title).strip(), role=str(role).strip(), sla_hours=float(hours))
