"""SES feedback handler against moto DynamoDB: real SNS-wrapped SES event shapes (event publishing and
identity notifications) become suppressions; everything else is ignored; malformed records are named
after the valid ones are applied."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import FakeLambdaContext, capture_logs, invoke_async, load_event
from moto import mock_aws

from notification_handlers.event_fields import ConfigurationError, MalformedEventError
from notification_handlers.service.email_feedback import handler
from notification_handlers.service.log import logger
from tests.unit.service_fakes import create_table, fail_attempts, no_sleep, record_calls, scan

TABLE = "email-suppressions"
FIXTURES = (
    "notification_service_ses_bounce_permanent",
    "notification_service_ses_bounce_transient",
    "notification_service_ses_complaint",
    "notification_service_ses_delivery",
    "notification_service_ses_bounce_identity_notification",
)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with mock_aws():
        create_table(TABLE, "address")
        monkeypatch.setenv("EMAIL_SUPPRESSIONS_TABLE", TABLE)
        yield TABLE


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext(function_name="notification-service-email-feedback")


def suppressions() -> dict[str, dict[str, Any]]:
    return {item["address"]: item for item in scan(TABLE)}


def combined(*names: str) -> dict[str, Any]:
    return {"Records": [load_event(name)["Records"][0] for name in names]}


def ses_message(record: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(record["Sns"]["Message"]))


def with_message(record: dict[str, Any], message: object) -> dict[str, Any]:
    copy = json.loads(json.dumps(record))
    copy["Sns"]["Message"] = message if isinstance(message, str) else json.dumps(message)
    return copy


def test_a_permanent_bounce_suppresses_the_lower_cased_address(
    table: str, context: FakeLambdaContext
) -> None:
    result = handler(load_event("notification_service_ses_bounce_permanent"), context)

    assert result == {"records": 1, "suppressed": 1, "verification_blocked": 0, "ignored": 0}
    assert suppressions() == {
        "jane.doe@example.com": {
            "address": "jane.doe@example.com",
            "reason": "bounce",
            "detail": "Permanent/General 5.1.1 (smtp; 550 5.1.1 user unknown)",
            "feedback_id": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
            "suppressed_at": "2026-11-24T10:01:02.669Z",
        }
    }


def test_a_complaint_suppresses_the_address(table: str, context: FakeLambdaContext) -> None:
    handler(load_event("notification_service_ses_complaint"), context)

    item = suppressions()["recipient@example.com"]
    assert (item["reason"], item["detail"], item["suppressed_at"]) == (
        "complaint",
        "abuse",
        "2026-11-24T11:20:05.000Z",
    )


def test_the_identity_notification_format_is_accepted(table: str, context: FakeLambdaContext) -> None:
    handler(load_event("notification_service_ses_bounce_identity_notification"), context)

    assert list(suppressions()) == ["jane@example.com"], "only the bounced recipient, not every destination"


@pytest.mark.parametrize(
    ("fixture", "event_type"),
    [
        ("notification_service_ses_bounce_transient", "Bounce"),
        ("notification_service_ses_delivery", "Delivery"),
    ],
)
def test_transient_bounces_and_other_events_are_ignored_with_a_log_line(
    fixture: str, event_type: str, table: str, context: FakeLambdaContext
) -> None:
    calls = record_calls("dynamodb")
    with capture_logs(logger) as logs:
        result = handler(load_event(fixture), context)

    assert result == {"records": 1, "suppressed": 0, "verification_blocked": 0, "ignored": 1}
    assert suppressions() == {} and calls.attempts == [], "no write at all"
    [line] = [r for r in logs() if r.get("decision") == "ignored"]
    assert line["event_type"] == event_type


@pytest.mark.parametrize(
    "message",
    [
        {"notificationType": "AmazonSnsSubscriptionSucceeded", "message": "You have successfully subscribed"},
        {"eventType": "Send", "mail": {}, "send": {}},
        {"eventType": "Open", "mail": {}, "open": {}},
        {"eventType": "DeliveryDelay", "mail": {}, "deliveryDelay": {}},
    ],
)
def test_other_ses_messages_are_ignored(
    message: dict[str, Any], table: str, context: FakeLambdaContext
) -> None:
    record = load_event("notification_service_ses_delivery")["Records"][0]
    assert handler({"Records": [with_message(record, message)]}, context)["ignored"] == 1


def test_one_batch_write_for_every_suppression_of_the_event(table: str, context: FakeLambdaContext) -> None:
    event = combined(*FIXTURES)
    bounce = ses_message(event["Records"][0])
    bounce["bounce"]["bouncedRecipients"] = [
        {"emailAddress": f"user{n}@example.com", "action": "failed", "status": "5.1.1"} for n in range(30)
    ]
    event["Records"][0] = with_message(event["Records"][0], bounce)
    calls = record_calls("dynamodb")

    result = handler(event, context)

    assert result == {"records": 5, "suppressed": 32, "verification_blocked": 0, "ignored": 2}
    assert calls.count("BatchWriteItem") == 2, "one batch_write: 32 items in calls of 25"
    assert len(suppressions()) == 32


def test_an_address_reported_twice_is_written_once_and_a_complaint_wins(
    table: str, context: FakeLambdaContext
) -> None:
    complaint = load_event("notification_service_ses_complaint")["Records"][0]
    bounce_record = load_event("notification_service_ses_bounce_permanent")["Records"][0]
    bounce = ses_message(bounce_record)
    bounce["bounce"]["bouncedRecipients"][0]["emailAddress"] = "RECIPIENT@example.com"
    bounce_record = with_message(bounce_record, bounce)

    handler({"Records": [bounce_record, complaint, bounce_record]}, context)

    assert {a: i["reason"] for a, i in suppressions().items()} == {"recipient@example.com": "complaint"}


def test_malformed_records_are_named_after_the_valid_ones_are_applied(
    table: str, context: FakeLambdaContext
) -> None:
    good = load_event("notification_service_ses_bounce_permanent")["Records"][0]
    complaint = load_event("notification_service_ses_complaint")["Records"][0]
    no_recipients = ses_message(good)
    no_recipients["bounce"]["bouncedRecipients"] = []
    bad_type = ses_message(good)
    bad_type["bounce"]["bounceType"] = "Soft"
    event = {
        "Records": [
            with_message(good, "not json"),
            good,
            {"Sns": {}},
            with_message(good, no_recipients),
            complaint,
            with_message(good, bad_type),
            with_message(good, {"mail": {}}),
            "a string",
        ]
    }

    with pytest.raises(MalformedEventError) as raised:
        handler(event, context)

    assert set(suppressions()) == {"jane.doe@example.com", "recipient@example.com"}, "valid records applied"
    assert str(raised.value) == (
        "6 of 8 SNS record(s) malformed: Records[0]: Sns.Message: Sns.Message is not JSON; "
        "Records[2]: Sns.Message is missing; "
        "Records[3]: Sns.Message: bounce.bouncedRecipients is empty; "
        "Records[5]: Sns.Message: bounce.bounceType 'Soft' is not one of Permanent, Transient, Undetermined; "
        "Records[6]: Sns.Message: eventType (or notificationType) is missing: not an SES event; "
        "Records[7]: record must be an object, got str"
        " (2 valid record(s) applied, 2 address(es) suppressed, 0 blocked for verification mail)"
    )


def test_a_malformed_record_is_retried_then_dead_lettered_and_the_retries_are_harmless(
    table: str, context: FakeLambdaContext
) -> None:
    good = load_event("notification_service_ses_complaint")["Records"][0]
    event = {"Records": [good, with_message(good, "[]")]}

    outcome = invoke_async(handler, event, context)

    assert outcome.dead_lettered and outcome.invocations == 3
    assert "Records[1]: Sns.Message: Sns.Message must be a JSON object, got list" in outcome.dlq_error_message
    assert list(suppressions()) == ["recipient@example.com"]


def test_an_address_in_a_report_is_never_logged_in_full(table: str, context: FakeLambdaContext) -> None:
    record = load_event("notification_service_ses_bounce_permanent")["Records"][0]
    bad = ses_message(record)
    bad["bounce"]["bouncedRecipients"][0]["emailAddress"] = "no-at-sign.example.com"
    with capture_logs(logger) as logs, pytest.raises(MalformedEventError) as raised:
        handler({"Records": [record, with_message(record, bad)]}, context)

    text = "\n".join(map(str, logs())) + str(raised.value)
    assert "jane.doe@example.com" not in text.lower() and "no-at-sign" not in text
    assert [r["address"] for r in logs() if r.get("decision") == "suppress"] == ["j***@example.com"]


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({}, "Records is missing"),
        ({"Records": {}}, "Records must be a list"),
        ({"Records": []}, "Records is empty"),
        ([], "event must be a JSON object"),
    ],
)
def test_a_malformed_envelope_raises(
    event: Any, problem: str, table: str, context: FakeLambdaContext
) -> None:
    with pytest.raises(MalformedEventError, match=problem):
        handler(event, context)


def test_without_a_table_the_invocation_fails(
    context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EMAIL_SUPPRESSIONS_TABLE", raising=False)
    with pytest.raises(ConfigurationError, match="EMAIL_SUPPRESSIONS_TABLE"):
        handler(load_event("notification_service_ses_complaint"), context)


def test_a_dynamodb_failure_is_logged_with_its_code_and_raised(
    table: str, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    with no_sleep(monkeypatch), capture_logs(logger) as logs:
        fail_attempts("dynamodb", "BatchWriteItem", [("ThrottlingException", 400)] * 3)
        outcome = invoke_async(handler, load_event("notification_service_ses_complaint"), context)

    assert outcome.invocations == 2 and outcome.result == {
        "records": 1,
        "suppressed": 1,
        "verification_blocked": 0,
        "ignored": 0,
    }
    assert [r["error_code"] for r in logs() if r["level"] == "ERROR"] == ["ThrottlingException"]
    assert list(suppressions()) == ["recipient@example.com"]
