"""examples/root-activity-monitor applied to the emulator, proven end to end, then destroyed.

The flow under test is the deployed one: events are put on the emulated bus and matched by the deployed
rule; the emulator records EventBridge's delivery to the deployed function; the in-process Lambda service
runs the handler with the deployed configuration; the published message is read back through an SQS
subscription of the deployed topic.

The emulator accepts ``aws.*`` sources on PutEvents, which real EventBridge reserves for AWS services:
that is what lets a test stand in for CloudTrail here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support.policies import deployed_statements, least_privilege_violations
from tests.terraform.common_checks import (  # noqa: F401 - collected here, run against this example
    test_deployer_policy_allowed_every_call,
    test_deployer_policy_names_every_deployed_resource,
    test_rendered_policies_are_least_privilege,
    test_replan_after_apply_is_clean,
)
from tests.terraform.conftest import DeployedExample, load_event
from tools.emulator.inventory import created_since, inventory
from tools.emulator.lambda_service import InProcessLambdaService
from tools.emulator.server import Emulator
from tools.emulator.topic_reader import TopicReader, reading_topic

pytestmark = pytest.mark.terraform

EXAMPLE = "root-activity-monitor"
# Deployed as a consumer copies it: no -var, the example's defaults.
NAME = "root-activity-monitor"
SUBSCRIBER = "security@example.com"


@pytest.fixture(scope="module")
def deployed(emulator: Emulator) -> Iterator[DeployedExample]:
    example = DeployedExample(emulator, EXAMPLE, {})
    yield example
    example.close()


@pytest.fixture(scope="module")
def topic_reader(emulator: Emulator, deployed: DeployedExample) -> Iterator[TopicReader]:
    """What an email subscriber of the deployed topic would receive."""
    with reading_topic(emulator, deployed.outputs["sns_topic_arn"], f"{NAME}-topic-reader") as reader:
        yield reader


def test_deployed_resources_are_wired_and_encrypted(emulator: Emulator, deployed: DeployedExample) -> None:
    outputs = deployed.outputs
    key_arn = outputs["kms_key_arn"]
    topic = emulator.client("sns").get_topic_attributes(TopicArn=outputs["sns_topic_arn"])["Attributes"]
    assert topic["KmsMasterKeyId"] == key_arn
    subscriptions = emulator.client("sns").list_subscriptions_by_topic(TopicArn=outputs["sns_topic_arn"])
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions["Subscriptions"]] == [("email", SUBSCRIBER)]

    log_group = emulator.client("logs").describe_log_groups(logGroupNamePrefix=outputs["log_group_name"])
    assert [(g["logGroupName"], g.get("kmsKeyId")) for g in log_group["logGroups"]] == [
        (outputs["log_group_name"], key_arn)
    ]
    kms = emulator.client("kms")
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True

    function = emulator.client("lambda").get_function_configuration(
        FunctionName=outputs["lambda_function_name"]
    )
    assert function["Handler"] == "notification_handlers.root_activity.handler"
    assert function["Architectures"] == ["arm64"]
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["DeadLetterConfig"]["TargetArn"] == outputs["dead_letter_queue_arn"]
    assert function["Environment"]["Variables"]["SNS_TOPIC_ARN"] == outputs["sns_topic_arn"]

    policy = json.loads(
        emulator.client("lambda").get_policy(FunctionName=outputs["lambda_function_name"])["Policy"]
    )
    rule_arns = set(outputs["event_rule_arns"].values())
    assert {s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in policy["Statement"]} == rule_arns


def test_every_deployed_policy_is_least_privilege(emulator: Emulator, deployed: DeployedExample) -> None:
    created = created_since(deployed.before, inventory(emulator))
    statements = deployed_statements(emulator, created)

    assert {s.policy.split()[0] for s in statements} >= {"role", "key", "topic", "queue", "function"}
    assert least_privilege_violations(statements) == []
    resources_with_policy = {s.policy for s in statements if s.policy.startswith(("topic", "queue"))}
    tls_only = {s.policy for s in statements if s.denies_insecure_transport}
    assert resources_with_policy and resources_with_policy <= tls_only, "topics and queues must deny non-TLS"


def test_root_sign_in_is_routed_handled_and_published(
    emulator: Emulator,
    deployed: DeployedExample,
    lambda_service: InProcessLambdaService,
    topic_reader: TopicReader,
) -> None:
    event = load_event("root_console_sign_in")
    lambda_service.run_pending()  # nothing stale from another test
    emulator.put_event(event, deployed.outputs["event_bus_name"])

    results = lambda_service.run_pending()

    assert len(results) == 1, "the deployed rule should deliver the root sign-in to the function once"
    assert results[0].function_name == deployed.outputs["lambda_function_name"]
    assert results[0].succeeded, results[0].error
    assert results[0].payload["detail"] == event["detail"]  # EventBridge passes the event unchanged
    messages = topic_reader.notifications()
    assert len(messages) == 1
    subject, text = messages[0]["Subject"], messages[0]["Message"]
    # The example sets no account alias by default: the subject names the account by its id.
    assert "123456789012" in subject
    for fact in ("ConsoleLogin", "198.51.100.23", "2024-05-14", "MFA", "us-east-1"):
        assert fact in text, f"{fact!r} missing from the notification:\n{text}"


def test_iam_user_sign_in_is_not_routed(
    emulator: Emulator,
    deployed: DeployedExample,
    lambda_service: InProcessLambdaService,
    topic_reader: TopicReader,
) -> None:
    lambda_service.run_pending()
    emulator.put_event(load_event("iam_user_console_sign_in"), deployed.outputs["event_bus_name"])

    assert lambda_service.run_pending() == []
    assert topic_reader.drain() == []


def test_failing_event_is_retried_then_dead_lettered(
    emulator: Emulator,
    deployed: DeployedExample,
    lambda_service: InProcessLambdaService,
    topic_reader: TopicReader,
) -> None:
    event = load_event("root_api_call")
    del event["detail"]["eventName"]  # matched by the rule, rejected by the handler
    lambda_service.run_pending()
    emulator.put_event(event, deployed.outputs["event_bus_name"])

    [result] = lambda_service.run_pending()

    assert not result.succeeded
    assert result.attempts == 3, "Lambda's async retries: 1 attempt + 2 retries"
    assert result.dead_lettered_to == deployed.outputs["dead_letter_queue_arn"]
    assert "eventName" in str(result.error)
    dead_letters = TopicReader(emulator.client("sqs"), deployed.outputs["dead_letter_queue_url"], "")
    [dead] = dead_letters.drain()
    assert json.loads(dead["Body"])["detail"] == event["detail"]
    assert "eventName" in dead["MessageAttributes"]["ErrorMessage"]["StringValue"]
    assert topic_reader.drain() == []


def test_zz_destroy_leaves_nothing_behind(
    emulator: Emulator, deployed: DeployedExample, topic_reader: TopicReader
) -> None:
    left = deployed.destroy_and_list_leftovers(test_owned=topic_reader.resources())
    assert left == {}, f"destroy left behind: {left}"
