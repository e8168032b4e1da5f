"""Scheduled and delayed send (``detail.sendAt`` / ``detail.delaySeconds``) and its cancellation.

The router decides with ``decide`` (pure: the clock, the event's time and its deferral fields in, one
``Decision`` out) right after validating an event and before claiming its notification id:

* ``NOW``: no deferral, or it is due (or overdue: redeliveries of an event that waited are sent at once).
* ``DELAY``: due within ``MAX_SQS_DELAY_SECONDS`` (15 minutes): the event goes back to the ingest queue with
  SQS ``DelaySeconds`` (one ``SendMessage``).
* ``SCHEDULE``: due later: one EventBridge Scheduler one-time schedule (``at(...)``, UTC,
  ``ActionAfterCompletion = DELETE``, the module's group, its CMK, a retry policy and the ingest DLQ) whose
  target is the ingest queue. Nothing polls: millions of pending notifications are millions of schedules.

Either way the event that comes back is the producer's event unchanged, plus the top-level ``DUE_MARKER``
(the due time): the router then routes it now. EventBridge builds the envelope of every event put on the
bus, so a producer cannot set a top-level field; and the marker only means "send now", which a producer
gets anyway by leaving ``sendAt`` out: it grants nothing. The notification id (source, type, key) is the
same as the original's, so the one claim at send time keeps a notification to one delivery.

Nothing is claimed when deferring: the schedule's name is a function of the notification id
(``schedule_name``), so a duplicate or a redelivery finds the schedule already there (``ConflictException``
is success) and one schedule fires. A delayed duplicate is a second delayed message; the claim at send time
makes it a duplicate then.

Validation, relative to the event's ``time`` so that a redelivery decides the same as the first delivery:
``sendAt`` before the event's time is in the past; a due time more than ``MAX_DELAY_DAYS`` (default 365)
beyond now is too far ahead; ``sendAt`` together with ``delaySeconds`` is malformed (``contract``).

Cancel: a producer puts ``detail-type = "cancel-notification"`` with ``detail = {"notificationType": ...,
"idempotencyKey": ...}`` on the bus. The id is computed from the cancel event's own ``source``, which the
producer's PutEvents policy binds to that producer: a producer can only ever name its own notifications.
The router claims the id and completes the claim with ``{"cancelled": true}`` (a tombstone: the due event,
or a delayed one, is then a duplicate) and deletes the schedule (absent is fine).

Environment: ``INGEST_QUEUE_URL``, ``SCHEDULE_GROUP_NAME``, ``SCHEDULE_TARGET_ARN`` (the ingest queue),
``SCHEDULER_ROLE_ARN``, ``SCHEDULE_DLQ_ARN``, ``SCHEDULE_KMS_KEY_ARN``, ``MAX_DELAY_DAYS``.
"""

from __future__ import annotations

import enum
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple

from botocore.exceptions import ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import MalformedEventError, type_name
from notification_handlers.service import contract, env

MAX_SQS_DELAY_SECONDS: Final = 900
DEFAULT_MAX_DELAY_DAYS: Final = 365
DUE_MARKER: Final = contract.DUE_MARKER
CANCEL_DETAIL_TYPE: Final = "cancel-notification"
SCHEDULE_NAME_PREFIX: Final = "n-"
SCHEDULE_NAME_HEX: Final = 60
# Scheduler keeps trying to reach SQS for a day (only an outage or a broken policy stops it), then the DLQ.
RETRY_POLICY: Final = {"MaximumEventAgeInSeconds": 86_400, "MaximumRetryAttempts": 185}


class Action(enum.Enum):
    NOW = "now"
    DELAY = "delay"  # SQS DelaySeconds on the ingest queue
    SCHEDULE = "schedule"  # an EventBridge Scheduler one-time schedule


class Decision(NamedTuple):
    action: Action
    due: datetime | None = None
    delay_seconds: int = 0


class DeferralRejectedError(MalformedEventError):
    """``sendAt`` in the past or a due time too far ahead."""


def decide(
    *,
    now: datetime,
    event_time: datetime,
    send_at: datetime | None,
    delay_seconds: int | None,
    due_marker: bool,
    max_delay_days: int = DEFAULT_MAX_DELAY_DAYS,
) -> Decision:
    """Send now, delay on SQS for n seconds, or schedule at T; ``DeferralRejectedError`` with the reason."""
    if due_marker or (send_at is None and delay_seconds is None):
        return Decision(Action.NOW)
    if send_at is not None:
        if send_at < event_time:
            raise DeferralRejectedError(
                "detail.sendAt is in the past (before the event's time); leave it out to send now"
            )
        due = send_at
    else:
        due = event_time + timedelta(seconds=delay_seconds or 0)
    if due > now + timedelta(days=max_delay_days):
        field_name = "detail.sendAt" if send_at is not None else "detail.delaySeconds"
        raise DeferralRejectedError(f"{field_name} is more than {max_delay_days} days ahead")
    remaining = math.ceil((due - now).total_seconds())
    if remaining <= 0:
        return Decision(Action.NOW, due)
    if remaining <= MAX_SQS_DELAY_SECONDS:
        return Decision(Action.DELAY, due, remaining)
    return Decision(Action.SCHEDULE, due)


def schedule_name(notification_id: str) -> str:
    """The one schedule of a notification: ``n-`` and the first 60 hex digits of its id (64 max)."""
    return SCHEDULE_NAME_PREFIX + notification_id[:SCHEDULE_NAME_HEX]


def schedule_expression(due: datetime) -> str:
    """``at(yyyy-mm-ddThh:mm:ss)`` in UTC, rounded up to the second (never early)."""
    moment = due.astimezone(UTC)
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return f"at({moment:%Y-%m-%dT%H:%M:%S})"


def due_body(body: str, due: datetime) -> str:
    """The producer's event as it comes back when due: unchanged, plus the top-level ``DUE_MARKER``."""
    event = json.loads(body)
    event[DUE_MARKER] = due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def create_schedule_request(notification_id: str, body: str, due: datetime) -> dict[str, Any]:
    """The ``CreateSchedule`` parameters of one notification (pure but for the environment)."""
    return {
        "Name": schedule_name(notification_id),
        "GroupName": env.required("SCHEDULE_GROUP_NAME"),
        "ScheduleExpression": schedule_expression(due),
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "KmsKeyArn": env.required("SCHEDULE_KMS_KEY_ARN"),
        "Description": f"notification {notification_id}",
        "Target": {
            "Arn": env.required("SCHEDULE_TARGET_ARN"),
            "RoleArn": env.required("SCHEDULER_ROLE_ARN"),
            "Input": due_body(body, due),
            "RetryPolicy": dict(RETRY_POLICY),
            "DeadLetterConfig": {"Arn": env.required("SCHEDULE_DLQ_ARN")},
        },
    }


def max_delay_days() -> int:
    return env.positive_int("MAX_DELAY_DAYS", DEFAULT_MAX_DELAY_DAYS)


# --- the AWS edge -----------------------------------------------------------------------------------


def defer(notification_id: str, body: str, decision: Decision) -> None:
    """Carry out a DELAY or SCHEDULE decision; AWS errors propagate (the record is retried)."""
    if decision.due is None or decision.action is Action.NOW:
        raise ValueError("only DELAY and SCHEDULE decisions are deferred")
    if decision.action is Action.DELAY:
        aws_clients.client("sqs").send_message(
            QueueUrl=env.required("INGEST_QUEUE_URL"),
            MessageBody=due_body(body, decision.due),
            DelaySeconds=decision.delay_seconds,
        )
        return
    try:
        aws_clients.client("scheduler").create_schedule(
            **create_schedule_request(notification_id, body, decision.due)
        )
    except ClientError as error:
        if aws_clients.error_code(error) != "ConflictException":
            raise
        # Already scheduled by an earlier delivery of this notification: one schedule, one send.


def delete_schedule(notification_id: str) -> bool:
    """Delete the notification's schedule; False when there was none (fired, never made, or deleted)."""
    try:
        aws_clients.client("scheduler").delete_schedule(
            Name=schedule_name(notification_id), GroupName=env.required("SCHEDULE_GROUP_NAME")
        )
    except ClientError as error:
        if aws_clients.error_code(error) != "ResourceNotFoundException":
            raise
        return False
    return True


# --- cancel requests --------------------------------------------------------------------------------


class CancelRequest(NamedTuple):
    source: str
    notification_type: str
    idempotency_key: str


def parse_cancel(body: str) -> CancelRequest | None:
    """The cancel request in an ingest message body; None when the event is not one (``MalformedEventError``
    when it is one but broken)."""
    if CANCEL_DETAIL_TYPE not in body:  # cheap: most events are not cancels
        return None
    try:
        event = json.loads(body)
    except ValueError:
        return None  # the notification parser says why
    if not isinstance(event, dict) or event.get("detail-type") != CANCEL_DETAIL_TYPE:
        return None
    source, detail = event.get("source"), event.get("detail")
    if not isinstance(source, str) or not source:
        raise MalformedEventError("source must be a non-empty string")
    if not isinstance(detail, dict):
        raise MalformedEventError(f"detail must be an object, got {type_name(detail)}")
    unknown = sorted(set(detail) - {"notificationType", "idempotencyKey"})
    if unknown:
        raise MalformedEventError(f"detail of a cancel-notification has unknown field(s): {unknown[:5]}")
    # Same rules as the notification contract (schemas/notification-event.schema.json).
    notification_type = detail.get("notificationType")
    key = detail.get("idempotencyKey")
    if not isinstance(notification_type, str) or not contract.TYPE_PATTERN.fullmatch(notification_type):
        raise MalformedEventError("detail.notificationType must be a notification type name")
    if not isinstance(key, str) or not contract.KEY_PATTERN.fullmatch(key):
        raise MalformedEventError("detail.idempotencyKey must be the idempotencyKey of the notification")
    return CancelRequest(source, notification_type, key)
