"""Scheduled send as a benchmark workload: the router deferring notifications with ``detail.sendAt`` two
hours ahead (EventBridge Scheduler one-time schedules), in batches of ``BATCH_SIZE`` as the event source
mapping delivers them. What they cost when due is the router's plain workload (``service_workloads``).

Quiet hours: the router holding push messages of recipients inside their quiet hours (a window that ends
three hours from now, time zone UTC): one one-time schedule per held message, targeting the push queue.
When due, the push worker's own workload applies.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from notification_handlers.service import router
from tools.bench.environment import ACCOUNT_ID, REGION
from tools.bench.service_workloads import (
    _ROUTER_STATE,
    BATCH_SIZE,
    LOG_ROWS_PER_CALL,
    LOOKUP_KEYS_PER_CALL,
    MAX_USERS,
    TABLES,
    _batches,
    _clear_table,
    _counting,
    _no_failures,
    _per_batch,
    _put_items,
    _RouterWorkload,
    _user,
    sqs_record,
)
from tools.bench.workloads import Step, Workload, catalog_step, idempotency_step

GROUP = "bench-schedules"


def _setup() -> dict[str, str]:
    env = _ROUTER_STATE.setup()
    sqs = boto3.client("sqs", region_name=REGION)
    ingest = sqs.create_queue(QueueName="bench-ingest")["QueueUrl"]
    boto3.client("scheduler", region_name=REGION).create_schedule_group(Name=GROUP)
    env.update(
        {
            "INGEST_QUEUE_URL": ingest,
            "SCHEDULE_GROUP_NAME": GROUP,
            "SCHEDULE_TARGET_ARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:bench-ingest",
            "SCHEDULER_ROLE_ARN": f"arn:aws:iam::{ACCOUNT_ID}:role/bench-scheduler",
            "SCHEDULE_DLQ_ARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:bench-ingest-dlq",
            "SCHEDULE_KMS_KEY_ARN": f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{uuid.UUID(int=7)}",
        }
    )
    return env


def _reset() -> None:
    _ROUTER_STATE.reset()
    scheduler = boto3.client("scheduler", region_name=REGION)
    for page in scheduler.get_paginator("list_schedules").paginate(GroupName=GROUP):
        for schedule in page["Schedules"]:
            scheduler.delete_schedule(GroupName=GROUP, Name=schedule["Name"])


def _events(n: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC).replace(microsecond=0)
    send_at = (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    records = []
    for index in range(n):
        event = {
            "version": "0",
            "id": str(uuid.UUID(int=index + 1)),
            "detail-type": "order_shipped",
            "source": "com.example.shop",
            "account": ACCOUNT_ID,
            "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [],
            "detail": {
                "recipients": [_user(index)],
                "data": {"order_id": f"S-{index:06d}"},
                "sendAt": send_at,
            },
        }
        records.append(sqs_record(json.dumps(event), index, "bench-ingest"))
    return _batches(records)


def _one_per(n: int) -> int:
    return n


SCHEDULED_ROUTER = Workload(
    handler_module="notification_handlers.service.router",
    label="router, scheduled (sendAt 2 h ahead)",
    unit="notification",
    services=("dynamodb", "sqs", "scheduler"),
    steps=(
        catalog_step(),
        Step(
            name="schedule",
            operations=frozenset({"scheduler.CreateSchedule", "sqs.SendMessage", "sqs.SendMessageBatch"}),
            lower_bound=_one_per,
            bound_text="1 CreateSchedule per notification",
            why=(
                "EventBridge Scheduler has no batch create: one one-time schedule per notification; nothing"
                " is claimed, looked up or fanned out until it is due."
            ),
        ),
    ),
    setup=_setup,
    events=_events,
    handler=_counting(router.handler),
    reset=_reset,
    delivered=_no_failures,
)

NIGHT_UPDATE = {
    "channels": ["push"],
    "fallback_locale": "en",
    "templates": {"en": {"push": {"title": "Order update", "body": "{{ order_id }}"}}},
}


class _QuietHoursWorkload(_RouterWorkload):
    """Every recipient is in quiet hours (UTC, the window ends in three hours): each push message is held."""

    notification_type = "night_update"

    def seed_users(self, count: int) -> None:
        count = min(count, MAX_USERS)
        if count > self.seeded:
            now = datetime.now(UTC)
            window = {
                "start": f"{now - timedelta(hours=1):%H:%M}",
                "end": f"{now + timedelta(hours=3):%H:%M}",
            }
            _put_items(
                TABLES["USERS_TABLE"][0],
                [
                    {"user_id": _user(i), "locale": "en", "time_zone": "UTC"}
                    for i in range(self.seeded, count)
                ],
            )
            _put_items(
                TABLES["PREFERENCES_TABLE"][0],
                [{"user_id": _user(i), "quiet_hours": window} for i in range(self.seeded, count)],
            )
            self.seeded = count

    def setup(self) -> dict[str, str]:
        env = _setup()  # the router's tables, the ingest queue and the schedule group
        push = boto3.client("sqs", region_name=REGION).create_queue(QueueName="bench-push")["QueueUrl"]
        _put_items(
            env["CATALOG_TABLE"],
            [
                {
                    "catalog_id": "notification-types",
                    "notification_type": "night_update",
                    "definition": json.dumps(NIGHT_UPDATE),
                }
            ],
        )
        self.seeded = 0
        queues = {"push": {"arn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:bench-push"}}
        queues["push"]["dlq_arn"] = f"{queues['push']['arn']}-dlq"
        env.update(
            {
                "CHANNEL_QUEUE_URLS": json.dumps({"push": push}),
                "QUIET_HOURS_QUEUES": json.dumps(queues),
            }
        )
        return env

    def reset(self) -> None:
        _reset()
        _clear_table("DELIVERY_LOG_TABLE")


_QUIET_HOURS_STATE = _QuietHoursWorkload()


def _recipients_per_batch(n: int) -> list[int]:
    return [min(BATCH_SIZE, n - start) for start in range(0, n, BATCH_SIZE)]


QUIET_HOURS_ROUTER = Workload(
    handler_module="notification_handlers.service.router",
    label="router, push held for quiet hours (window ends in 3 h), 1 recipient each",
    unit="notification",
    services=("dynamodb", "sqs", "scheduler"),
    steps=(
        catalog_step(why="As for every router workload: cached per execution environment."),
        Step(
            name="lookups (profiles, preferences)",
            operations=frozenset({"dynamodb.BatchGetItem"}),
            lower_bound=_per_batch(_recipients_per_batch, LOOKUP_KEYS_PER_CALL, calls_per_batch=2),
            bound_text="2 x ceil(users per batch / 100)",
            why="The window is a preference, the time zone a profile field: lookups the router makes anyway.",
        ),
        Step(
            name="deferred_quiet_hours rows",
            operations=frozenset({"dynamodb.BatchWriteItem"}),
            lower_bound=_per_batch(_recipients_per_batch, LOG_ROWS_PER_CALL),
            bound_text="ceil(held messages per batch / 25)",
            why="One row per held message, 25 per BatchWriteItem, written before anything is held or sent.",
        ),
        Step(
            name="hold",
            operations=frozenset({"scheduler.CreateSchedule", "sqs.SendMessage", "sqs.SendMessageBatch"}),
            lower_bound=lambda n: n,
            bound_text="1 CreateSchedule per held message",
            why=(
                "EventBridge Scheduler has no batch create: one one-time schedule per held message, whose"
                " target is the channel queue (the rendered message goes there when the window ends)."
            ),
        ),
        idempotency_step(
            "notification",
            why="As for the router: the notification is routed (and its claim completed) when it is held.",
        ),
    ),
    setup=_QUIET_HOURS_STATE.setup,
    events=_QUIET_HOURS_STATE.events(1),
    handler=_counting(router.handler),
    reset=_QUIET_HOURS_STATE.reset,
    delivered=_no_failures,
)

SCHEDULING_WORKLOADS: tuple[Workload, ...] = (SCHEDULED_ROUTER, QUIET_HOURS_ROUTER)
