"""Shared fixtures: fake AWS credentials, fixture events, a Lambda context, moto SNS->SQS."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from notification_handlers import aws_clients, root_activity

EVENTS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "events"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # Never read a developer's real profile or config.
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}
HANDLER_ENV = (
    "SNS_TOPIC_ARN",
    "NON_ROOT_EVENTS",
    "ACCOUNT_ALIAS",
    "AWS_PROFILE",
    "POWERTOOLS_LOGGER_LOG_EVENT",
)


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of tests/fixtures/events/<name>.json (tests may mutate it)."""
    return json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def fake_aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in HANDLER_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    aws_clients.reset_clients()
    yield
    aws_clients.reset_clients()


@dataclass
class FakeLambdaContext:
    function_name: str = "root-activity-notifier"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:root-activity-notifier"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@dataclass
class SnsToSqs:
    topic_arn: str
    queue_url: str

    def received(self) -> list[dict[str, Any]]:
        """The SNS envelopes (Subject, Message, MessageAttributes) delivered to the queue."""
        sqs = boto3.client("sqs", region_name=REGION)
        response = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [json.loads(message["Body"]) for message in response.get("Messages", [])]


@pytest.fixture
def sns_topic(monkeypatch: pytest.MonkeyPatch) -> Iterator[SnsToSqs]:
    """A moto SNS topic with an SQS subscription, and SNS_TOPIC_ARN pointing at it."""
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        topic_arn = sns.create_topic(Name="root-activity")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="root-activity-inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        monkeypatch.setenv("SNS_TOPIC_ARN", topic_arn)
        yield SnsToSqs(topic_arn=topic_arn, queue_url=queue_url)


@pytest.fixture
def captured_logs() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Redirect the handler's Powertools log stream; the callable returns the parsed JSON records."""
    buffer = io.StringIO()
    handler = root_activity.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(buffer)

    def records() -> list[dict[str, Any]]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    yield records
    handler.setStream(previous)
