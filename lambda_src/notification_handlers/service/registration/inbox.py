"""The in-app inbox routes of the registration API (docs/notification-service.md, section 7, "In-app inbox").
The partition is always the caller's JWT ``sub`` (``request.user_id``): no path, query or cursor field can
name another user's partition, so another user's item id is simply not found (404) and a cursor is only
a sort key inside the caller's own partition (refused unless it is a well-formed key of the listed kind).

* ``GET /inbox``: newest first, ``limit`` (1..``INBOX_MAX_PAGE_SIZE``, default ``INBOX_DEFAULT_PAGE_SIZE``),
  opaque ``cursor`` (``next_cursor`` of the previous page), ``archived=true`` for the archived items.
  ONE ``Query`` (key condition ``begins_with``, no filter: archived items live under another prefix) and
  ONE ``GetItem`` of the counter (the unread count and mark-all-read's watermark) per page.
* ``GET /inbox/unread-count``: ONE consistent ``GetItem`` of the counter.
* ``POST /inbox/{item_id}/read``: ONE transaction (read_at only if absent; -1 on the counter only while
  above 0 and the item is not covered by mark-all-read): a replayed or raced read counts once.
* ``POST /inbox/read-all``: ONE write whatever the number of items: the counter's ``read_before`` moves to
  the newest item and ``unread`` becomes 0, only if the counter's ``version`` is the one read (an item
  that arrived in between makes it retry, at most ``READ_ALL_ATTEMPTS`` times, then 409).
* ``POST /inbox/{item_id}/archive``: the item moves to ``archived#`` in one transaction (with -1 when it
  was unread); replaying it answers 200 again.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, Final

from botocore.exceptions import ClientError

from notification_handlers import aws_clients
from notification_handlers.service import env, inbox_store
from notification_handlers.service.dynamodb_batch import deserialize_item, serialize_item
from notification_handlers.service.log import logger
from notification_handlers.service.registration import edge
from notification_handlers.service.registration.http_api import ApiError, Response, bad_request, known_keys
from notification_handlers.service.registration.request import Request, path_parameter

TABLE_ENV: Final = "INBOX_TABLE"
DEFAULT_PAGE_SIZE: Final = 20
MAX_PAGE_SIZE: Final = 100
READ_ALL_ATTEMPTS: Final = 3
ARCHIVE_ATTEMPTS: Final = 3
CONDITION_FAILED: Final = "ConditionalCheckFailed"
MAX_CURSOR_LENGTH: Final = 512


def _table() -> str:
    return env.required(TABLE_ENV)


def page_size(query: Mapping[str, str]) -> int:
    """``limit`` bounded by ``INBOX_MAX_PAGE_SIZE`` (never above 100); 400 outside 1..max."""
    most = min(env.positive_int("INBOX_MAX_PAGE_SIZE", MAX_PAGE_SIZE), MAX_PAGE_SIZE)
    raw = query.get("limit")
    if raw is None:
        return min(env.positive_int("INBOX_DEFAULT_PAGE_SIZE", DEFAULT_PAGE_SIZE), most)
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 4 or not 1 <= int(raw) <= most:
        bad_request(f"limit must be an integer from 1 to {most}", "invalid_query")
    return int(raw)


def encode_cursor(item_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": item_key}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, prefix: str) -> str:
    """The item key to continue after; 400 unless it is a well-formed key of the listed kind."""
    key: Any = None
    if len(cursor) <= MAX_CURSOR_LENGTH:
        try:
            value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8"))
        except (binascii.Error, ValueError):
            value = None
        # exactly {"k": key}: a cursor naming anything else (a partition, a table) is not one of ours
        key = value.get("k") if isinstance(value, dict) and set(value) == {"k"} else None
    if not (
        isinstance(key, str) and key.startswith(prefix) and inbox_store.is_item_id(key.removeprefix(prefix))
    ):
        bad_request("cursor is not a cursor this API returned", "invalid_query")
    return key


def parse_item_id(request: Request) -> str:
    item_id = path_parameter(request, "item_id")
    if not inbox_store.is_item_id(item_id):
        raise ApiError(404, "not_found", "no such inbox item")
    return item_id


def _key(user_id: str, item_key: str) -> dict[str, Any]:
    return serialize_item({"user_id": user_id, "item_key": item_key})


def read_counter(user_id: str) -> tuple[int, str | None, int]:
    return inbox_store.counter_state(
        edge.get_item(_table(), {"user_id": user_id, "item_key": inbox_store.COUNTER_KEY})
    )


def list_inbox(request: Request) -> Response:
    known_keys(request.query, frozenset({"limit", "cursor", "archived"}), "query string", "invalid_query")
    archived = request.query.get("archived", "false")
    if archived not in ("true", "false"):
        bad_request("archived must be true or false", "invalid_query")
    prefix = inbox_store.ARCHIVED_PREFIX if archived == "true" else inbox_store.ITEM_PREFIX
    limit = page_size(request.query)
    query: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "user_id = :u AND begins_with(item_key, :p)",
        "ExpressionAttributeValues": serialize_item({":u": request.user_id, ":p": prefix}),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    cursor = request.query.get("cursor")
    if cursor is not None:
        query["ExclusiveStartKey"] = _key(request.user_id, decode_cursor(cursor, prefix))
    unread, read_before, _version = read_counter(request.user_id)
    response = edge.dynamodb().query(**query)
    now = edge.epoch(edge.now())
    items = [deserialize_item(raw) for raw in response.get("Items", [])]
    # TTL deletes lag by up to days: an expired item is not shown.
    views = [inbox_store.item_view(i, read_before) for i in items if int(i.get("expires_at", now + 1)) > now]
    body: dict[str, Any] = {"items": views, "unread_count": unread}
    last_key = response.get("LastEvaluatedKey")
    if last_key:
        body["next_cursor"] = encode_cursor(deserialize_item(last_key)["item_key"])
    return Response(200, body)


def unread_count(request: Request) -> Response:
    known_keys(request.query, frozenset(), "query string", "invalid_query")
    unread, _read_before, _version = read_counter(request.user_id)
    return Response(200, {"unread_count": unread})


def _reasons(error: ClientError) -> list[str]:
    reasons = aws_clients.cancellation_reasons(error)
    if reasons is None or aws_clients.is_transient(error):
        raise error
    return reasons


def _set_read(table: str, user_id: str, key: str, now: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table,
            "Key": _key(user_id, key),
            "UpdateExpression": "SET read_at = :now",
            "ConditionExpression": "attribute_exists(item_key) AND attribute_not_exists(read_at)",
            "ExpressionAttributeValues": serialize_item({":now": now}),
        }
    }


def mark_read(request: Request) -> Response:
    item_id = parse_item_id(request)
    table, user_id, key = _table(), request.user_id, inbox_store.item_key(item_id)
    now = edge.iso(edge.now())
    client = edge.dynamodb()
    try:
        client.transact_write_items(
            TransactItems=[
                _set_read(table, user_id, key, now),
                inbox_store.counter_change(table, user_id, key, -1),
            ]
        )
        counted = True
    except ClientError as error:
        reasons = _reasons(error)
        if reasons and reasons[0] == CONDITION_FAILED:
            return _already_read(user_id, item_id)
        if len(reasons) < 2 or reasons[1] != CONDITION_FAILED:
            raise
        # Covered by mark-all-read (or the counter is at 0): mark the item alone.
        try:
            client.transact_write_items(TransactItems=[_set_read(table, user_id, key, now)])
        except ClientError as retry_error:
            retry_reasons = _reasons(retry_error)
            if retry_reasons and retry_reasons[0] == CONDITION_FAILED:
                return _already_read(user_id, item_id)
            raise
        counted = False
    logger.info("inbox item read", extra={"counted": counted})
    return Response(200, {"item_id": item_id, "read": True})


def _already_read(user_id: str, item_id: str) -> Response:
    """A replayed read: 200 when the item exists (live or archived), 404 when the caller has no such item."""
    table = _table()
    for key in (inbox_store.item_key(item_id), inbox_store.archived_key(item_id)):
        if edge.get_item(table, {"user_id": user_id, "item_key": key}) is not None:
            return Response(200, {"item_id": item_id, "read": True})
    raise ApiError(404, "not_found", "no such inbox item")


def read_all(request: Request) -> Response:
    """Everything up to the newest item becomes read with ONE counter write (``read_before``)."""
    table, user_id = _table(), request.user_id
    for _attempt in range(READ_ALL_ATTEMPTS):
        _unread, read_before, version = read_counter(user_id)
        newest = (
            edge.dynamodb()
            .query(
                TableName=table,
                KeyConditionExpression="user_id = :u AND begins_with(item_key, :p)",
                ExpressionAttributeValues=serialize_item({":u": user_id, ":p": inbox_store.ITEM_PREFIX}),
                ProjectionExpression="item_key",
                ScanIndexForward=False,
                Limit=1,
                ConsistentRead=True,
            )
            .get("Items", [])
        )
        if not newest:
            return Response(200, {"unread_count": 0})
        watermark = str(deserialize_item(newest[0])["item_key"])
        if read_before is not None and read_before >= watermark:
            watermark = read_before
        try:
            edge.dynamodb().update_item(
                TableName=table,
                Key=_key(user_id, inbox_store.COUNTER_KEY),
                UpdateExpression="SET read_before = :w, unread = :zero ADD version :one",
                ConditionExpression="attribute_not_exists(version) OR version = :v"
                if version == 0
                else "version = :v",
                ExpressionAttributeValues=serialize_item(
                    {":w": watermark, ":zero": 0, ":one": 1, ":v": version}
                ),
            )
        except ClientError as error:
            if edge.condition_failed(error):
                continue  # an item arrived or was read meanwhile: read again
            raise
        logger.info("inbox read-all", extra={"attempt": _attempt + 1})
        return Response(200, {"unread_count": 0})
    raise ApiError(409, "conflict", "the inbox changed while marking it read: retry")


def archive(request: Request) -> Response:
    item_id = parse_item_id(request)
    table, user_id = _table(), request.user_id
    key, moved_key = inbox_store.item_key(item_id), inbox_store.archived_key(item_id)
    client = edge.dynamodb()
    for _attempt in range(ARCHIVE_ATTEMPTS):
        item = edge.get_item(table, {"user_id": user_id, "item_key": key})
        if item is None:
            if edge.get_item(table, {"user_id": user_id, "item_key": moved_key}) is not None:
                return Response(200, {"item_id": item_id, "archived": True})
            raise ApiError(404, "not_found", "no such inbox item")
        _unread, read_before, _version = read_counter(user_id)
        unread = not inbox_store.is_read(item, read_before)
        now = edge.iso(edge.now())
        moved = {**item, "item_key": moved_key, "archived_at": now, "read_at": item.get("read_at") or now}
        still = (
            "attribute_exists(item_key) AND attribute_not_exists(read_at)"
            if unread
            else "attribute_exists(item_key)"
        )
        transaction: list[dict[str, Any]] = [
            {"Delete": {"TableName": table, "Key": _key(user_id, key), "ConditionExpression": still}},
            {"Put": {"TableName": table, "Item": serialize_item(moved)}},
        ]
        if unread:
            transaction.append(inbox_store.counter_change(table, user_id, key, -1))
        try:
            client.transact_write_items(TransactItems=transaction)
        except ClientError as error:
            reasons = _reasons(error)
            if (
                unread
                and len(reasons) > 2
                and reasons[2] == CONDITION_FAILED
                and reasons[0] != CONDITION_FAILED
            ):
                # Covered by mark-all-read meanwhile (or the counter is at 0): move it without the -1.
                transaction.pop()
                try:
                    client.transact_write_items(TransactItems=transaction)
                except ClientError as retry_error:
                    _reasons(retry_error)
                    continue
            else:
                continue  # read, archived or removed meanwhile: look again
        logger.info("inbox item archived", extra={"was_unread": unread})
        return Response(200, {"item_id": item_id, "archived": True})
    raise ApiError(409, "conflict", "the item changed while archiving it: retry")
