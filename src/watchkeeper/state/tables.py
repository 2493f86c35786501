"""Every table of the state database, gathered on one metadata for Alembic and for tests.

Importing a capability's ``model`` module registers its tables on :data:`Base.metadata`;
a capability with tables adds its module to :data:`MODELS`.
"""

from __future__ import annotations

from watchkeeper.alerts import model as alerts_model
from watchkeeper.assets import model as assets_model
from watchkeeper.audit import model as audit_model
from watchkeeper.auth import model as auth_model
from watchkeeper.cases import evidence_model as case_evidence_model
from watchkeeper.cases import model as cases_model
from watchkeeper.deadletters import model as deadletters_model
from watchkeeper.intel import store_model as intel_model
from watchkeeper.notifications import model as notifications_model
from watchkeeper.response import connector_model
from watchkeeper.response import run_model as response_run_model
from watchkeeper.rules import model as rules_model
from watchkeeper.shifts import model as shifts_model
from watchkeeper.state.base import Base
from watchkeeper.vulns import store_model as vulns_model

MODELS = (auth_model, audit_model, alerts_model, assets_model, rules_model, deadletters_model,
          cases_model, shifts_model, notifications_model, case_evidence_model,
          response_run_model, connector_model, vulns_model, intel_model)
"""The modules that declare tables."""

metadata = Base.metadata
