"""Every example applies as a consumer copies it: `terraform apply` with no -var at all, against the emulator.

tests/unit/test_examples_plan_with_defaults.py plans every example with its defaults (mock provider). Applying
them proves what a plan cannot: the defaults create real resources that the emulator accepts, re-plan clean
and destroy without leftovers, as the example's deployer (its generated policy, nothing else).

Four examples' own end-to-end files already deploy them with no variable (``DeployedExample(emulator,
EXAMPLE, {})``); the two whose end-to-end tests need inputs (the notification service turns push on with
platform credentials) or that have no end-to-end file (the CI pipeline) are applied here. A guard test keeps
the split honest: every example under examples/ is applied with no variable in exactly one place.

The notification service with its defaults is its own deployment (push off, the Cognito user pool on) under
its default name, apart from test_notification_service.py's. This file is one xdist unit (both deployments,
one after the other): it is listed in conftest.LONGEST_FIRST to start early.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.policies import least_privilege_violations, planned_statements
from tests.terraform.conftest import EXAMPLES, DeployedExample
from tools.ci import deployer_policy
from tools.emulator.lambda_service import InProcessLambdaService
from tools.emulator.server import Emulator

pytestmark = pytest.mark.terraform

# The examples this file applies with their defaults; every other example's own file does (checked below).
APPLIED_HERE = ("notification-service", "ci-pipeline")
# The provider's account-id probe, refused to the deployer by design (common_checks.PROVIDER_PROBES).
PROVIDER_PROBES = frozenset({"iam:GetUser"})


def _applied_with_defaults_elsewhere() -> dict[str, str]:
    """example -> the end-to-end file that deploys it with ``DeployedExample(emulator, EXAMPLE, {})``."""
    found: dict[str, str] = {}
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        text = path.read_text()
        example = re.search(r'^EXAMPLE = "([^"]+)"', text, re.MULTILINE)
        if example and re.search(r"DeployedExample\(\s*emulator,\s*EXAMPLE,\s*\{\}\s*\)", text):
            found[example.group(1)] = path.name
    return found


def test_every_example_is_applied_with_no_variables_exactly_once() -> None:
    examples = sorted(path.name for path in EXAMPLES.iterdir() if any(path.glob("*.tf")))
    elsewhere = _applied_with_defaults_elsewhere()
    assert sorted([*elsewhere, *APPLIED_HERE]) == examples, (
        f"examples applied with no variable: {elsewhere} + {APPLIED_HERE}; examples: {examples}"
    )


@pytest.fixture(scope="module", params=APPLIED_HERE)
def deployed(
    request: pytest.FixtureRequest, emulator: Emulator, lambda_service: InProcessLambdaService
) -> Iterator[DeployedExample]:
    """lambda_service: Terraform invokes functions during apply where an example does (none with defaults)."""
    example = DeployedExample(emulator, request.param, {})
    yield example
    example.close()


def test_applies_with_defaults_and_replans_clean(deployed: DeployedExample) -> None:
    assert deployed.outputs, "the example applied but exported no output"
    plan = deployed.replan()
    assert plan.changes() == [], plan.text


def test_rendered_policies_are_least_privilege(deployed: DeployedExample) -> None:
    statements = planned_statements(deployed.replan())
    assert statements, "no policy rendered"
    assert least_privilege_violations(statements) == []


def test_deployer_policy_allowed_every_call(deployed: DeployedExample) -> None:
    deployed.replan()
    calls = deployed.deployer.calls()
    assert calls, "moto authorised no call: Terraform did not run with the deployer's key"
    assert [call for call in calls if not call.allowed and call.action not in PROVIDER_PROBES] == []
    assert deployer_policy.uncovered_arns(deployed.deployer.policy, deployed.replan().resources()) == []


def test_zz_destroy_leaves_nothing_behind(deployed: DeployedExample) -> None:
    left = deployed.destroy_and_list_leftovers()
    assert left == {}, f"destroy left behind: {left}"
    refused = [
        call for call in deployed.deployer.calls() if not call.allowed and call.action not in PROVIDER_PROBES
    ]
    assert refused == [], "destroy needed an action the deployer policy lacks"
