"""tools/emulator/event_source_poller.py against moto in-process: the event shape, batching, partial batch
responses, function errors, redrive to the dead-letter queue, and the emulator patches it relies on."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tools.emulator.account import ACCOUNT_ID
from tools.emulator.account import DEFAULT_REGION as REGION
from tools.emulator.event_source_poller import EventSourcePoller, PollerError, failed_item_ids
from tools.emulator.lambda_service import InProcessLambdaService
from tools.emulator.server import apply_patches

FUNCTION = "poller-test-fn"
INVOCATIONS: list[dict[str, Any]] = []


def fake_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fails the records whose body says so; raises when any body says "raise"."""
    INVOCATIONS.append(
        {
            "event": event,
            "function": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
            "mode": os.environ.get("MODE"),
        }
    )
    outcomes = [json.loads(record["body"])["outcome"] for record in event["Records"]]
    if "raise" in outcomes:
        raise RuntimeError("the function failed")
    return {
        "batchItemFailures": [
            {"itemIdentifier": record["messageId"]}
            for record, outcome in zip(event["Records"], outcomes, strict=True)
            if outcome == "fail"
        ]
    }


class InProcessAws:
    """What the poller and the Lambda service need from an emulator, for moto's in-process mock."""

    region = REGION

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]

    def environment(self) -> dict[str, str]:
        return {}


class Aws:
    def __init__(self) -> None:
        self.aws = InProcessAws()
        self.sqs = self.aws.client("sqs")
        self.lambda_ = self.aws.client("lambda")
        self.poller = EventSourcePoller(InProcessLambdaService(self.aws))  # type: ignore[arg-type]
        role = self.aws.client("iam").create_role(
            RoleName="poller-test", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
        )["Role"]["Arn"]
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("placeholder.py", "")
        self.function_arn = self.lambda_.create_function(
            FunctionName=FUNCTION,
            Runtime="python3.12",
            Role=role,
            Handler=f"{__name__}.fake_handler",
            Code={"ZipFile": package.getvalue()},
            Environment={"Variables": {"MODE": "deployed"}},
        )["FunctionArn"]
        self.dlq_url = self.sqs.create_queue(QueueName="poller-dlq")["QueueUrl"]

    def queue(self, name: str, max_receive_count: int | None = 2) -> tuple[str, str]:
        attributes = {}
        if max_receive_count is not None:
            dlq_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:poller-dlq"
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}
            )
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        return url, f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"

    def mapped_queue(
        self, batch_size: int = 10, partial: bool = True, max_receive_count: int | None = 2
    ) -> str:
        url, arn = self.queue("poller-queue", max_receive_count)
        self.lambda_.create_event_source_mapping(
            EventSourceArn=arn,
            FunctionName=self.function_arn,  # Terraform passes the ARN
            BatchSize=batch_size,
            FunctionResponseTypes=["ReportBatchItemFailures"] if partial else [],
        )
        return url

    def send(self, url: str, *outcomes: str, **attributes: Any) -> list[str]:
        return [
            self.sqs.send_message(
                QueueUrl=url, MessageBody=json.dumps({"outcome": o, "n": n}), MessageAttributes=attributes
            )["MessageId"]
            for n, o in enumerate(outcomes)
        ]

    def bodies(self, url: str) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return sorted((json.loads(m["Body"]) for m in messages), key=lambda b: b["n"])

    def depth(self, url: str) -> tuple[int, int]:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )


@pytest.fixture
def aws() -> Iterator[Aws]:
    apply_patches()
    INVOCATIONS.clear()
    with mock_aws():
        yield Aws()


def test_records_have_the_shape_lambda_sends(aws: Aws) -> None:
    url = aws.mapped_queue()
    [message_id] = aws.send(
        url,
        "ok",
        reason={"DataType": "String", "StringValue": "schema: recipients is missing"},
        attempt={"DataType": "Number", "StringValue": "3"},
        blob={"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    )

    [batch] = aws.poller.drain(FUNCTION)

    [invocation] = INVOCATIONS
    assert invocation["function"] == FUNCTION and invocation["mode"] == "deployed"
    [record] = invocation["event"]["Records"]
    assert set(record) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert record["messageId"] == message_id
    assert json.loads(record["body"]) == {"outcome": "ok", "n": 0}
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # noqa: S324 - SQS's checksum
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:poller-queue"
    assert record["awsRegion"] == REGION
    assert set(record["attributes"]) == {
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    }
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["attributes"]["SentTimestamp"].isdigit()
    assert record["messageAttributes"] == {
        "reason": {
            "stringValue": "schema: recipients is missing",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        },
        "attempt": {"stringValue": "3", "stringListValues": [], "binaryListValues": [], "dataType": "Number"},
        "blob": {
            "binaryValue": base64.b64encode(b"\x00\x01").decode(),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        },
    }
    assert batch.deleted == [message_id] and batch.returned == []
    assert aws.depth(url) == (0, 0)


def test_batches_hold_at_most_batch_size_messages(aws: Aws) -> None:
    url = aws.mapped_queue(batch_size=5)
    sent = aws.send(url, *["ok"] * 12)

    batches = aws.poller.drain(FUNCTION)

    assert [len(b.message_ids) for b in batches] == [5, 5, 2]
    assert sorted(i for b in batches for i in b.deleted) == sorted(sent)
    assert aws.depth(url) == (0, 0)


def test_batch_item_failures_return_only_those_messages_until_dead_lettered(aws: Aws) -> None:
    url = aws.mapped_queue(max_receive_count=2)
    ok_first, bad, ok_last = aws.send(url, "ok", "fail", "ok")

    batches = aws.poller.drain(FUNCTION)

    # Received twice (maxReceiveCount 2), then moved to the DLQ by the third receive.
    assert [b.message_ids for b in batches] == [[ok_first, bad, ok_last], [bad]]
    assert batches[0].deleted == [ok_first, ok_last] and batches[0].returned == [bad]
    assert batches[1].deleted == [] and batches[1].returned == [bad]
    counts = [r["attributes"]["ApproximateReceiveCount"] for b in batches for r in b.event["Records"]]
    assert counts == ["1", "1", "1", "2"]
    assert aws.depth(url) == (0, 0)
    assert aws.bodies(aws.dlq_url) == [{"outcome": "fail", "n": 1}]


def test_a_function_error_returns_the_whole_batch(aws: Aws) -> None:
    url = aws.mapped_queue(max_receive_count=3)
    aws.send(url, "ok", "raise")

    batches = aws.poller.drain(FUNCTION)

    assert len(batches) == 3
    for batch in batches:
        assert not batch.invocation.succeeded
        assert str(batch.invocation.error) == "the function failed"
        assert batch.deleted == [] and len(batch.returned) == 2
    assert aws.bodies(aws.dlq_url) == [{"outcome": "ok", "n": 0}, {"outcome": "raise", "n": 1}]


def test_without_report_batch_item_failures_the_answer_is_ignored(aws: Aws) -> None:
    url = aws.mapped_queue(partial=False)
    aws.send(url, "ok", "fail")

    [batch] = aws.poller.drain(FUNCTION)

    assert batch.invocation.result["batchItemFailures"] != []
    assert batch.returned == [] and len(batch.deleted) == 2
    assert aws.depth(url) == (0, 0)
    assert aws.bodies(aws.dlq_url) == []


def test_an_unreadable_partial_answer_fails_the_batch() -> None:
    batch = ["m-1", "m-2"]
    assert failed_item_ids(None, batch) == []
    assert failed_item_ids({}, batch) == []
    assert failed_item_ids({"batchItemFailures": None}, batch) == []
    assert failed_item_ids({"batchItemFailures": []}, batch) == []
    assert failed_item_ids({"batchItemFailures": [{"itemIdentifier": "m-2"}] * 2}, batch) == ["m-2"]
    assert failed_item_ids({"batchItemFailures": [{"itemIdentifier": "m-9"}]}, batch) == batch
    assert failed_item_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, batch) == batch
    assert failed_item_ids({"batchItemFailures": [{"itemIdentifier": None}]}, batch) == batch
    assert failed_item_ids({"batchItemFailures": [{"id": "m-1"}]}, batch) == batch
    assert failed_item_ids({"batchItemFailures": "m-1"}, batch) == batch
    assert failed_item_ids(["m-1"], batch) == batch


def test_a_queue_that_never_drains_is_an_error(aws: Aws) -> None:
    url = aws.mapped_queue(max_receive_count=None)
    aws.send(url, "fail")

    with pytest.raises(PollerError, match="did not drain in 4 batches"):
        aws.poller.drain(FUNCTION, max_rounds=4)


def test_mapping_is_required_enabled_and_found_by_name(aws: Aws) -> None:
    with pytest.raises(PollerError, match="expected one SQS event source mapping, found 0"):
        aws.poller.poll_once(FUNCTION)

    aws.mapped_queue()
    [listed] = aws.lambda_.list_event_source_mappings(FunctionName=FUNCTION)["EventSourceMappings"]
    assert listed["FunctionArn"] == aws.function_arn
    assert aws.poller.mapping(FUNCTION)["UUID"] == listed["UUID"]
    assert aws.lambda_.list_event_source_mappings(FunctionName="another")["EventSourceMappings"] == []

    aws.lambda_.update_event_source_mapping(UUID=listed["UUID"], Enabled=False)
    with pytest.raises(PollerError, match="is Disabled"):
        aws.poller.poll_once(FUNCTION)


def test_moto_no_longer_invokes_mapped_functions_itself(aws: Aws) -> None:
    url = aws.mapped_queue()
    aws.send(url, "ok")

    assert aws.depth(url) == (1, 0), "the message must wait for the poller, never received"
    assert INVOCATIONS == []
    [message] = aws.sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
