"""examples/event-workflow applied to the emulator, proven end to end, then destroyed.

The flow under test is the deployed one: the three demo events are put on the bus by the real AWS CLI
(``put-events --entries file://tests/fixtures/cli/event_workflow_entries.json``) and by boto3; the deployed
rule matches them; EventBridge's StartExecution is delivered by the emulator to the deployed state machine,
whose deployed definition runs in moto's Step Functions interpreter (the "parser" backend). Executions are
mapped back to the events through the event ID, which EventBridge passes in the execution input.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.policies import deployed_statements, least_privilege_violations
from tests.terraform.common_checks import (  # noqa: F401 - collected here, run against this example
    test_deployer_policy_allowed_every_call,
    test_deployer_policy_names_every_deployed_resource,
    test_rendered_policies_are_least_privilege,
    test_replan_after_apply_is_clean,
)
from tests.terraform.conftest import FIXTURES, DeployedExample
from tools.emulator.account import ACCOUNT_ID
from tools.emulator.inventory import created_since, inventory
from tools.emulator.server import Emulator

pytestmark = pytest.mark.terraform

EXAMPLE = "event-workflow"
# Deployed as a consumer copies it: no -var, the example's defaults.
NAME = "event-workflow"
ENTRIES_FILE = FIXTURES / "cli" / "event_workflow_entries.json"
AWS_CLI = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "aws"
EXPECTED = {"A": ("SUCCEEDED", "A"), "B": ("SUCCEEDED", "B"), "C": ("FAILED", None)}
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


@pytest.fixture(scope="module")
def deployed(emulator: Emulator) -> Iterator[DeployedExample]:
    example = DeployedExample(emulator, EXAMPLE, {})
    yield example
    example.close()


def _entries() -> list[dict[str, str]]:
    entries: list[dict[str, str]] = json.loads(ENTRIES_FILE.read_text())
    return entries


def _execution_arns(emulator: Emulator, state_machine_arn: str) -> set[str]:
    sfn = emulator.client("stepfunctions")
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn)
    return {e["executionArn"] for page in pages for e in page["executions"]}


def _finished_executions(
    emulator: Emulator, state_machine_arn: str, before: set[str], expected: int, timeout: float = 30.0
) -> list[dict[str, Any]]:
    """The executions started since ``before``, once ``expected`` of them have finished (bounded wait)."""
    sfn = emulator.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while True:
        new = _execution_arns(emulator, state_machine_arn) - before
        described = [sfn.describe_execution(executionArn=arn) for arn in sorted(new)]
        if len(described) >= expected and all(d["status"] in TERMINAL for d in described):
            return described
        if time.monotonic() > deadline:
            statuses = [(d["executionArn"], d["status"]) for d in described]
            raise AssertionError(f"expected {expected} finished executions in {timeout} s, got {statuses}")
        time.sleep(0.2)


def _outcomes_by_path(executions: list[dict[str, Any]], event_ids: dict[str, str]) -> dict[str, Any]:
    """Path of each event -> (status, path reported by the output), via the event ID in the input."""
    outcomes = {}
    for execution in executions:
        event = json.loads(execution["input"])
        path = event_ids[event["id"]]
        assert event["source"] == "demo.sfn" and event["detail-type"] == "message"
        assert event["account"] == ACCOUNT_ID
        assert event["detail"] == {"Path": path}
        output = json.loads(execution["output"]) if execution.get("output") else None
        if output is not None:
            assert output["event_id"] == event["id"]
        outcomes[path] = (execution["status"], output["path"] if output else None)
    return outcomes


def test_deployed_state_machine_logs_traces_and_encrypts(
    emulator: Emulator, deployed: DeployedExample
) -> None:
    outputs = deployed.outputs
    key_arn = outputs["kms_key_arn"]
    machine = emulator.client("stepfunctions").describe_state_machine(
        stateMachineArn=outputs["state_machine_arn"]
    )
    assert machine["roleArn"] == outputs["state_machine_role_arn"]
    assert machine["tracingConfiguration"] == {"enabled": True}
    assert machine["encryptionConfiguration"]["type"] == "CUSTOMER_MANAGED_KMS_KEY"
    assert machine["encryptionConfiguration"]["kmsKeyId"] == key_arn
    logging_configuration = machine["loggingConfiguration"]
    assert logging_configuration["level"] == "ALL"
    assert logging_configuration.get("includeExecutionData", False) is False  # AWS omits false
    assert logging_configuration["destinations"] == [
        {"cloudWatchLogsLogGroup": {"logGroupArn": f"{outputs['log_group_arn']}:*"}}
    ]
    assert outputs["log_group_name"] == f"/aws/vendedlogs/states/{NAME}"
    groups = emulator.client("logs").describe_log_groups(logGroupNamePrefix=outputs["log_group_name"])
    assert [
        (g["logGroupName"], g.get("kmsKeyId"), g.get("retentionInDays")) for g in groups["logGroups"]
    ] == [(outputs["log_group_name"], key_arn, 365)]  # the example's default retention
    assert emulator.client("kms").get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True

    # The deployed definition is the router: Choice on $.detail.Path, A/B -> Pass, otherwise Fail.
    definition = json.loads(machine["definition"])
    route = definition["States"][definition["StartAt"]]
    assert route["Type"] == "Choice"
    assert [c["Next"] for c in route["Choices"]] == ["PathA", "PathB"]
    assert definition["States"][route["Default"]]["Type"] == "Fail"


def test_rule_target_retries_and_dead_letters(emulator: Emulator, deployed: DeployedExample) -> None:
    outputs = deployed.outputs
    events = emulator.client("events")
    rule = events.describe_rule(Name=outputs["rule_name"], EventBusName=outputs["event_bus_name"])
    assert rule["Arn"] == outputs["rule_arn"]
    assert json.loads(rule["EventPattern"]) == {"source": ["demo.sfn"], "account": [ACCOUNT_ID]}
    [target] = events.list_targets_by_rule(Rule=outputs["rule_name"], EventBusName=outputs["event_bus_name"])[
        "Targets"
    ]
    assert target["Arn"] == outputs["state_machine_arn"]
    assert target["RoleArn"] == outputs["events_role_arn"]
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 24}
    assert target["DeadLetterConfig"] == {"Arn": outputs["dead_letter_queue_arn"]}
    queue = emulator.client("sqs").get_queue_attributes(
        QueueUrl=outputs["dead_letter_queue_url"], AttributeNames=["KmsMasterKeyId"]
    )
    assert queue["Attributes"]["KmsMasterKeyId"] == outputs["kms_key_arn"]


def test_events_role_only_starts_this_state_machine_for_this_rule(
    emulator: Emulator, deployed: DeployedExample
) -> None:
    outputs = deployed.outputs
    iam = emulator.client("iam")
    role_name = outputs["events_role_arn"].split("/")[-1]
    trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    [assume] = trust["Statement"]
    assert assume["Principal"] == {"Service": "events.amazonaws.com"}
    assert assume["Action"] == "sts:AssumeRole"
    assert assume["Condition"]["ArnEquals"]["aws:SourceArn"] == outputs["rule_arn"]
    assert assume["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT_ID
    statements = [
        s
        for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]
        for s in iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]["Statement"]
    ]
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in statements] == [
        ("Allow", "states:StartExecution", outputs["state_machine_arn"])
    ]

    # The key lets EventBridge use it for this rule's dead letters only, and CloudWatch Logs for this group.
    policy = json.loads(
        emulator.client("kms").get_key_policy(KeyId=outputs["kms_key_arn"], PolicyName="default")["Policy"]
    )
    by_principal = {json.dumps(s["Principal"], sort_keys=True): s for s in policy["Statement"]}
    events_grant = by_principal[json.dumps({"Service": "events.amazonaws.com"})]
    assert events_grant["Condition"]["ArnLike"]["aws:SourceArn"] == outputs["rule_arn"]
    logs_grant = by_principal[json.dumps({"Service": "logs.us-east-1.amazonaws.com"})]
    assert (
        logs_grant["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == outputs["log_group_arn"]
    )


def test_every_deployed_policy_is_least_privilege(emulator: Emulator, deployed: DeployedExample) -> None:
    created = created_since(deployed.before, inventory(emulator))
    statements = deployed_statements(emulator, created)

    assert {s.policy.split()[0] for s in statements} >= {"role", "key", "queue"}
    assert least_privilege_violations(statements) == []
    queues = {s.policy for s in statements if s.policy.startswith("queue")}
    assert queues and queues <= {s.policy for s in statements if s.denies_insecure_transport}

    # The state machine role: "*" only for the log-delivery and X-Ray actions AWS requires it for.
    role = deployed.outputs["state_machine_role_arn"].split("/")[-1]
    wildcard = {
        a
        for s in statements
        if s.policy.startswith(f"role {role} ") and "*" in s.resources
        for a in s.actions
    }
    assert wildcard == {
        "logs:CreateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:DescribeLogGroups",
        "logs:DescribeResourcePolicies",
        "logs:GetLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:UpdateLogDelivery",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    }


def test_cli_put_events_routes_a_and_b_to_success_and_c_to_failure(
    emulator: Emulator, deployed: DeployedExample
) -> None:
    state_machine_arn = deployed.outputs["state_machine_arn"]
    before = _execution_arns(emulator, state_machine_arn)

    answer = subprocess.run(
        [
            str(AWS_CLI),
            "events",
            "put-events",
            "--entries",
            f"file://{ENTRIES_FILE}",
            "--endpoint-url",
            emulator.endpoint_url,
            "--region",
            "us-east-1",
            "--output",
            "json",
        ],
        env=emulator.environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    put = json.loads(answer.stdout)
    assert put["FailedEntryCount"] == 0, put
    paths = [json.loads(e["Detail"])["Path"] for e in _entries()]
    event_ids = {entry["EventId"]: path for entry, path in zip(put["Entries"], paths, strict=True)}
    executions = _finished_executions(emulator, state_machine_arn, before, expected=3)
    assert len(executions) == 3, "one execution per matching event"
    assert _outcomes_by_path(executions, event_ids) == EXPECTED
    [failed] = [e for e in executions if e["status"] == "FAILED"]
    assert failed["error"] == "UnknownPath"


def test_boto3_put_events_shape_is_routed_the_same(emulator: Emulator, deployed: DeployedExample) -> None:
    state_machine_arn = deployed.outputs["state_machine_arn"]
    before = _execution_arns(emulator, state_machine_arn)
    entries = [{**e, "EventBusName": deployed.outputs["event_bus_name"]} for e in _entries()]

    put = emulator.client("events").put_events(Entries=entries)

    assert put["FailedEntryCount"] == 0, put
    paths = [json.loads(e["Detail"])["Path"] for e in entries]
    event_ids = {entry["EventId"]: path for entry, path in zip(put["Entries"], paths, strict=True)}
    executions = _finished_executions(emulator, state_machine_arn, before, expected=3)
    assert _outcomes_by_path(executions, event_ids) == EXPECTED


def test_event_from_another_source_is_not_routed(emulator: Emulator, deployed: DeployedExample) -> None:
    state_machine_arn = deployed.outputs["state_machine_arn"]
    before = _execution_arns(emulator, state_machine_arn)

    put = emulator.client("events").put_events(
        Entries=[
            {"Source": "demo.other", "DetailType": "message", "Detail": json.dumps({"Path": "A"})},
            {"Source": "demo.sfnx", "DetailType": "message", "Detail": json.dumps({"Path": "B"})},
        ]
    )

    assert put["FailedEntryCount"] == 0, put
    # EventBridge delivery is synchronous in the emulator: a started execution would already be listed.
    time.sleep(0.5)
    assert _execution_arns(emulator, state_machine_arn) - before == set()


def test_zz_destroy_leaves_nothing_behind(emulator: Emulator, deployed: DeployedExample) -> None:
    left = deployed.destroy_and_list_leftovers()
    assert left == {}, f"destroy left behind: {left}"
