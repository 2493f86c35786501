"""Load Sigma rules from files, folders and zip archives, reporting every failure.

Nothing is dropped silently: a file that is not valid YAML, a rule pySigma
rejects, a condition the engine cannot compile, a logsource the mapping does not
cover — each becomes a :class:`RuleFailure` with the path, the rule id when known
and the reason.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.filters import SigmaFilter
from sigma.modifiers import SigmaWideModifier, modifier_mapping
from sigma.policy import SigmaPolicy
from sigma.policy.regex_engine import RegexEngine, RegexPattern
from sigma.rule import SigmaRule

from watchkeeper.detection import ir
from watchkeeper.detection.convert import Converter
from watchkeeper.detection.logsource import LogSource
from watchkeeper.detection.patterns import python_regex, rust_regex_ok
from watchkeeper.errors import RuleError, UsageError

if TYPE_CHECKING:
    from watchkeeper.detection.cache import RuleCache

RULE_SUFFIXES = (".yml", ".yaml")
LEVELS = ("informational", "low", "medium", "high", "critical")
TACTICS = frozenset(
    {
        "reconnaissance", "resource-development", "initial-access", "execution",
        "persistence", "privilege-escalation", "defense-evasion", "stealth",
        "defense-impairment", "credential-access", "discovery", "lateral-movement",
        "collection", "command-and-control", "exfiltration", "impact",
    }
)


@dataclass(slots=True)
class Rule:
    """A loaded rule: its metadata and its condition as IR."""

    id: str
    title: str
    level: str
    status: str
    tags: tuple[str, ...]
    logsource: LogSource
    condition: ir.Node
    path: str
    description: str = ""
    falsepositives: tuple[str, ...] = ()
    author: str = ""
    context: dict[str, Any] | None = None
    """Kept on each of the rule's alerts (a threat-intel match's indicator)."""

    @property
    def tactics(self) -> tuple[str, ...]:
        """ATT&CK tactics named in the tags (``attack.execution`` → ``execution``)."""
        names = (t.split(".", 1)[1] for t in self.tags if t.startswith("attack."))
        return tuple(name for name in names if name in TACTICS)


@dataclass(frozen=True, slots=True)
class RuleFailure:
    path: str
    rule_id: str | None
    reason: str


@dataclass(slots=True)
class RuleSet:
    rules: list[Rule] = field(default_factory=list)
    failed: list[RuleFailure] = field(default_factory=list)


def iter_rule_documents(paths: Sequence[str | Path]) -> Iterator[tuple[str, str | RuleFailure]]:
    """(path, YAML text) for each rule file under ``paths``; unreadable ones as failures."""
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise UsageError(f"rules path does not exist: {path}")
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.suffix.lower() in RULE_SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and not p.name.endswith((".tests.yml", ".tests.yaml"))
            )
            for file in files:
                yield str(file), _read_text(file)
        elif zipfile.is_zipfile(path):
            yield from _zip_documents(path)
        else:
            yield str(path), _read_text(path)


def _read_text(path: Path) -> str | RuleFailure:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return RuleFailure(str(path), None, f"cannot read file: {error}")


def _zip_documents(path: Path) -> Iterator[tuple[str, str | RuleFailure]]:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        yield str(path), RuleFailure(str(path), None, f"cannot open zip archive: {error}")
        return
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            name = info.filename
            if info.is_dir() or not name.lower().endswith(RULE_SUFFIXES):
                continue
            if name.endswith((".tests.yml", ".tests.yaml")):
                continue
            where = f"{path}!{name}"
            try:
                yield where, archive.read(info).decode("utf-8")
            except (OSError, zipfile.BadZipFile, UnicodeDecodeError) as error:
                yield where, RuleFailure(where, None, f"cannot read archive member: {error}")


class _RegexDialect(RegexEngine):
    """Accepts a rule's regex when the engine can run it: in Rust (preferred, linear
    time) or else in Python's ``re`` (look-around, back-references)."""

    def compile(self, pattern: str, flags: int = 0) -> RegexPattern:
        # pySigma also matches selector patterns (``1 of selection_*``) with it.
        compiled = python_regex(pattern, flags)
        if compiled is not None:
            return cast(RegexPattern, compiled)
        inline = "".join(
            letter for flag, letter in ((re.I, "i"), (re.M, "m"), (re.S, "s")) if flags & flag
        )
        if rust_regex_ok(f"(?{inline}){pattern}" if inline else pattern):
            return cast(RegexPattern, re.compile("(?!)"))  # Rust-only syntax: validated
        raise re.error(f"neither the Rust nor the Python regex engine accepts {pattern!r}")

    @property
    def error(self) -> type[re.error]:
        return re.error


POLICY = SigmaPolicy(regex_engine=_RegexDialect())

# The specification names ``utf16le`` as another name of ``wide``; pySigma 2.0 knows
# only ``wide``. Registering the alias is idempotent.
modifier_mapping.setdefault("utf16le", SigmaWideModifier)


def _yaml_documents(text: str) -> list[Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [doc for doc in yaml.load_all(text, Loader=loader) if doc is not None]


class RuleLoader:
    """Parses rule documents with pySigma, applies Sigma filters, converts to IR.

    With a ``cache``, a rule set loaded before (same files, same contents, same
    placeholders) is read back instead; rule sets with Sigma filters are not cached.
    """

    def __init__(
        self,
        placeholders: Mapping[str, Sequence[str]] | None = None,
        cache: RuleCache | None = None,
    ) -> None:
        self.placeholders = placeholders
        self.converter = Converter(placeholders)
        self.cache = cache

    def load(
        self, paths: Sequence[str | Path], filter_paths: Sequence[str | Path] = ()
    ) -> RuleSet:
        documents = [*iter_rule_documents(paths), *iter_rule_documents(filter_paths)]
        if self.cache is None or any(_has_filter(text) for _, text in documents):
            return self._load(documents)
        from watchkeeper.detection.cache import ruleset_key

        key = ruleset_key(documents, self.placeholders)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        result = self._load(documents)
        self.cache.put(key, result)
        return result

    def _load(self, files: list[tuple[str, str | RuleFailure]]) -> RuleSet:
        result = RuleSet()
        sigma_rules: list[tuple[str, SigmaRule]] = []
        filters: list[SigmaFilter] = []
        for where, text in files:
            if isinstance(text, RuleFailure):
                result.failed.append(text)
                continue
            try:
                documents = _yaml_documents(text)
                if not all(isinstance(doc, dict) for doc in documents):
                    raise RuleError("every YAML document of a rule file must be a mapping")
                collection = SigmaCollection.from_dicts(
                    documents,
                    collect_errors=True,
                    collect_filters=True,
                    source=SigmaRuleLocation(Path(where)),
                    policy=POLICY,
                )
            except (yaml.YAMLError, SigmaError, RuleError, TypeError, ValueError) as error:
                result.failed.append(RuleFailure(where, None, _reason(error)))
                continue
            if not documents:
                result.failed.append(RuleFailure(where, None, "empty file: no rule in it"))
            filters.extend(f for f in collection.filters if not f.errors)
            for item in [*collection.rules, *collection.filters]:
                rule_id = str(item.id) if item.id else None
                if item.errors:
                    reasons = "; ".join(_reason(e) for e in item.errors)
                    result.failed.append(RuleFailure(where, rule_id, reasons))
                elif isinstance(item, SigmaCorrelationRule):
                    result.failed.append(
                        RuleFailure(where, rule_id, "correlation rules are not evaluated by hunt")
                    )
                elif isinstance(item, SigmaRule):
                    sigma_rules.append((where, item))
        for where, sigma_rule in sigma_rules:
            rule_id = str(sigma_rule.id) if sigma_rule.id else None
            try:
                filtered = _apply_filters(sigma_rule, filters)
                result.rules.append(self.convert(filtered, where))
            except (RuleError, SigmaError) as error:
                result.failed.append(RuleFailure(where, rule_id, _reason(error)))
        return result

    def convert(self, sigma_rule: SigmaRule, where: str) -> Rule:
        condition = self.converter.condition(sigma_rule.detection.parsed_condition)
        source = sigma_rule.logsource
        return Rule(
            id=str(sigma_rule.id) if sigma_rule.id else where,
            title=sigma_rule.title or "",
            level=str(sigma_rule.level.name).lower() if sigma_rule.level else "informational",
            status=str(sigma_rule.status.name).lower() if sigma_rule.status else "",
            tags=tuple(f"{t.namespace}.{t.name}" for t in sigma_rule.tags),
            logsource=LogSource(source.product, source.service, source.category),
            condition=condition,
            path=where,
            description=sigma_rule.description or "",
            falsepositives=tuple(sigma_rule.falsepositives or ()),
            author=sigma_rule.author or "",
        )


def load_placeholders(path: Path) -> dict[str, list[str]]:
    """Values for the ``%name%`` placeholders of ``expand``: a YAML map of names to lists."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise UsageError(f"cannot read placeholders file {path}: {error}") from None
    if not isinstance(document, dict) or not all(
        isinstance(v, list) for v in document.values()
    ):
        raise UsageError(f"{path}: a placeholders file maps names to lists of values")
    return {str(k): [str(v) for v in values] for k, values in document.items()}


def _has_filter(text: str | RuleFailure) -> bool:
    """Whether a file may hold a Sigma filter document (a top-level ``filter:`` key)."""
    return isinstance(text, str) and (text.startswith("filter:") or "\nfilter:" in text)


def _apply_filters(rule: SigmaRule, filters: list[SigmaFilter]) -> SigmaRule:
    """The rule with every Sigma filter that names it (and shares its logsource) applied."""
    for sigma_filter in filters:
        filtered = sigma_filter.apply_on_rule(rule)
        if not isinstance(filtered, SigmaRule):
            raise RuleError("a filter turned the rule into something that is not a rule")
        rule = filtered
    return rule


def _reason(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0] if len(text) > 500 else text
