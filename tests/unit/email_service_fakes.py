"""The email channel's test world: moto tables (subscriptions, suppressions, delivery log, idempotency),
a verified SES v2 sender, the worker's environment, SQS events of channel messages, and readers for what
SES accepted (moto's backend) and what the worker asked SES for (the recorded SendEmail requests: moto
keeps neither headers nor tags)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.ses.models import ses_backends

from notification_handlers import aws_clients
from notification_handlers.service import dynamodb_batch, idempotency
from tests.unit.service_fakes import create_table, scan
from tools.emulator.account import ACCOUNT_ID
from tools.emulator.account import DEFAULT_REGION as REGION

SENDER = "notifications@example.com"
UNSUBSCRIBE_TEMPLATE = "https://prefs.example.com/unsubscribe?token={token}"
TABLES = {
    "EMAIL_SUBSCRIPTIONS_TABLE": "email-subscriptions",
    "EMAIL_SUPPRESSIONS_TABLE": "email-suppressions",
    "DELIVERY_LOG_TABLE": "delivery-log",
    "IDEMPOTENCY_TABLE": "idempotency",
}
WORKER_ENV = (
    "SENDER_ADDRESS",
    "SES_IDENTITY_ARN",
    "SES_CONFIGURATION_SET",
    "UNSUBSCRIBE_URL_TEMPLATE",
    *TABLES,
    "DELIVERY_LOG_TTL_DAYS",
    "IDEMPOTENCY_TTL_SECONDS",
    "AWS_LAMBDA_FUNCTION_NAME",
)


@dataclass(frozen=True)
class Mail:
    to: list[str]
    subject: str
    body: str  # moto keeps the HTML part when there is one


def sent_mail() -> list[Mail]:
    """What SES (moto) accepted, in order."""
    messages = ses_backends[ACCOUNT_ID][REGION].sent_messages
    return [Mail(m.destinations["ToAddresses"], m.subject, m.body) for m in messages]


def mailed_addresses() -> list[str]:
    return [address for mail in sent_mail() for address in mail.to]


def subscribe(user_id: str, addresses: dict[str, dict[str, Any]]) -> None:
    dynamodb_batch.batch_write(
        TABLES["EMAIL_SUBSCRIPTIONS_TABLE"], [{"user_id": user_id, "addresses": addresses}]
    )


def verified(token: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"status": "verified", "verified_at": "2026-01-01T00:00:00Z"}
    if token:
        entry["unsubscribe_token"] = token
    return entry


def suppress(address: str, reason: str = "bounce") -> None:
    dynamodb_batch.batch_write(
        TABLES["EMAIL_SUPPRESSIONS_TABLE"],
        [{"address": address, "reason": reason, "detail": "-", "feedback_id": "f", "suppressed_at": "x"}],
    )


def delivery_rows() -> dict[tuple[str, str], dict[str, Any]]:
    """(notification_id, delivery_key) -> row."""
    return {(row["notification_id"], row["delivery_key"]): row for row in scan(TABLES["DELIVERY_LOG_TABLE"])}


def statuses() -> dict[tuple[str, str], str]:
    return {key: str(row["status"]) for key, row in delivery_rows().items()}


def channel_message(
    notification_id: str = "n-1",
    user_id: str = "u-1",
    *,
    notification_type: str = "order_shipped",
    critical: bool = False,
    subject: str = "Order 1234 shipped",
    text: str = "Your order is on its way.",
    html: str | None = "<p>Your order is on its way.</p>",
) -> dict[str, Any]:
    content = {"subject": subject, "text": text}
    if html is not None:
        content["html"] = html
    return {
        "version": 1,
        "notification_id": notification_id,
        "notification_type": notification_type,
        "critical": critical,
        "user_id": user_id,
        "channel": "email",
        "locale": "en",
        "content": content,
        "created_at": "2026-11-24T10:00:00Z",
    }


def sqs_event(*bodies: dict[str, Any] | str) -> dict[str, Any]:
    """An SQS batch event (Lambda's shape) with one record per body; messageId m-0, m-1, ..."""
    return {
        "Records": [
            {
                "messageId": f"m-{index}",
                "receiptHandle": "MessageReceiptHandle",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795514400000",
                    "SenderId": "AROAEXAMPLEROLEID:router",
                    "ApproximateFirstReceiveTimestamp": "1795514400012",
                },
                "messageAttributes": {},
                "md5OfBody": "00000000000000000000000000000000",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:notification-service-email",
                "awsRegion": REGION,
            }
            for index, body in enumerate(bodies)
        ]
    }


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


@contextmanager
def email_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto with the four tables and a verified sender, and the worker's environment pointing at them."""
    with mock_aws():
        for name in WORKER_ENV:
            monkeypatch.delenv(name, raising=False)
        create_table(TABLES["EMAIL_SUBSCRIPTIONS_TABLE"], "user_id")
        create_table(TABLES["EMAIL_SUPPRESSIONS_TABLE"], "address")
        create_table(TABLES["DELIVERY_LOG_TABLE"], "notification_id", "delivery_key")
        create_table(TABLES["IDEMPOTENCY_TABLE"], "id")
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
        for name, table in TABLES.items():
            monkeypatch.setenv(name, table)
        monkeypatch.setenv("SENDER_ADDRESS", SENDER)
        monkeypatch.setenv("UNSUBSCRIBE_URL_TEMPLATE", UNSUBSCRIBE_TEMPLATE)
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "notification-service-email-worker")
        idempotency.deduplicator_from_env.cache_clear()
        aws_clients.reset_clients()
        try:
            yield
        finally:
            idempotency.deduplicator_from_env.cache_clear()


def send_requests(calls: Any) -> list[dict[str, Any]]:
    """The SendEmail requests recorded by ``service_fakes.record_calls("sesv2")`` (every attempt)."""
    return [params for params in calls.params("SendEmail")]


def headers_of(request: dict[str, Any]) -> dict[str, str]:
    return {h["Name"]: h["Value"] for h in request["Content"]["Simple"].get("Headers", [])}


def tags_of(request: dict[str, Any]) -> dict[str, str]:
    return {t["Name"]: t["Value"] for t in request.get("EmailTags", [])}
