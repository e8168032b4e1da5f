"""Helpers for the notification service's unit tests: moto tables and queues, and fault injection on the
handlers' real botocore clients (``aws_clients.client(...)``) while moto answers in-process.

* ``fail_attempts`` answers chosen HTTP attempts of one operation with an AWS error (``before-send``,
  registered first; moto never executes them); botocore's standard-mode retries see a real error response.
* ``withhold`` makes a batch call process only part of its request, the way DynamoDB (``UnprocessedKeys``
  / ``UnprocessedItems``) and SQS (``Failed`` entries) do: the withheld part never reaches moto, and is
  added to the parsed response as unprocessed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse

from notification_handlers import aws_clients
from notification_handlers.service import _backoff
from notification_handlers.service.dynamodb_batch import deserialize_item
from tools.emulator.account import DEFAULT_REGION as REGION


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, amt: int | None = None) -> bytes:  # streaming responses (Lambda Invoke's Payload)
        chunk, self._body = (self._body, b"") if amt is None else (self._body[:amt], self._body[amt:])
        return chunk


def create_table(name: str, hash_key: str, range_key: str | None = None) -> None:
    keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    definitions = [{"AttributeName": hash_key, "AttributeType": "S"}]
    if range_key:
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
        definitions.append({"AttributeName": range_key, "AttributeType": "S"})
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=name, KeySchema=keys, AttributeDefinitions=definitions, BillingMode="PAY_PER_REQUEST"
    )


def create_queue(name: str) -> str:
    return str(boto3.client("sqs", region_name=REGION).create_queue(QueueName=name)["QueueUrl"])


def receive_all(queue_url: str) -> list[dict[str, Any]]:
    """Every message in the queue (moto: received messages stay invisible, so each is read once)."""
    sqs = boto3.client("sqs", region_name=REGION)
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not batch:
            return messages
        messages.extend(batch)


def scan(table: str) -> list[dict[str, Any]]:
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=table)["Items"]
    return [deserialize_item(item) for item in items]


@dataclass
class Calls:
    """HTTP attempts seen per operation (including the ones answered with an injected fault)."""

    attempts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def count(self, operation: str) -> int:
        return sum(1 for name, _ in self.attempts if name == operation)

    def params(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.attempts if name == operation]


def record_calls(service: str) -> Calls:
    """Record every HTTP attempt the shared ``service`` client makes (JSON protocol bodies)."""
    calls = Calls()

    def hook(request: Any, event_name: str, **_: Any) -> None:
        body = request.body or b"{}"
        text = body.decode() if isinstance(body, bytes) else str(body)
        calls.attempts.append((event_name.split(".")[2], json.loads(text or "{}")))

    aws_clients.client(service).meta.events.register_first(f"before-send.{service}", hook)
    return calls


def error_response(url: str, code: str, status: int) -> AWSResponse:
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}
    body = json.dumps({"__type": code, "message": f"injected {code}"}).encode()
    return AWSResponse(url, status, headers, _Body(body))


def fail_attempts(
    service: str, operation: str, faults: list[tuple[str, int]], *, table: str | None = None
) -> None:
    """Answer the next len(faults) attempts of ``operation`` with these (code, HTTP status) errors;
    with ``table``, only attempts on that DynamoDB table (others pass)."""
    queue = list(faults)

    def hook(request: Any, **_: Any) -> AWSResponse | None:
        if not queue:
            return None
        if table is not None:
            body = request.body or b"{}"
            if json.loads(body.decode() if isinstance(body, bytes) else str(body)).get("TableName") != table:
                return None
        code, status = queue.pop(0)
        url = request.url
        # botocore emits before-send to every handler and uses the first response; moto's stubber would
        # still execute the request. A URL moto does not serve makes it pass, so the fault has no effect.
        request.url = "https://fault-injected.invalid/"
        return error_response(url, code, status)

    aws_clients.client(service).meta.events.register_first(f"before-send.{service}.{operation}", hook)


Splitter = Callable[[dict[str, Any]], tuple[dict[str, Any], Any]]
Merger = Callable[[dict[str, Any], Any], None]


def withhold(service: str, operation: str, split: Splitter, merge: Merger, *, times: int) -> None:
    """For the next ``times`` calls: ``split(params) -> (params sent, withheld)``, then
    ``merge(parsed response, withheld)`` reports the withheld part as unprocessed."""
    state: dict[str, Any] = {"left": times, "withheld": None}
    client = aws_clients.client(service)

    def before(params: dict[str, Any], **_: Any) -> dict[str, Any] | None:
        if state["left"] <= 0:
            state["withheld"] = None
            return None
        state["left"] -= 1
        sent, state["withheld"] = split(params)
        return sent

    def after(parsed: dict[str, Any], **_: Any) -> None:
        if state["withheld"] is not None:
            merge(parsed, state["withheld"])
            state["withheld"] = None

    client.meta.events.register_first(f"provide-client-params.{service}.{operation}", before)
    client.meta.events.register(f"after-call.{service}.{operation}", after)


@contextmanager
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Record (instead of sleeping) botocore's retry backoff and the service's batch-retry backoff."""
    sleeps: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=sleeps.append))
    monkeypatch.setattr(_backoff, "sleep", sleeps.append)
    yield sleeps


def answer_invoke(responder: Callable[[dict[str, Any]], tuple[bytes, str | None]]) -> list[dict[str, Any]]:
    """Answer Lambda ``Invoke`` calls (moto runs functions only in Docker): ``responder(request payload)
    -> (response payload, FunctionError or None)``. Returns the request payloads received."""
    received: list[dict[str, Any]] = []

    def hook(request: Any, **_: Any) -> AWSResponse:
        body = request.body or b"{}"
        payload = json.loads(body.decode() if isinstance(body, bytes) else str(body))
        received.append(payload)
        answer, function_error = responder(payload)
        url = request.url
        request.url = "https://fault-injected.invalid/"  # see fail_attempts: moto must not run it
        headers = {"Content-Type": "application/json", "X-Amz-Executed-Version": "$LATEST"}
        if function_error:
            headers["X-Amz-Function-Error"] = function_error
        return AWSResponse(url, 200, headers, _Body(answer))

    aws_clients.client("lambda").meta.events.register_first("before-send.lambda.Invoke", hook)
    return received
