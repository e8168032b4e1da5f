"""Quiet hours in the router against moto: held push/sms (and opted-in email) go to their channel queue when
the recipient's window ends (SQS delay or a one-time schedule fired by the emulator's scheduler stand-in), the
other channels and critical types go now, and a bad profile time zone never costs the notification."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from botocore.exceptions import ClientError

from notification_handlers.service import catalog, delivery_log, dynamodb_batch, quiet_hours_deferral, router
from notification_handlers.service.catalog import parse_definition
from notification_handlers.service.channel_message import parse_channel_message
from notification_handlers.service.log import logger
from notification_handlers.service.partial_batch import EntireBatchFailedError
from tests.unit.conftest import FakeLambdaContext, capture_logs
from tests.unit.service_fakes import create_queue, receive_all, record_calls, scan
from tests.unit.test_deferral import Scheduling, scheduling, service  # noqa: F401 - fixtures
from tests.unit.test_service_router import batch, event, nid
from tools.emulator import scheduler as scheduler_standin
from tools.emulator.account import DEFAULT_REGION as REGION

ACCOUNT = "123456789012"
ZONE = "Pacific/Auckland"  # any zone: the windows below are placed around its current wall time
CHANNELS = ["push", "sms", "websocket", "inbox", "email"]
TEMPLATES = {
    "push": {"title": "Hi", "body": "Order {{order_id}}"},
    "sms": {"text": "Order {{order_id}}"},
    "websocket": {"body": "Order {{order_id}}"},
    "inbox": {"title": "Order", "body": "Order {{order_id}}"},
    "email": {"subject": "Order {{order_id}}", "text": "Order {{order_id}}"},
}
APP_UPDATE = {"channels": CHANNELS, "fallback_locale": "en", "templates": {"en": TEMPLATES}}
LOUD_EMAIL = {**APP_UPDATE, "defer_email_in_quiet_hours": True}
ACCOUNT_LOCKED = {
    "critical": True,
    "allowed_sources": ["com.example.shop"],
    "channels": ["push", "email"],
    "fallback_locale": "en",
    "templates": {"en": {"push": TEMPLATES["push"], "email": TEMPLATES["email"]}},
}


def hhmm(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(ZONE)).strftime("%H:%M")


def window_around_now(minutes_left: int) -> dict[str, str]:
    """A window that began an hour ago and ends ``minutes_left`` (+ under a minute) from now, in ``ZONE``."""
    now = datetime.now(UTC)
    return {"start": hhmm(now - timedelta(hours=1)), "end": hhmm(now + timedelta(minutes=minutes_left + 1))}


class QuietHours:
    """The channel queues and the router's quiet-hours environment next to the scheduling fixture."""

    def __init__(self, deferral_setup: Scheduling, monkeypatch: pytest.MonkeyPatch) -> None:
        self.scheduling = deferral_setup
        self.urls = {channel: create_queue(channel) for channel in CHANNELS if channel != "email"}
        self.urls["email"] = deferral_setup.service.email_queue
        for channel in ("push", "sms", "email"):
            create_queue(f"{channel}-dlq")
        monkeypatch.setenv("CHANNEL_QUEUE_URLS", json.dumps(self.urls))
        monkeypatch.setenv(
            "QUIET_HOURS_QUEUES",
            json.dumps(
                {
                    channel: {
                        "arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{channel}",
                        "dlq_arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{channel}-dlq",
                    }
                    for channel in ("push", "sms", "email")
                }
            ),
        )
        for name, definition in {
            "app_update": APP_UPDATE,
            "loud_update": LOUD_EMAIL,
            "account_locked": ACCOUNT_LOCKED,
        }.items():
            deferral_setup.service.put_type(name, definition)
        self.set_user("q-1", ZONE, window_around_now(180))

    def set_user(self, user_id: str, time_zone: str | None, window: dict[str, str] | None) -> None:
        user: dict[str, Any] = {"user_id": user_id, "display_name": "Quinn", "email": "q@example.com"}
        if time_zone is not None:
            user["time_zone"] = time_zone
        dynamodb_batch.batch_write("users", [user])
        dynamodb_batch.batch_write(
            "preferences", [{"user_id": user_id, **({"quiet_hours": window} if window else {})}]
        )

    def route(self, *bodies: dict[str, Any]) -> dict[str, Any]:
        return router.handler(batch(*bodies), FakeLambdaContext(function_name="svc-router"))

    def delivered(self) -> dict[str, list[str]]:
        """channel -> the notification ids now visible on its queue (each message read once)."""
        found: dict[str, list[str]] = {}
        for channel, url in self.urls.items():
            ids = [parse_channel_message(m["Body"]).notification_id for m in receive_all(url)]
            if ids:
                found[channel] = ids
        return found

    def rows(self, notification_id: str) -> dict[str, dict[str, Any]]:
        return {
            row["channel"]: row for row in scan("delivery-log") if row["notification_id"] == notification_id
        }


@pytest.fixture
def quiet(scheduling: Scheduling, monkeypatch: pytest.MonkeyPatch) -> Iterator[QuietHours]:  # noqa: F811
    yield QuietHours(scheduling, monkeypatch)


def update(
    key: str, notification_type: str = "app_update", recipients: list[str] | None = None
) -> dict[str, Any]:
    document = event(key, recipients or ["q-1"])
    document["detail-type"] = notification_type
    document["detail"]["idempotencyKey"] = key
    return document


def test_interrupting_channels_wait_for_the_window_end_and_are_delivered_once(quiet: QuietHours) -> None:
    calls = record_calls("scheduler")
    with capture_logs(logger) as logs:
        assert quiet.route(update("qh-1")) == {"batchItemFailures": []}
    notification_id = nid("qh-1", "app_update")

    # Now: the channels that do not interrupt; push and sms wait.
    assert quiet.delivered() == {channel: [notification_id] for channel in ("websocket", "inbox", "email")}
    rows = quiet.rows(notification_id)
    assert {channel: row["status"] for channel, row in rows.items()} == {
        "push": "deferred_quiet_hours",
        "sms": "deferred_quiet_hours",
    }
    schedules = {s.target["Arn"].rsplit(":", 1)[1]: s for s in scheduler_standin.pending(REGION)}
    assert sorted(schedules) == ["push", "sms"]
    push = schedules["push"]
    due = scheduler_standin.due_time(push.schedule_expression)
    assert due is not None and timedelta(hours=2) < due - datetime.now(UTC) <= timedelta(hours=3, minutes=2)
    assert rows["push"]["reason"] == f"quiet hours until {due:%Y-%m-%dT%H:%M:%SZ}"
    assert due.astimezone(ZoneInfo(ZONE)).second == 0  # the window's end, a whole minute of local time
    assert push.name.startswith("q-") and len(push.name) == 64
    assert push.action_after_completion == "DELETE"
    assert push.kms_key_arn.startswith("arn:aws:kms:")
    assert push.target["DeadLetterConfig"]["Arn"].endswith(":push-dlq")
    assert push.target["RoleArn"].endswith(":role/svc-scheduler")
    assert parse_channel_message(push.target["Input"]).channel == "push"
    assert calls.count("CreateSchedule") == 2
    [line] = [r for r in logs() if r.get("outcome") == "deferred_quiet_hours"]
    assert line["messages"] == 2 and line["channels"] == ["push", "sms"] and line["scheduled"] == 2
    assert "q-1" not in json.dumps(line)  # no recipient in the logs

    # Not before the end; at the end exactly once, on the channel queues themselves.
    scheduler_standin.fire_due(REGION, due - timedelta(seconds=1))
    assert quiet.delivered() == {}
    scheduler_standin.fire_due(REGION, due)
    assert quiet.delivered() == {"push": [notification_id], "sms": [notification_id]}
    scheduler_standin.fire_due(REGION, due + timedelta(days=1))
    assert quiet.delivered() == {} and scheduler_standin.pending(REGION) == []

    # The event redelivered: a duplicate, nothing held or sent again.
    assert quiet.route(update("qh-1")) == {"batchItemFailures": []}
    assert quiet.delivered() == {} and scheduler_standin.pending(REGION) == []


def test_a_window_ending_within_15_minutes_uses_an_sqs_delay_on_the_channel_queue(quiet: QuietHours) -> None:
    quiet.set_user("q-1", ZONE, window_around_now(5))
    calls = record_calls("sqs")
    assert quiet.route(update("qh-2")) == {"batchItemFailures": []}
    delayed = [
        p for p in calls.params("SendMessage") if p["QueueUrl"] in (quiet.urls["push"], quiet.urls["sms"])
    ]
    assert len(delayed) == 2
    assert all(240 <= p["DelaySeconds"] <= 900 for p in delayed)
    assert parse_channel_message(delayed[0]["MessageBody"]).notification_id == nid("qh-2", "app_update")
    assert scheduler_standin.pending(REGION) == []


def test_email_waits_only_for_types_that_say_so(quiet: QuietHours) -> None:
    assert quiet.route(update("qh-3", "loud_update")) == {"batchItemFailures": []}
    notification_id = nid("qh-3", "loud_update")
    assert quiet.delivered() == {channel: [notification_id] for channel in ("websocket", "inbox")}
    assert sorted(quiet.rows(notification_id)) == ["email", "push", "sms"]


def test_critical_types_ignore_quiet_hours(quiet: QuietHours) -> None:
    assert quiet.route(update("qh-4", "account_locked")) == {"batchItemFailures": []}
    notification_id = nid("qh-4", "account_locked")
    assert quiet.delivered() == {"push": [notification_id], "email": [notification_id]}
    assert scheduler_standin.pending(REGION) == [] and quiet.rows(notification_id) == {}


@pytest.mark.parametrize(
    ("time_zone", "window", "warned"),
    [
        ("Mars/Olympus_Mons", "now", True),  # not an IANA name: sent now, with a warning
        ("../../../etc/passwd", "now", True),
        (None, "now", False),  # no time zone to read the window in
        (ZONE, None, False),  # no window
        (ZONE, "later", False),  # outside the window
    ],
)
def test_sent_now_when_quiet_hours_do_not_apply(
    quiet: QuietHours, time_zone: str | None, window: str | None, warned: bool
) -> None:
    now = datetime.now(UTC)
    windows = {
        "now": window_around_now(180),
        "later": {"start": hhmm(now + timedelta(hours=2)), "end": hhmm(now + timedelta(hours=4))},
        None: None,
    }
    quiet.set_user("q-1", time_zone, windows[window])
    with capture_logs(logger) as logs:
        assert quiet.route(update("qh-5")) == {"batchItemFailures": []}
    notification_id = nid("qh-5", "app_update")
    assert quiet.delivered() == {channel: [notification_id] for channel in CHANNELS}
    assert scheduler_standin.pending(REGION) == []
    warnings = [r for r in logs() if r.get("outcome") == "quiet_hours_unknown_time_zone"]
    assert [(r["level"], r["recipients"]) for r in warnings] == ([("WARNING", 1)] if warned else [])


def test_one_recipient_in_quiet_hours_does_not_hold_the_others(quiet: QuietHours) -> None:
    quiet.set_user("q-2", ZONE, None)
    assert quiet.route(update("qh-6", recipients=["q-1", "q-2"])) == {"batchItemFailures": []}
    push = [parse_channel_message(m["Body"]) for m in receive_all(quiet.urls["push"])]
    assert [m.user_id for m in push] == ["q-2"]
    assert len(scheduler_standin.pending(REGION)) == 2  # q-1's push and sms


def test_a_failed_hold_retries_the_event_and_makes_one_schedule(
    quiet: QuietHours, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = quiet_hours_deferral.defer
    failures = iter([True])

    def flaky(*args: Any, **kwargs: Any) -> str:
        if next(failures, False):
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "CreateSchedule")
        return real(*args, **kwargs)

    monkeypatch.setattr(quiet_hours_deferral, "defer", flaky)
    with pytest.raises(EntireBatchFailedError, match="ThrottlingException"):
        quiet.route(update("qh-7"))
    assert quiet.route(update("qh-7")) == {"batchItemFailures": []}  # the claim was released: retried
    assert len(scheduler_standin.pending(REGION)) == 2  # push and sms, once each
    notification_id = nid("qh-7", "app_update")
    # The channels sent now on the first attempt are sent again on the retry: the workers' claims absorb it.
    assert quiet.delivered()["websocket"] == [notification_id, notification_id]


def test_a_held_channel_without_a_quiet_hours_queue_fails_the_record_and_sends_nothing_twice(
    quiet: QuietHours, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUIET_HOURS_QUEUES", "{}")  # a deployment that forgot the push and sms queues
    with pytest.raises(EntireBatchFailedError, match="no quiet-hours queue for channel 'push'"):
        quiet.route(update("qh-8"))
    assert scheduler_standin.pending(REGION) == []


def test_the_same_held_message_twice_makes_one_schedule(quiet: QuietHours) -> None:
    message = parse_channel_message(
        json.dumps(
            {
                "version": 1,
                "notification_id": "n" * 64,
                "notification_type": "app_update",
                "critical": False,
                "user_id": "q-1",
                "channel": "push",
                "locale": "en",
                "content": {"title": "t", "body": "b"},
                "created_at": "2026-12-05T09:00:00Z",
            }
        )
    )
    now = datetime.now(UTC)
    held = quiet_hours_deferral.HeldMessage(message, now + timedelta(hours=5))
    assert quiet_hours_deferral.defer(held, quiet.urls, now=now) == "scheduled"
    assert quiet_hours_deferral.defer(held, quiet.urls, now=now) == "scheduled"  # ConflictException
    assert len(scheduler_standin.pending(REGION)) == 1
    other_user = quiet_hours_deferral.schedule_name(
        parse_channel_message(json.dumps({**json.loads(message.to_json()), "user_id": "q-2"}))
    )
    assert other_user != quiet_hours_deferral.schedule_name(message)


def test_catalog_field_defer_email_in_quiet_hours() -> None:
    assert parse_definition("loud", LOUD_EMAIL).defer_email_in_quiet_hours is True
    assert parse_definition("app", APP_UPDATE).defer_email_in_quiet_hours is False
    with pytest.raises(ValueError, match="must be a boolean"):
        parse_definition("x", {**APP_UPDATE, "defer_email_in_quiet_hours": "yes"})
    with pytest.raises(ValueError, match="critical type"):
        parse_definition("x", {**ACCOUNT_LOCKED, "defer_email_in_quiet_hours": True})
    no_email = {
        "channels": ["push"],
        "fallback_locale": "en",
        "templates": {"en": {"push": TEMPLATES["push"]}},
    }
    with pytest.raises(ValueError, match="email is in neither channels nor fallback"):
        parse_definition("x", {**no_email, "defer_email_in_quiet_hours": True})
    assert catalog.QUIET_HOURS_EMAIL == "defer_email_in_quiet_hours"
    assert delivery_log.DEFERRED_QUIET_HOURS in delivery_log.STATUSES
