"""SMS worker against moto in-process: a verified number receives the text through SNS Publish (PhoneNumber,
Transactional, the price ceiling), a number on the opt-out list gets nothing and a suppressed_opted_out
row, a user without a verified number is a no_phone_number row, throttling retries only that record, a
permanent refusal is a failed row, duplicates send once; and the pure rules (E.164, segments, refusals)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from conftest import FakeLambdaContext, load_event
from moto.sns.models import sns_backends

from notification_handlers import aws_clients
from notification_handlers.event_fields import MalformedEventError
from notification_handlers.service import phone_numbers, sms
from notification_handlers.service.dynamodb_batch import batch_write
from notification_handlers.service.sms_worker import handler, parse_sms_message
from tests.unit.realtime_fakes import (
    channel_message,
    failed_ids,
    realtime_world,
    record_params,
    sqs_event,
    statuses,
)
from tests.unit.service_fakes import create_table
from tools.emulator.account import ACCOUNT_ID
from tools.emulator.account import DEFAULT_REGION as REGION

QUEUE = "notification-service-sms"
TABLE = "phone-numbers"
ANA = "+4915112345678"
BOB_OPTED_OUT = "+14155550199"  # moto: a number ending in 99 is on the opt-out list
CLEO = "+14155550123"


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data

    def read(self) -> bytes:
        return self._data


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with realtime_world(monkeypatch, "notification-service-sms-worker"):
        create_table(TABLE, "phone_key")
        for name in (
            "SMS_TYPE",
            "SMS_MAX_PRICE_USD",
            "SMS_SENDER_ID",
            "SMS_ORIGINATION_NUMBER",
            "SMS_MAX_SEGMENTS",
        ):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("PHONE_NUMBERS_TABLE", TABLE)
        monkeypatch.setenv("SMS_MAX_PRICE_USD", "0.50")
        monkeypatch.setenv("SMS_ALLOWED_COUNTRY_CODES", "1,49")
        yield


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext(function_name="notification-service-sms-worker")


def verified(user_id: str, number: str, status: str = "verified") -> None:
    batch_write(
        TABLE,
        [
            {"phone_key": f"user#{user_id}", "phone_number": number, "status": status},
            {"phone_key": f"number#{number}", "user_id": user_id},
        ],
    )


def sent() -> list[tuple[str, str]]:
    """(number, text) of every SMS SNS (moto) accepted."""
    return list(sns_backends[ACCOUNT_ID][REGION].sms_messages.values())


def message(
    notification_id: str = "n-1", user_id: str = "u-1", text: str = "Order 1234 shipped"
) -> dict[str, Any]:
    return channel_message(notification_id, user_id, "sms", {"text": text})


def target(number: str) -> str:
    return phone_numbers.target(number)


def fail_sns(operation: str, faults: list[tuple[str, int]]) -> None:
    """Answer the next len(faults) SNS ``operation`` attempts with these (code, HTTP status) errors."""
    queue = list(faults)

    def hook(request: Any, **_: Any) -> AWSResponse | None:
        if not queue:
            return None
        code, status = queue.pop(0)
        url = request.url
        request.url = "https://fault-injected.invalid/"
        xml = (
            '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>injected</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
        )
        return AWSResponse(url, status, {"Content-Type": "text/xml"}, _Body(xml.encode()))

    aws_clients.client("sns").meta.events.register_first(f"before-send.sns.{operation}", hook)


def test_fixture_batch_sends_to_the_verified_number_and_logs_the_user_without_one(
    world: None, context: FakeLambdaContext
) -> None:
    verified("u-1", ANA)
    calls = record_params("sns")

    response = handler(load_event("notification_service_sms_queue_batch"), context)

    assert response == {"batchItemFailures": []}
    assert sent() == [(ANA, "Bestellung 1234 versandt: Hallo Ana, Ihre Bestellung ist unterwegs.")]
    [check, publish] = calls
    assert check == ("CheckIfPhoneNumberIsOptedOut", {"phoneNumber": ANA})
    assert publish[0] == "Publish"
    assert publish[1]["PhoneNumber"] == ANA
    assert publish[1]["MessageAttributes"] == {
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        "AWS.SNS.SMS.MaxPrice": {"DataType": "String", "StringValue": "0.50"},
    }
    assert statuses() == {
        ("n-1", f"u-1#sms#{target(ANA)}"): ("sent", None),
        ("n-1", "u-2#sms#-"): ("no_phone_number", None),
    }


def test_opted_out_number_gets_nothing_and_is_logged_suppressed(
    world: None, context: FakeLambdaContext
) -> None:
    verified("u-2", BOB_OPTED_OUT)
    verified("u-3", CLEO)

    response = handler(sqs_event(QUEUE, message(user_id="u-2"), message(user_id="u-3")), context)

    assert response == {"batchItemFailures": []}
    assert sent() == [(CLEO, "Order 1234 shipped")]
    assert statuses()[("n-1", f"u-2#sms#{target(BOB_OPTED_OUT)}")] == ("suppressed_opted_out", "opted_out")
    # the delivery log never holds the number
    assert BOB_OPTED_OUT not in target(BOB_OPTED_OUT) and target(BOB_OPTED_OUT).startswith("+14*******99#")


def test_a_pending_number_is_never_sent_to(world: None, context: FakeLambdaContext) -> None:
    verified("u-1", ANA, status="pending")

    handler(sqs_event(QUEUE, message()), context)

    assert sent() == []
    assert statuses() == {("n-1", "u-1#sms#-"): ("no_phone_number", None)}


def test_throttling_retries_the_record_then_sends_once(world: None, context: FakeLambdaContext) -> None:
    verified("u-1", ANA)
    verified("u-3", CLEO)
    fail_sns("Publish", [("Throttling", 400)] * 3)  # the SDK's 3 attempts for the first record
    event = sqs_event(QUEUE, message(user_id="u-1"), message(user_id="u-3"))

    first = handler(event, context)

    assert failed_ids(first) == [event["Records"][0]["messageId"]]
    assert sent() == [(CLEO, "Order 1234 shipped")]
    second = handler(event, context)  # SQS redelivers the batch item failure (and the other one, at worst)
    assert second == {"batchItemFailures": []}
    assert sorted(sent()) == sorted([(CLEO, "Order 1234 shipped"), (ANA, "Order 1234 shipped")])
    assert statuses()[("n-1", f"u-1#sms#{target(ANA)}")] == ("sent", None)


def test_permanent_refusal_is_a_failed_row_not_a_retry(world: None, context: FakeLambdaContext) -> None:
    verified("u-1", ANA)
    fail_sns("Publish", [("InvalidParameter", 400)])

    response = handler(sqs_event(QUEUE, message()), context)

    assert response == {"batchItemFailures": []}
    assert statuses() == {("n-1", f"u-1#sms#{target(ANA)}"): ("failed", "InvalidParameter")}


def test_opt_out_check_throttled_retries_without_sending(world: None, context: FakeLambdaContext) -> None:
    verified("u-1", ANA)
    fail_sns("CheckIfPhoneNumberIsOptedOut", [("Throttling", 400)] * 3)
    event = sqs_event(QUEUE, message())

    assert failed_ids(handler(event, context)) == [event["Records"][0]["messageId"]]
    assert sent() == []
    assert handler(event, context) == {"batchItemFailures": []}
    assert sent() == [(ANA, "Order 1234 shipped")]


def test_text_over_the_segment_limit_is_failed_without_a_call(
    world: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMS_MAX_SEGMENTS", "1")
    verified("u-1", ANA)
    calls = record_params("sns")

    handler(sqs_event(QUEUE, message(text="x" * 161)), context)

    assert calls == [] and sent() == []
    assert statuses() == {("n-1", f"u-1#sms#{target(ANA)}"): ("failed", "message_too_long")}


def test_a_number_outside_the_allowed_countries_is_never_sent_to(
    world: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMS_ALLOWED_COUNTRY_CODES", "1")  # narrowed after Ana verified her German number
    verified("u-1", ANA)

    handler(sqs_event(QUEUE, message()), context)

    assert sent() == []
    assert statuses() == {("n-1", f"u-1#sms#{target(ANA)}"): ("failed", "country_not_allowed")}


def test_duplicate_message_sends_once(world: None, context: FakeLambdaContext) -> None:
    verified("u-1", ANA)

    handler(sqs_event(QUEUE, message()), context)
    handler(sqs_event(QUEUE, message()), context)

    assert sent() == [(ANA, "Order 1234 shipped")]
    assert statuses() == {("n-1", f"u-1#sms#{target(ANA)}"): ("sent", None)}


def test_malformed_record_fails_alone(world: None, context: FakeLambdaContext) -> None:
    verified("u-1", ANA)
    event = sqs_event(QUEUE, message(), channel_message("n-2", "u-1", "sms", {"body": "no text"}))

    response = handler(event, context)

    assert failed_ids(response) == [event["Records"][1]["messageId"]]
    assert sent() == [(ANA, "Order 1234 shipped")]


def test_verified_phone_numbers_reads_100_users_per_call(world: None) -> None:
    for index in range(150):
        verified(f"u-{index}", f"+1415555{index:04d}")
    verified("u-pending", CLEO, status="pending")
    calls = record_params("dynamodb")

    found = phone_numbers.verified_phone_numbers([f"u-{i}" for i in range(150)] + ["u-pending", "u-none"])

    assert len(found) == 150 and found["u-7"] == "+14155550007"
    assert [name for name, _ in calls] == ["BatchGetItem", "BatchGetItem"]


# --- pure rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("+14155550123", True),
        ("+491511234567", True),
        ("+123456789012345", True),
        ("+1234567", False),  # too short
        ("+1234567890123456", False),  # 16 digits
        ("+04155550123", False),  # country code 0
        ("14155550123", False),  # no +
        ("+1 415 555 0123", False),
        ("+1415555012a", False),
        ("+14155550123\n", False),
    ],
)
def test_e164(number: str, ok: bool) -> None:
    assert phone_numbers.is_e164(number) is ok


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("x" * 160, 1),
        ("x" * 161, 2),
        ("x" * 306, 2),
        ("x" * 307, 3),
        ("€" * 80, 1),  # extended GSM-7: two septets each
        ("€" * 81, 2),
        ("ü" * 160, 1),  # in GSM-7's basic set
        ("ł" * 70, 1),  # not in GSM-7: UCS-2
        ("ł" * 71, 2),
        ("😀" * 35, 1),  # two UCS-2 units each
        ("😀" * 36, 2),
    ],
)
def test_segments(text: str, count: int) -> None:
    assert phone_numbers.segments(text) == count


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("+14155550123", None),
        ("+19005550123", "premium_rate_number"),
        ("+447012345678", "premium_rate_number"),
        ("+449012345678", "premium_rate_number"),
        ("+33612345678", "country_not_allowed"),
        ("+4915112345678", None),
        ("+123", "invalid_phone_number"),
    ],
)
def test_refusals(number: str, reason: str | None) -> None:
    settings = sms.Settings(allowed_country_codes=("1", "44", "49"))
    assert sms.refusal(number, settings) == reason


def test_no_allowed_country_allows_none() -> None:
    assert sms.refusal("+14155550123", sms.Settings()) == "country_not_allowed"


def test_parse_requires_text() -> None:
    with pytest.raises(MalformedEventError, match=r"content\.text"):
        parse_sms_message(
            sqs_event(QUEUE, channel_message("n", "u", "sms", {"text": " "}))["Records"][0]["body"]
        )
