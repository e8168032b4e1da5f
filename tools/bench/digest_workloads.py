"""Digests as a benchmark workload: the router collecting events of a digest type (``digest = {window_seconds,
max_items}``) for 10 users, in batches of ``BATCH_SIZE`` as the event source mapping delivers them. Nothing is
fanned out: each event is appended to its user's digest, and the first of a user's window creates the one
schedule that flushes it (a flush then costs what one routed notification costs)."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3

from notification_handlers.service import router
from tools.bench.environment import ACCOUNT_ID, REGION
from tools.bench.scheduling_workloads import _reset as _reset_schedules
from tools.bench.scheduling_workloads import _setup as _setup_schedules
from tools.bench.service_workloads import (
    BATCH_SIZE,
    ORDER_SHIPPED,
    _batches,
    _counting,
    _no_failures,
    _put_items,
    _user,
    sqs_record,
)
from tools.bench.workloads import Step, Workload, catalog_step

USERS = 10  # recipients the events are spread over: one digest (and one schedule) each
DIGESTS_TABLE = "bench-digests"
ROWS_PER_CALL = 25  # BatchWriteItem
PRICE_DROP = {
    **ORDER_SHIPPED,
    "digest": {"window_seconds": 86_400, "max_items": 10},
    "templates": {
        "en": {
            "email": {
                "subject": "{{ digest.count }} drops",
                "text": "{{#each digest.items}}{{ item.product }}{{/each}}",
            }
        }
    },
}


def _setup() -> dict[str, str]:
    env = _setup_schedules()
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName=DIGESTS_TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "user_id", "KeyType": "HASH"},
            {"AttributeName": "digest_key", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "user_id", "AttributeType": "S"},
            {"AttributeName": "digest_key", "AttributeType": "S"},
        ],
    )
    _put_items(
        env["CATALOG_TABLE"],
        [
            {
                "catalog_id": "notification-types",
                "notification_type": "price_drop",
                "definition": json.dumps(PRICE_DROP),
            }
        ],
    )
    env["DIGESTS_TABLE"] = DIGESTS_TABLE
    return env


def _reset() -> None:
    _reset_schedules()
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for page in dynamodb.get_paginator("scan").paginate(TableName=DIGESTS_TABLE):
        for item in page["Items"]:
            dynamodb.delete_item(
                TableName=DIGESTS_TABLE, Key={"user_id": item["user_id"], "digest_key": item["digest_key"]}
            )


def _events(n: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    records = []
    for index in range(n):
        event = {
            "version": "0",
            "id": str(uuid.UUID(int=index + 1)),
            "detail-type": "price_drop",
            "source": "com.example.shop",
            "account": ACCOUNT_ID,
            "time": now,
            "region": REGION,
            "resources": [],
            "detail": {
                "recipients": [_user(index % USERS)],
                "data": {"product": f"P-{index:06d}", "price": "9.90"},
            },
        }
        records.append(sqs_record(json.dumps(event), index, "bench-ingest"))
    return _batches(records)


def _users(n: int) -> int:
    return min(n, USERS)


def _log_rows(n: int) -> int:
    return sum(math.ceil(min(BATCH_SIZE, n - start) / ROWS_PER_CALL) for start in range(0, n, BATCH_SIZE))


DIGEST_ROUTER = Workload(
    handler_module="notification_handlers.service.router",
    label="router, digested (10 users, one window)",
    unit="notification",
    services=("dynamodb", "sqs", "scheduler"),
    steps=(
        catalog_step(),
        Step(
            name="claim, collect, complete",
            operations=frozenset({"dynamodb.PutItem", "dynamodb.UpdateItem", "dynamodb.GetItem"}),
            lower_bound=lambda n: 3 * n + _users(n),
            bound_text="3 per notification (claim, append, complete) + 1 per user and window",
            why=(
                "A claim and an append are conditional single-item writes (no batch form takes conditions)."
                " A digest item never exists without its schedule, so the first event of a user's window"
                " learns the window is new (its refused append returns the item: no GetItem), makes the"
                " schedule, then appends: one write more per window, which no order of calls avoids while"
                " that holds."
            ),
        ),
        Step(
            name="schedule",
            operations=frozenset({"scheduler.CreateSchedule"}),
            lower_bound=_users,
            bound_text="1 CreateSchedule per user and window",
            why=(
                "One one-time schedule flushes each user's digest at the window's end; EventBridge Scheduler"
                " has no batch create."
            ),
        ),
        Step(
            name="delivery log (digested rows)",
            operations=frozenset({"dynamodb.BatchWriteItem"}),
            lower_bound=_log_rows,
            bound_text="ceil(rows per batch / 25)",
            why="One digested row per event and recipient; BatchWriteItem takes 25.",
        ),
    ),
    setup=_setup,
    events=_events,
    handler=_counting(router.handler),
    reset=_reset,
    delivered=_no_failures,
)

DIGEST_WORKLOADS: tuple[Workload, ...] = (DIGEST_ROUTER,)
