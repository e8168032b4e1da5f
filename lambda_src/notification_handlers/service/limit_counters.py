"""Counters with a ceiling in the limits table (``LIMITS_TABLE``, hash key ``limit_key``): one shape for the
per-user request window (``rate_limit``), the verification counters (``verification``) and the per-user
device counter (``device_ownership``).

A counter is one item: ``count`` (a number) and, for counters of a time window, ``expires_at`` (the table's
TTL attribute). Counting is ONE conditional write, ``ADD #count :one`` with the ceiling in the condition, so
however many requests race, DynamoDB serialises the updates of the item and at most ``ceiling`` succeed; the
refused one changes nothing. Giving one back (a count that turned out not to be spent, a device released) is
``ADD #count :minus_one`` only while the counter is above 0, so no sequence of give-backs, repeated or
unpaired, drives a counter negative (a negative counter would hand out more than the ceiling).

Pure: these build the request parameters (``UpdateItem`` keyword arguments, or the ``Update`` element of
``TransactWriteItems``); the caller makes the call and reads a failed condition as "refused" (count) or
"nothing to give back" (give-back).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from notification_handlers.service.dynamodb_batch import serialize_item

COUNT: Final = "count"
EXPIRES_AT: Final = "expires_at"
# The condition of a give-back: how a cancelled transaction tells a floored give-back from another item.
GIVE_BACK_CONDITION: Final = "#count > :zero"


def count_one(table: str, key: str, ceiling: int | None, *, expires_at: int | None = None) -> dict[str, Any]:
    """``UpdateItem`` parameters adding 1 to the counter ``key``, only while it is below ``ceiling`` (None: no
    ceiling); with ``expires_at`` (epoch seconds), also setting the TTL attribute."""
    names = {"#count": COUNT}
    values: dict[str, Any] = {":one": 1}
    update = "ADD #count :one"
    if expires_at is not None:
        names["#expires"] = EXPIRES_AT
        values[":expires"] = expires_at
        update += " SET #expires = :expires"
    params: dict[str, Any] = {
        "TableName": table,
        "Key": serialize_item({"limit_key": key}),
        "UpdateExpression": update,
        "ExpressionAttributeNames": names,
    }
    if ceiling is not None:
        values[":ceiling"] = ceiling
        params["ConditionExpression"] = "(attribute_not_exists(#count) OR #count < :ceiling)"
    params["ExpressionAttributeValues"] = serialize_item(values)
    return params


def give_back_one(table: str, key: str) -> dict[str, Any]:
    """``UpdateItem`` parameters taking 1 off the counter ``key``, only while it is above 0 (a missing
    counter is 0): the floor."""
    return {
        "TableName": table,
        "Key": serialize_item({"limit_key": key}),
        "UpdateExpression": "ADD #count :minus_one",
        "ConditionExpression": GIVE_BACK_CONDITION,
        "ExpressionAttributeNames": {"#count": COUNT},
        "ExpressionAttributeValues": serialize_item({":minus_one": -1, ":zero": 0}),
    }


def in_transaction(params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``TransactWriteItems`` element of ``count_one``/``give_back_one`` parameters."""
    return {"Update": dict(params)}


def is_give_back(element: Mapping[str, Any]) -> bool:
    """Whether a ``TransactWriteItems`` element is a ``give_back_one``."""
    update = element.get("Update")
    return isinstance(update, Mapping) and update.get("ConditionExpression") == GIVE_BACK_CONDITION
