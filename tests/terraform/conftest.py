"""Fixtures for the Terraform tests: one emulator per test process, one workspace per example.

Terraform applies, re-plans and destroys each example as a deployer holding only the example's generated
deployer policy (tools/ci/deployer_policy.py), whose every call moto authorises
(tools/emulator/access_control.py); the tests themselves keep the emulator's unchecked credentials.

Run with ``pytest -n 2 --dist loadfile --no-loadscope-reorder tests/terraform``: each example's file stays on
one worker, and two examples apply at once (each Terraform command is mostly the provider starting, each SQS
queue a fixed ~25 s wait inside the provider, so two workers keep both cores busy). The files are handed out
longest first (LONGEST_FIRST, then the rest): the two notification-service deployments start at once on
different workers and the small examples fill in behind them, instead of one of the long ones starting last.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notification_handlers.aws_clients import reset_clients
from tools.ci import deployer_policy
from tools.emulator.access_control import DEPLOYER_KEYS, Call, DeployerCredentials, create_deployer
from tools.emulator.inventory import created_since, inventory
from tools.emulator.lambda_service import InProcessLambdaService
from tools.emulator.server import Emulator
from tools.emulator.terraform import ExampleWorkspace, Plan, use_terraform_env

# The checks every example runs live in common_checks.py: give them pytest's assertion messages too.
pytest.register_assert_rewrite("tests.terraform.common_checks")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CALLS_REPORT = Path(__file__).resolve().parents[2] / "build" / "deployer-calls"
# The files that apply the whole notification service (several minutes each), longest first.
LONGEST_FIRST = (
    "test_notification_service.py",
    "test_notification_service_upgrade.py",
    "test_examples_apply_with_defaults.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """LONGEST_FIRST's files first (xdist hands out whole files in this order with --no-loadscope-reorder),
    and in each file its ``test_zz_`` tests (the destroy of the shared deployment) after every other test
    of the same deployment, wherever a test was added in the file: a test placed after the destroy would find
    nothing deployed. A parametrized deployment (a module-scoped fixture with params) is one group per
    parameter, as pytest ordered them: moving a destroy past the next parameter's tests would tear the fixture
    down and set it up again (a second deployment under the same names)."""

    def file_rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    def params(item: pytest.Item) -> dict[str, Any]:
        callspec = getattr(item, "callspec", None)
        return dict(callspec.params) if callspec is not None else {}

    position = {id(item): float(index) for index, item in enumerate(items)}
    for index, item in enumerate(items):
        if not item.name.startswith("test_zz_"):
            continue
        own = params(item)
        # The last test of this file run with the same parameters as the destroy (all of them, if none).
        same_group = [
            later
            for later, other in enumerate(items)
            if other.path == item.path
            and not other.name.startswith("test_zz_")
            and all(key in params(other) and params(other)[key] == value for key, value in own.items())
        ]
        if same_group and max(same_group) > index:
            position[id(item)] = max(same_group) + 0.5
    items.sort(key=lambda item: (file_rank(item), str(item.path), position[id(item)]))


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    use_terraform_env()
    started = Emulator().start()
    yield started
    started.stop()


@pytest.fixture(scope="session")
def lambda_service(emulator: Emulator) -> InProcessLambdaService:
    reset_clients()  # clients cached by earlier in-process tests must not outlive their mocks
    service = InProcessLambdaService(emulator)
    # Synchronous invokes (Terraform's aws_lambda_invocation) run the deployed handler in this process too.
    emulator.install_invoker(service.invoke_sync)
    return service


# Fake platform credentials of the shape the push provisioner checks (design document, section 7): the
# notification-service deployments (the end-to-end one and the upgrade's) turn push on with them.
PUSH_SECRETS = {
    "apns": {
        "signing_key": "fake-apns-signing-key",
        "key_id": "ABC123DEFG",
        "team_id": "TEAM123456",
        "bundle_id": "com.example.shop",
    },
    "fcm": {
        "service_account_json": json.dumps(
            {
                "type": "service_account",
                "project_id": "example-shop",
                "private_key": "fake-fcm-key",  # pragma: allowlist secret (a made-up value for the emulator)
                "client_email": "push@example-shop.iam.gserviceaccount.com",
            }
        )
    },
}


@pytest.fixture(scope="session")
def push_credentials(emulator: Emulator, lambda_service: InProcessLambdaService) -> dict[str, str]:
    """The notification-service example's push variables: PUSH_SECRETS stored in Secrets Manager, as an
    operator stores them before apply (only their ARNs pass through Terraform).

    lambda_service: it runs the push platforms provisioner Terraform invokes during apply and destroy.
    """
    reset_clients()
    secretsmanager = emulator.client("secretsmanager")
    arns = {
        platform: secretsmanager.create_secret(
            Name=f"e2e/push/{platform}-{uuid.uuid4().hex[:6]}", SecretString=json.dumps(secret)
        )["ARN"]
        for platform, secret in PUSH_SECRETS.items()
    }
    return {f"{platform}_credentials_secret_arn": arn for platform, arn in arns.items()}


def load_event(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "events" / f"{name}.json").read_text())


class Deployer:
    """The IAM user Terraform runs as: the example's deployer policy for its ``name``, nothing else."""

    def __init__(self, emulator: Emulator, example: str, name: str) -> None:
        template = deployer_policy.policy_for(deployer_policy.REPO_ROOT / "examples" / example)
        self.policy = deployer_policy.for_deployment(template, name)
        self.credentials: DeployerCredentials = create_deployer(
            emulator.client("iam"), f"deployer-{name}", self.policy
        )

    def calls(self) -> list[Call]:
        return list(DEPLOYER_KEYS.calls.get(self.credentials.access_key_id, []))

    def summary(self, example: str) -> str:
        """One line for the log; the actions used and unused, in build/deployer-calls/<example>.json."""
        calls = self.calls()
        granted = {action for statement in self.policy["Statement"] for action in statement["Action"]}
        used = {call.action for call in calls if call.allowed}
        refused = sorted({call.action for call in calls if not call.allowed})
        CALLS_REPORT.mkdir(parents=True, exist_ok=True)
        report = {"used": sorted(used), "granted_unused": sorted(granted - used), "refused": refused}
        (CALLS_REPORT / f"{example}.json").write_text(json.dumps(report, indent=2) + "\n")
        return (
            f"{len(calls)} calls, {len(used & granted)} of the policy's {len(granted)} actions used"
            f"{f', refused {refused}' if refused else ''}"
        )


def deployment_name(example: str, variables: dict[str, Any]) -> str:
    """The `name` the example deploys under: the test's value, else the example's default (no -var given)."""
    if "name" in variables:
        return str(variables["name"])
    text = (EXAMPLES / example / "variables.tf").read_text()
    block = re.search(r'variable "name" \{(.*?)\n\}', text, re.DOTALL)
    default = re.search(r'^\s*default\s*=\s*"([^"]+)"', block.group(1), re.MULTILINE) if block else None
    if default is None:
        raise AssertionError(f"examples/{example} has no default name: pass `name` in the test's variables")
    return default.group(1)


class DeployedExample:
    """An example applied to the emulator; ``destroy()`` is also called at teardown if a test did not."""

    def __init__(self, emulator: Emulator, example: str, variables: dict[str, Any]) -> None:
        self.emulator = emulator
        self.variables = variables
        # Before the inventory: the deployer user is the harness's, not the example's.
        self.deployer = Deployer(emulator, example, deployment_name(example, variables))
        self.before = inventory(emulator)
        self.workspace = ExampleWorkspace.create(
            example, emulator.provider_override(self.deployer.credentials), variables
        )
        self.timings: dict[str, float] = {}
        self.destroyed = False
        self._replan: Plan | None = None
        self._timed("init", self.workspace.init)
        self._timed("apply", self.workspace.apply)
        self.outputs = self.workspace.outputs()

    def _timed(self, step: str, action: Any) -> Any:
        started = time.monotonic()
        try:
            return action()
        finally:
            self.timings[step] = round(time.monotonic() - started, 1)

    def replan(self) -> Plan:
        """The plan right after apply (computed once: every check reads the same one)."""
        if self._replan is None:
            self._replan = self._timed("replan", self.workspace.plan)
        return self._replan

    def destroy(self) -> None:
        if not self.destroyed:
            self.destroyed = True
            self._timed("destroy", self.workspace.destroy)

    def destroy_and_list_leftovers(
        self, test_owned: dict[str, set[str]] | None = None
    ) -> dict[str, set[str]]:
        """Destroy, then what the emulator holds that it did not hold before apply (by kind).

        ``test_owned``: what the test itself created (e.g. a topic reader), which destroy must not remove.
        """
        self.destroy()
        left = created_since(self.before, inventory(self.emulator))
        for kind, names in (test_owned or {}).items():
            left[kind] = left.get(kind, set()) - names
        return {kind: names for kind, names in left.items() if names}

    def close(self) -> None:
        try:
            self.destroy()
        finally:
            print(
                f"\n{self.workspace.example}: terraform timings (s) {self.timings}; log {self.workspace.log}"
                f"\n{self.workspace.example}: deployer {self.deployer.summary(self.workspace.example)}"
            )
