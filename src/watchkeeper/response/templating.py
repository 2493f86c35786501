"""Data between steps: templates rendered in Jinja2's immutable sandbox.

A playbook can read what it was given (``trigger``, ``inputs``) and what earlier steps
returned (``steps.<id>.<output>``), never the process around it: the sandbox refuses
attribute access to internals, no function of Python is in reach, and data is never
rendered twice, so text an attacker put into a log line (``{{ 7*7 }}`` in a command
line) stays text. A value that is exactly one ``{{ expression }}`` keeps its type (a list
stays a list, for ``foreach``); any other string with ``{{`` renders to text.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from jinja2 import StrictUndefined, TemplateError, Undefined, UndefinedError
from jinja2.environment import Template, TemplateExpression
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from watchkeeper.errors import WatchkeeperError

_WHOLE = re.compile(r"^\s*\{\{(?P<expr>.*)\}\}\s*$", re.DOTALL)
T = TypeVar("T")
CACHE_SIZE = 4096
"""Compiled templates kept (the texts of the playbooks loaded, many times over)."""
MAX_OUTPUT_CHARS = 1_000_000
"""A rendered text longer than this is refused (a template that builds huge strings)."""


class TemplateFailure(WatchkeeperError):
    """A template that does not parse, reads something undefined, or tries the forbidden."""

    http_status = 422


def _is_public_ip(value: Any) -> bool:
    try:
        address = ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return address.is_global


def _is_ip(value: Any) -> bool:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def _unique(values: Any) -> list[Any]:
    seen: list[Any] = []
    for value in values or []:
        if value not in seen:
            seen.append(value)
    return seen


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    env.filters["public_ip"] = _is_public_ip
    env.filters["ip"] = _is_ip
    env.filters["unique"] = _unique
    env.tests["public_ip"] = _is_public_ip
    env.tests["ip"] = _is_ip
    return env


def _evaluated(job: Callable[[], T], where: str) -> T:
    """``job()``, with whatever a template can raise turned into a TemplateFailure."""
    try:
        return job()
    except SecurityError as error:
        raise TemplateFailure(f"refused by the sandbox: {error}", location=where) from None
    except UndefinedError as error:
        raise TemplateFailure(str(error), location=where) from None
    except TemplateError as error:
        raise TemplateFailure(f"template error: {error}", location=where) from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as error:
        raise TemplateFailure(f"{type(error).__name__}: {error}", location=where) from None


class Templates:
    """Renders a step's values against a run's context."""

    def __init__(self) -> None:
        self._env = _environment()
        self._templates: dict[str, Template] = {}
        self._expressions: dict[str, TemplateExpression] = {}

    def render(self, value: Any, context: Mapping[str, Any], where: str = "") -> Any:
        """``value`` with every template in it rendered; dicts and lists recursively."""
        if isinstance(value, str):
            return self._string(value, context, where)
        if isinstance(value, dict):
            return {key: self.render(item, context, f"{where}.{key}")
                    for key, item in value.items()}
        if isinstance(value, list):
            return [self.render(item, context, f"{where}[{i}]") for i, item in enumerate(value)]
        return value

    def condition(self, text: str, context: Mapping[str, Any], where: str = "") -> bool:
        """A ``when`` or ``if``: a bare expression or one ``{{ expression }}``."""
        whole = _WHOLE.match(text)
        expression = whole.group("expr") if whole else text
        return bool(self._expression(expression, context, where))

    def check(self, value: Any, where: str = "") -> list[str]:
        """Syntax problems in every template of ``value`` (for validation before a run)."""
        problems: list[str] = []
        if isinstance(value, str) and ("{{" in value or "{%" in value):
            try:
                self._env.parse(value)
            except TemplateError as error:
                problems.append(f"{where}: {error}")
        elif isinstance(value, dict):
            for key, item in value.items():
                problems.extend(self.check(item, f"{where}.{key}"))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                problems.extend(self.check(item, f"{where}[{i}]"))
        return problems

    def check_expression(self, text: str, where: str = "") -> list[str]:
        whole = _WHOLE.match(text)
        try:
            self._env.compile_expression(whole.group("expr") if whole else text)
        except TemplateError as error:
            return [f"{where}: {error}"]
        return []

    def _template(self, text: str) -> Template:
        found = self._templates.get(text)
        if found is None:
            if len(self._templates) >= CACHE_SIZE:
                self._templates.clear()
            found = self._templates[text] = self._env.from_string(text)
        return found

    def _expression_of(self, expression: str) -> TemplateExpression:
        found = self._expressions.get(expression)
        if found is None:
            if len(self._expressions) >= CACHE_SIZE:
                self._expressions.clear()
            found = self._expressions[expression] = self._env.compile_expression(
                expression, undefined_to_none=False)
        return found

    def _string(self, text: str, context: Mapping[str, Any], where: str) -> Any:
        if "{{" not in text and "{%" not in text:
            return text
        whole = _WHOLE.match(text)
        if whole and "{{" not in whole.group("expr") and "{%" not in text:
            return self._expression(whole.group("expr"), context, where)
        rendered = _evaluated(lambda: self._template(text).render(**context), where)
        if len(rendered) > MAX_OUTPUT_CHARS:
            raise TemplateFailure(f"renders to more than {MAX_OUTPUT_CHARS} characters",
                                  location=where)
        return rendered

    def _expression(self, expression: str, context: Mapping[str, Any], where: str) -> Any:
        result = _evaluated(lambda: self._expression_of(expression)(**context), where)
        if isinstance(result, Undefined):
            _undefined(result, where)
        if isinstance(result, str) and len(result) > MAX_OUTPUT_CHARS:
            raise TemplateFailure(f"renders to more than {MAX_OUTPUT_CHARS} characters",
                                  location=where)
        return result


def _undefined(value: Undefined, where: str) -> None:
    """Raise the reason ``value`` is undefined: missing, or hidden by the sandbox."""
    try:
        str(value)
    except SecurityError as error:
        raise TemplateFailure(f"refused by the sandbox: {error}", location=where) from None
    except UndefinedError as error:
        raise TemplateFailure(str(error), location=where) from None
    raise TemplateFailure("undefined value", location=where)
