"""Settings of ``watchkeeper serve`` and the commands that share its data folder.

One object, read once at start from a TOML file and ``WATCHKEEPER_*`` variables
(variables win; nested keys use ``__``: ``WATCHKEEPER_HTTP__PORT=8443``), then
passed to whatever needs it. Nothing reads the environment anywhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from watchkeeper.auth.roles import Role
from watchkeeper.errors import UsageError

CONFIG_NAME = "watchkeeper.toml"


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    """Address of the API and web UI; 127.0.0.1 unless you mean to expose it."""
    port: int = Field(8000, ge=0, le=65535)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_body_bytes: int = Field(32 << 20, ge=1024)
    """Largest ingest request accepted; bigger ones get 413."""


class SyslogSettings(BaseModel):
    host: str = "127.0.0.1"
    udp_port: int | None = Field(5514, ge=0, le=65535)
    """None turns the receiver off."""
    tcp_port: int | None = Field(5514, ge=0, le=65535)
    tls_port: int | None = Field(None, ge=0, le=65535)
    """Syslog over TLS (RFC 5425, usually 6514); needs ``tls_cert`` and ``tls_key``."""
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_message_bytes: int = Field(64 << 10, ge=256)

    @field_validator("udp_port", "tcp_port", "tls_port", mode="before")
    @classmethod
    def _off(cls, value: Any) -> Any:
        """``false`` (TOML has no null) or ``off`` turns a receiver off."""
        if value is False or (isinstance(value, str) and value.lower() in ("false", "off")):
            return None
        return value


class FileInput(BaseModel):
    path: str
    """A file, or a glob pattern such as ``/var/log/*.log``."""
    format: str = "syslog"
    """The parser name (``watchkeeper hunt --list-formats`` shows them)."""


class PipelineSettings(BaseModel):
    batch_size: int = Field(50_000, ge=1)
    """Events per micro-batch at most; bigger batches cost less per event."""
    max_latency_ms: int = Field(200, ge=1)
    """A batch is cut after this long even if it is small: the bound on added latency."""
    spool_max_backlog_mb: int = Field(1024, ge=1)
    """Bytes received and not yet stored beyond which receivers push back (429, TCP pause)."""
    fsync: bool = True
    """Acknowledge only after the spool is on disk. Turn off only for throwaway tests."""
    compute_threads: int = Field(0, ge=0, le=1024)
    """Threads of the columnar engine that parses, detects and stores; 0: half the cores.
    Read once at start."""


class RulesSettings(BaseModel):
    paths: list[Path] = Field(default_factory=list)
    """Folders and files of Sigma rules, loaded at start and reloaded when they change."""
    mappings: list[Path] = Field(default_factory=list)
    placeholders: Path | None = None
    reload_interval_s: float = Field(2.0, gt=0)


class RetentionSettings(BaseModel):
    default_days: int = Field(30, ge=1)
    per_dataset: dict[str, int] = Field(default_factory=dict)
    """Days to keep per ``event.dataset``, e.g. ``{"windows.sysmon" = 90}``."""
    interval_minutes: int = Field(60, ge=1)

    @field_validator("per_dataset")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        bad = [name for name, days in value.items() if days < 1]
        if bad:
            raise ValueError(f"days must be at least 1 (not for {', '.join(bad)})")
        return value


class AlertSettings(BaseModel):
    group_by: list[str] = Field(default_factory=list)
    """Default grouping of a rule's alerts; empty = one alert per matching event."""
    window_s: int = Field(3600, ge=1, le=30 * 86400)
    """How long a group stays open for new matches (counted into the same alert)."""


SLA_SEVERITIES = ("low", "medium", "high", "critical")
DEFAULT_ACKNOWLEDGE = {"critical": 15, "high": 30, "medium": 240, "low": 1440}
DEFAULT_CONTAIN = {"critical": 240, "high": 720, "medium": 2880, "low": 7200}
DEFAULT_RESOLVE = {"critical": 1440, "high": 4320, "medium": 10080, "low": 20160}


class CaseSettings(BaseModel):
    templates: Path | None = None
    """A YAML file of case templates that adds to or replaces the built-in ones by name."""
    sla_acknowledge_minutes: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_ACKNOWLEDGE))
    """Minutes per severity from opening a case to its first move out of *new*."""
    sla_contain_minutes: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_CONTAIN))
    """Minutes per severity from opening a case to *contained* (or *resolved*)."""
    sla_resolve_minutes: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_RESOLVE))
    """Minutes per severity from opening a case to *resolved*."""
    evidence_max_bytes: int = Field(50 << 20, ge=1)
    """Largest evidence file a case accepts; bigger uploads get 413."""
    grouping: bool = True
    """Group related open alerts into cases on a schedule."""
    grouping_window_s: int = Field(3600, ge=1, le=30 * 86400)
    """Alerts sharing an entity this close in time belong to one incident."""
    grouping_interval_s: float = Field(60.0, gt=0)
    """How often the grouping runs."""
    sla_escalate_to: str = "responder"
    """The role notified when a case first breaches an SLA."""
    sla_check_interval_s: float = Field(60.0, gt=0)
    """How often the server looks for SLA breaches."""

    @field_validator("sla_escalate_to")
    @classmethod
    def _a_role(cls, value: str) -> str:
        roles = [role.value for role in Role]
        if value not in roles:
            raise ValueError(f"unknown role {value!r} (known: {', '.join(roles)})")
        return value

    @field_validator("sla_acknowledge_minutes", "sla_contain_minutes", "sla_resolve_minutes")
    @classmethod
    def _per_severity(cls, value: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        unknown = sorted(set(value) - set(SLA_SEVERITIES))
        if unknown:
            raise ValueError(f"unknown severity {', '.join(unknown)} "
                             f"(known: {', '.join(SLA_SEVERITIES)})")
        bad = sorted(name for name, minutes in value.items() if minutes < 1)
        if bad:
            raise ValueError(f"minutes must be at least 1 (not for {', '.join(bad)})")
        defaults = {"sla_acknowledge_minutes": DEFAULT_ACKNOWLEDGE,
                    "sla_contain_minutes": DEFAULT_CONTAIN,
                    "sla_resolve_minutes": DEFAULT_RESOLVE}[info.field_name or ""]
        return {**defaults, **value}


class ResponseSettings(BaseModel):
    playbooks: list[Path] = Field(default_factory=list)
    """Folders and files of playbooks (YAML), loaded at start and reloaded when they change."""
    builtin_playbooks: bool = True
    """Offer the built-in playbooks (for manual runs, tests and as examples)."""
    enable_builtin: list[str] = Field(default_factory=list)
    """Built-in playbooks whose alert, case and schedule triggers fire; the others run only
    when started by hand."""
    secret_key: SecretStr | None = None
    """The key that encrypts connector secrets at rest (Fernet, urlsafe base64); by default
    a key file made on first use in the data folder, readable by its owner only."""
    worker_interval_s: float = Field(1.0, gt=0)
    """How often due runs are advanced."""
    dispatch_interval_s: float = Field(2.0, gt=0)
    """How often new alerts, new cases and schedules are matched against triggers."""
    containment_check_interval_s: float = Field(30.0, gt=0)
    """How often containment whose TTL ran out is rolled back."""
    reload_interval_s: float = Field(5.0, gt=0)
    """How often playbook files are checked for changes."""
    lease_s: float = Field(300.0, ge=10)
    """How long a worker holds a run it advances before another may take it over."""


class IntelSettings(BaseModel):
    enabled: bool = True
    """Match every event against the active indicators as it arrives."""
    retro_hunt_days: int = Field(30, ge=0, le=3650)
    """How far back stored events are searched for new indicators; 0 turns it off."""
    fields: dict[str, list[str]] = Field(default_factory=dict)
    """Per indicator kind, the event fields matched against it, replacing the defaults
    (``ipv4 = ["source.ip", "destination.ip"]``; IPv4 fields also serve IPv6 and CIDR)."""
    decay: dict[str, dict[str, float]] = Field(default_factory=dict)
    """Per kind, ``lifetime_days``, ``decay_speed`` and ``threshold`` of the decay model."""
    warninglists: list[Path] = Field(default_factory=list)
    """Files and folders of warning lists (MISP format) whose values never match."""
    builtin_warninglists: bool = True
    """Use the shipped lists: private and special-purpose ranges, public DNS resolvers,
    reserved names."""
    refresh_interval_s: float = Field(5.0, gt=0)
    """How often the matcher checks the store for new, changed or decayed indicators."""
    feed_check_interval_s: float = Field(60.0, gt=0)
    """How often feeds are checked for being due."""
    max_feed_mb: int = Field(256, ge=1)
    """Larger feed documents are refused."""
    share_max_tlp: str = "amber"
    """The most restrictive TLP the TAXII server and exports hand out by default."""

    @field_validator("share_max_tlp")
    @classmethod
    def _tlp(cls, value: str) -> str:
        from watchkeeper.intel.model import tlp_label

        try:
            return tlp_label(value)
        except Exception as error:
            raise ValueError(str(error)) from None


class Settings(BaseSettings):
    """Everything ``serve`` needs; see ``docs/configuration.md``."""

    model_config = SettingsConfigDict(
        env_prefix="WATCHKEEPER_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Path("watchkeeper-data")
    state_url: str | None = None
    """SQLAlchemy URL of the state database; default SQLite in the data folder."""
    events_url: str | None = None
    """Where events are stored; default Parquet files in the data folder."""
    secure_cookies: bool | None = None
    """Mark session cookies Secure; default: when HTTP TLS is on."""
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"
    http: HttpSettings = Field(default_factory=HttpSettings)
    syslog: SyslogSettings = Field(default_factory=SyslogSettings)
    files: list[FileInput] = Field(default_factory=list)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    rules: RulesSettings = Field(default_factory=RulesSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    cases: CaseSettings = Field(default_factory=CaseSettings)
    response: ResponseSettings = Field(default_factory=ResponseSettings)
    intel: IntelSettings = Field(default_factory=IntelSettings)

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("log_level must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @property
    def resolved_state_url(self) -> str:
        return self.state_url or f"sqlite:///{(self.data_dir / 'state.db').resolve()}"

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool"

    @property
    def events_dir(self) -> Path:
        return self.data_dir / "events"

    @property
    def cookies_secure(self) -> bool:
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.http.tls_cert is not None


def load_settings(path: Path | None, **overrides: Any) -> Settings:
    """Settings from ``path`` (a TOML file; None = defaults), ``WATCHKEEPER_*`` variables
    and ``overrides`` (command-line options), later ones winning. A relative
    ``data_dir`` in the file is taken relative to the file."""
    if path is not None and not path.is_file():
        raise UsageError(f"no configuration file at {path} (create one with 'watchkeeper init')")

    class _FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=path)

        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if path is not None:
                sources.append(TomlConfigSettingsSource(settings_cls))
            return tuple(sources)

    try:
        settings = _FromFile(**overrides)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
            for e in error.errors()
        )
        raise UsageError(f"invalid configuration: {problems}", location=str(path or "")) from None
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read configuration: {error}", location=str(path or "")) from None
    plain = Settings.model_validate(settings.model_dump())
    if path is not None and not plain.data_dir.is_absolute() and "data_dir" not in overrides:
        plain.data_dir = (path.parent / plain.data_dir).resolve()
    return plain

