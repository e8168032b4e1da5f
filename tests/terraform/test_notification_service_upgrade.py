"""An existing deployment of the notification service upgrades to the queue-worker layout in place.

Before modules/queue-worker the root module declared each worker's queue, DLQ, function and event source
mapping at its own address (module.push_queue, aws_lambda_event_source_mapping.push_worker, ...). The
``moved`` blocks of moved.tf carry them to module.router_worker and module.channel_workers["<channel>"], and
the other functions (module.email_feedback, ...) and the SES configuration set to one for_each each. This
test applies examples/notification-service as it was at LAYOUT_BEFORE_QUEUE_WORKERS (every channel on), then
plans the working tree's layout on the same state: nothing may be destroyed or replaced, and the only
resources created are those the security fixes added after that layout (ADDED_SINCE_LAYOUT).

The old layout comes from git history (``git archive``), so the test needs a checkout with that commit (CI
clones the whole history). One apply of the whole service, about two minutes; its own name keeps it apart
from test_notification_service.py should both run in one emulator.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notification_handlers.aws_clients import reset_clients
from tools.ci.terraform_offline import REPO_ROOT
from tools.emulator.server import Emulator
from tools.emulator.terraform import ExampleWorkspace

pytestmark = pytest.mark.terraform

# The last commit with one queue, DLQ, function and mapping per worker at the root module's top level (a
# git commit id, not a secret).
LAYOUT_BEFORE_QUEUE_WORKERS = "cf7b2c2dcbc2584979c5843379f9c892513d5c71"  # pragma: allowlist secret
EXAMPLE = "notification-service"
NAME = "notif-upgrade"
# The example calls the service as module.notification_service.
SERVICE = "module.notification_service."
# Every worker of the old layout, by the address its event source mapping moves to.
MOVED_MAPPINGS = {
    f"{SERVICE}module.router_worker.aws_lambda_event_source_mapping.this[0]": (
        f"{SERVICE}aws_lambda_event_source_mapping.router[0]"
    ),
    **{
        f'{SERVICE}module.channel_workers["{channel}"].aws_lambda_event_source_mapping.this[0]': (
            f"{SERVICE}aws_lambda_event_source_mapping.{channel}_worker[0]"
        )
        for channel in ("email", "websocket", "push")
    },
}

# Added after LAYOUT_BEFORE_QUEUE_WORKERS, so an upgrade creates them. By the security fixes: the built-in
# WebSocket JWT authorizer (function, API authorizer, invoke permission, error alarm), the SES configuration
# set of verification mail with its feedback destination, and the device ownership table. Exact addresses, or
# a module prefix ending in ".". Anything else created means a resource lost its address (no moved block).
ADDED_SINCE_LAYOUT = {
    f"{SERVICE}aws_apigatewayv2_authorizer.websocket[0]",
    f"{SERVICE}aws_lambda_permission.websocket_authorizer[0]",
    f'{SERVICE}aws_cloudwatch_metric_alarm.this["websocket-authorizer-errors"]',
    f'{SERVICE}module.lambda_functions["websocket_authorizer"].',
    f'{SERVICE}aws_sesv2_configuration_set.this["verification"]',
    f'{SERVICE}aws_sesv2_configuration_set_event_destination.feedback["verification"]',
    f'{SERVICE}module.tables["device_owners"].',
    # The in-app inbox, on in the example: its table, queue worker, alarms and registration routes.
    f'{SERVICE}module.tables["inbox"].',
    f'{SERVICE}module.channel_workers["inbox"].',
    f'{SERVICE}aws_cloudwatch_metric_alarm.this["inbox-dlq"]',
    f'{SERVICE}aws_cloudwatch_metric_alarm.this["inbox-worker-errors"]',
    *(
        f'{SERVICE}aws_apigatewayv2_route.registration["{route}"]'
        for route in (
            "GET /inbox",
            "GET /inbox/unread-count",
            "POST /inbox/read-all",
            "POST /inbox/{item_id}/archive",
            "POST /inbox/{item_id}/read",
        )
    ),
    # The example's types added since: account_update (channel fallback) and order_delivered (inbox only).
    f'{SERVICE}aws_dynamodb_table_item.catalog["account_update"]',
    f'{SERVICE}aws_dynamodb_table_item.catalog["order_delivered"]',
    # Scheduled send: the module's schedule group and the schedules' execution role.
    f"{SERVICE}aws_scheduler_schedule_group.this[0]",
    f"{SERVICE}aws_iam_role.scheduler[0]",
    f"{SERVICE}aws_iam_role_policy.scheduler[0]",
    # Digests and frequency caps: the example's price_drop (digest) and promotion (capped) types, and the
    # digests table (the caps count in the limits table, which the registration API already created).
    f'{SERVICE}aws_dynamodb_table_item.catalog["price_drop"]',
    f'{SERVICE}aws_dynamodb_table_item.catalog["promotion"]',
    f'{SERVICE}module.tables["digests"].',
}
# A WebSocket API deployment is an immutable snapshot of the routes: the $connect route gained the authorizer,
# so a new deployment replaces the old one, created before the old one goes (the stage is never without one).
# The functions that are not queue workers and the notifications' SES configuration set and its event
# destination, each into its for_each.
MOVED_TO_FOR_EACH = {
    **{
        f'{SERVICE}module.lambda_functions["{role}"].aws_lambda_function.this[0]': (
            f"{SERVICE}module.{role}.aws_lambda_function.this[0]"
        )
        for role in ("email_feedback", "websocket_connections", "push_platforms")
    },
    f'{SERVICE}aws_sesv2_configuration_set.this["notifications"]': (
        f"{SERVICE}aws_sesv2_configuration_set.this[0]"
    ),
    f'{SERVICE}aws_sesv2_configuration_set_event_destination.feedback["notifications"]': (
        f"{SERVICE}aws_sesv2_configuration_set_event_destination.feedback[0]"
    ),
}
REDEPLOYED = {f"{SERVICE}aws_apigatewayv2_deployment.websocket[0]": ["create", "delete"]}


def _added_since_layout(address: str) -> str | None:
    """The ADDED_SINCE_LAYOUT entry covering ``address``, if any."""
    for added in ADDED_SINCE_LAYOUT:
        if address == added or (added.endswith(".") and address.startswith(added)):
            return added
    return None


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    git = shutil.which("git")
    if git is None:
        pytest.skip("no git: the layout before the queue workers comes from git history")
    return subprocess.run([git, "-C", str(REPO_ROOT), *args], capture_output=True, check=False)


@pytest.fixture(scope="module")
def layout_before(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository at LAYOUT_BEFORE_QUEUE_WORKERS, unpacked into a temporary directory."""
    if _git("rev-parse", "--git-dir").returncode != 0:
        pytest.skip("not a git checkout: the layout before the queue workers comes from git history")
    archive = _git("archive", "--format=tar", LAYOUT_BEFORE_QUEUE_WORKERS)
    assert archive.returncode == 0, (
        f"commit {LAYOUT_BEFORE_QUEUE_WORKERS} is missing (a shallow clone? fetch the full history): "
        f"{archive.stderr.decode()}"
    )
    target = tmp_path_factory.mktemp("layout-before")
    tar_path = target / "layout.tar"
    tar_path.write_bytes(archive.stdout)
    with tarfile.open(tar_path) as tar:
        tar.extractall(target / "repo", filter="data")
    return target / "repo"


def _switch_to_working_tree(workspace: ExampleWorkspace) -> None:
    """Replace the workspace's copy of the old layout by the working tree's, keeping state and tfvars."""
    root = workspace.directory.parent.parent
    for old in root.glob("*.tf"):
        old.unlink()
    for current in REPO_ROOT.glob("*.tf"):
        shutil.copy2(current, root / current.name)
    for shared in ("modules", "dist", "lambda_src"):
        (root / shared).unlink()
        (root / shared).symlink_to(REPO_ROOT / shared, target_is_directory=True)
    for old in workspace.directory.glob("*.tf"):
        if old.name != "emulator_override.tf":
            old.unlink()
    for current in (REPO_ROOT / "examples" / EXAMPLE).glob("*.tf"):
        shutil.copy2(current, workspace.directory / current.name)


@pytest.fixture(scope="module")
def upgrade_plan(
    emulator: Emulator, push_credentials: dict[str, str], layout_before: Path
) -> Iterator[dict[str, Any]]:
    reset_clients()
    variables = {"name": NAME, "sender_address": "notifications@example.com", **push_credentials}
    workspace = ExampleWorkspace.create(
        EXAMPLE, emulator.provider_override(), variables, source_root=layout_before
    )
    try:
        workspace.init()
        workspace.apply()
        _switch_to_working_tree(workspace)
        workspace.init()
        yield workspace.plan().document
    finally:
        try:
            workspace.destroy()
        finally:
            print(f"\n{EXAMPLE} upgrade: terraform log {workspace.log}")


def test_upgrade_replaces_and_destroys_nothing(upgrade_plan: dict[str, Any]) -> None:
    changes = upgrade_plan.get("resource_changes", [])
    assert changes, "the plan lists no resource at all"
    destroyed = [
        f"{c['address']}: {'/'.join(c['change']['actions'])}"
        for c in changes
        if "delete" in c["change"]["actions"] and REDEPLOYED.get(c["address"]) != c["change"]["actions"]
    ]
    assert destroyed == [], "the upgrade must move every resource, not replace or destroy it"
    created = [c["address"] for c in changes if c["change"]["actions"] == ["create"]]
    unexpected = [address for address in created if _added_since_layout(address) is None]
    assert unexpected == [], "only resources added since the old layout may be created"
    # Every addition is there (the list is exact, not a loophole).
    assert {_added_since_layout(address) for address in created} == ADDED_SINCE_LAYOUT


def test_every_worker_moved_to_its_queue_worker(upgrade_plan: dict[str, Any]) -> None:
    previous = {c["address"]: c.get("previous_address") for c in upgrade_plan.get("resource_changes", [])}
    assert {address: previous.get(address) for address in MOVED_MAPPINGS} == MOVED_MAPPINGS
    assert {address: previous.get(address) for address in MOVED_TO_FOR_EACH} == MOVED_TO_FOR_EACH
    moved = [address for address, before in previous.items() if before]
    # Per worker the queue, the DLQ and the function (role and log group with it) moved; the tables too.
    for part in ("module.queue.", "module.dlq.", "module.function."):
        for worker in (
            "module.router_worker.",
            *(f'module.channel_workers["{c}"].' for c in ("email", "push")),
        ):
            assert any(address.startswith(SERVICE + worker + part) for address in moved), (
                worker,
                part,
                moved,
            )
    assert any(address.startswith(SERVICE + 'module.tables["catalog"].') for address in moved), moved
    # The limits table existed before the tables became one for_each: it keeps its counters.
    limits = f'{SERVICE}module.tables["limits"].aws_dynamodb_table.this[0]'
    assert previous.get(limits) == f"{SERVICE}module.limits_table.aws_dynamodb_table.this[0]"
