"""In-app inbox channel worker: write one inbox item per recipient of the router's inbox channel messages
into the inbox table, and push the new item to the recipient's live WebSocket connections when the
websocket channel is on. docs/notification-service.md, section 7 ("In-app inbox").

Trigger: the inbox queue's event source mapping with ``ReportBatchItemFailures`` (partial batch responses,
``partial_batch``). One invocation handles one batch:

1. Parse every body as a channel message with content ``{"title", "body", "url"?}`` (``url``: an absolute
   ``https://`` URL; the router already refused any other rendering, this is defence in depth).
2. Per message: ONE ``TransactWriteItems`` (``inbox_store``): the ``nid#<notification_id>`` marker and the
   ``item#<item_id>`` item, both ``attribute_not_exists``, and +1 on the user's unread counter. The
   marker makes the write idempotent per (user, notification): a redelivered message (or the router
   routing the notification again) finds it and writes and counts nothing (``duplicate``). An item
   older than the user's last mark-all-read (``read_before``) is written without the +1 (it counts as read).
   No idempotency claim is needed: the transaction is the claim, and it costs one call instead of three.
3. One ``sent`` delivery row per item (``target`` = the item id), also for a duplicate (rows are
   upserts): all written with ONE ``delivery_log.record`` per batch.
4. Live push (only when ``WEBSOCKET_MANAGEMENT_ENDPOINT`` is set): for every item written by THIS
   invocation, the user's connections (ONE ``Query`` of the ``by_user`` index per user and batch, the
   websocket worker's ``query_connections``) are posted ``{"notification_id", "type", "inbox_item"}``
   through the websocket worker's ``fan_out`` and ``post_function``; connections that answer 410 are
   deleted after the batch (``delete_stale``), as the websocket worker does. The push is best effort: the
   item is durable, a failed post is logged and not retried, and a duplicate is not pushed again.

Failures: a malformed body is a batch item failure (to the DLQ after ``max_receive_count``); a throttled or
failed transaction (after the SDK's retries) fails only its record, which SQS redelivers; the delivery log
or stale-connection write failing fails the whole batch (the markers make the redelivery write nothing
twice). Logs never contain a title, body or URL.

Environment: ``INBOX_TABLE`` and ``INBOX_ITEM_TTL_DAYS`` (required); with the websocket channel
``CONNECTIONS_TABLE``, ``CONNECTIONS_USER_INDEX``, ``WEBSOCKET_MANAGEMENT_ENDPOINT``,
``MAX_CONCURRENT_POSTS``; the delivery log variables.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from botocore.exceptions import ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import ConfigurationError, MalformedEventError, type_name
from notification_handlers.service import delivery_log, env, inbox_store, partial_batch
from notification_handlers.service.channel_message import ChannelMessage, parse_channel_message
from notification_handlers.service.channel_worker import AWS_ERRORS, WorkerBatch, bound_message, finish_batch
from notification_handlers.service.delivery_log import Delivery
from notification_handlers.service.dynamodb_batch import serialize_item
from notification_handlers.service.log import logger
from notification_handlers.service.partial_batch import Records
from notification_handlers.service.websocket_worker import (
    Post,
    Settings,
    delete_stale,
    fan_out,
    load_settings,
    post_function,
    query_connections,
    too_large,
)

if TYPE_CHECKING:
    from notification_handlers.lambda_context import LambdaContext

CHANNEL: Final = "inbox"
WRITTEN: Final = "written"
WRITTEN_READ: Final = "written_read"  # older than the user's last mark-all-read: counts as read
DUPLICATE: Final = "duplicate"
MAX_TTL_DAYS: Final = 3650
WRITE_FAILED: Final = (
    "Writing the delivery log or deleting stale connections failed; the batch is redelivered"
)


# --- parse, decide, render -----------------------------------------------------------


class InboxContent(NamedTuple):
    title: str
    body: str
    url: str | None = None


def parse_inbox_message(body: object) -> tuple[ChannelMessage, InboxContent]:
    """An inbox channel message and its content; ``MalformedEventError`` names the field."""
    if not isinstance(body, str):
        raise MalformedEventError(f"body must be a string, got {type_name(body)}")
    try:
        message = parse_channel_message(body)
    except RecursionError:
        raise MalformedEventError("body is not JSON (nested too deeply)") from None
    if message.channel != CHANNEL:
        raise MalformedEventError(f"channel must be {CHANNEL!r}, got {message.channel[:40]!r}")
    unknown = sorted(set(message.content) - set(inbox_store.ITEM_FIELDS))
    if unknown:
        raise MalformedEventError(f"content has unknown field(s): {', '.join(u[:40] for u in unknown[:5])}")
    title = message.content.get("title")
    text = message.content.get("body")
    url = message.content.get("url")
    if not title or not title.strip():
        raise MalformedEventError("content.title is missing or empty")
    if not text:
        raise MalformedEventError("content.body is missing or empty")
    if url is not None and not inbox_store.HTTPS_URL.fullmatch(url):
        raise MalformedEventError("content.url must be an absolute https:// URL")
    try:
        inbox_store.item_id_for(message.notification_id, message.created_at)
    except ValueError:
        raise MalformedEventError("created_at must be YYYY-MM-DDTHH:MM:SSZ") from None
    if not inbox_store.is_item_id(inbox_store.item_id_for(message.notification_id, message.created_at)):
        raise MalformedEventError("notification_id must be 1-128 characters of A-Z a-z 0-9 _ -")
    return message, InboxContent(title, text, url or None)


def inbox_item(message: ChannelMessage, content: InboxContent, *, ttl_days: int) -> dict[str, Any]:
    """The item written for one message (plain values; ``serialize_item`` makes it a DynamoDB item)."""
    item_id = inbox_store.item_id_for(message.notification_id, message.created_at)
    created = datetime.strptime(message.created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    item: dict[str, Any] = {
        "user_id": message.user_id,
        "item_key": inbox_store.item_key(item_id),
        "item_id": item_id,
        "notification_id": message.notification_id,
        "notification_type": message.notification_type,
        "title": content.title,
        "body": content.body,
        "created_at": message.created_at,
        "expires_at": int(created.timestamp()) + ttl_days * 86400,
    }
    if content.url is not None:
        item["url"] = content.url
    return item


def live_payload(message: ChannelMessage, item: Mapping[str, Any]) -> bytes:
    """What a live connection receives: ``{"notification_id", "type", "inbox_item"}`` (the API's view)."""
    document = {
        "notification_id": message.notification_id,
        "type": message.notification_type,
        "inbox_item": inbox_store.item_view(item, None),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- edge ----------------------------------------------------------------------------


def write_transaction(table: str, item: Mapping[str, Any], *, count: bool) -> list[dict[str, Any]]:
    """Marker + item (both only if absent), and +1 on the counter unless ``count`` is False."""
    marker = {
        "user_id": item["user_id"],
        "item_key": inbox_store.marker_key(str(item["notification_id"])),
        "item_id": item["item_id"],
        "expires_at": item["expires_at"],
    }
    absent = "attribute_not_exists(item_key)"
    transaction: list[dict[str, Any]] = [
        {"Put": {"TableName": table, "Item": serialize_item(marker), "ConditionExpression": absent}},
        {"Put": {"TableName": table, "Item": serialize_item(item), "ConditionExpression": absent}},
    ]
    if count:
        transaction.append(inbox_store.counter_change(table, str(item["user_id"]), str(item["item_key"]), +1))
    return transaction


def write_item(table: str, item: Mapping[str, Any]) -> str:
    """Write the item once per (user, notification): ``written``, ``written_read`` or ``duplicate``."""
    client = aws_clients.client("dynamodb")
    try:
        client.transact_write_items(TransactItems=write_transaction(table, item, count=True))
        return WRITTEN
    except ClientError as error:
        reasons = aws_clients.cancellation_reasons(error)
        if reasons is None or aws_clients.is_transient(error):
            raise
        if reasons and reasons[0] == "ConditionalCheckFailed":
            return DUPLICATE
        if len(reasons) < 3 or reasons[2] != "ConditionalCheckFailed":
            raise
    # Only the counter's condition failed: the item is at or below the user's mark-all-read watermark.
    try:
        client.transact_write_items(TransactItems=write_transaction(table, item, count=False))
    except ClientError as error:
        reasons = aws_clients.cancellation_reasons(error)
        if reasons and reasons[0] == "ConditionalCheckFailed":
            return DUPLICATE
        raise
    return WRITTEN_READ


@dataclass(eq=False, repr=False)  # mutable per-batch state: identity is its equality
class Batch(WorkerBatch[InboxContent]):
    table: str
    ttl_days: int
    live: Settings | None = None
    connections: dict[str, list[str]] = field(default_factory=dict)  # user id -> connection ids
    gone: set[str] = field(default_factory=set)


def _parse_batch(records: Records, batch: Batch) -> None:
    for record in records:
        try:
            batch.messages[record["messageId"]] = parse_inbox_message(record.get("body"))
        except MalformedEventError as error:
            batch.problems[record["messageId"]] = str(error)


def push_live(batch: Batch, post: Post, message: ChannelMessage, item: Mapping[str, Any]) -> None:
    """Post the new item to the user's open connections (best effort: failures are logged, never raised)."""
    settings = batch.live
    if settings is None:
        return
    payload = live_payload(message, item)
    if too_large(payload):
        batch.count("live_too_large")
        return
    try:
        if message.user_id not in batch.connections:
            batch.connections[message.user_id] = query_connections(settings, message.user_id)
    except AWS_ERRORS as error:
        batch.count("live_failed")
        logger.warning(
            "Reading the user's connections failed; the item is in the inbox, not pushed live",
            extra={"error_code": aws_clients.error_code(error)},
        )
        return
    result = fan_out(batch.connections[message.user_id], payload, post, settings.max_concurrent_posts)
    batch.gone.update(result.gone)
    batch.count("live_sent", len(result.sent))
    batch.count("live_gone", len(result.gone))
    batch.count("live_failed", len(result.failed) + len(result.retry))
    if result.failed or result.retry:
        logger.warning(
            "Some live posts failed; the item is in the inbox",
            extra={"failed": len(result.failed), "retry": len(result.retry)},
        )


def _record_handler(batch: Batch, post: Post | None) -> Any:
    def handle(message_id: str) -> None:
        with bound_message(batch, message_id) as (message, content):
            item = inbox_item(message, content, ttl_days=batch.ttl_days)
            try:
                outcome = write_item(batch.table, item)
            except AWS_ERRORS as error:
                batch.count("retried")
                logger.warning(
                    "Writing the inbox item failed; the record will be retried",
                    extra={"decision": "retry", "error_code": aws_clients.error_code(error)},
                )
                raise
            batch.count(outcome)
            batch.rows.append(
                Delivery(
                    message.notification_id,
                    message.notification_type,
                    message.user_id,
                    CHANNEL,
                    delivery_log.SENT,
                    str(item["item_id"]),
                )
            )
            logger.info("Inbox item stored", extra={"decision": outcome, "item_id": item["item_id"]})
            if outcome != DUPLICATE and post is not None:
                push_live(batch, post, message, item)

    return handle


def load_ttl_days() -> int:
    days = env.positive_int("INBOX_ITEM_TTL_DAYS", 90)
    if days > MAX_TTL_DAYS:
        raise ConfigurationError(f"INBOX_ITEM_TTL_DAYS must be at most {MAX_TTL_DAYS}, got {days}")
    return days


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        table = env.required("INBOX_TABLE")
        ttl_days = load_ttl_days()
        live = load_settings(os.environ) if env.optional("WEBSOCKET_MANAGEMENT_ENDPOINT") else None
    except ConfigurationError as error:
        logger.error("Invalid configuration", extra={"decision": "rejected", "problem": str(error)})
        raise
    batch = Batch(table, ttl_days, live)
    records = partial_batch.sqs_records(event)
    _parse_batch(records, batch)
    post = post_function(live) if live is not None else None

    def delete_gone() -> dict[str, int]:
        if batch.live is None or not batch.gone:
            return {}
        return {
            "stale_deleted": len(batch.gone),
            "delete_calls": delete_stale(batch.live, sorted(batch.gone)),
        }

    return finish_batch(
        records,
        batch,
        _record_handler(batch, post),
        CHANNEL,
        after_write=delete_gone,
        write_failed=WRITE_FAILED,
    )
