"""The inbox channel's test world: the inbox table (moto) on top of the realtime world (connections, delivery
log, management API) or the registration API's world, the worker's environment, and readers."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from conftest import FakeLambdaContext

from notification_handlers.service import inbox_store, inbox_worker
from tests.unit.realtime_fakes import channel_message, sqs_event
from tests.unit.service_fakes import create_table, scan

INBOX_TABLE = "inbox"
NID = "3936a9ff1f17c315bc3b04afaacb1124082b93af2b3d5d235fcbce3d64d8f805"  # pragma: allowlist secret


def create_inbox(monkeypatch: pytest.MonkeyPatch, ttl_days: int = 90) -> None:
    create_table(INBOX_TABLE, "user_id", "item_key")
    monkeypatch.setenv("INBOX_TABLE", INBOX_TABLE)
    monkeypatch.setenv("INBOX_ITEM_TTL_DAYS", str(ttl_days))


def inbox_message(
    user_id: str = "u-1",
    notification_id: str = NID,
    *,
    created_at: str = "2026-11-24T10:00:00Z",
    title: str = "Order 1234 shipped",
    body: str = "It is on its way",
    url: str | None = "https://shop.example.com/orders/1234",
    **overrides: Any,
) -> dict[str, Any]:
    content = {"title": title, "body": body}
    if url is not None:
        content["url"] = url
    message = channel_message(notification_id, user_id, "inbox", content, created_at=created_at)
    message.update(overrides)
    return message


def deliver(*messages: dict[str, Any] | str) -> dict[str, Any]:
    """Run the inbox worker over one SQS batch of these messages."""
    return inbox_worker.handler(
        sqs_event("notification-service-inbox", *messages),
        FakeLambdaContext(function_name="notification-service-inbox-worker"),
    )


def items(user_id: str, prefix: str = inbox_store.ITEM_PREFIX) -> list[dict[str, Any]]:
    return sorted(
        (i for i in scan(INBOX_TABLE) if i["user_id"] == user_id and str(i["item_key"]).startswith(prefix)),
        key=lambda i: str(i["item_key"]),
        reverse=True,
    )


def unread(user_id: str) -> int:
    counters = [i for i in scan(INBOX_TABLE) if i["user_id"] == user_id and i["item_key"] == "counter"]
    return int(counters[0]["unread"]) if counters else 0


def set_unread(user_id: str, value: int) -> None:
    boto3.client("dynamodb", region_name="us-east-1").update_item(
        TableName=INBOX_TABLE,
        Key={"user_id": {"S": user_id}, "item_key": {"S": inbox_store.COUNTER_KEY}},
        UpdateExpression="SET unread = :v",
        ExpressionAttributeValues={":v": {"N": str(value)}},
    )
