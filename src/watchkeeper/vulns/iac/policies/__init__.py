"""The built-in policy set, one module per target."""

from __future__ import annotations

from typing import Any

from watchkeeper.vulns.iac.model import Policy


def builtin_policies() -> list[Policy[Any]]:
    from watchkeeper.vulns.iac import suppress
    from watchkeeper.vulns.iac.policies import (
        dockerfile,
        kubernetes,
        terraform_iam,
        terraform_network,
        terraform_storage,
    )

    return [
        *terraform_storage.POLICIES,
        *terraform_network.POLICIES,
        *terraform_iam.POLICIES,
        *kubernetes.POLICIES,
        *dockerfile.POLICIES,
        suppress.POLICY,
    ]
