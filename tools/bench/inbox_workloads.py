"""The in-app inbox as benchmark workloads: its worker and its list API (docs/notification-service.md,
section 11).

* Inbox worker: ``n`` inbox channel messages, one per user, each user with one open WebSocket connection (the
  live push is on, as in the example); batches of 10, the worker's default.
* Inbox list API: ``n`` ``GET /inbox?limit=20`` pages through the registration API's handler, one per user,
  each user with 25 items (a full first page); the unit is one page.

Both run inside the bench's moto, like the other service workloads.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3

from notification_handlers.service import inbox_worker, registration_api
from tools.bench.environment import REGION
from tools.bench.service_workloads import (
    CONNECTIONS_TABLE,
    LOG_ROWS_PER_CALL,
    MANAGEMENT_ENDPOINT,
    MAX_CONCURRENT_POSTS,
    _channel_message,
    _counting,
    _no_failures,
    _per_batch,
    _put_items,
    _user,
    create_connections_table,
    create_tables,
    sqs_record,
)
from tools.bench.workloads import Step, Workload

INBOX_TABLE = "bench-inbox"
WORKER_BATCH_SIZE = 10  # the inbox worker's default batch size (modules/queue-worker)
PAGE_SIZE = 20
ITEMS_PER_USER = 25
LIMITS_TABLE = "bench-limits"


def create_inbox_table() -> None:
    """The inbox table as the root module builds it: user_id / item_key."""
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=INBOX_TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "user_id", "KeyType": "HASH"},
            {"AttributeName": "item_key", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "user_id", "AttributeType": "S"},
            {"AttributeName": "item_key", "AttributeType": "S"},
        ],
    )


def _clear_inbox() -> None:
    """Delete every item (raw client: not counted), so a repeated run writes the items again."""
    table = boto3.resource("dynamodb", region_name=REGION).Table(INBOX_TABLE)
    try:
        items = table.scan(ProjectionExpression="user_id, item_key")["Items"]
    except boto3.client("dynamodb", region_name=REGION).exceptions.ResourceNotFoundException:
        return  # before setup
    with table.batch_writer() as writer:
        for item in items:
            writer.delete_item(Key={"user_id": item["user_id"], "item_key": item["item_key"]})


# --- inbox worker -----------------------------------------------------------------------------------------


class _InboxWorkerWorkload:
    def __init__(self) -> None:
        self.seeded = 0

    def setup(self) -> dict[str, str]:
        env = create_tables(("DELIVERY_LOG_TABLE",))
        create_inbox_table()
        create_connections_table()
        self.seeded = 0
        env.update(
            {
                "INBOX_TABLE": INBOX_TABLE,
                "INBOX_ITEM_TTL_DAYS": "90",
                "CONNECTIONS_TABLE": CONNECTIONS_TABLE,
                "CONNECTIONS_USER_INDEX": "by_user",
                "WEBSOCKET_MANAGEMENT_ENDPOINT": MANAGEMENT_ENDPOINT,
                "MAX_CONCURRENT_POSTS": str(MAX_CONCURRENT_POSTS),
                "AWS_LAMBDA_FUNCTION_NAME": "bench-inbox-worker",
            }
        )
        return env

    def reset(self) -> None:
        _clear_inbox()

    def events(self, n: int) -> list[dict[str, Any]]:
        if n > self.seeded:
            _put_items(
                CONNECTIONS_TABLE,
                [
                    {
                        "connection_id": f"inbox-conn-{i:05d}=",
                        "user_id": _user(i),
                        "connected_at": "2026-11-24T10:00:00.000Z",
                        "expires_at": 1_795_521_600,
                    }
                    for i in range(self.seeded, n)
                ],
            )
            self.seeded = n
        content = {"title": "Order delivered", "body": "Enjoy!", "url": "https://shop.example.com/o/1"}
        records = [sqs_record(_channel_message(i, "inbox", content), i, "bench-inbox") for i in range(n)]
        return [
            {"Records": records[i : i + WORKER_BATCH_SIZE]} for i in range(0, len(records), WORKER_BATCH_SIZE)
        ]


def _worker_batches(n: int) -> list[int]:
    return [min(WORKER_BATCH_SIZE, n - start) for start in range(0, n, WORKER_BATCH_SIZE)]


_INBOX_WORKER_STATE = _InboxWorkerWorkload()
INBOX_WORKER = Workload(
    handler_module="notification_handlers.service.inbox_worker",
    label="inbox worker",
    unit="inbox message",
    services=("dynamodb",),
    steps=(
        Step(
            name="item writes",
            operations=frozenset(
                {"dynamodb.TransactWriteItems", "dynamodb.PutItem", "dynamodb.UpdateItem", "dynamodb.GetItem"}
            ),
            lower_bound=lambda n: n,
            bound_text="1 TransactWriteItems per item",
            why=(
                "The item, its per-notification marker and the unread counter must change together and only"
                " if absent: one conditional transaction per item (BatchWriteItem takes no conditions). It is"
                " also the idempotency claim, so no claim/complete calls are made."
            ),
        ),
        Step(
            name="connection lookups",
            operations=frozenset({"dynamodb.Query", "dynamodb.Scan"}),
            lower_bound=lambda n: n,
            bound_text="1 Query per user",
            why="The live push: a user's connections are one partition of the by_user index (no batch"
            " Query).",
        ),
        Step(
            name="live posts",
            operations=frozenset({"apigatewaymanagementapi.PostToConnection"}),
            lower_bound=lambda n: n,
            bound_text="1 PostToConnection per connection",
            why="The management API posts to one connection per call.",
        ),
        Step(
            name="delivery log",
            operations=frozenset({"dynamodb.BatchWriteItem"}),
            lower_bound=_per_batch(_worker_batches, LOG_ROWS_PER_CALL),
            bound_text="ceil(rows per batch / 25)",
            why="One row per item, 25 per BatchWriteItem, written once per batch.",
        ),
    ),
    setup=_INBOX_WORKER_STATE.setup,
    events=_INBOX_WORKER_STATE.events,
    handler=_counting(inbox_worker.handler),
    reset=_INBOX_WORKER_STATE.reset,
    delivered=_no_failures,
    endpoint_clients=(("apigatewaymanagementapi", MANAGEMENT_ENDPOINT, MAX_CONCURRENT_POSTS),),
)


# --- inbox list API ---------------------------------------------------------------------------------------


class _InboxListWorkload:
    def __init__(self) -> None:
        self.seeded = 0

    def setup(self) -> dict[str, str]:
        create_inbox_table()
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=LIMITS_TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "limit_key", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "limit_key", "AttributeType": "S"}],
        )
        self.seeded = 0
        return {
            "INBOX_TABLE": INBOX_TABLE,
            "INBOX_DEFAULT_PAGE_SIZE": str(PAGE_SIZE),
            "INBOX_MAX_PAGE_SIZE": "50",
            "LIMITS_TABLE": LIMITS_TABLE,
            "REQUESTS_PER_USER_PER_MINUTE": "10000",
            "AWS_LAMBDA_FUNCTION_NAME": "bench-registration-api",
        }

    def reset(self) -> None:
        pass

    def events(self, n: int) -> list[dict[str, Any]]:
        if n > self.seeded:
            items: list[dict[str, Any]] = []
            for i in range(self.seeded, n):
                user = _user(i)
                items.append({"user_id": user, "item_key": "counter", "unread": ITEMS_PER_USER, "version": 1})
                for k in range(ITEMS_PER_USER):
                    item_id = f"20261124T10{k // 60:02d}{k % 60:02d}Z.n-{i:06d}-{k:02d}"
                    items.append(
                        {
                            "user_id": user,
                            "item_key": f"item#{item_id}",
                            "item_id": item_id,
                            "notification_id": f"n-{i:06d}-{k:02d}",
                            "notification_type": "order_delivered",
                            "title": f"Order A-{i:06d} delivered",
                            "body": "DHL delivered your order. Enjoy!",
                            "url": "https://track.example.com/A-1001?carrier=dhl",
                            "created_at": "2026-11-24T10:00:00Z",
                            "expires_at": 4_102_444_800,
                        }
                    )
            _put_items(INBOX_TABLE, items)
            self.seeded = n
        return [_list_request(_user(i)) for i in range(n)]


def _list_request(user_id: str) -> dict[str, Any]:
    """``GET /inbox?limit=20`` as API Gateway (HTTP API, payload 2.0, JWT authorizer) hands it over."""
    return {
        "version": "2.0",
        "routeKey": "GET /inbox",
        "rawPath": "/inbox",
        "rawQueryString": f"limit={PAGE_SIZE}",
        "headers": {"accept": "application/json"},
        "queryStringParameters": {"limit": str(PAGE_SIZE)},
        "requestContext": {
            "authorizer": {"jwt": {"claims": {"sub": user_id}, "scopes": None}},
            "http": {"method": "GET", "path": "/inbox"},
            "requestId": str(uuid.uuid4()),
            "routeKey": "GET /inbox",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }


def _full_pages(results: list[Any]) -> int:
    """Pages answered 200 with a full page and a next cursor (25 items, 20 per page)."""
    pages = 0
    for result in results:
        body = json.loads(result["body"]) if result.get("statusCode") == 200 else {}
        if len(body.get("items", [])) == PAGE_SIZE and "next_cursor" in body:
            pages += 1
    return pages


_INBOX_LIST_STATE = _InboxListWorkload()
INBOX_LIST_API = Workload(
    handler_module="notification_handlers.service.registration_api",
    label="inbox list API",
    unit="GET /inbox page of 20",
    services=("dynamodb",),
    steps=(
        Step(
            name="page read",
            operations=frozenset({"dynamodb.Query", "dynamodb.Scan", "dynamodb.BatchGetItem"}),
            lower_bound=lambda n: n,
            bound_text="1 Query per page",
            why="A page is one key range of the caller's partition, newest first: one Query with Limit = page"
            " size and no filter (archived items live under another prefix).",
        ),
        Step(
            name="unread count",
            operations=frozenset({"dynamodb.GetItem"}),
            lower_bound=lambda n: n,
            bound_text="1 GetItem per page",
            why="The counter item holds the unread count and mark-all-read's watermark (which items are"
            " read).",
        ),
        Step(
            name="per-user request limit",
            operations=frozenset({"dynamodb.UpdateItem"}),
            lower_bound=lambda n: n,
            bound_text="1 UpdateItem per request",
            why="Every registration API request counts against its user's per-minute ceiling (section 7).",
        ),
    ),
    setup=_INBOX_LIST_STATE.setup,
    events=_INBOX_LIST_STATE.events,
    handler=registration_api.handler,
    reset=_INBOX_LIST_STATE.reset,
    delivered=_full_pages,
)

INBOX_WORKLOADS: tuple[Workload, ...] = (INBOX_WORKER, INBOX_LIST_API)
