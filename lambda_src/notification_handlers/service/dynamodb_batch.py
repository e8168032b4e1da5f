"""Batched DynamoDB reads and writes with the retries the batch APIs leave to the caller.

``batch_get`` and ``batch_write`` take and return plain Python values (boto3's ``TypeSerializer`` /
``TypeDeserializer``: numbers come back as ``Decimal``; floats are converted to ``Decimal`` on the way in,
because the serializer refuses floats). Calls go through the shared low-level client
(``aws_clients.client("dynamodb")``), so throttled or failed *calls* are retried by botocore's standard
mode. Items a successful call leaves unprocessed (``UnprocessedKeys`` / ``UnprocessedItems``: throttling
of one partition, the 16 MB response limit) are retried here with capped exponential backoff and full
jitter, ``MAX_ROUNDS`` rounds in all; what is still left then raises ``UnprocessedItemsError``, so the
caller fails (and its event source retries) instead of acting on a partial read or write.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from notification_handlers import aws_clients
from notification_handlers.service import _backoff

GET_BATCH_SIZE: Final = 100  # BatchGetItem: at most 100 keys per call
WRITE_BATCH_SIZE: Final = 25  # BatchWriteItem: at most 25 requests per call
MAX_ROUNDS: Final = 5  # the first call and up to 4 retries of what it left unprocessed

_SERIALIZER: Final = TypeSerializer()
_DESERIALIZER: Final = TypeDeserializer()


class UnprocessedItemsError(RuntimeError):
    """DynamoDB still left keys or items unprocessed after ``MAX_ROUNDS`` rounds."""

    def __init__(self, operation: str, table: str, count: int) -> None:
        super().__init__(
            f"{operation} on {table}: {count} item(s) still unprocessed after {MAX_ROUNDS} rounds"
        )
        self.operation = operation
        self.table = table
        self.count = count


def _decimals(value: Any) -> Any:
    """``value`` with every float as the Decimal of its shortest repr (TypeSerializer refuses floats)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {key: _decimals(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_decimals(item) for item in value]
    if isinstance(value, set | frozenset):
        return {_decimals(item) for item in value}
    return value


def serialize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A plain item as DynamoDB attribute values (``{"S": ...}``, ``{"N": ...}``, ...)."""
    return {name: _SERIALIZER.serialize(_decimals(value)) for name, value in item.items()}


def deserialize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values as plain Python values."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}


def _chunks(values: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(values[start : start + size]) for start in range(0, len(values), size)]


def batch_get(
    table: str,
    keys: Sequence[Mapping[str, Any]],
    *,
    attributes: Sequence[str] | None = None,
    consistent: bool = False,
) -> list[dict[str, Any]]:
    """The items with these primary keys (missing ones are simply absent), in no particular order.

    Duplicate keys are read once. ``attributes`` limits the attributes returned; the key attributes are
    always included, so the caller can match items to keys. ``consistent``: strongly consistent reads.
    """
    unique: dict[str, dict[str, Any]] = {}
    for key in keys:
        serialized = serialize_item(key)
        unique.setdefault(json.dumps(serialized, sort_keys=True), serialized)
    if not unique:
        return []
    request: dict[str, Any] = {}
    if attributes is not None:
        names = list(dict.fromkeys([*attributes, *{name for key in unique.values() for name in key}]))
        placeholders = {f"#a{index}": name for index, name in enumerate(names)}
        request = {
            "ProjectionExpression": ", ".join(placeholders),
            "ExpressionAttributeNames": placeholders,
        }
    if consistent:
        request["ConsistentRead"] = True
    client = aws_clients.client("dynamodb")
    items: list[dict[str, Any]] = []
    for chunk in _chunks(list(unique.values()), GET_BATCH_SIZE):
        pending: list[dict[str, Any]] = chunk
        for round_number in range(1, MAX_ROUNDS + 1):
            if round_number > 1:
                _backoff.sleep(_backoff.delay(round_number - 1))
            response = client.batch_get_item(RequestItems={table: {"Keys": pending, **request}})
            items.extend(deserialize_item(item) for item in response.get("Responses", {}).get(table, []))
            pending = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
            if not pending:
                break
        else:
            raise UnprocessedItemsError("BatchGetItem", table, len(pending))
    return items


def batch_write(table: str, items: Sequence[Mapping[str, Any]]) -> None:
    """Put every item (overwriting any item with the same key).

    Two items with the same key in one call are refused by DynamoDB (``ValidationException``), so
    callers pass distinct keys.
    """
    _write_requests(table, [{"PutRequest": {"Item": serialize_item(item)}} for item in items])


def batch_delete(table: str, keys: Sequence[Mapping[str, Any]]) -> int:
    """Delete the items with these primary keys (absent ones are no-ops), 25 per call; duplicate keys are
    deleted once. Returns the number of ``BatchWriteItem`` calls made (retry rounds included)."""
    unique: dict[str, dict[str, Any]] = {}
    for key in keys:
        serialized = serialize_item(key)
        unique.setdefault(json.dumps(serialized, sort_keys=True), serialized)
    return _write_requests(table, [{"DeleteRequest": {"Key": key}} for key in unique.values()])


def _write_requests(table: str, requests: Sequence[dict[str, Any]]) -> int:
    """BatchWriteItem ``requests`` in chunks of 25, retrying unprocessed ones; the number of calls made."""
    client = aws_clients.client("dynamodb")
    calls = 0
    for chunk in _chunks(requests, WRITE_BATCH_SIZE):
        pending: list[dict[str, Any]] = chunk
        for round_number in range(1, MAX_ROUNDS + 1):
            if round_number > 1:
                _backoff.sleep(_backoff.delay(round_number - 1))
            response = client.batch_write_item(RequestItems={table: pending})
            calls += 1
            pending = response.get("UnprocessedItems", {}).get(table, [])
            if not pending:
                break
        else:
            raise UnprocessedItemsError("BatchWriteItem", table, len(pending))
    return calls
