"""One owner per push device token, and the per-user device counter (docs/notification-service.md, section 7).

``device_owners`` holds one item per token (``device_key`` = ``<platform>#<token>``, ``user_id``,
``endpoint_arn``, ``updated_at``): the single authority on whose device it is. The owner's
``device_tokens`` row, the ownership item and the owner's counter in ``limits`` (``limit_key`` =
``devices#<user_id>``, attribute ``count``, no TTL; ``limit_counters``) only ever change together, in one
``TransactWriteItems``, so no reader sees two owners and the counter equals the user's owned rows. The -1
has the counters' floor (only while above 0): should a counter ever be 0 while the user still owns a
device (an item edited by hand), ``transact`` commits the rest of the transaction without it, so the
device is still released and the counter stays at 0 rather than going negative.

A ``device_tokens`` row is *owned* when the ownership item names its user, *stale* when it names another
user (only rows written before ownership items existed can be stale: a move of ownership deletes the
previous owner's row), and *unclaimed* when there is no ownership item (rows registered before this
table existed; they are not counted). Who may use an unclaimed row is decided by the endpoint's
``CustomUserData``, which every registration since the first release has set to the registering user:
the last registrant (see the push worker).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from botocore.exceptions import ClientError

from notification_handlers import aws_clients
from notification_handlers.service import limit_counters
from notification_handlers.service.dynamodb_batch import serialize_item

OWNERS_TABLE_ENV: Final = "DEVICE_OWNERS_TABLE"
LIMITS_TABLE_ENV: Final = "LIMITS_TABLE"
COUNT: Final = limit_counters.COUNT
CONDITION_FAILED: Final = "ConditionalCheckFailed"


def limit_key(user_id: str) -> str:
    return f"devices#{user_id}"


def owner_of(item: Mapping[str, Any] | None) -> str | None:
    """The user an ownership item names (None: no item, or a malformed one)."""
    user = (item or {}).get("user_id")
    return user if isinstance(user, str) and user else None


def count_change(limits_table: str, user_id: str, delta: int, cap: int | None = None) -> dict[str, Any]:
    """A transaction item that adds ``delta`` (+1 or -1) to the user's device counter: +1 only while the
    counter is below ``cap`` (the transaction is cancelled otherwise), -1 only while it is above 0."""
    key = limit_key(user_id)
    if delta == 1:
        return limit_counters.in_transaction(limit_counters.count_one(limits_table, key, cap))
    if delta == -1:
        return limit_counters.in_transaction(limit_counters.give_back_one(limits_table, key))
    raise ValueError(f"a device counter changes by +1 or -1, not {delta}")


def release_items(
    tokens_table: str,
    owners_table: str,
    limits_table: str | None,
    user_id: str,
    device_key: str,
    *,
    row_updated_at: str | None = None,
) -> list[dict[str, Any]]:
    """The transaction that removes a device its user owns: the ownership item (only while it still names
    the user), the user's row (only while unchanged since ``row_updated_at``, when given) and one from the
    user's counter."""
    row: dict[str, Any] = {
        "TableName": tokens_table,
        "Key": serialize_item({"user_id": user_id, "device_key": device_key}),
    }
    if row_updated_at is not None:
        row["ConditionExpression"] = "attribute_not_exists(updated_at) OR updated_at = :read"
        row["ExpressionAttributeValues"] = serialize_item({":read": row_updated_at})
    items: list[dict[str, Any]] = [
        {
            "Delete": {
                "TableName": owners_table,
                "Key": serialize_item({"device_key": device_key}),
                "ConditionExpression": "user_id = :user",
                "ExpressionAttributeValues": serialize_item({":user": user_id}),
            }
        },
        {"Delete": row},
    ]
    if limits_table:
        items.append(count_change(limits_table, user_id, -1))
    return items


def cancellation_reasons(error: ClientError) -> list[str] | None:
    """The per-item reason codes of a cancelled transaction (``aws_clients.cancellation_reasons``)."""
    return aws_clients.cancellation_reasons(error)


def failed_at(reasons: Sequence[str], index: int) -> bool:
    return index < len(reasons) and reasons[index] == CONDITION_FAILED


def floored_give_backs(items: Sequence[Mapping[str, Any]], reasons: Sequence[str]) -> set[int]:
    """Positions of the give-backs (-1) refused only by the counter's floor, when nothing else in the
    transaction failed its condition; empty otherwise."""
    failed = {i for i, reason in enumerate(reasons) if reason == CONDITION_FAILED}
    if not failed or any(i >= len(items) or not limit_counters.is_give_back(items[i]) for i in failed):
        return set()
    return failed


def transact(items: Sequence[Mapping[str, Any]]) -> None:
    """Run the transaction; when only the floor of a counter refused it (a -1 on a counter already at 0),
    run it again without that -1 (the floor: the counter stays at 0)."""
    client = aws_clients.client("dynamodb")
    try:
        client.transact_write_items(TransactItems=list(items))
    except ClientError as error:
        floored = floored_give_backs(items, cancellation_reasons(error) or [])
        if not floored:
            raise
        client.transact_write_items(TransactItems=[item for i, item in enumerate(items) if i not in floored])
