"""Plays Lambda's SQS event source mapping for functions deployed to the emulator, in this process.

moto keeps event source mappings but cannot run functions (and the emulator stops it from trying, see
``tools.emulator.sqs``). For a function, this poller reads its *deployed* mapping back (queue,
``BatchSize``, ``FunctionResponseTypes``), receives up to ``BatchSize`` messages from the mapped queue, builds
exactly the event Lambda sends (records in Lambda's lower-camel shape), invokes the handler synchronously
through ``tools.emulator.lambda_service`` (deployed handler string and environment), then does what Lambda
does with the answer:

* success: the batch's messages are deleted;
* with ``ReportBatchItemFailures``: the ``batchItemFailures`` listed stay on the queue, the rest are deleted;
  an answer Lambda cannot read (an identifier that is empty, missing or not in the batch, a malformed
  ``batchItemFailures``) fails the whole batch, as Lambda does;
* a raised exception (a function error) fails the whole batch.

Failed messages are made visible again at once (``ChangeMessageVisibility`` 0) rather than after the queue's
visibility timeout, so a test does not wait; the queue's redrive policy then moves a message to its
dead-letter queue on the receive after ``maxReceiveCount`` (moto, like SQS, checks on receive).
``drain()`` polls until the queue has nothing visible, so a test can assert what was delivered and what
was dead-lettered.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tools.emulator.lambda_service import InProcessLambdaService, InvocationResult

SQS_RECEIVE_MAX = 10  # messages per ReceiveMessage call and per *Batch call
# The system attributes Lambda copies into a record (the FIFO ones only exist on FIFO queues).
RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "AWSTraceHeader",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "DeadLetterQueueSourceArn",
)


class PollerError(RuntimeError):
    pass


@dataclass(frozen=True)
class BatchResult:
    """One invocation of a function with one batch of messages, and what became of the messages."""

    function_name: str
    event: dict[str, Any]
    invocation: InvocationResult
    deleted: list[str] = field(default_factory=list)  # message ids
    returned: list[str] = field(default_factory=list)  # message ids made visible again

    @property
    def message_ids(self) -> list[str]:
        return [record["messageId"] for record in self.event["Records"]]


def lambda_message_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """SQS message attributes as Lambda writes them in a record (lower camel, list fields always present)."""
    converted: dict[str, Any] = {}
    for name, value in attributes.items():
        entry: dict[str, Any] = {}
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            entry["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        entry["stringListValues"] = list(value.get("StringListValues", []))
        entry["binaryListValues"] = [base64.b64encode(v).decode() for v in value.get("BinaryListValues", [])]
        entry["dataType"] = value["DataType"]
        converted[name] = entry
    return converted


def lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """One received SQS message (``ReceiveMessage`` with all attributes) as a record of Lambda's SQS event."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {name: attributes[name] for name in RECORD_ATTRIBUTES if name in attributes},
        "messageAttributes": lambda_message_attributes(message.get("MessageAttributes", {})),
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }


def failed_item_ids(response: Any, batch: list[str]) -> list[str]:
    """The message ids a ``ReportBatchItemFailures`` answer returns to the queue, read as Lambda reads it.

    Success: no answer, an empty answer, or a null/empty ``batchItemFailures``. Whole-batch failure: an
    answer that is not an object, a ``batchItemFailures`` that is not a list, or an item whose
    ``itemIdentifier`` is missing, empty or not a message of the batch.
    """
    if response is None or response in ({}, ""):
        return []
    if not isinstance(response, dict):
        return list(batch)
    failures = response.get("batchItemFailures")
    if failures is None:
        return []
    if not isinstance(failures, list):
        return list(batch)
    failed: list[str] = []
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in batch:
            return list(batch)
        if identifier not in failed:
            failed.append(identifier)
    return failed


def _chunks(items: list[Any], size: int = SQS_RECEIVE_MAX) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class EventSourcePoller:
    """Lambda's SQS poller for the functions deployed to ``lambda_service``'s emulator."""

    def __init__(self, lambda_service: InProcessLambdaService) -> None:
        self.lambda_service = lambda_service
        self._lambda = lambda_service.emulator.client("lambda")
        self._sqs = lambda_service.emulator.client("sqs")

    def mapping(self, function_name: str) -> dict[str, Any]:
        """The function's one SQS event source mapping, as deployed."""
        pages = self._lambda.get_paginator("list_event_source_mappings").paginate(FunctionName=function_name)
        mappings = [
            m
            for page in pages
            for m in page["EventSourceMappings"]
            if m["EventSourceArn"].split(":")[2] == "sqs"
        ]
        if len(mappings) != 1:
            raise PollerError(
                f"{function_name}: expected one SQS event source mapping, found {len(mappings)}"
            )
        [found] = mappings
        if found.get("State", "Enabled") != "Enabled":
            raise PollerError(f"{function_name}: the event source mapping is {found['State']}")
        if found.get("FilterCriteria", {}).get("Filters"):
            raise NotImplementedError(f"{function_name}: event filtering is not emulated")
        return found  # type: ignore[no-any-return]

    def _queue_url(self, queue_arn: str) -> str:
        _, _, _, _, account, name = queue_arn.split(":")
        url: str = self._sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        return url

    def _receive(self, queue_url: str, batch_size: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < batch_size:
            received = self._sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=min(SQS_RECEIVE_MAX, batch_size - len(messages)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not received:
                break
            messages += received
        return messages

    def poll_once(self, function_name: str) -> BatchResult | None:
        """Receive one batch and invoke the function with it; None when the queue had nothing visible."""
        mapping = self.mapping(function_name)
        queue_arn = mapping["EventSourceArn"]
        queue_url = self._queue_url(queue_arn)
        messages = self._receive(queue_url, int(mapping["BatchSize"]))
        if not messages:
            return None
        event = {"Records": [lambda_record(m, queue_arn) for m in messages]}
        invocation = self.lambda_service.invoke_sync(mapping["FunctionArn"], event)
        ids = [m["MessageId"] for m in messages]
        if not invocation.succeeded:
            returned = list(ids)
        elif "ReportBatchItemFailures" in mapping.get("FunctionResponseTypes", []):
            returned = failed_item_ids(invocation.result, ids)
        else:
            returned = []
        handles = {m["MessageId"]: m["ReceiptHandle"] for m in messages}
        deleted = [i for i in ids if i not in returned]
        for chunk in _chunks(deleted):
            answer = self._sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": handles[i]} for n, i in enumerate(chunk)],
            )
            if answer.get("Failed"):
                raise PollerError(f"{function_name}: DeleteMessageBatch failed: {answer['Failed']}")
        for chunk in _chunks(returned):
            answer = self._sqs.change_message_visibility_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": handles[i], "VisibilityTimeout": 0}
                    for n, i in enumerate(chunk)
                ],
            )
            if answer.get("Failed"):
                raise PollerError(f"{function_name}: ChangeMessageVisibilityBatch failed: {answer['Failed']}")
        return BatchResult(invocation.function_name, event, invocation, deleted=deleted, returned=returned)

    def drain(self, function_name: str, max_rounds: int = 50) -> list[BatchResult]:
        """Poll until the function's queue has nothing visible; every batch, in order.

        Failed messages come back at once, so a message that keeps failing is received ``maxReceiveCount``
        times and then moved to the dead-letter queue by the next receive. ``max_rounds`` bounds the loop
        (a queue without a redrive policy and a function that always fails would never drain).
        """
        results: list[BatchResult] = []
        for _ in range(max_rounds):
            result = self.poll_once(function_name)
            if result is None:
                return results
            results.append(result)
        raise PollerError(f"{function_name}: the queue did not drain in {max_rounds} batches")
