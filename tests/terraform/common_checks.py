"""Checks every example must pass; each test file imports them, so pytest runs them per example.

They read the plan of the applied example (``terraform show -json``), i.e. every policy document the
modules render, whatever the emulator does with it.
"""

from __future__ import annotations

from tests.support.policies import least_privilege_violations, planned_statements, unscoped_invoke_permissions
from tests.terraform.conftest import DeployedExample
from tools.ci import deployer_policy


def test_replan_after_apply_is_clean(deployed: DeployedExample) -> None:
    plan = deployed.replan()
    assert plan.changes() == [], plan.text


def test_rendered_policies_are_least_privilege(deployed: DeployedExample) -> None:
    statements = planned_statements(deployed.replan())

    assert {"iam", "key", "queue"} <= {s.policy.split()[0] for s in statements}, (
        "roles, keys, queues expected"
    )
    assert least_privilege_violations(statements) == []
    with_policy = {s.policy for s in statements if s.policy.split()[0] in {"topic", "queue", "bucket"}}
    tls_only = {s.policy for s in statements if s.denies_insecure_transport}
    assert with_policy <= tls_only, f"must deny non-TLS access: {sorted(with_policy - tls_only)}"
    assert unscoped_invoke_permissions(deployed.replan()) == []


# The provider asks iam:GetUser for the account id first and, refused (or running as a role, as CI does),
# falls back to sts:GetCallerIdentity, which needs no permission: the policy does not grant it.
PROVIDER_PROBES = frozenset({"iam:GetUser"})


def test_deployer_policy_allowed_every_call(deployed: DeployedExample) -> None:
    """Apply and re-plan ran as the example's deployer (destroy runs at teardown, as the same user)."""
    deployed.replan()
    calls = deployed.deployer.calls()
    assert calls, "moto authorised no call: Terraform did not run with the deployer's key"
    assert [call for call in calls if not call.allowed and call.action not in PROVIDER_PROBES] == []


def test_deployer_policy_names_every_deployed_resource(deployed: DeployedExample) -> None:
    """moto checks actions, not resources: the policy's ARN patterns are matched against the real ARNs."""
    assert deployer_policy.uncovered_arns(deployed.deployer.policy, deployed.replan().resources()) == []
