"""The notification service's router and channel workers (email, WebSocket, push, chat, SMS) as workloads.

All run as Lambda's SQS event source mapping runs them: batches of ``BATCH_SIZE`` records, the module's
default batch size. Their lower bounds are computed per batch, because a batch is the most one
invocation can combine: a BatchGetItem cannot span two invocations.

* Router: ``n`` notifications (EventBridge events as SQS delivers them), each to ``recipients`` distinct
  users with a profile and no preferences, one channel (email). Idempotency, lookups and fan-out are
  counted separately; the catalog is read once per warm environment.
* Router with channel fallback: ``n`` notifications of a type with ``fallback = ["push", "email"]``, each to
  one user with a verified address and no device (the worst case: every recipient falls back, so both
  probes run for everyone and every recipient gets a ``fallback_used`` row).
* Email worker: ``n`` email channel messages, one per user, each user with one verified address.
* WebSocket worker: ``n`` websocket channel messages, one per user, each user with two open connections
  (two browser tabs); the management API is moto's.
* Push worker: ``n`` push channel messages, one per user, each user with an APNs and an FCM device.
* Chat worker: ``n`` chat channel messages (``n`` notifications) to one target, in the module's batches of 5,
  posted to a local HTTPS webhook (``tools.emulator.webhook_server``); its URL read from Secrets Manager
  (moto). The HTTPS posts are not AWS calls: the replay does not repeat them, so they count as the
  handler's own work.
* SMS worker: ``n`` SMS channel messages, one per user, each user with one verified phone number.

The service's INFO lines (one or two per notification) are switched off while measuring: they would flood
the report, and what they cost in Lambda is CloudWatch Logs ingestion, not API calls.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from typing import Any

import boto3

from notification_handlers.service import (
    catalog,
    channel_switches,
    chat_worker,
    idempotency,
    push_worker,
    router,
    sms_worker,
    websocket_worker,
)
from notification_handlers.service import email_worker as email_worker_module
from tools.bench.environment import ACCOUNT_ID, REGION
from tools.bench.workloads import Step, Workload, catalog_step, idempotency_step
from tools.emulator.webhook_server import WebhookServer

# The root module's default batch size for both event source mappings (variables.tf: router, email_worker).
BATCH_SIZE = 100
LOOKUP_KEYS_PER_CALL = 100  # BatchGetItem
MESSAGES_PER_CALL = 10  # SendMessageBatch
LOG_ROWS_PER_CALL = 25  # BatchWriteItem
SENDER = "notifications@example.com"
TABLES = {
    "CATALOG_TABLE": ("bench-catalog", "catalog_id", "notification_type"),
    "USERS_TABLE": ("bench-users", "user_id", None),
    "PREFERENCES_TABLE": ("bench-preferences", "user_id", None),
    "DELIVERY_LOG_TABLE": ("bench-delivery-log", "notification_id", "delivery_key"),
    "IDEMPOTENCY_TABLE": ("bench-idempotency", "id", None),
    "EMAIL_SUBSCRIPTIONS_TABLE": ("bench-email-subscriptions", "user_id", None),
    "EMAIL_SUPPRESSIONS_TABLE": ("bench-email-suppressions", "address", None),
    "DEVICE_TOKENS_TABLE": ("bench-device-tokens", "user_id", "device_key"),
    "DEVICE_OWNERS_TABLE": ("bench-device-owners", "device_key", None),
    "PHONE_NUMBERS_TABLE": ("bench-phone-numbers", "phone_key", None),
}
OWNERS_PER_CALL = 100  # BatchGetItem
CONNECTIONS_TABLE = "bench-connections"
MANAGEMENT_ENDPOINT = f"https://a1b2c3d4e5.execute-api.{REGION}.amazonaws.com/live"
MAX_CONCURRENT_POSTS = 16  # the worker's default (websocket.max_concurrent_posts)
CONNECTIONS_PER_USER = 2
ORDER_SHIPPED = {
    "critical": False,
    "channels": ["email"],
    "fallback_locale": "en",
    "templates": {
        "en": {
            "email": {
                "subject": "Order {{order_id}} shipped",
                "text": "Hi {{ user.display_name }}, order {{ order_id }} is on its way.",
                "html": "<p>Hi {{ user.display_name }}, order <b>{{ order_id }}</b> is on its way.</p>",
            }
        }
    },
}
ACCOUNT_UPDATE = {
    "channels": [],
    "fallback": ["push", "email"],
    "fallback_locale": "en",
    "templates": {
        "en": {
            "push": {"title": "Account changed", "body": "{{ order_id }}"},
            "email": {"subject": "Account changed", "text": "Hi {{ user.display_name }}, {{ order_id }}."},
        }
    },
}
# A run lasts less than this, so the switches are read once per warm environment, like the catalog (in
# production: once per CHANNEL_SWITCH_REFRESH_SECONDS, default 10, per execution environment).
BENCH_SWITCH_REFRESH_SECONDS = "300"
# Users are numbered across every run of a workload so each notification reaches distinct users.
MAX_USERS = 10_000


def _batches(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"Records": records[i : i + BATCH_SIZE]} for i in range(0, len(records), BATCH_SIZE)]


def sqs_record(body: str, index: int, queue: str) -> dict[str, Any]:
    """One record exactly as Lambda's SQS event source mapping delivers it."""
    return {
        "messageId": str(uuid.UUID(int=index)),
        "receiptHandle": f"bench-{index}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1795514400000",
            "SenderId": "AIDAEXAMPLEBENCH",
            "ApproximateFirstReceiveTimestamp": "1795514400001",
        },
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue}",
        "awsRegion": REGION,
    }


def _user(index: int) -> str:
    return f"user-{index % MAX_USERS:05d}"


def create_tables(names: tuple[str, ...]) -> dict[str, str]:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    env = {}
    for variable in names:
        table, hash_key, range_key = TABLES[variable]
        keys = [(hash_key, "HASH")] + ([(range_key, "RANGE")] if range_key else [])
        dynamodb.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": name, "KeyType": kind} for name, kind in keys],
            AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name, _ in keys],
        )
        env[variable] = table
    return env


def _put_items(table: str, items: list[dict[str, Any]]) -> None:
    resource = boto3.resource("dynamodb", region_name=REGION).Table(table)
    with resource.batch_writer() as writer:
        for item in items:
            writer.put_item(Item=item)


def _clear_table(variable: str) -> None:
    """Delete every item (the raw client is not counted: only the handlers' clients are)."""
    table, hash_key, range_key = TABLES[variable]
    resource = boto3.resource("dynamodb", region_name=REGION).Table(table)
    keys = [hash_key] + ([range_key] if range_key else [])
    with resource.batch_writer() as writer:
        for page in (
            boto3.client("dynamodb", region_name=REGION).get_paginator("scan").paginate(TableName=table)
        ):
            for item in page["Items"]:
                writer.delete_item(Key={key: item[key]["S"] for key in keys})


def _empty_queue(queue_url: str) -> None:
    """Recreate the queue (same name, same URL): PurgeQueue is allowed once a minute, and moto's sends slow
    down with every message a queue holds."""
    sqs = boto3.client("sqs", region_name=REGION)
    name = queue_url.rsplit("/", 1)[1]
    sqs.delete_queue(QueueUrl=queue_url)
    sqs.create_queue(QueueName=name)


def _forget_claims() -> None:
    """Empty the idempotency table (and the cached deduplicator) so a repeated run delivers again."""
    idempotency.deduplicator_from_env.cache_clear()
    try:
        _clear_table("IDEMPOTENCY_TABLE")
    except boto3.client("dynamodb", region_name=REGION).exceptions.ResourceNotFoundException:
        pass  # before setup


def _no_failures(results: list[Any]) -> int:
    """Records the handler processed: every record of every batch, unless it reported failures."""
    failures = sum(len(result["batchItemFailures"]) for result in results)
    return -1 if failures else sum(result["_records"] for result in results)


def _counting(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
) -> Callable[[dict[str, Any], Any], Any]:
    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
        result = dict(handler(event, context))
        result["_records"] = len(event["Records"])
        return result

    return invoke


def _per_batch(
    counts: Callable[[int], list[int]], per_call: int, calls_per_batch: int = 1
) -> Callable[[int], int]:
    """Lower bound: ``calls_per_batch`` x ceil(items / per_call) for the items of each batch."""
    return lambda n: sum(calls_per_batch * math.ceil(items / per_call) for items in counts(n))


# --- router ---------------------------------------------------------------------------------------------


class _RouterWorkload:
    """State shared by the router workloads of each recipient count."""

    notification_type = "order_shipped"

    def __init__(self) -> None:
        self.queue_url = ""
        self.dlq_url = ""
        self.seeded = 0  # users 0..seeded-1 have a profile

    def seed_users(self, count: int) -> None:
        """Profiles for the first ``count`` users, written with a raw (uncounted) client when needed."""
        count = min(count, MAX_USERS)
        if count > self.seeded:
            _put_items(
                TABLES["USERS_TABLE"][0],
                [
                    {"user_id": _user(i), "display_name": f"User {i}", "locale": "en"}
                    for i in range(self.seeded, count)
                ],
            )
            self.seeded = count

    def setup(self) -> dict[str, str]:
        catalog._CACHE.clear()  # the cache outlives the previous workload's moto instance
        channel_switches._CACHE.clear()
        env = create_tables(
            ("CATALOG_TABLE", "USERS_TABLE", "PREFERENCES_TABLE", "DELIVERY_LOG_TABLE", "IDEMPOTENCY_TABLE")
        )
        sqs = boto3.client("sqs", region_name=REGION)
        self.queue_url = sqs.create_queue(QueueName="bench-email")["QueueUrl"]
        self.dlq_url = sqs.create_queue(QueueName="bench-ingest-dlq")["QueueUrl"]
        _put_items(
            env["CATALOG_TABLE"],
            [
                {
                    "catalog_id": "notification-types",
                    "notification_type": "order_shipped",
                    "definition": json.dumps(ORDER_SHIPPED),
                }
            ],
        )
        self.seeded = 0
        env.update(
            {
                "CHANNEL_QUEUE_URLS": json.dumps({"email": self.queue_url}),
                "REJECTED_EVENTS_QUEUE_URL": self.dlq_url,
                "AWS_LAMBDA_FUNCTION_NAME": "bench-router",
                "CHANNEL_SWITCH_REFRESH_SECONDS": BENCH_SWITCH_REFRESH_SECONDS,
            }
        )
        return env

    def reset(self) -> None:
        """A fresh idempotency table, so a repeated run routes again; the warm catalog is kept."""
        idempotency.deduplicator_from_env.cache_clear()
        if self.queue_url:
            _clear_table("IDEMPOTENCY_TABLE")
            _empty_queue(self.queue_url)

    def events(self, recipients: int) -> Callable[[int], list[dict[str, Any]]]:
        def build(n: int) -> list[dict[str, Any]]:
            self.seed_users(n * recipients)
            records = []
            for index in range(n):
                event = {
                    "version": "0",
                    "id": str(uuid.UUID(int=index + 1)),
                    "detail-type": self.notification_type,
                    "source": "com.example.shop",
                    "account": ACCOUNT_ID,
                    "time": "2026-11-24T10:00:00Z",
                    "region": REGION,
                    "resources": [],
                    "detail": {
                        "recipients": [_user(index * recipients + r) for r in range(recipients)],
                        "data": {"order_id": f"A-{index:06d}"},
                    },
                }
                records.append(sqs_record(json.dumps(event), index, "bench-ingest"))
            return _batches(records)

        return build


def _router_workload(
    state: _RouterWorkload, recipients: int, cap: int | None, *, quick: bool = True
) -> Workload:
    def users_per_batch(n: int) -> list[int]:
        return [min(BATCH_SIZE, n - start) * recipients for start in range(0, n, BATCH_SIZE)]

    plural = "s" if recipients != 1 else ""
    return Workload(
        handler_module="notification_handlers.service.router",
        label=f"router, {recipients:,} recipient{plural} each",
        unit="notification",
        services=("dynamodb", "sqs"),
        steps=(
            catalog_step(),
            Step(
                name="lookups (profiles, preferences)",
                operations=frozenset({"dynamodb.BatchGetItem"}),
                lower_bound=_per_batch(users_per_batch, LOOKUP_KEYS_PER_CALL, calls_per_batch=2),
                bound_text="2 x ceil(users per batch / 100)",
                why=(
                    "Two tables (users, preferences), 100 keys per BatchGetItem, for the distinct recipients"
                    f" of one batch of up to {BATCH_SIZE} events."
                ),
            ),
            Step(
                name="fan-out to channel queues",
                operations=frozenset({"sqs.SendMessageBatch", "sqs.SendMessage"}),
                lower_bound=_per_batch(users_per_batch, MESSAGES_PER_CALL),
                bound_text="ceil(messages per batch / 10)",
                why="SendMessageBatch takes 10 messages; all messages of a batch's events are sent together.",
            ),
            idempotency_step(
                "notification",
                why=(
                    "Cannot batch: a claim is a conditional PutItem and BatchWriteItem takes no conditions;"
                    " TransactWriteItems would fail every claim of the batch when one is a duplicate."
                ),
            ),
        ),
        setup=state.setup,
        events=state.events(recipients),
        handler=_counting(router.handler),
        reset=state.reset,
        delivered=_no_failures,
        max_notifications=cap,
        quick=quick,
    )


_ROUTER_STATE = _RouterWorkload()
# moto's SQS scans every message of a queue on each send (quadratic), so a run carries at most 1,000 channel
# messages: per-notification figures do not depend on the run size once a batch is full.
ROUTER_WORKLOADS = (
    _router_workload(_ROUTER_STATE, 1, None),
    _router_workload(_ROUTER_STATE, 10, 100),
    # ~80 s per measured invocation in moto (tracemalloc included): not part of the smoke run.
    _router_workload(_ROUTER_STATE, 1000, 1, quick=False),
)


class _RouterFallbackWorkload(_RouterWorkload):
    """Every recipient has a verified address and no device: push is probed, then email, for everyone."""

    notification_type = "account_update"

    def __init__(self) -> None:
        super().__init__()
        self.push_queue_url = ""

    def seed_users(self, count: int) -> None:
        count = min(count, MAX_USERS)
        if count > self.seeded:
            _put_items(
                TABLES["EMAIL_SUBSCRIPTIONS_TABLE"][0],
                [
                    {
                        "user_id": _user(i),
                        "addresses": {f"user{i}@example.com": {"status": "verified"}},
                    }
                    for i in range(self.seeded, count)
                ],
            )
        super().seed_users(count)

    def setup(self) -> dict[str, str]:
        env = super().setup()
        env.update(
            create_tables(("EMAIL_SUBSCRIPTIONS_TABLE", "EMAIL_SUPPRESSIONS_TABLE", "DEVICE_TOKENS_TABLE"))
        )
        self.push_queue_url = boto3.client("sqs", region_name=REGION).create_queue(QueueName="bench-push")[
            "QueueUrl"
        ]
        _put_items(
            env["CATALOG_TABLE"],
            [
                {
                    "catalog_id": "notification-types",
                    "notification_type": "account_update",
                    "definition": json.dumps(ACCOUNT_UPDATE),
                }
            ],
        )
        env["CHANNEL_QUEUE_URLS"] = json.dumps({"email": self.queue_url, "push": self.push_queue_url})
        return env

    def reset(self) -> None:
        super().reset()
        if self.queue_url:
            _clear_table("DELIVERY_LOG_TABLE")


def _router_fallback_workload(state: _RouterFallbackWorkload) -> Workload:
    def users_per_batch(n: int) -> list[int]:
        return [min(BATCH_SIZE, n - start) for start in range(0, n, BATCH_SIZE)]

    return Workload(
        handler_module="notification_handlers.service.router",
        label="router, channel fallback push -> email, 1 recipient each (no device)",
        unit="notification",
        services=("dynamodb", "sqs"),
        steps=(
            Step(
                name="catalog, switches, push probe",
                operations=frozenset({"dynamodb.Query"}),
                lower_bound=lambda n: 2 + n,
                bound_text="2 per warm environment + 1 per recipient",
                why=(
                    "device_tokens is keyed by user and device: no batched read answers 'has this user any"
                    " device', so push reachability is one Query (Limit 1) per recipient, 8 at a time."
                ),
            ),
            Step(
                name="lookups and email probe",
                operations=frozenset({"dynamodb.BatchGetItem"}),
                lower_bound=_per_batch(users_per_batch, LOOKUP_KEYS_PER_CALL, calls_per_batch=4),
                bound_text="4 x ceil(users per batch / 100)",
                why=(
                    "Profiles and preferences, then email reachability: subscriptions, then the suppression"
                    " list of their addresses, 100 keys per BatchGetItem."
                ),
            ),
            Step(
                name="fallback_used rows",
                operations=frozenset({"dynamodb.BatchWriteItem"}),
                lower_bound=_per_batch(users_per_batch, LOG_ROWS_PER_CALL),
                bound_text="ceil(recipients per batch / 25)",
                why="One fallback_used row per recipient, 25 per BatchWriteItem, written before the fan-out.",
            ),
            Step(
                name="fan-out to channel queues",
                operations=frozenset({"sqs.SendMessageBatch", "sqs.SendMessage"}),
                lower_bound=_per_batch(users_per_batch, MESSAGES_PER_CALL),
                bound_text="ceil(messages per batch / 10)",
                why="SendMessageBatch takes 10 messages; exactly one message per recipient (email).",
            ),
            idempotency_step("notification", why="As for the router without fallback."),
        ),
        setup=state.setup,
        events=state.events(1),
        handler=_counting(router.handler),
        reset=state.reset,
        delivered=_no_failures,
        max_notifications=None,
    )


ROUTER_FALLBACK_WORKLOADS = (_router_fallback_workload(_RouterFallbackWorkload()),)


# --- email worker ---------------------------------------------------------------------------------------


class _EmailWorkload:
    def __init__(self) -> None:
        self.seeded = 0  # users 0..seeded-1 have a verified address

    def seed_subscriptions(self, count: int) -> None:
        if count > self.seeded:
            _put_items(
                TABLES["EMAIL_SUBSCRIPTIONS_TABLE"][0],
                [
                    {
                        "user_id": _user(i),
                        "addresses": {
                            f"{_user(i)}@example.com": {
                                "status": "verified",
                                "unsubscribe_token": f"token-{i:05d}",
                            }
                        },
                    }
                    for i in range(self.seeded, count)
                ],
            )
            self.seeded = count

    def setup(self) -> dict[str, str]:
        env = create_tables(
            (
                "EMAIL_SUBSCRIPTIONS_TABLE",
                "EMAIL_SUPPRESSIONS_TABLE",
                "DELIVERY_LOG_TABLE",
                "IDEMPOTENCY_TABLE",
            )
        )
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
        self.seeded = 0
        env.update(
            {
                "SENDER_ADDRESS": SENDER,
                "UNSUBSCRIBE_URL_TEMPLATE": "https://prefs.example.com/unsubscribe?token={token}",
                "AWS_LAMBDA_FUNCTION_NAME": "bench-email-worker",
            }
        )
        return env

    def reset(self) -> None:
        _forget_claims()

    def events(self, n: int) -> list[dict[str, Any]]:
        self.seed_subscriptions(n)
        records = []
        for index in range(n):
            message = {
                "version": 1,
                "notification_id": f"n-{index:06d}",
                "notification_type": "order_shipped",
                "critical": False,
                "user_id": _user(index),
                "channel": "email",
                "locale": "en",
                "content": {
                    "subject": f"Order A-{index:06d} shipped",
                    "text": "Hi, your order is on its way.",
                    "html": "<p>Hi, your order is on its way.</p>",
                },
                "created_at": "2026-11-24T10:00:00Z",
            }
            records.append(sqs_record(json.dumps(message), index, "bench-email"))
        return _batches(records)


def _messages_per_batch(n: int) -> list[int]:
    return [min(BATCH_SIZE, n - start) for start in range(0, n, BATCH_SIZE)]


_EMAIL_STATE = _EmailWorkload()
EMAIL_WORKER = Workload(
    handler_module="notification_handlers.service.email_worker",
    label="email worker",
    unit="email message",
    services=("dynamodb", "sesv2"),
    steps=(
        Step(
            name="lookups (subscriptions, suppressions)",
            operations=frozenset({"dynamodb.BatchGetItem"}),
            lower_bound=_per_batch(_messages_per_batch, LOOKUP_KEYS_PER_CALL, calls_per_batch=2),
            bound_text="2 x ceil(users per batch / 100)",
            why="Subscriptions of the batch's users, then suppressions of their addresses: 100 keys a call.",
        ),
        Step(
            name="deliveries",
            operations=frozenset({"sesv2.SendEmail"}),
            lower_bound=lambda n: n,
            bound_text="1 SendEmail per address",
            why="SES v2 has no batch form for distinct messages (see the S3 notifier's note).",
        ),
        Step(
            name="delivery log",
            operations=frozenset({"dynamodb.BatchWriteItem"}),
            lower_bound=_per_batch(_messages_per_batch, LOG_ROWS_PER_CALL),
            bound_text="ceil(rows per batch / 25)",
            why="BatchWriteItem takes 25 rows; one row per delivery, written once per batch.",
        ),
        idempotency_step("delivery"),
    ),
    setup=_EMAIL_STATE.setup,
    events=_EMAIL_STATE.events,
    handler=_counting(email_worker_module.handler),
    reset=_EMAIL_STATE.reset,
    delivered=_no_failures,
)


def create_connections_table(name: str = CONNECTIONS_TABLE) -> None:
    """The connections table as the root module builds it: connection_id, GSI by_user (KEYS_ONLY)."""
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "connection_id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "connection_id", "AttributeType": "S"},
            {"AttributeName": "user_id", "AttributeType": "S"},
            {"AttributeName": "connected_at", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_user",
                "KeySchema": [
                    {"AttributeName": "user_id", "KeyType": "HASH"},
                    {"AttributeName": "connected_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )


def _channel_message(index: int, channel: str, content: dict[str, str]) -> str:
    return json.dumps(
        {
            "version": 1,
            "notification_id": f"n-{index:06d}",
            "notification_type": "order_shipped",
            "critical": False,
            "user_id": _user(index),
            "channel": channel,
            "locale": "en",
            "content": content,
            "created_at": "2026-11-24T10:00:00Z",
        }
    )


def _per_user_batches(per_user: int) -> Callable[[int], list[int]]:
    return lambda n: [min(BATCH_SIZE, n - start) * per_user for start in range(0, n, BATCH_SIZE)]


# --- WebSocket worker -----------------------------------------------------------------------------------


class _WebSocketWorkload:
    def __init__(self) -> None:
        self.seeded = 0

    def setup(self) -> dict[str, str]:
        env = create_tables(("DELIVERY_LOG_TABLE", "IDEMPOTENCY_TABLE"))
        create_connections_table()
        self.seeded = 0
        env.update(
            {
                "CONNECTIONS_TABLE": CONNECTIONS_TABLE,
                "CONNECTIONS_USER_INDEX": "by_user",
                "WEBSOCKET_MANAGEMENT_ENDPOINT": MANAGEMENT_ENDPOINT,
                "MAX_CONCURRENT_POSTS": str(MAX_CONCURRENT_POSTS),
                "AWS_LAMBDA_FUNCTION_NAME": "bench-websocket-worker",
            }
        )
        return env

    def reset(self) -> None:
        _forget_claims()

    def events(self, n: int) -> list[dict[str, Any]]:
        if n > self.seeded:
            _put_items(
                CONNECTIONS_TABLE,
                [
                    {
                        "connection_id": f"conn-{i:05d}-{tab}=",
                        "user_id": _user(i),
                        "connected_at": f"2026-11-24T10:00:0{tab}.000Z",
                        "expires_at": 1_795_521_600,
                    }
                    for i in range(self.seeded, n)
                    for tab in range(CONNECTIONS_PER_USER)
                ],
            )
            self.seeded = n
        records = [
            sqs_record(_channel_message(i, "websocket", {"body": f"Order A-{i:06d} shipped."}), i, "bench-ws")
            for i in range(n)
        ]
        return _batches(records)


_WEBSOCKET_STATE = _WebSocketWorkload()
WEBSOCKET_WORKER = Workload(
    handler_module="notification_handlers.service.websocket_worker",
    label="WebSocket worker",
    unit="websocket message",
    services=("dynamodb",),
    steps=(
        Step(
            name="connection lookups",
            operations=frozenset({"dynamodb.Query", "dynamodb.Scan"}),
            lower_bound=lambda n: n,
            bound_text="1 Query per user",
            why=(
                "A user's connections are one partition of the by_user index: one Query each (keys only);"
                " DynamoDB has no batch form of Query, and BatchGetItem cannot read an index."
            ),
        ),
        Step(
            name="deliveries",
            operations=frozenset({"apigatewaymanagementapi.PostToConnection"}),
            lower_bound=lambda n: n * CONNECTIONS_PER_USER,
            bound_text="1 PostToConnection per connection",
            why="The management API posts to one connection per call; the worker makes them concurrently.",
        ),
        Step(
            name="delivery log",
            operations=frozenset({"dynamodb.BatchWriteItem"}),
            lower_bound=_per_batch(_per_user_batches(CONNECTIONS_PER_USER), LOG_ROWS_PER_CALL),
            bound_text="ceil(rows per batch / 25)",
            why="One row per connection, 25 per BatchWriteItem, written once per batch.",
        ),
        idempotency_step("connection", lower_bound=lambda n: 2 * n * CONNECTIONS_PER_USER),
    ),
    setup=_WEBSOCKET_STATE.setup,
    events=_WEBSOCKET_STATE.events,
    handler=_counting(websocket_worker.handler),
    reset=_WEBSOCKET_STATE.reset,
    delivered=_no_failures,
    endpoint_clients=(("apigatewaymanagementapi", MANAGEMENT_ENDPOINT, MAX_CONCURRENT_POSTS),),
)


# --- push worker ----------------------------------------------------------------------------------------

PUSH_PLATFORMS = (("apns", "APNS"), ("fcm", "GCM"))


class _PushWorkload:
    def __init__(self) -> None:
        self.seeded = 0
        self.applications: dict[str, str] = {}

    def setup(self) -> dict[str, str]:
        env = create_tables(
            ("DEVICE_TOKENS_TABLE", "DEVICE_OWNERS_TABLE", "DELIVERY_LOG_TABLE", "IDEMPOTENCY_TABLE")
        )
        sns = boto3.client("sns", region_name=REGION)
        self.applications = {
            platform: sns.create_platform_application(
                Name=f"bench-{platform}",
                Platform=sns_platform,
                Attributes={"PlatformCredential": "bench", "PlatformPrincipal": "bench"},
            )["PlatformApplicationArn"]
            for platform, sns_platform in PUSH_PLATFORMS
        }
        self.seeded = 0
        env["AWS_LAMBDA_FUNCTION_NAME"] = "bench-push-worker"
        return env

    def reset(self) -> None:
        _forget_claims()

    def events(self, n: int) -> list[dict[str, Any]]:
        if n > self.seeded:
            sns = boto3.client("sns", region_name=REGION)
            items = []
            for i in range(self.seeded, n):
                for platform, _ in PUSH_PLATFORMS:
                    token = f"{i:064x}" if platform == "apns" else f"fcm-token-{i:06d}:APA91b"
                    endpoint = sns.create_platform_endpoint(
                        PlatformApplicationArn=self.applications[platform], Token=token
                    )["EndpointArn"]
                    items.append(
                        {
                            "user_id": _user(i),
                            "device_key": f"{platform}#{token}",
                            "platform": platform,
                            "token": token,
                            "endpoint_arn": endpoint,
                            "updated_at": "2026-11-24T09:00:00Z",
                        }
                    )
            _put_items(TABLES["DEVICE_TOKENS_TABLE"][0], items)
            # every device registered through the API has its ownership item (no legacy rows in the bench)
            owner_fields = ("device_key", "user_id", "endpoint_arn", "updated_at")
            _put_items(
                TABLES["DEVICE_OWNERS_TABLE"][0], [{k: item[k] for k in owner_fields} for item in items]
            )
            self.seeded = n
        content = {"title": "Order shipped", "body": "On its way."}
        records = [sqs_record(_channel_message(i, "push", content), i, "bench-push") for i in range(n)]
        return _batches(records)


_PUSH_STATE = _PushWorkload()
PUSH_WORKER = Workload(
    handler_module="notification_handlers.service.push_worker",
    label="push worker",
    unit="push message",
    services=("dynamodb", "sns"),
    steps=(
        Step(
            name="device lookups",
            operations=frozenset({"dynamodb.Query", "dynamodb.Scan"}),
            lower_bound=lambda n: n,
            bound_text="1 Query per user",
            why="A user's devices are one partition of device_tokens: one Query each (no batch Query).",
        ),
        Step(
            name="ownership",
            operations=frozenset({"dynamodb.BatchGetItem", "sns.GetEndpointAttributes"}),
            lower_bound=_per_batch(_per_user_batches(len(PUSH_PLATFORMS)), OWNERS_PER_CALL),
            bound_text="ceil(devices per batch / 100)",
            why="Who owns each device: one strongly consistent BatchGetItem of device_owners per 100 devices "
            "of the batch (a row without an ownership item would add one GetEndpointAttributes).",
        ),
        Step(
            name="deliveries",
            operations=frozenset({"sns.Publish", "sns.PublishBatch"}),
            lower_bound=lambda n: n * len(PUSH_PLATFORMS),
            bound_text="1 Publish per device",
            why="SNS PublishBatch takes topic ARNs only; a platform endpoint is published to one call each.",
        ),
        Step(
            name="delivery log",
            operations=frozenset({"dynamodb.BatchWriteItem"}),
            lower_bound=_per_batch(_per_user_batches(len(PUSH_PLATFORMS)), LOG_ROWS_PER_CALL),
            bound_text="ceil(rows per batch / 25)",
            why="One row per device, 25 per BatchWriteItem, written once per batch.",
        ),
        idempotency_step("device", lower_bound=lambda n: 2 * n * len(PUSH_PLATFORMS)),
    ),
    setup=_PUSH_STATE.setup,
    events=_PUSH_STATE.events,
    handler=_counting(push_worker.handler),
    reset=_PUSH_STATE.reset,
    delivered=_no_failures,
)


# --- chat worker ----------------------------------------------------------------------------------------

CHAT_BATCH_SIZE = 5  # the chat worker's default batch (channels.tf)


def _chat_batch_sizes(n: int) -> list[int]:
    return [min(CHAT_BATCH_SIZE, n - i) for i in range(0, n, CHAT_BATCH_SIZE)]


class _ChatWorkload:
    def __init__(self) -> None:
        self.server: WebhookServer | None = None

    def setup(self) -> dict[str, str]:
        env = create_tables(("DELIVERY_LOG_TABLE", "IDEMPOTENCY_TABLE"))
        if self.server is None:
            self.server = WebhookServer()  # lives as long as the bench process
        arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name=f"bench/chat/ops-{uuid.uuid4().hex[:6]}", SecretString=self.server.url()
        )["ARN"]
        env.update(
            AWS_LAMBDA_FUNCTION_NAME="bench-chat-worker",
            CHAT_TARGETS=json.dumps({"ops": {"platform": "webhook", "secret_arn": arn}}),
            SSL_CERT_FILE=str(self.server.ca_file),
        )
        return env

    def reset(self) -> None:
        _forget_claims()
        chat_worker.SECRETS.clear()  # each run pays the secret once, as a new execution environment does
        chat_worker.tls_context.cache_clear()  # built again under this run's SSL_CERT_FILE

    def events(self, n: int) -> list[dict[str, Any]]:
        chat_worker.tls_context.cache_clear()
        records = []
        for i in range(n):
            body = json.loads(_channel_message(i, "chat", {"title": "Order shipped", "text": "On its way."}))
            body.update(user_id="-", target="ops")
            records.append(sqs_record(json.dumps(body), i, "bench-chat"))
        return [
            {"Records": records[i : i + CHAT_BATCH_SIZE]} for i in range(0, len(records), CHAT_BATCH_SIZE)
        ]


_CHAT_STATE = _ChatWorkload()
CHAT_WORKER = Workload(
    handler_module="notification_handlers.service.chat_worker",
    label="chat worker",
    unit="chat message",
    services=("dynamodb", "secretsmanager"),
    steps=(
        Step(
            name="webhook secret",
            operations=frozenset({"secretsmanager.GetSecretValue"}),
            lower_bound=lambda n: 1,
            bound_text="1 per target and execution environment (cached 5 minutes)",
            why="The URL is read from Secrets Manager once and kept CHAT_SECRET_CACHE_SECONDS (default 300).",
        ),
        Step(
            name="delivery log",
            operations=frozenset({"dynamodb.BatchWriteItem"}),
            lower_bound=_per_batch(_chat_batch_sizes, LOG_ROWS_PER_CALL),
            bound_text="ceil(rows per batch / 25)",
            why="One row per message and target, 25 per BatchWriteItem, written once per batch (of 5).",
        ),
        idempotency_step(
            "message",
            why="A webhook post cannot be undone: each is claimed before and completed after "
            "(conditional writes cannot be batched).",
        ),
    ),
    setup=_CHAT_STATE.setup,
    events=_CHAT_STATE.events,
    handler=_counting(chat_worker.handler),
    reset=_CHAT_STATE.reset,
    delivered=_no_failures,
)


# --- SMS worker -----------------------------------------------------------------------------------------


class _SmsWorkload:
    def __init__(self) -> None:
        self.seeded = 0

    def setup(self) -> dict[str, str]:
        env = create_tables(("PHONE_NUMBERS_TABLE", "DELIVERY_LOG_TABLE", "IDEMPOTENCY_TABLE"))
        self.seeded = 0
        env["AWS_LAMBDA_FUNCTION_NAME"] = "bench-sms-worker"
        env["SMS_ALLOWED_COUNTRY_CODES"] = "1"
        env["SMS_MAX_PRICE_USD"] = "0.50000"
        return env

    def reset(self) -> None:
        _forget_claims()

    def events(self, n: int) -> list[dict[str, Any]]:
        if n > self.seeded:
            items: list[dict[str, Any]] = []
            for i in range(self.seeded, n):
                number = f"+1415{i % MAX_USERS:06d}1"  # never ending in 99 (moto's opt-out list)
                items += [
                    {"phone_key": f"user#{_user(i)}", "phone_number": number, "status": "verified"},
                    {"phone_key": f"number#{number}", "user_id": _user(i)},
                ]
            _put_items(TABLES["PHONE_NUMBERS_TABLE"][0], items)
            self.seeded = n
        content = {"text": "Your order has shipped."}
        records = [sqs_record(_channel_message(i, "sms", content), i, "bench-sms") for i in range(n)]
        return _batches(records)


_SMS_STATE = _SmsWorkload()
SMS_WORKER = Workload(
    handler_module="notification_handlers.service.sms_worker",
    label="SMS worker",
    unit="SMS message",
    services=("dynamodb", "sns"),
    steps=(
        Step(
            name="number lookups",
            operations=frozenset({"dynamodb.BatchGetItem", "dynamodb.GetItem", "dynamodb.Query"}),
            lower_bound=_per_batch(_per_user_batches(1), LOOKUP_KEYS_PER_CALL),
            bound_text="ceil(users per batch / 100)",
            why="The recipients' verified numbers: one BatchGetItem of phone_numbers per 100 users "
            "of the batch.",
        ),
        Step(
            name="opt-out checks",
            operations=frozenset({"sns.CheckIfPhoneNumberIsOptedOut", "sns.ListPhoneNumbersOptedOut"}),
            lower_bound=lambda n: n,
            bound_text="1 CheckIfPhoneNumberIsOptedOut per SMS",
            why="SNS has no batch opt-out check; ListPhoneNumbersOptedOut pages through the whole account's "
            "list (100 a page), which grows without bound.",
        ),
        Step(
            name="deliveries",
            operations=frozenset({"sns.Publish", "sns.PublishBatch"}),
            lower_bound=lambda n: n,
            bound_text="1 Publish per SMS",
            why="SNS PublishBatch takes topic ARNs only; a phone number is published to one call each.",
        ),
        Step(
            name="delivery log",
            operations=frozenset({"dynamodb.BatchWriteItem"}),
            lower_bound=_per_batch(_per_user_batches(1), LOG_ROWS_PER_CALL),
            bound_text="ceil(rows per batch / 25)",
            why="One row per SMS, 25 per BatchWriteItem, written once per batch.",
        ),
        idempotency_step("SMS"),
    ),
    setup=_SMS_STATE.setup,
    events=_SMS_STATE.events,
    handler=_counting(sms_worker.handler),
    reset=_SMS_STATE.reset,
    delivered=_no_failures,
)

SERVICE_WORKLOADS: tuple[Workload, ...] = (
    *ROUTER_WORKLOADS,
    *ROUTER_FALLBACK_WORKLOADS,
    EMAIL_WORKER,
    WEBSOCKET_WORKER,
    PUSH_WORKER,
    CHAT_WORKER,
    SMS_WORKER,
)
