"""What every connector type's configuration shares, and reading it back from a Connector."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from watchkeeper.errors import UsageError
from watchkeeper.response.actions.base import Connector


class ConnectorConfig(BaseModel):
    """Base of each type's ``config``: unknown keys are mistakes."""

    model_config = ConfigDict(extra="forbid")

    timeout_s: float = Field(30.0, gt=0, le=600)
    """Upper bound of one call; the step's own timeout applies when it is shorter."""

    def secret_names(self) -> tuple[frozenset[str], frozenset[str]]:
        """The secrets this configuration needs, and those it may also use."""
        return frozenset(), frozenset()


C = TypeVar("C", bound=ConnectorConfig)


def explain(error: ValidationError) -> str:
    """A pydantic error as one line: ``where: what; where: what``."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "config"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def config_of(connector: Connector, model: type[C]) -> C:
    """The connector's configuration checked against its type's model."""
    try:
        return model.model_validate(dict(connector.config))
    except ValidationError as error:
        raise UsageError(f"connector {connector.name!r} ({connector.type}) is misconfigured: "
                         f"{explain(error)}") from None


def secret(connector: Connector, name: str) -> str:
    """One secret of the connector; its absence is a configuration error (named, not shown)."""
    value = connector.secrets.get(name)
    if not value:
        raise UsageError(f"connector {connector.name!r} has no secret {name!r}")
    return value
