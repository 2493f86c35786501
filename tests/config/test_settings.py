"""Settings: file, variables, validation, and the documentation of every key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from watchkeeper.config import Settings, load_settings
from watchkeeper.errors import UsageError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    found = []
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            found += keys(kind, f"{prefix}{name}.")
        else:
            found.append(prefix + name)
    return found


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = []
    for key in keys(Settings):
        section, _, name = key.rpartition(".")
        if f"`{name}`" not in text and f"[[{name}]]" not in text:
            missing.append(key)
        if section and f"[{section}]" not in text:
            missing.append(f"[{section}]")
    assert missing == []


def test_file_then_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "watchkeeper.toml"
    config.write_text('data_dir = "data"\n[http]\nport = 9000\n[syslog]\nudp_port = false\n',
                      encoding="utf-8")
    monkeypatch.setenv("WATCHKEEPER_HTTP__PORT", "9443")
    monkeypatch.setenv("WATCHKEEPER_RETENTION__PER_DATASET", '{"syslog": 7}')
    settings = load_settings(config)
    assert settings.data_dir == tmp_path / "data"
    assert settings.http.port == 9443
    assert settings.http.host == "127.0.0.1"
    assert settings.syslog.udp_port is None
    assert settings.retention.per_dataset == {"syslog": 7}
    assert settings.resolved_state_url == f"sqlite:///{tmp_path / 'data' / 'state.db'}"


@pytest.mark.parametrize(("text", "problem"), [
    ("[http]\nport = 70000\n", "http.port"),
    ("[pipeline]\nbatch_size = 0\n", "pipeline.batch_size"),
    ("nonsense = 1\n", "nonsense"),
    ('log_level = "LOUD"\n', "log_level"),
    ("[http\n", "cannot read configuration"),
    ("[cases]\nsla_escalate_to = \"responders\"\n", "cases.sla_escalate_to"),
])
def test_bad_configuration_is_refused_with_the_key(tmp_path: Path, text: str,
                                                   problem: str) -> None:
    config = tmp_path / "watchkeeper.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match=problem):
        load_settings(config)


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no configuration file"):
        load_settings(tmp_path / "absent.toml")
