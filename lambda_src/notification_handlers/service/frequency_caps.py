"""Frequency caps: at most ``count`` deliveries of a type per user and fixed period (``max_per_user``).

A type may declare ``max_per_user = {count, period_seconds, overflow}`` (docs/notification-service.md,
"Frequency caps and digests"). The router plans a notification as usual, then asks ``admit`` once per
recipient that would get at least one channel message (a recipient muted or opted out of every channel
spends nothing). Over the cap, the recipient's messages become ``suppressed_frequency_cap`` rows, one per
channel they would have had (``overflow = "drop"``), or the event is folded into the user's digest
(``overflow = "digest"``, only for a type that declares ``digest``). Critical types cannot have a cap: a
security alert must never be dropped for being the fourth of the hour.

The counter is one item of the limits table (``LIMITS_TABLE``, ``limit_counters``'s layout):
``limit_key = cap#<type>#<period>#<bucket>#<user>`` where ``bucket = floor(epoch seconds / period)`` (fixed
periods aligned to the epoch), ``expires_at`` = the bucket's end (TTL). Admitting is ONE conditional
``UpdateItem``: add 1 and the notification's id to ``ids`` only while ``count < ceiling`` and the id is not
already in ``ids``. DynamoDB serialises the updates of the item, so however many deliveries race, at most
``count`` succeed. A refused update is either over the cap or a retry of a delivery already counted (its
batch failed after the count): one consistent ``GetItem`` tells them apart, so a retried notification is
admitted again without counting twice. ``ids`` holds at most ``count`` ids of 32 hex digits (MAX_COUNT x 35
bytes stays far below DynamoDB's 400 KB item).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Final

from botocore.exceptions import ClientError

from notification_handlers import aws_clients
from notification_handlers.service import delivery_log, env, limit_counters
from notification_handlers.service.channel_message import ChannelMessage
from notification_handlers.service.delivery_log import Delivery
from notification_handlers.service.dynamodb_batch import deserialize_item, serialize_item
from notification_handlers.service.type_options import FrequencyCap

ID_DIGITS: Final = 32  # of the 64-hex-digit notification id kept in ``ids``: 128 bits
IDS: Final = "ids"
KEY_PREFIX: Final = "cap#"


def bucket(now_epoch: float, period_seconds: int) -> int:
    """The fixed period ``now`` falls in: floor(epoch seconds / period)."""
    return int(now_epoch // period_seconds)


def counter_key(notification_type: str, user_id: str, period_seconds: int, bucket_number: int) -> str:
    """``cap#<type>#<period>#<bucket>#<user>``: the user id comes last, so a ``#`` in it stays unambiguous."""
    return f"{KEY_PREFIX}{notification_type}#{period_seconds}#{bucket_number}#{user_id}"


def short_id(notification_id: str) -> str:
    return notification_id[:ID_DIGITS]


def admit_request(
    table: str,
    cap: FrequencyCap,
    *,
    notification_type: str,
    user_id: str,
    notification_id: str,
    now_epoch: float,
) -> dict[str, Any]:
    """The ``UpdateItem`` parameters counting one delivery against the cap (pure)."""
    number = bucket(now_epoch, cap.period_seconds)
    params = limit_counters.count_one(
        table,
        counter_key(notification_type, user_id, cap.period_seconds, number),
        cap.limit,
        expires_at=(number + 1) * cap.period_seconds,
    )
    params["UpdateExpression"] = params["UpdateExpression"].replace(
        "ADD #count :one", "ADD #count :one, #ids :id"
    )
    params["ConditionExpression"] += " AND NOT contains(#ids, :short)"
    params["ExpressionAttributeNames"]["#ids"] = IDS
    params["ExpressionAttributeValues"].update(
        {":id": {"SS": [short_id(notification_id)]}, **serialize_item({":short": short_id(notification_id)})}
    )
    return params


def rows_for(messages: Sequence[ChannelMessage], over_cap: Collection[str]) -> list[Delivery]:
    """The ``suppressed_frequency_cap`` rows of the recipients over the cap: one per message they lose."""
    return [
        Delivery(
            message.notification_id,
            message.notification_type,
            message.user_id,
            message.channel,
            delivery_log.SUPPRESSED_FREQUENCY_CAP,
            reason="frequency_cap",
        )
        for message in messages
        if message.user_id in over_cap
    ]


# --- the AWS edge -----------------------------------------------------------------------------------


def admit(
    cap: FrequencyCap, notification_type: str, user_id: str, notification_id: str, now_epoch: float
) -> bool:
    """True: deliver (counted now, or by an earlier attempt of this notification); False: over the cap.
    AWS errors propagate (the record is retried, and is not counted twice)."""
    table = env.required("LIMITS_TABLE")
    params = admit_request(
        table,
        cap,
        notification_type=notification_type,
        user_id=user_id,
        notification_id=notification_id,
        now_epoch=now_epoch,
    )
    try:
        # A refusal returns the counter as it stood: over the cap, or this notification counted already.
        aws_clients.client("dynamodb").update_item(**params, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except ClientError as error:
        if aws_clients.error_code(error) != "ConditionalCheckFailedException":
            raise
        found = error.response.get("Item")
        ids = deserialize_item(found).get(IDS, set()) if isinstance(found, dict) else set()
        return short_id(notification_id) in ids
    return True
