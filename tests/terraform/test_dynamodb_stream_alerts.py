"""examples/dynamodb-stream-alerts applied to the emulator, proven end to end, then destroyed.

moto stores the pipe but does not run it (nothing polls the stream), so the flow is proven in the pieces
each authority owns, all read back from the deployment:

* payments are written to the deployed table, and the stream records the emulator's DynamoDB Streams API
  returns for them are read back raw (as the service sends them);
* the deployed pipe's filter patterns (``describe_pipe``) are applied to those records, in the shape a pipe
  receives them, by the emulator's own event-pattern matcher: exactly the unauthorised payments pass;
* the deployed input template is rendered on the passing records (``tools.emulator.pipes``, the documented
  Pipes substitution rules) and the message is checked for the payment's facts;
* that message is published through the deployed topic and read back through an SQS subscription.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from moto.events.models import EventPattern

from tests.support.policies import deployed_statements, least_privilege_violations
from tests.terraform.common_checks import (  # noqa: F401 - collected here, run against this example
    test_deployer_policy_allowed_every_call,
    test_deployer_policy_names_every_deployed_resource,
    test_rendered_policies_are_least_privilege,
    test_replan_after_apply_is_clean,
)
from tests.terraform.conftest import DeployedExample, load_event
from tools.emulator.inventory import created_since, inventory
from tools.emulator.pipes import PipeContext, TemplateError, as_pipes_record, render_input_template
from tools.emulator.server import Emulator
from tools.emulator.topic_reader import TopicReader, reading_topic

pytestmark = pytest.mark.terraform

EXAMPLE = "dynamodb-stream-alerts"
# Deployed as a consumer copies it, with no variable set: these are the example's defaults.
NAME = "payment-alerts"
SUBSCRIBER = "payments-team@example.com"

# (paymentId, amount, status): what the test writes, in order.
PAYMENTS = (
    ("pay-1001", "25.00", "Authorised"),
    ("pay-1002", "1999.90", "Not Authorised"),
    ("pay-1003", "12.34", "Authorised"),
    ("pay-1004", "310.00", "Not Authorised"),
)


@pytest.fixture(scope="module")
def deployed(emulator: Emulator) -> Iterator[DeployedExample]:
    example = DeployedExample(emulator, EXAMPLE, {})
    yield example
    example.close()


@pytest.fixture(scope="module")
def pipe(emulator: Emulator, deployed: DeployedExample) -> dict[str, Any]:
    description: dict[str, Any] = emulator.client("pipes").describe_pipe(Name=deployed.outputs["pipe_name"])
    return description


def _matches(patterns: list[str], record: dict[str, Any]) -> bool:
    """Pipes passes a record when any filter matches; each is judged by the emulator's matcher."""
    return any(EventPattern.load(pattern).matches_event(cast(Any, record)) for pattern in patterns)


def _filters(pipe: dict[str, Any]) -> list[str]:
    return [f["Pattern"] for f in pipe["SourceParameters"]["FilterCriteria"]["Filters"]]


def _context(pipe: dict[str, Any], ingestion_time: str) -> PipeContext:
    return PipeContext(
        pipe_arn=pipe["Arn"],
        pipe_name=pipe["Name"],
        source_arn=pipe["Source"],
        target_arn=pipe["Target"],
        ingestion_time=ingestion_time,
    )


def _raw_stream_records(emulator: Emulator, stream_arn: str) -> list[dict[str, Any]]:
    """Every record of the stream, from TRIM_HORIZON, as the Streams API sent it (unparsed JSON)."""
    streams = emulator.client("dynamodbstreams")
    raw_pages: list[dict[str, Any]] = []

    def keep_raw(http_response: Any, **_: Any) -> None:
        raw_pages.append(json.loads(http_response.content))

    streams.meta.events.register("after-call.dynamodbstreams.GetRecords", keep_raw)
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    assert shards, "the table's stream has no shard"
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=100)
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return [record for raw in raw_pages for record in raw["Records"]]


def test_table_is_on_demand_encrypted_recoverable_and_streams_images(
    emulator: Emulator, deployed: DeployedExample
) -> None:
    outputs = deployed.outputs
    dynamodb = emulator.client("dynamodb")
    table = dynamodb.describe_table(TableName=outputs["table_name"])["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "paymentId", "KeyType": "HASH"}]
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert table["SSEDescription"]["KMSMasterKeyArn"] == outputs["kms_key_arn"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["LatestStreamArn"] == outputs["stream_arn"]
    assert table["DeletionProtectionEnabled"] is False  # the example turns it off so destroy works
    backups = dynamodb.describe_continuous_backups(TableName=outputs["table_name"])
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    assert emulator.client("kms").get_key_rotation_status(KeyId=outputs["kms_key_arn"])["KeyRotationEnabled"]


def test_pipe_connects_stream_to_encrypted_topic_with_dead_letter_queue(
    emulator: Emulator, deployed: DeployedExample, pipe: dict[str, Any]
) -> None:
    outputs = deployed.outputs
    assert pipe["Arn"] == outputs["pipe_arn"]
    assert pipe["Source"] == outputs["stream_arn"]
    assert pipe["Target"] == outputs["sns_topic_arn"]
    assert pipe["RoleArn"] == outputs["pipe_role_arn"]
    assert pipe["DesiredState"] == "RUNNING"
    assert pipe["KmsKeyIdentifier"] == outputs["kms_key_arn"]
    stream_parameters = pipe["SourceParameters"]["DynamoDBStreamParameters"]
    assert stream_parameters["StartingPosition"] == "LATEST"
    assert stream_parameters["BatchSize"] == 10
    assert stream_parameters["MaximumRetryAttempts"] == 10
    assert stream_parameters["MaximumRecordAgeInSeconds"] == 86400
    assert stream_parameters["OnPartialBatchItemFailure"] == "AUTOMATIC_BISECT"
    assert stream_parameters["DeadLetterConfig"]["Arn"] == outputs["dead_letter_queue_arn"]
    assert [json.loads(p) for p in _filters(pipe)] == [
        {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"status": {"S": ["Not Authorised"]}}}}
    ]
    assert pipe["TargetParameters"]["InputTemplate"] == outputs["pipe_input_template"]

    sns, sqs = emulator.client("sns"), emulator.client("sqs")
    topic = sns.get_topic_attributes(TopicArn=outputs["sns_topic_arn"])["Attributes"]
    assert topic["KmsMasterKeyId"] == outputs["kms_key_arn"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=outputs["sns_topic_arn"])["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", SUBSCRIBER)]
    dlq = sqs.get_queue_attributes(QueueUrl=outputs["dead_letter_queue_url"], AttributeNames=["All"])
    assert dlq["Attributes"]["KmsMasterKeyId"] == outputs["kms_key_arn"]


def test_pipe_role_is_scoped_to_this_pipe_stream_topic_queue_and_key(
    emulator: Emulator, deployed: DeployedExample
) -> None:
    outputs = deployed.outputs
    iam = emulator.client("iam")
    role = iam.get_role(RoleName=outputs["pipe_role_name"])["Role"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "pipes.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnEquals": {"aws:SourceArn": outputs["pipe_arn"]},
    }
    [policy_name] = iam.list_role_policies(RoleName=outputs["pipe_role_name"])["PolicyNames"]
    document = iam.get_role_policy(RoleName=outputs["pipe_role_name"], PolicyName=policy_name)
    grants = {
        s["Sid"]: (sorted(_list(s["Action"])), _list(s["Resource"]), s.get("Condition"))
        for s in document["PolicyDocument"]["Statement"]
    }
    key, via = outputs["kms_key_arn"], "kms:ViaService"
    assert grants == {
        "ReadTableStream": (
            ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            [outputs["stream_arn"]],
            None,
        ),
        "ListStreams": (["dynamodb:ListStreams"], ["*"], None),
        "DecryptTableStream": (
            ["kms:Decrypt"],
            [key],
            {"StringEquals": {via: "dynamodb.us-east-1.amazonaws.com"}},
        ),
        "PublishAlerts": (["sns:Publish"], [outputs["sns_topic_arn"]], None),
        "UseKeyForAlertTopic": (
            ["kms:Decrypt", "kms:GenerateDataKey"],
            [key],
            {"StringEquals": {via: "sns.us-east-1.amazonaws.com"}},
        ),
        "DeadLetterFailedRecords": (["sqs:SendMessage"], [outputs["dead_letter_queue_arn"]], None),
        "UseKeyForDeadLetterQueue": (
            ["kms:Decrypt", "kms:GenerateDataKey"],
            [key],
            {"StringEquals": {via: "sqs.us-east-1.amazonaws.com"}},
        ),
        "DescribePipeKey": (["kms:DescribeKey"], [key], None),
        "UseKeyForPipeData": (
            ["kms:Decrypt", "kms:GenerateDataKey"],
            [key],
            {"StringEquals": {"kms:EncryptionContext:aws:pipes:arn": outputs["pipe_arn"]}},
        ),
    }


def _list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_every_deployed_policy_is_least_privilege(emulator: Emulator, deployed: DeployedExample) -> None:
    created = created_since(deployed.before, inventory(emulator))
    assert created["pipes"] == {deployed.outputs["pipe_name"]}
    statements = deployed_statements(emulator, created)

    assert {s.policy.split()[0] for s in statements} >= {"role", "key", "topic", "queue"}
    assert least_privilege_violations(statements) == []
    resources_with_policy = {s.policy for s in statements if s.policy.startswith(("topic", "queue"))}
    tls_only = {s.policy for s in statements if s.denies_insecure_transport}
    assert resources_with_policy and resources_with_policy <= tls_only, "topics and queues must deny non-TLS"
    # The topic admits the pipe's role as its only IAM publisher.
    topic_statements = [s for s in statements if s.policy == f"topic {deployed.outputs['sns_topic_arn']}"]
    [deny_others] = [s for s in topic_statements if s.effect == "Deny" and "ArnNotEquals" in s.conditions]
    assert deny_others.actions == ("sns:Publish",)
    assert json.loads(deny_others.conditions)["ArnNotEquals"] == {
        "aws:PrincipalArn": deployed.outputs["pipe_role_arn"]
    }
    topic_policy = json.loads(
        emulator.client("sns").get_topic_attributes(TopicArn=deployed.outputs["sns_topic_arn"])["Attributes"][
            "Policy"
        ]
    )
    publishers = [
        s["Principal"]
        for s in topic_policy["Statement"]
        if s["Effect"] == "Allow" and s["Action"] == "sns:Publish"
    ]
    assert publishers == [{"AWS": deployed.outputs["pipe_role_arn"]}]


@pytest.fixture(scope="module")
def stream_records(emulator: Emulator, deployed: DeployedExample) -> list[dict[str, Any]]:
    """Writes the payments (then declines pay-1003 and deletes pay-1002), returns the records as piped."""
    dynamodb = emulator.client("dynamodb")
    table = deployed.outputs["table_name"]
    for payment_id, amount, status in PAYMENTS:
        dynamodb.put_item(
            TableName=table,
            Item={
                "paymentId": {"S": payment_id},
                "amount": {"N": amount},
                "currency": {"S": "EUR"},
                "status": {"S": status},
            },
        )
    # An authorised payment later declined (MODIFY, alert), and a declined one deleted (REMOVE, no alert).
    dynamodb.update_item(
        TableName=table,
        Key={"paymentId": {"S": "pay-1003"}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "Not Authorised"}},
    )
    dynamodb.delete_item(TableName=table, Key={"paymentId": {"S": "pay-1002"}})
    stream_arn = deployed.outputs["stream_arn"]
    return [as_pipes_record(r, stream_arn) for r in _raw_stream_records(emulator, stream_arn)]


def test_stream_records_have_the_shape_pipes_filters_on(stream_records: list[dict[str, Any]]) -> None:
    fixture = load_event("dynamodb_stream_record")
    assert [(r["eventName"], r["dynamodb"]["Keys"]["paymentId"]["S"]) for r in stream_records] == [
        ("INSERT", "pay-1001"),
        ("INSERT", "pay-1002"),
        ("INSERT", "pay-1003"),
        ("INSERT", "pay-1004"),
        ("MODIFY", "pay-1003"),
        ("REMOVE", "pay-1002"),
    ]
    for record in stream_records:
        # The emulator's records carry the same fields, in DynamoDB JSON, as the real-shape fixture.
        assert set(record) == set(fixture), record
        assert set(record["dynamodb"]) - {"NewImage", "OldImage"} == set(fixture["dynamodb"]) - {"NewImage"}
        assert record["eventSource"] == "aws:dynamodb"
        assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert stream_records[1]["dynamodb"]["NewImage"]["status"] == {"S": "Not Authorised"}
    assert "NewImage" not in stream_records[5]["dynamodb"]


def test_deployed_filter_passes_exactly_the_unauthorised_payments(
    pipe: dict[str, Any], stream_records: list[dict[str, Any]]
) -> None:
    passed = [r for r in stream_records if _matches(_filters(pipe), r)]

    assert [(r["eventName"], r["dynamodb"]["Keys"]["paymentId"]["S"]) for r in passed] == [
        ("INSERT", "pay-1002"),
        ("INSERT", "pay-1004"),
        ("MODIFY", "pay-1003"),
    ]
    # The filter compares DynamoDB JSON: the same pattern on plain JSON values would match nothing.
    plain = [{**r, "dynamodb": {"NewImage": {"status": "Not Authorised"}}} for r in passed]
    assert not any(_matches(_filters(pipe), r) for r in plain)


def test_deployed_template_renders_the_alert_that_is_published(
    emulator: Emulator,
    deployed: DeployedExample,
    pipe: dict[str, Any],
    stream_records: list[dict[str, Any]],
    topic_reader: TopicReader,
) -> None:
    template = pipe["TargetParameters"]["InputTemplate"]
    passed = [r for r in stream_records if _matches(_filters(pipe), r)]
    ingestion_time = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    messages = [render_input_template(template, r, _context(pipe, ingestion_time)) for r in passed]

    first = messages[0]
    created = passed[0]["dynamodb"]["ApproximateCreationDateTime"]
    assert first.splitlines() == [
        "Payment not authorised",
        "",
        "Payment ID: pay-1002",
        "Amount: 1999.90",
        "Status: Not Authorised",
        f"Change: INSERT at {created} (Unix time, approximate)",
        f"Received by the pipe at: {ingestion_time}",
        f"Stream: {deployed.outputs['stream_arn']}",
        f"Event ID: {passed[0]['eventID']}",
    ]
    assert abs(created - datetime.now(UTC).timestamp()) < 600, "the record time is the write time"
    assert "Payment ID: pay-1003" in messages[2] and "Change: MODIFY" in messages[2]
    assert "Amount: 12.34" in messages[2]

    # What the pipe would hand SNS goes through the deployed (encrypted) topic to its subscribers.
    sns = emulator.client("sns")
    for message in messages:
        sns.publish(TopicArn=deployed.outputs["sns_topic_arn"], Message=message)
    received = [json.loads(m["Body"])["Message"] for m in topic_reader.drain()]
    assert received == messages


def test_template_on_the_fixture_record_and_missing_attributes(
    deployed: DeployedExample, pipe: dict[str, Any]
) -> None:
    record = load_event("dynamodb_stream_record")
    template = pipe["TargetParameters"]["InputTemplate"]
    assert _matches(_filters(pipe), record)
    text = render_input_template(template, record, _context(pipe, "2024-05-14T09:15:08Z"))
    assert (
        "Payment ID: pay-0001\nAmount: 129.99\nStatus: Not Authorised\nChange: INSERT at 1715678107" in text
    )
    del record["dynamodb"]["NewImage"]["amount"]
    with pytest.raises(TemplateError, match=r"\$\.dynamodb\.NewImage\.amount\.N"):
        render_input_template(template, record, _context(pipe, "2024-05-14T09:15:08Z"))


@pytest.fixture(scope="module")
def topic_reader(emulator: Emulator, deployed: DeployedExample) -> Iterator[TopicReader]:
    """What an email subscriber of the deployed topic would receive."""
    with reading_topic(emulator, deployed.outputs["sns_topic_arn"], f"{NAME}-topic-reader") as reader:
        yield reader


def test_zz_destroy_leaves_nothing_behind(
    emulator: Emulator, deployed: DeployedExample, topic_reader: TopicReader
) -> None:
    left = deployed.destroy_and_list_leftovers(test_owned=topic_reader.resources())
    assert left == {}, f"destroy left behind: {left}"
