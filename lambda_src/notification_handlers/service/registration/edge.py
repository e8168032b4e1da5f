"""What every resource of the registration API shares at the AWS edge: the clock, the DynamoDB client
(lazy, ``aws_clients``) and a consistent read. Call them through the module (``edge.now()``), so a test
that moves the clock moves it for every route.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from notification_handlers import aws_clients
from notification_handlers.service.dynamodb_batch import deserialize_item, serialize_item


def now() -> datetime:
    """The current time (a function so tests can move the clock)."""
    return datetime.now(UTC)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dynamodb() -> Any:
    return aws_clients.client("dynamodb")


def get_item(table: str, key: Mapping[str, str]) -> dict[str, Any] | None:
    response = dynamodb().get_item(TableName=table, Key=serialize_item(key), ConsistentRead=True)
    item = response.get("Item")
    return deserialize_item(item) if item else None


def condition_failed(error: ClientError) -> bool:
    return aws_clients.error_code(error) == "ConditionalCheckFailedException"
