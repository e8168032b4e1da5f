"""Scheduled send as a benchmark workload: the router deferring notifications with ``detail.sendAt`` two
hours ahead (EventBridge Scheduler one-time schedules), in batches of ``BATCH_SIZE`` as the event source
mapping delivers them. What they cost when due is the router's plain workload (``service_workloads``).
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
    _batches,
    _counting,
    _no_failures,
    _user,
    sqs_record,
)
from tools.bench.workloads import Step, Workload

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
        Step(
            name="catalog and channel switches",
            operations=frozenset({"dynamodb.Query"}),
            lower_bound=lambda n: 2,
            bound_text="2 Queries per warm environment",
            why=(
                "Each read once per execution environment, then cached for CATALOG_REFRESH_SECONDS and"
                " CHANNEL_SWITCH_REFRESH_SECONDS (two partitions, two Queries)."
            ),
        ),
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

SCHEDULING_WORKLOADS: tuple[Workload, ...] = (SCHEDULED_ROUTER,)
