"""Scheduled and delayed send: the pure decision, the contract's new fields, and the router against moto
(SQS, DynamoDB, EventBridge Scheduler), with the emulator's scheduler stand-in firing due schedules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from notification_handlers.event_fields import MalformedEventError
from notification_handlers.service import contract, deferral, router
from notification_handlers.service.deferral import Action, DeferralRejectedError, decide
from tests.unit import test_service_router
from tests.unit.conftest import FakeLambdaContext, load_event
from tests.unit.service_fakes import create_queue, receive_all, record_calls
from tests.unit.test_service_router import SHOP, Service, batch, event, nid
from tools.emulator import scheduler as scheduler_standin
from tools.emulator.account import DEFAULT_REGION as REGION
from tools.emulator.server import apply_patches

service = test_service_router.service  # the router's tables and queues in moto (a fixture)

NOW = datetime(2026, 12, 5, 9, 0, 0, tzinfo=UTC)
GROUP = "svc"
OTHER = "com.example.marketplace"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the decision ------------------------------------------------------------------------------------


def _decide(**kwargs: Any) -> deferral.Decision:
    arguments: dict[str, Any] = {
        "now": NOW,
        "event_time": NOW,
        "send_at": None,
        "delay_seconds": None,
        "due_marker": False,
    }
    return decide(**{**arguments, **kwargs})


def test_decide_now_delay_or_schedule() -> None:
    assert _decide().action is Action.NOW
    assert _decide(delay_seconds=0).action is Action.NOW
    assert _decide(delay_seconds=1) == deferral.Decision(Action.DELAY, NOW + timedelta(seconds=1), 1)
    assert _decide(delay_seconds=900).action is Action.DELAY  # 15 minutes: SQS delay
    assert _decide(delay_seconds=901) == deferral.Decision(Action.SCHEDULE, NOW + timedelta(seconds=901))
    later = NOW + timedelta(days=30)
    assert _decide(send_at=later) == deferral.Decision(Action.SCHEDULE, later)
    assert _decide(send_at=NOW + timedelta(milliseconds=1500)).delay_seconds == 2  # never early
    # Relative to the event's time: a redelivery decides as the first delivery did, and sends what is overdue.
    assert _decide(delay_seconds=600, event_time=NOW - timedelta(seconds=590)).delay_seconds == 10
    assert _decide(delay_seconds=600, event_time=NOW - timedelta(hours=1)).action is Action.NOW
    assert (
        _decide(send_at=NOW - timedelta(minutes=1), event_time=NOW - timedelta(hours=1)).action is Action.NOW
    )


def test_decide_due_marker_routes_now_whatever_the_fields_say() -> None:
    decision = _decide(send_at=NOW + timedelta(days=900), due_marker=True)
    assert decision.action is Action.NOW


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"send_at": NOW - timedelta(seconds=1)}, "detail.sendAt is in the past"),
        ({"send_at": NOW + timedelta(days=365, seconds=1)}, "detail.sendAt is more than 365 days ahead"),
        (
            {"delay_seconds": 31 * 86400, "max_delay_days": 30},
            "detail.delaySeconds is more than 30 days ahead",
        ),
    ],
)
def test_decide_rejects_with_the_reason(kwargs: dict[str, Any], reason: str) -> None:
    with pytest.raises(DeferralRejectedError, match=reason):
        _decide(**kwargs)


def test_schedule_name_and_expression() -> None:
    notification_id = "ab" * 32
    assert deferral.schedule_name(notification_id) == "n-" + notification_id[:60]
    assert len(deferral.schedule_name(notification_id)) == 62
    assert (
        deferral.schedule_expression(datetime(2027, 1, 2, 3, 4, 5, 1, tzinfo=UTC))
        == "at(2027-01-02T03:04:06)"
    )
    assert (
        deferral.schedule_expression(datetime(2027, 1, 2, 4, 4, 5, tzinfo=UTC)) == "at(2027-01-02T04:04:05)"
    )


# --- the contract ------------------------------------------------------------------------------------


def _body(**detail: Any) -> str:
    document = event("c-1", ["u-2"])
    document["detail"].update(detail)
    return json.dumps(document)


def test_contract_reads_send_at_and_delay_seconds() -> None:
    parsed = contract.parse_notification(_body(sendAt="2027-01-02T03:04:05+01:00"))
    assert parsed.send_at == datetime(2027, 1, 2, 2, 4, 5, tzinfo=UTC) and parsed.delay_seconds is None
    assert contract.parse_notification(_body(delaySeconds=30)).delay_seconds == 30
    assert contract.parse_notification(_body()).due is False


@pytest.mark.parametrize(
    ("detail", "reason"),
    [
        ({"sendAt": "2027-01-02T03:04:05Z", "delaySeconds": 5}, "exclude each other"),
        ({"sendAt": "tomorrow"}, "detail.sendAt must match pattern"),
        ({"sendAt": "2027-01-02T03:04:05"}, "detail.sendAt must match pattern"),  # no offset: ambiguous
        ({"sendAt": "2027-13-02T03:04:05Z"}, "detail.sendAt is not an ISO 8601 timestamp"),
        ({"delaySeconds": -1}, "detail.delaySeconds must be bigger than or equal to 0"),
        ({"delaySeconds": "60"}, "detail.delaySeconds must be integer"),
        ({"delaySeconds": 31536001}, "detail.delaySeconds must be smaller than or equal to"),
    ],
)
def test_contract_rejects_bad_deferral_fields(detail: dict[str, Any], reason: str) -> None:
    with pytest.raises(MalformedEventError, match=reason):
        contract.parse_notification(_body(**detail))


def test_cancel_request_is_parsed_from_the_fixture() -> None:
    request = deferral.parse_cancel(json.dumps(load_event("notification_service_cancel_event")))
    assert request == deferral.CancelRequest(SHOP, "order_shipped", "order-A-1001-shipped")
    assert deferral.parse_cancel(_body()) is None
    broken = load_event("notification_service_cancel_event")
    broken["detail"]["notificationType"] = "Order Shipped"
    with pytest.raises(MalformedEventError, match="notificationType"):
        deferral.parse_cancel(json.dumps(broken))


# --- the router --------------------------------------------------------------------------------------


class Scheduling:
    """The ingest queue and a schedule group next to the router's service, and the router's deferral env."""

    def __init__(self, service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
        self.service = service
        self.ingest = create_queue("ingest")
        self.ingest_arn = f"arn:aws:sqs:{REGION}:123456789012:ingest"
        boto3.client("scheduler", region_name=REGION).create_schedule_group(Name=GROUP)
        for name, value in {
            "INGEST_QUEUE_URL": self.ingest,
            "SCHEDULE_GROUP_NAME": GROUP,
            "SCHEDULE_TARGET_ARN": self.ingest_arn,
            "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/svc-scheduler",
            "SCHEDULE_DLQ_ARN": f"arn:aws:sqs:{REGION}:123456789012:ingest-dlq",
            "SCHEDULE_KMS_KEY_ARN": f"arn:aws:kms:{REGION}:123456789012:key/0000-1111",
        }.items():
            monkeypatch.setenv(name, value)

    def route(self, *bodies: dict[str, Any]) -> dict[str, Any]:
        return router.handler(batch(*bodies), FakeLambdaContext(function_name="svc-router"))

    def schedules(self) -> list[Any]:
        return scheduler_standin.pending(REGION)

    def fire(self, now: datetime) -> dict[str, Any]:
        """Fire what is due at ``now`` and route what came back to the ingest queue."""
        scheduler_standin.fire_due(REGION, now)
        bodies = [json.loads(m["Body"]) for m in receive_all(self.ingest)]
        return self.route(*bodies) if bodies else {"batchItemFailures": []}


@pytest.fixture
def scheduling(service: Service, monkeypatch: pytest.MonkeyPatch) -> Scheduling:
    return Scheduling(service, monkeypatch)


def scheduled(
    key: str, send_at: datetime, source: str = SHOP, recipients: list[str] | None = None
) -> dict[str, Any]:
    document = event(key, recipients or ["u-2"])
    document["time"] = stamp(datetime.now(UTC))
    document["source"] = source
    document["detail"]["idempotencyKey"] = key
    document["detail"]["sendAt"] = stamp(send_at)
    return document


def cancel(key: str, source: str = SHOP) -> dict[str, Any]:
    document = load_event("notification_service_cancel_event")
    document["source"] = source
    document["detail"]["idempotencyKey"] = key
    return document


def test_scheduled_notification_waits_then_is_sent_exactly_once_despite_duplicates(
    scheduling: Scheduling,
) -> None:
    send_at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    original = scheduled("s-1", send_at)
    calls = record_calls("scheduler")
    # Two copies in one batch, and a redelivery later: one schedule.
    assert scheduling.route(original, original) == {"batchItemFailures": []}
    assert scheduling.route(original) == {"batchItemFailures": []}
    assert scheduling.service.emails() == []
    [schedule] = scheduling.schedules()
    assert schedule.name == deferral.schedule_name(nid("s-1"))
    assert schedule.schedule_expression == deferral.schedule_expression(send_at)
    assert schedule.action_after_completion == "DELETE"
    assert schedule.kms_key_arn.startswith("arn:aws:kms:")
    assert schedule.target["Arn"] == scheduling.ingest_arn
    assert schedule.target["DeadLetterConfig"]["Arn"].endswith(":ingest-dlq")
    assert schedule.target["RetryPolicy"] == deferral.RETRY_POLICY
    assert calls.count("CreateSchedule") == 3  # the later two answered ConflictException: already scheduled

    assert scheduling.fire(send_at - timedelta(seconds=1)) == {"batchItemFailures": []}
    assert scheduling.service.emails() == []  # not due yet

    assert scheduling.fire(send_at) == {"batchItemFailures": []}
    [email] = scheduling.service.emails()
    assert email["notification_id"] == nid("s-1") and email["user_id"] == "u-2"
    assert scheduling.schedules() == []  # ActionAfterCompletion = DELETE

    # Fired again, or the due event redelivered: still once.
    scheduling.fire(send_at + timedelta(days=1))
    due = json.loads(deferral.due_body(json.dumps(original), send_at))
    assert scheduling.route(due) == {"batchItemFailures": []}
    assert scheduling.service.emails() == []


def test_short_delay_goes_back_to_the_ingest_queue_with_sqs_delay(scheduling: Scheduling) -> None:
    document = event("d-1", ["u-2"])
    document["time"] = stamp(datetime.now(UTC))
    document["detail"]["delaySeconds"] = 120
    calls = record_calls("sqs")
    assert scheduling.route(document) == {"batchItemFailures": []}
    assert scheduling.service.emails() == [] and scheduling.schedules() == []
    [sent] = [p for p in calls.params("SendMessage") if p["QueueUrl"] == scheduling.ingest]
    assert 118 <= sent["DelaySeconds"] <= 120
    body = json.loads(sent["MessageBody"])
    assert body[deferral.DUE_MARKER] and body["detail"] == document["detail"]
    assert scheduling.route(body) == {"batchItemFailures": []}  # when it comes back: sent now
    assert [e["notification_id"] for e in scheduling.service.emails()] == [nid("evt-d-1")]


def test_bad_deferrals_are_dead_lettered_with_their_reason_and_neighbours_proceed(
    scheduling: Scheduling,
) -> None:
    now = datetime.now(UTC)
    good = scheduled("ok-1", now + timedelta(hours=1))
    past = scheduled("bad-past", now - timedelta(hours=1))
    far = scheduled("bad-far", now + timedelta(days=366))
    both = scheduled("bad-both", now + timedelta(hours=1))
    both["detail"]["delaySeconds"] = 5
    malformed = scheduled("bad-malformed", now)
    malformed["detail"]["sendAt"] = "next tuesday"
    plain = event("p-1", ["u-2"])

    assert scheduling.route(good, past, far, both, malformed, plain) == {"batchItemFailures": []}

    reasons = {
        json.loads(m["Body"])["detail"]["idempotencyKey"]: m["MessageAttributes"]["reason"]["StringValue"]
        for m in scheduling.service.rejected()
    }
    assert set(reasons) == {"bad-past", "bad-far", "bad-both", "bad-malformed"}
    assert "in the past" in reasons["bad-past"]
    assert "more than 365 days ahead" in reasons["bad-far"]
    assert "exclude each other" in reasons["bad-both"]
    assert "detail.sendAt" in reasons["bad-malformed"]
    assert [s.name for s in scheduling.schedules()] == [deferral.schedule_name(nid("ok-1"))]
    assert [e["notification_id"] for e in scheduling.service.emails()] == [nid("evt-p-1")]


def test_cancelled_notification_is_never_sent(scheduling: Scheduling) -> None:
    send_at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    original = scheduled("c-1", send_at)
    scheduling.route(original)
    assert len(scheduling.schedules()) == 1

    assert scheduling.route(cancel("c-1")) == {"batchItemFailures": []}
    assert scheduling.schedules() == []
    scheduling.fire(send_at)
    # Even a due copy that was already on its way (fired before the delete) is a duplicate now.
    assert scheduling.route(json.loads(deferral.due_body(json.dumps(original), send_at))) == {
        "batchItemFailures": []
    }
    assert scheduling.service.emails() == []
    assert scheduling.service.rejected() == []


def test_a_producer_cannot_cancel_another_producers_notification(scheduling: Scheduling) -> None:
    send_at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    scheduling.route(scheduled("shared-key", send_at, source=SHOP))
    # The marketplace names the shop's key and type: its id is namespaced by its own source.
    assert scheduling.route(cancel("shared-key", source=OTHER)) == {"batchItemFailures": []}
    assert len(scheduling.schedules()) == 1
    scheduling.fire(send_at)
    assert [e["notification_id"] for e in scheduling.service.emails()] == [nid("shared-key")]


def test_a_forged_due_marker_grants_only_send_now_and_keeps_the_id(scheduling: Scheduling) -> None:
    document = scheduled("f-1", datetime.now(UTC) + timedelta(days=900))  # too far, but "due"
    forged = json.loads(deferral.due_body(json.dumps(document), datetime.now(UTC)))
    assert scheduling.route(forged, forged) == {"batchItemFailures": []}
    assert [e["notification_id"] for e in scheduling.service.emails()] == [nid("f-1")]  # once, same id
    assert scheduling.schedules() == []


def test_emulator_create_schedule_in_a_missing_group_is_resource_not_found(scheduling: Scheduling) -> None:
    apply_patches()  # the emulator's, as the server applies them
    client = boto3.client("scheduler", region_name=REGION)
    with pytest.raises(ClientError) as raised:
        client.create_schedule(
            Name="n-1",
            GroupName="no-such-group",
            ScheduleExpression="at(2030-01-01T00:00:00)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": scheduling.ingest_arn, "RoleArn": "arn:aws:iam::123456789012:role/r"},
        )
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
