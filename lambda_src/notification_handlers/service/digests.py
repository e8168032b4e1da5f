"""Digests: events of a type per user and window collected, then delivered as one message at the window end.

docs/notification-service.md, "Frequency caps and digests". A type with ``digest = {window_seconds,
max_items}``: the router does not deliver its events one by one (or, with ``max_per_user.overflow =
"digest"``, only those over the cap): per recipient, ``collect`` appends the event's ``data`` to the user's
digest item in ``DIGESTS_TABLE`` (hash ``user_id``, range ``digest_key = <type>#<window start>``, windows
fixed and aligned to the epoch) and the router logs a ``digested`` row whose reason names the digest's
flush id. The item holds ``count`` (every event) and ``items`` (the first ``max_items`` data objects, each
at most ``MAX_ITEM_BYTES`` of JSON: a larger one is rejected to the ingest DLQ, so an item stays below
50 x 2 KiB). The first event of a window also creates ONE EventBridge Scheduler one-time schedule at the
window's end (the scheduling group, CMK, retry policy and DLQ of ``deferral``; ``ActionAfterCompletion =
DELETE``; name ``d-`` + the flush id: a race or a redelivery finds it there, ``ConflictException`` is
success). ``scheduled`` is set on the item only after the schedule exists, and an append requires it, so an
event whose schedule could not be made retries the schedule rather than leaving a digest nobody flushes.

The schedule puts ``{"notification-service-digest": {"user_id", "notification_type", "window_start"}}`` on
the ingest queue: a top-level field. Every other writer of the ingest queue writes an EventBridge event
(the bus's rule: EventBridge builds the envelope, a producer sets only ``detail``; the router's own delayed
and due events are such events plus ``DUE_MARKER``), so a producer can never make a flush message. At the
flush, the router claims the flush id (the idempotency deduplicator: a duplicate flush sends once), marks
the item ``flushed`` and reads it back (one ``UpdateItem``), and routes a notification of the type with id
= flush id, the user as recipient, and ``data = {"digest": {"count", "items"}}`` through the usual plan
(preferences, channel switches, locale, render). An event that arrives after its window was flushed goes
into the next window. A retried batch may append an event twice (the append is not keyed by event: the
count may over-count by the retries, documented).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

from botocore.exceptions import ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import MalformedEventError
from notification_handlers.service import contract, deferral, env
from notification_handlers.service.dynamodb_batch import deserialize_item, serialize_item
from notification_handlers.service.type_options import DigestWindow

FLUSH_MARKER: Final = contract.FLUSH_MARKER
FLUSH_SOURCE: Final = "notification-service.digest"  # the source of a flushed digest's notification
MAX_ITEM_BYTES: Final = 2048  # of the JSON of one event's data kept in a digest
EXPIRY_SECONDS: Final = 86_400  # after the window's end: the flush has a day (Scheduler's retry policy)
SCHEDULE_NAME_PREFIX: Final = "d-"
MAX_ROUNDS: Final = 4
MAX_KNOWN_FULL: Final = 10_000  # digests this execution environment saw full (see ``collect``)
_KNOWN_FULL: dict[tuple[str, str, int], None] = {}


class DigestItemTooLargeError(MalformedEventError):
    """An event's data is too large to be kept in a digest."""


class DigestBusyError(RuntimeError):
    """The digest kept changing under the append (flushed windows in a row); the record is retried."""


class FlushRequest(NamedTuple):
    user_id: str
    notification_type: str
    window_start: int

    @property
    def flush_id(self) -> str:
        return flush_id(self.user_id, self.notification_type, self.window_start)


def window_start(now_epoch: float, window_seconds: int) -> int:
    """The start (epoch seconds) of the fixed window ``now`` falls in."""
    return int(now_epoch // window_seconds) * window_seconds


def digest_key(notification_type: str, start: int) -> str:
    return f"{notification_type}#{start}"


def flush_id(user_id: str, notification_type: str, start: int) -> str:
    """The notification id of one digest: 64 hex digits, one per (user, type, window)."""
    text = f"digest\n{notification_type}\n{start}\n{user_id}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def digest_item(data: Mapping[str, Any]) -> dict[str, Any]:
    """The event's ``data`` as kept in the digest; ``DigestItemTooLargeError`` above ``MAX_ITEM_BYTES``."""
    size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if size > MAX_ITEM_BYTES:
        raise DigestItemTooLargeError(
            f"digest_item_too_large: detail.data is {size} bytes of JSON; a digested event's data may hold at"
            f" most {MAX_ITEM_BYTES}"
        )
    return dict(data)


def digest_variables(count: int, items: list[Any]) -> dict[str, Any]:
    """``data`` of a digest's notification: the templates see ``digest.count`` and ``digest.items``."""
    return {"digest": {"count": count, "items": items}}


def single_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` of an event of a digest type delivered on its own (under its cap): a digest of one, so the
    type's templates render either way; the event's own fields stay visible too."""
    return {**data, **digest_variables(1, [dict(data)])}


def append_request(
    table: str,
    user_id: str,
    notification_type: str,
    start: int,
    *,
    item: Mapping[str, Any],
    max_items: int,
    expires_at: int,
    first: bool,
) -> dict[str, Any]:
    """``UpdateItem``: count the event, and keep its item while fewer than ``max_items`` are stored; refused
    when flushed, full, or (unless ``first``: the schedule was just made, and this sets ``scheduled``) when
    the window has no schedule yet."""
    update = "SET #items = list_append(if_not_exists(#items, :empty), :item), #expires = :expires"
    condition = "attribute_not_exists(#flushed) AND (attribute_not_exists(#stored) OR #stored < :max)"
    names = {"#items": "items", "#expires": "expires_at", "#flushed": "flushed", "#stored": "stored"}
    names["#count"] = "count"
    values: dict[str, Any] = {":empty": [], ":item": [dict(item)], ":expires": expires_at, ":max": max_items}
    values[":one"] = 1
    names["#scheduled"] = "scheduled"
    if first:
        update += ", #scheduled = :true"
        values[":true"] = True
    else:
        condition += " AND attribute_exists(#scheduled)"
    return {
        "TableName": table,
        "Key": serialize_item({"user_id": user_id, "digest_key": digest_key(notification_type, start)}),
        "UpdateExpression": update + " ADD #count :one, #stored :one",
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": serialize_item(values),
        # A refusal returns the item: whether it was flushed, full or unscheduled, without a GetItem.
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def count_request(table: str, user_id: str, notification_type: str, start: int) -> dict[str, Any]:
    """``UpdateItem`` counting an event of a full digest (its item is not kept)."""
    return {
        "TableName": table,
        "Key": serialize_item({"user_id": user_id, "digest_key": digest_key(notification_type, start)}),
        "UpdateExpression": "ADD #count :one",
        "ConditionExpression": "attribute_not_exists(#flushed) AND attribute_exists(#scheduled)",
        "ExpressionAttributeNames": {"#count": "count", "#flushed": "flushed", "#scheduled": "scheduled"},
        "ExpressionAttributeValues": serialize_item({":one": 1}),
    }


def flush_body(request: FlushRequest) -> str:
    return json.dumps(
        {
            FLUSH_MARKER: {
                "user_id": request.user_id,
                "notification_type": request.notification_type,
                "window_start": request.window_start,
            }
        },
        separators=(",", ":"),
    )


def schedule_name(request: FlushRequest) -> str:
    return SCHEDULE_NAME_PREFIX + request.flush_id[: deferral.SCHEDULE_NAME_HEX]


def create_schedule_request(request: FlushRequest, due: datetime) -> dict[str, Any]:
    """``CreateSchedule`` of a digest's flush: ``deferral``'s schedule, another name and input."""
    params = deferral.create_schedule_request(request.flush_id, "{}", due)
    params["Name"] = schedule_name(request)
    params["Description"] = f"digest {request.flush_id}"
    params["Target"]["Input"] = flush_body(request)
    return params


def parse_flush(body: str) -> FlushRequest | None:
    """The flush request in an ingest message body; None when the message is not one."""
    if FLUSH_MARKER not in body:  # cheap: most messages are events
        return None
    try:
        message = json.loads(body)
    except ValueError:
        return None
    # The marker alone, or with the service's DUE_MARKER (a flush deferred by ``deferral``, e.g. quiet hours);
    # anything else is an event, whose top level EventBridge built: never a flush.
    if not isinstance(message, dict) or not {FLUSH_MARKER} <= set(message) <= {
        FLUSH_MARKER,
        deferral.DUE_MARKER,
    }:
        return None
    request = message[FLUSH_MARKER]
    if not isinstance(request, dict):
        raise MalformedEventError("a digest flush must hold user_id, notification_type and window_start")
    user_id, notification_type, start = (
        request.get("user_id"),
        request.get("notification_type"),
        request.get("window_start"),
    )
    if not (
        isinstance(user_id, str) and user_id and isinstance(notification_type, str) and notification_type
    ):
        raise MalformedEventError("a digest flush must hold user_id and notification_type")
    if isinstance(start, bool) or not isinstance(start, int):
        raise MalformedEventError("a digest flush must hold window_start (epoch seconds)")
    return FlushRequest(user_id, notification_type, start)


# --- the AWS edge -----------------------------------------------------------------------------------


def _refused_state(error: ClientError) -> dict[str, Any]:
    """The item as it stood when a conditional write was refused (``ReturnValuesOnConditionCheckFailure``
    = ``ALL_OLD``): what the refusal means, without another read. Empty when there was no item."""
    item = error.response.get("Item")
    return deserialize_item(item) if isinstance(item, dict) else {}


def _create_schedule(request: FlushRequest, window: DigestWindow, now: datetime) -> None:
    end = datetime.fromtimestamp(request.window_start + window.window_seconds, UTC)
    try:
        aws_clients.client("scheduler").create_schedule(**create_schedule_request(request, max(end, now)))
    except ClientError as error:
        if aws_clients.error_code(error) != "ConflictException":
            raise
        # Made by an earlier event of the window (or an earlier attempt of this one): one schedule, one flush.


def collect(
    user_id: str, notification_type: str, window: DigestWindow, item: Mapping[str, Any], now: datetime
) -> FlushRequest:
    """Add one event to the user's digest of the type; the digest it went into. AWS errors propagate."""
    table = env.required("DIGESTS_TABLE")
    client = aws_clients.client("dynamodb")
    start = window_start(now.timestamp(), window.window_seconds)
    if (user_id, notification_type, start) in _KNOWN_FULL:
        # Seen full in this environment: count only (one call), unless it was flushed meanwhile.
        try:
            client.update_item(**count_request(table, user_id, notification_type, start))
            return FlushRequest(user_id, notification_type, start)
        except ClientError as error:
            if aws_clients.error_code(error) != "ConditionalCheckFailedException":
                raise
            _KNOWN_FULL.pop((user_id, notification_type, start), None)
    first = False
    for _ in range(MAX_ROUNDS):
        request = FlushRequest(user_id, notification_type, start)
        params = append_request(
            table,
            user_id,
            notification_type,
            start,
            item=item,
            max_items=window.max_items,
            expires_at=start + window.window_seconds + EXPIRY_SECONDS,
            first=first,
        )
        try:
            client.update_item(**params)
            return request
        except ClientError as error:
            if aws_clients.error_code(error) != "ConditionalCheckFailedException":
                raise
            state = _refused_state(error)
        if state.get("flushed"):
            start += window.window_seconds  # flushed already: the next window
            first = False
        elif not state.get("scheduled") and not first:
            _create_schedule(request, window, now)
            first = True
        elif int(state.get("stored", 0)) >= window.max_items:
            try:
                client.update_item(**count_request(table, user_id, notification_type, start))
                if len(_KNOWN_FULL) >= MAX_KNOWN_FULL:
                    _KNOWN_FULL.pop(next(iter(_KNOWN_FULL)))
                _KNOWN_FULL[(user_id, notification_type, start)] = None
                return request
            except ClientError as error:
                if aws_clients.error_code(error) != "ConditionalCheckFailedException":
                    raise
    raise DigestBusyError("the digest changed under every append; retried later")


def flush(request: FlushRequest) -> tuple[int, list[Any]] | None:
    """Mark the digest flushed and read it back: (count, items), or None when there is none (no event of the
    window was kept). Idempotent: a retried flush reads the same digest."""
    try:
        response = aws_clients.client("dynamodb").update_item(
            TableName=env.required("DIGESTS_TABLE"),
            Key=serialize_item(
                {
                    "user_id": request.user_id,
                    "digest_key": digest_key(request.notification_type, request.window_start),
                }
            ),
            UpdateExpression="SET #flushed = :true",
            ConditionExpression="attribute_exists(#count)",
            ExpressionAttributeNames={"#flushed": "flushed", "#count": "count"},
            ExpressionAttributeValues=serialize_item({":true": True}),
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if aws_clients.error_code(error) != "ConditionalCheckFailedException":
            raise
        return None
    digest = deserialize_item(response.get("Attributes", {}))
    items = digest.get("items", [])
    return int(digest.get("count", 0)), list(items) if isinstance(items, list) else []
