"""Quiet hours in the router: which planned channel messages wait for the end of the recipient's window, and
putting them on their channel queue at that time (docs/notification-service.md, "Quiet hours").

``hold`` (pure) runs after planning, per notification: a message waits when the type is not critical, its
channel interrupts (push and sms; email when the type sets ``defer_email_in_quiet_hours``; websocket, inbox
and chat never), the recipient's preferences have a ``quiet_hours`` window and ``now`` is inside it in their
profile's ``time_zone`` (``quiet_hours.window_end``). Each held message gets a ``deferred_quiet_hours``
delivery-log row whose ``reason`` names the due time. A recipient without a time zone, or with a name that is
not an IANA time zone, gets the message now: a wrong zone could hold it for up to a day at the wrong time,
and a bad profile value must not cost the user their notification; the router logs
``quiet_hours_unknown_time_zone`` (warning) with the count. The event contract carries no time zone (the
profile is the only source), so there is no producer input to reject.

``defer`` (the AWS edge) sends the rendered channel message itself, unchanged, to its channel queue when the
window ends, like ``deferral`` does with whole events: up to ``deferral.MAX_SQS_DELAY_SECONDS`` ahead as an
SQS message with ``DelaySeconds``, later as an EventBridge Scheduler one-time schedule (the module's group,
its CMK, ``ActionAfterCompletion = DELETE``, the retry policy; the channel queue's DLQ as its DLQ) that the
scheduler role sends to the channel queue. The schedule's name is a function of (notification id, user,
channel) (``schedule_name``): a redelivered or duplicate event finds it there (``ConflictException`` is
success). The channel workers' claims are per notification, user, channel and target, so a message that
comes twice (a redelivered SQS-delayed one) is delivered once.

Environment (besides ``deferral``'s group, role and key): ``QUIET_HOURS_QUEUES``, a JSON object channel ->
``{"arn", "dlq_arn"}`` of the channel queues quiet hours can hold (email, push, sms when enabled); the queue
URLs are ``CHANNEL_QUEUE_URLS``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

from botocore.exceptions import ClientError

from notification_handlers import aws_clients
from notification_handlers.service import deferral, delivery_log, env, quiet_hours
from notification_handlers.service.catalog import TypeDefinition
from notification_handlers.service.channel_message import ChannelMessage
from notification_handlers.service.delivery_log import Delivery
from notification_handlers.service.enrichment import Profile

SCHEDULE_NAME_PREFIX: Final = "q-"  # deferral's schedules are "n-": the two never share a name
SCHEDULE_NAME_HEX: Final = 62  # 64 characters at most


class HeldMessage(NamedTuple):
    message: ChannelMessage
    due: datetime


@dataclass(
    eq=False, repr=False
)  # an accumulator: identity is its equality (and each method costs import time)
class Hold:
    """One notification's planned messages, split: those to send now and those held to the window's end."""

    send: list[ChannelMessage] = field(default_factory=list)
    held: list[HeldMessage] = field(default_factory=list)
    rows: list[Delivery] = field(default_factory=list)  # one deferred_quiet_hours row per held message
    unknown_time_zones: int = 0  # recipients in a window whose profile time zone is not an IANA name


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hold(
    messages: Sequence[ChannelMessage],
    definition: TypeDefinition,
    preference_items: Mapping[str, Mapping[str, Any]],
    profiles: Mapping[str, Profile],
    *,
    now: datetime,
) -> Hold:
    """Split one notification's messages into now and held (pure; ``zoneinfo`` only for recipients that have
    a window and an interrupting message)."""
    result = Hold()
    if definition.critical:  # critical types ignore quiet hours
        result.send = list(messages)
        return result
    ends: dict[str, datetime | None] = {}  # user -> end of their window now (None: not quiet)
    unknown: set[str] = set()
    for message in messages:
        if not quiet_hours.interrupts(message.channel, defer_email=definition.defer_email_in_quiet_hours):
            result.send.append(message)
            continue
        user_id = message.user_id
        if user_id not in ends:
            ends[user_id] = _window_end(user_id, preference_items, profiles, now, unknown)
        due = ends[user_id]
        if due is None:
            result.send.append(message)
            continue
        result.held.append(HeldMessage(message, due))
        result.rows.append(
            Delivery(
                message.notification_id,
                message.notification_type,
                user_id,
                message.channel,
                delivery_log.DEFERRED_QUIET_HOURS,
                reason=f"quiet hours until {stamp(due)}",
            )
        )
    result.unknown_time_zones = len(unknown)
    return result


def _window_end(
    user_id: str,
    preference_items: Mapping[str, Mapping[str, Any]],
    profiles: Mapping[str, Profile],
    now: datetime,
    unknown: set[str],
) -> datetime | None:
    window = quiet_hours.window_from_preferences(preference_items.get(user_id))
    if window is None:
        return None
    profile = profiles.get(user_id)
    name = profile.time_zone if profile else None
    if not name:
        return None  # no time zone to interpret the window in: delivered now (documented)
    zone = quiet_hours.zone(name)
    if zone is None:
        unknown.add(user_id)
        return None
    return quiet_hours.window_end(now, window, zone)


# --- the AWS edge -----------------------------------------------------------------------------------


def schedule_name(message: ChannelMessage) -> str:
    """The one schedule of a held message: ``q-`` + 62 hex digits of SHA-256(notification, user, channel)."""
    key = f"{message.notification_id}\n{message.user_id}\n{message.channel}"
    return SCHEDULE_NAME_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()[:SCHEDULE_NAME_HEX]


def create_schedule_request(held: HeldMessage, queue: Mapping[str, str]) -> dict[str, Any]:
    """The ``CreateSchedule`` parameters of one held message (pure but for the environment)."""
    message = held.message
    return {
        "Name": schedule_name(message),
        "GroupName": env.required("SCHEDULE_GROUP_NAME"),
        "ScheduleExpression": deferral.schedule_expression(held.due),
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "KmsKeyArn": env.required("SCHEDULE_KMS_KEY_ARN"),
        "Description": f"quiet hours: {message.channel} of notification {message.notification_id}",
        "Target": {
            "Arn": queue["arn"],
            "RoleArn": env.required("SCHEDULER_ROLE_ARN"),
            "Input": message.to_json(),
            "RetryPolicy": dict(deferral.RETRY_POLICY),
            "DeadLetterConfig": {"Arn": queue["dlq_arn"]},
        },
    }


def queues() -> dict[str, dict[str, str]]:
    """``QUIET_HOURS_QUEUES``: channel -> {"arn", "dlq_arn"}."""
    raw = env.optional("QUIET_HOURS_QUEUES") or "{}"
    document = json.loads(raw)
    return {
        str(channel): {"arn": str(queue["arn"]), "dlq_arn": str(queue["dlq_arn"])}
        for channel, queue in document.items()
    }


def defer(held: HeldMessage, queue_urls: Mapping[str, str], *, now: datetime) -> str:
    """Put one held message on its channel queue at its due time: ``"delayed"`` or ``"scheduled"``. AWS errors
    propagate (the event is retried; a second schedule is a conflict, a second delayed message a duplicate the
    worker's claim absorbs). A channel without a queue is a ``KeyError`` (a deployment mistake)."""
    message = held.message
    remaining = math.ceil((held.due - now).total_seconds())
    if remaining <= deferral.MAX_SQS_DELAY_SECONDS:
        aws_clients.client("sqs").send_message(
            QueueUrl=queue_urls[message.channel],
            MessageBody=message.to_json(),
            DelaySeconds=max(remaining, 0),
        )
        return "delayed"
    try:
        aws_clients.client("scheduler").create_schedule(
            **create_schedule_request(held, queues()[message.channel])
        )
    except ClientError as error:
        if aws_clients.error_code(error) != "ConflictException":
            raise
        # Held by an earlier delivery of this event: one schedule, one message.
    return "scheduled"
