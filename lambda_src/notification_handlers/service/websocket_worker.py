"""WebSocket channel worker: post the router's websocket channel messages to every open connection of the
recipient, through the API Gateway management API (``PostToConnection``).

Trigger: the websocket queue's event source mapping with ``ReportBatchItemFailures`` (partial batch
responses, ``partial_batch``). One invocation handles one batch:

1. Parse every body as a channel message with content ``{"body": "..."}`` and render what is posted:
   ``{"notification_id", "type", "body"}`` (``render_payload``). A payload over API Gateway's 128 KiB
   message limit gets a ``failed`` row (``payload_too_large``); no call is made for it.
2. Find each recipient's connections with ONE paginated ``Query`` on the ``by_user`` GSI per user and batch
   (never a ``Scan``). A user without connections gets a ``no_connection`` row (not an error).
3. Per connection: claim ``<notification_id>#<user_id>#websocket#<connection_id>`` (already done: skipped;
   held elsewhere: the record is retried later), then post to every claimed connection concurrently
   (``fan_out``: a thread pool of at most ``MAX_CONCURRENT_POSTS``; boto3 clients are thread-safe).
4. ``GoneException`` (410: the client went away without a ``$disconnect`` we saw) -> a ``failed`` row
   (``connection_gone``) and the connection id is deleted from the table. Only the ids that answered 410
   are deleted (never the sending side's or another user's), with BatchWriteItem DeleteRequests, 25 per
   call, once per batch. ``PayloadTooLargeException`` -> ``failed`` (not retried). Every other error after
   the SDK's retries (``LimitExceededException``, 5xx, timeouts, ``ForbiddenException`` from a missing
   ``execute-api:ManageConnections`` permission) releases the claim and the record is retried through
   ``batchItemFailures``; connections already posted to are not posted to again.
5. One delivery row per connection (``target`` = connection id), all written with ONE
   ``delivery_log.record`` per batch.

A malformed body is logged (reason only) and reported in ``batchItemFailures`` (to the queue's DLQ after
``max_receive_count``), as in the email worker. A batch-wide failure (a connections ``Query``, the stale
connection deletes, the delivery log) raises: every record is redelivered; completed claims make the
redelivery post nothing twice, and each completed claim holds its connection's row, which the redelivery
writes again (a ``connection_gone`` row also re-queues that connection's delete). Logs never contain a body.

Environment:
    CONNECTIONS_TABLE                 required.
    CONNECTIONS_USER_INDEX            the GSI on user_id (default ``by_user``).
    WEBSOCKET_MANAGEMENT_ENDPOINT     required; ``https://<api-id>.execute-api.<region>.amazonaws.com/<stage>``.
    MAX_CONCURRENT_POSTS              optional, default 16.
    DELIVERY_LOG_TABLE, DELIVERY_LOG_TTL_DAYS, IDEMPOTENCY_TABLE, IDEMPOTENCY_TTL_SECONDS
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import ConfigurationError, MalformedEventError, type_name
from notification_handlers.service import delivery_log, dynamodb_batch, partial_batch
from notification_handlers.service.channel_message import ChannelMessage, parse_channel_message
from notification_handlers.service.channel_worker import (
    AWS_ERRORS,
    WorkerBatch,
    bound_message,
    finish_batch,
    remaining_ms,
    rewrite_completed_row,
)
from notification_handlers.service.delivery_log import Delivery
from notification_handlers.service.idempotency import Claim, Deduplicator, deduplicator_from_env
from notification_handlers.service.log import logger
from notification_handlers.service.partial_batch import Records

if TYPE_CHECKING:
    from notification_handlers.lambda_context import LambdaContext

CHANNEL: Final = "websocket"
MAX_PAYLOAD_BYTES: Final = 128 * 1024  # API Gateway WebSocket message limit
DEFAULT_INDEX: Final = "by_user"
DEFAULT_MAX_CONCURRENT_POSTS: Final = 16
MAX_CONCURRENT_POSTS_LIMIT: Final = 128
GONE: Final = "GoneException"
PERMANENT_POST_ERRORS: Final = frozenset({"PayloadTooLargeException"})
REASON_TOO_LARGE: Final = "payload_too_large"
REASON_GONE: Final = "connection_gone"


class DeliveryRetryError(RuntimeError):
    """Some connections of this message must be posted to again later."""


# --- configuration -------------------------------------------------------------------


class Settings(NamedTuple):
    connections_table: str
    user_index: str
    endpoint: str
    max_concurrent_posts: int


def load_settings(environ: Mapping[str, str]) -> Settings:
    """The worker's settings; ``ConfigurationError`` names the bad variable."""

    def text(name: str, default: str | None = None) -> str:
        value = environ.get(name, "").strip() or default
        if not value:
            raise ConfigurationError(f"{name} is not set")
        return value

    endpoint = text("WEBSOCKET_MANAGEMENT_ENDPOINT").rstrip("/")
    if not endpoint.startswith("https://") and not endpoint.startswith("http://localhost"):
        raise ConfigurationError(
            "WEBSOCKET_MANAGEMENT_ENDPOINT must be https://<api-id>.execute-api.<region>.amazonaws.com/<stage>"
        )
    raw = environ.get("MAX_CONCURRENT_POSTS", "").strip()
    try:
        workers = int(raw) if raw else DEFAULT_MAX_CONCURRENT_POSTS
    except ValueError:
        raise ConfigurationError(f"MAX_CONCURRENT_POSTS must be an integer, got {raw[:20]!r}") from None
    if not 1 <= workers <= MAX_CONCURRENT_POSTS_LIMIT:
        raise ConfigurationError(
            f"MAX_CONCURRENT_POSTS must be 1-{MAX_CONCURRENT_POSTS_LIMIT}, got {workers}"
        )
    return Settings(
        connections_table=text("CONNECTIONS_TABLE"),
        user_index=text("CONNECTIONS_USER_INDEX", DEFAULT_INDEX),
        endpoint=endpoint,
        max_concurrent_posts=workers,
    )


# --- parse and render ----------------------------------------------------------------


def parse_websocket_message(body: object) -> tuple[ChannelMessage, str]:
    """A websocket channel message and its ``content.body``; ``MalformedEventError`` names the field."""
    if not isinstance(body, str):
        raise MalformedEventError(f"body must be a string, got {type_name(body)}")
    try:
        message = parse_channel_message(body)
    except RecursionError:
        raise MalformedEventError("body is not JSON (nested too deeply)") from None
    if message.channel != CHANNEL:
        raise MalformedEventError(f"channel must be {CHANNEL!r}, got {message.channel[:40]!r}")
    text = message.content.get("body")
    if not text:
        raise MalformedEventError("content.body is missing or empty")
    return message, text


def render_payload(message: ChannelMessage, body: str) -> bytes:
    """What a connection receives: ``{"notification_id", "type", "body"}`` as UTF-8 JSON."""
    document = {"notification_id": message.notification_id, "type": message.notification_type, "body": body}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def too_large(payload: bytes) -> bool:
    return len(payload) > MAX_PAYLOAD_BYTES


# --- the fan-out core ------------------------------------------------------------------

Post = Callable[[str, bytes], None]  # (connection id, data); raises the SDK's error on failure


@dataclass(eq=False, repr=False)  # mutable state: identity is its equality
class FanOutResult:
    """What happened to each connection of one fan-out."""

    sent: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # answered 410: delete these ids
    failed: dict[str, str] = field(default_factory=dict)  # id -> reason; permanent, not retried
    retry: dict[str, str] = field(default_factory=dict)  # id -> error code; transient, retry later
    calls: int = 0
    seconds: float = 0.0


def classify(error: Exception) -> tuple[str, str]:
    """("gone" | "failed" | "retry", error code) for a failed post."""
    code = aws_clients.error_code(error)
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == GONE or status == 410:
            return "gone", GONE
        if code in PERMANENT_POST_ERRORS or status == 413:
            return "failed", code
    return "retry", code


def fan_out(connection_ids: Sequence[str], payload: bytes, post: Post, max_workers: int) -> FanOutResult:
    """Post ``payload`` to every connection, at most ``max_workers`` at a time; classify each outcome.

    ``post`` is called exactly once per distinct connection id. Results keep the input order.
    """
    if max_workers < 1:
        raise ValueError(f"max_workers must be at least 1, got {max_workers}")
    ids = list(dict.fromkeys(connection_ids))
    result = FanOutResult()
    if not ids:
        return result

    def attempt(connection_id: str) -> tuple[str, str]:
        try:
            post(connection_id, payload)
        except (ClientError, BotoCoreError) as error:
            return classify(error)
        return "sent", ""

    started = time.perf_counter()
    if max_workers == 1 or len(ids) == 1:
        outcomes = [attempt(connection_id) for connection_id in ids]
    else:
        with ThreadPoolExecutor(max_workers=min(max_workers, len(ids))) as pool:
            outcomes = list(pool.map(attempt, ids))
    result.seconds = time.perf_counter() - started
    result.calls = len(ids)
    for connection_id, (kind, code) in zip(ids, outcomes, strict=True):
        if kind == "sent":
            result.sent.append(connection_id)
        elif kind == "gone":
            result.gone.append(connection_id)
        elif kind == "failed":
            result.failed[connection_id] = code
        else:
            result.retry[connection_id] = code
    return result


# --- edge ----------------------------------------------------------------------------


@dataclass(eq=False, repr=False)  # mutable per-batch state: identity is its equality
class Batch(WorkerBatch[bytes]):  # messages: the rendered payload of each message
    settings: Settings
    connections: dict[str, list[str]] = field(default_factory=dict)  # user id -> connection ids
    gone: set[str] = field(default_factory=set)


def _parse_batch(records: Records, batch: Batch) -> None:
    for record in records:
        try:
            message, body = parse_websocket_message(record.get("body"))
        except MalformedEventError as error:
            batch.problems[record["messageId"]] = str(error)
            continue
        batch.messages[record["messageId"]] = (message, render_payload(message, body))


def query_connections(settings: Settings, user_id: str) -> list[str]:
    """The connection ids of one user: one paginated ``Query`` on the user index (keys only)."""
    client = aws_clients.client("dynamodb")
    request: dict[str, Any] = {
        "TableName": settings.connections_table,
        "IndexName": settings.user_index,
        "KeyConditionExpression": "#u = :u",
        "ExpressionAttributeNames": {"#u": "user_id"},
        "ExpressionAttributeValues": {":u": {"S": user_id}},
    }
    ids: list[str] = []
    while True:
        page = client.query(**request)
        ids.extend(
            str(item["connection_id"]["S"]) for item in page.get("Items", []) if "connection_id" in item
        )
        last = page.get("LastEvaluatedKey")
        if not last:
            return list(dict.fromkeys(ids))
        request["ExclusiveStartKey"] = last


def _prefetch(batch: Batch) -> None:
    users = sorted({m.user_id for m, payload in batch.messages.values() if not too_large(payload)})
    for user_id in users:
        batch.connections[user_id] = query_connections(batch.settings, user_id)


def post_function(settings: Settings) -> Post:
    """PostToConnection through the stage's management API (one client, pooled for the fan-out)."""
    client = aws_clients.client_with_endpoint(
        "apigatewaymanagementapi", settings.endpoint, max_pool_connections=settings.max_concurrent_posts
    )

    def post(connection_id: str, data: bytes) -> None:
        client.post_to_connection(ConnectionId=connection_id, Data=data)

    return post


def claim_key(message: ChannelMessage, connection_id: str) -> str:
    return f"{message.notification_id}#{message.user_id}#{CHANNEL}#{connection_id}"


def _row(message: ChannelMessage, status: str, target: str, reason: str | None = None) -> Delivery:
    return Delivery(
        message.notification_id,
        message.notification_type,
        message.user_id,
        CHANNEL,
        status,
        target,
        reason,
    )


def _settle(dedup: Deduplicator, key: str, outcome: Delivery | Exception) -> None:
    """Complete a claim with its row (re-written by a redelivery that finds it done) or release it on
    an error; a failure is logged (the claim then expires)."""
    try:
        if isinstance(outcome, Delivery):
            dedup.complete(key, delivery_log.as_claim_result(outcome))
        else:
            dedup.release(key)
    except AWS_ERRORS as settle_error:
        logger.error(
            "Settling the claim failed; it expires with this invocation",
            extra={"error_code": aws_clients.error_code(settle_error)},
        )


def _claim_all(
    message: ChannelMessage, connection_ids: Sequence[str], batch: Batch, remaining_ms: int | None
) -> tuple[list[str], list[str]]:
    """(claimed connection ids, reasons to retry the record)."""
    dedup = deduplicator_from_env()
    claimed: list[str] = []
    retry: list[str] = []
    for connection_id in connection_ids:
        try:
            claim, done = dedup.claim_with_result(
                claim_key(message, connection_id), remaining_time_in_millis=remaining_ms
            )
        except AWS_ERRORS as error:
            retry.append(f"claim failed ({aws_clients.error_code(error)})")
            batch.count("retried")
            continue
        if claim is Claim.CLAIMED:
            claimed.append(connection_id)
        elif claim is Claim.ALREADY_DONE:
            batch.count("duplicate")
            rewrite_completed_row(batch, done)
            row = delivery_log.from_claim_result(done)
            if row is not None and row.reason == REASON_GONE:
                batch.gone.add(connection_id)  # its delete may have failed with the log write: redo it
        else:
            retry.append("delivery in progress elsewhere")
            batch.count("in_progress")
    return claimed, retry


def _deliver(
    message: ChannelMessage, payload: bytes, batch: Batch, post: Post, remaining_ms: int | None
) -> None:
    if too_large(payload):
        batch.rows.append(_row(message, delivery_log.FAILED, delivery_log.NO_TARGET, REASON_TOO_LARGE))
        batch.count("failed")
        logger.error(
            "Payload over API Gateway's 128 KiB limit; recorded as failed, nothing posted",
            extra={"decision": "failed", "payload_bytes": len(payload)},
        )
        return
    connection_ids = batch.connections.get(message.user_id, [])
    if not connection_ids:
        batch.rows.append(_row(message, delivery_log.NO_CONNECTION, delivery_log.NO_TARGET))
        batch.count(delivery_log.NO_CONNECTION)
        logger.info("The user has no open connection", extra={"decision": delivery_log.NO_CONNECTION})
        return
    claimed, retry = _claim_all(message, connection_ids, batch, remaining_ms)
    result = fan_out(claimed, payload, post, batch.settings.max_concurrent_posts)
    dedup = deduplicator_from_env()
    for connection_id in result.sent:
        row = _row(message, delivery_log.SENT, connection_id)
        batch.rows.append(row)
        _settle(dedup, claim_key(message, connection_id), row)
    for connection_id in result.gone:
        row = _row(message, delivery_log.FAILED, connection_id, REASON_GONE)
        batch.rows.append(row)
        batch.gone.add(connection_id)
        _settle(dedup, claim_key(message, connection_id), row)
    for connection_id, code in result.failed.items():
        row = _row(message, delivery_log.FAILED, connection_id, code)
        batch.rows.append(row)
        _settle(dedup, claim_key(message, connection_id), row)
        logger.error(
            "API Gateway refused the post permanently; recorded as failed",
            extra={"decision": "failed", "error_code": code, "connection_id": connection_id},
        )
    for connection_id, code in result.retry.items():
        _settle(dedup, claim_key(message, connection_id), RuntimeError(code))
        retry.append(f"PostToConnection {code}")
    batch.count("sent", len(result.sent))
    batch.count("gone", len(result.gone))
    batch.count("failed", len(result.failed))
    batch.count("retried", len(result.retry))
    logger.info(
        "Posted to the user's connections",
        extra={
            "connections": len(connection_ids),
            "sent": len(result.sent),
            "gone": len(result.gone),
            "failed": len(result.failed),
            "retry": len(retry),
        },
    )
    if retry:
        raise DeliveryRetryError(f"{len(retry)} connection(s) to retry: {'; '.join(sorted(set(retry)))}")


def _record_handler(batch: Batch, post: Post, context: object) -> Any:
    def handle(message_id: str) -> None:
        with bound_message(batch, message_id) as (message, payload):
            _deliver(message, payload, batch, post, remaining_ms(context))

    return handle


def delete_stale(settings: Settings, connection_ids: Sequence[str]) -> int:
    """Delete these connection ids (the ones that answered 410), 25 per call; the number of calls."""
    keys = [{"connection_id": connection_id} for connection_id in sorted(set(connection_ids))]
    return dynamodb_batch.batch_delete(settings.connections_table, keys) if keys else 0


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        settings = load_settings(os.environ)
        deduplicator_from_env()
    except ConfigurationError as error:
        logger.error("Invalid configuration", extra={"decision": "rejected", "problem": str(error)})
        raise
    batch = Batch(settings)
    records = partial_batch.sqs_records(event)
    _parse_batch(records, batch)
    try:
        _prefetch(batch)
    except AWS_ERRORS as error:
        logger.error(
            "Reading the users' connections failed; failing the whole batch",
            extra={"decision": "retry", "error_code": aws_clients.error_code(error)},
        )
        raise
    post = post_function(settings)

    def delete_gone() -> dict[str, int]:
        return {"stale_deleted": len(batch.gone), "delete_calls": delete_stale(settings, sorted(batch.gone))}

    return finish_batch(
        records,
        batch,
        _record_handler(batch, post, context),
        CHANNEL,
        after_write=delete_gone,
        write_failed=(
            "Writing the delivery log or deleting stale connections failed; the batch is redelivered"
        ),
    )
