"""Infrastructure-as-code checks: documented policies over Terraform, Kubernetes manifests
and Dockerfiles, reported as ``misconfiguration`` findings with file and line.

Public API: :class:`IacSource` (the finding source ``watchkeeper scan`` runs),
:class:`Policy`, :class:`Violation`, :class:`Target`, :class:`PolicyRegistry` and
:func:`default_registry`.
"""

from watchkeeper.vulns.iac.model import (
    Policy,
    PolicyRegistry,
    Target,
    Violation,
    default_registry,
)
from watchkeeper.vulns.iac.scanner import IacSource

__all__ = ["IacSource", "Policy", "PolicyRegistry", "Target", "Violation", "default_registry"]
