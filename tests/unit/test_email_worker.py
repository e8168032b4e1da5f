"""Email worker against moto in-process: tables, idempotency records and SES v2 (mail read back from the
SES backend; headers and tags from the recorded SendEmail requests, which moto does not keep)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import FakeLambdaContext, capture_logs, load_event

from notification_handlers.event_fields import ConfigurationError
from notification_handlers.service import email_worker
from notification_handlers.service.email_worker import handler
from notification_handlers.service.idempotency import Claim, Deduplicator
from notification_handlers.service.log import logger
from tests.unit.email_service_fakes import (
    SENDER,
    TABLES,
    channel_message,
    delivery_rows,
    email_world,
    failed_ids,
    headers_of,
    mailed_addresses,
    sent_mail,
    sqs_event,
    statuses,
    subscribe,
    suppress,
    tags_of,
    verified,
)
from tests.unit.service_fakes import fail_attempts, no_sleep, record_calls


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with email_world(monkeypatch):
        yield


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext(function_name="notification-service-email-worker")


def run(event: dict[str, Any], context: FakeLambdaContext) -> dict[str, Any]:
    return handler(event, context)


def test_fixture_batch_is_delivered_with_headers_tags_and_rows(
    world: None, context: FakeLambdaContext
) -> None:
    subscribe("u-1", {"Ana@Example.com": verified("tok/1 +"), "old@example.com": {"status": "pending"}})
    subscribe("u-2", {"bob@example.org": verified("tok-2")})
    sesv2 = record_calls("sesv2")
    dynamodb = record_calls("dynamodb")

    response = run(load_event("notification_service_email_queue_batch"), context)

    assert response == {"batchItemFailures": []}
    mail = sent_mail()
    assert [(m.to, m.subject) for m in mail] == [
        (["Ana@Example.com"], "Bestellung 1234 versandt"),
        (["bob@example.org"], "Order 1234 shipped"),
        (["Ana@Example.com"], "Passwort zurücksetzen"),
    ]
    assert "<b>1234</b>" in mail[0].body, "the HTML part is sent"
    assert mail[1].body == "Hi Bob, your order 1234 is on its way.", "text only when there is no HTML"
    requests = sesv2.params("SendEmail")
    assert [r["FromEmailAddress"] for r in requests] == [SENDER] * 3
    assert headers_of(requests[0]) == {
        "List-Unsubscribe": "<https://prefs.example.com/unsubscribe?token=tok%2F1%20%2B>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert (
        headers_of(requests[1])["List-Unsubscribe"] == "<https://prefs.example.com/unsubscribe?token=tok-2>"
    )
    assert headers_of(requests[2]) == {}, "critical type (password_reset): no List-Unsubscribe"
    assert tags_of(requests[0]) == {
        "notification_id": "n-1",
        "notification_type": "order_shipped",
        "user_id": "u-1",
    }
    assert tags_of(requests[2])["notification_type"] == "password_reset"
    assert statuses() == {
        ("n-1", "u-1#email#ana@example.com"): "sent",
        ("n-1", "u-2#email#bob@example.org"): "sent",
        ("n-2", "u-1#email#ana@example.com"): "sent",
    }
    row = delivery_rows()[("n-1", "u-1#email#ana@example.com")]
    assert (row["notification_type"], row["target"], row["channel"]) == (
        "order_shipped",
        "ana@example.com",
        "email",
    )
    operations = [name for name, _ in dynamodb.attempts]
    assert operations.count("BatchGetItem") == 2, "one read of subscriptions, one of suppressions, per batch"
    assert operations.count("BatchWriteItem") == 1, "one delivery-log write per batch"


def test_a_duplicate_channel_message_sends_one_email(world: None, context: FakeLambdaContext) -> None:
    subscribe("u-1", {"ana@example.com": verified("t")})
    message = channel_message("n-9", "u-1")

    first = run(sqs_event(message, message), context)  # twice in one batch
    second = run(sqs_event(message), context)  # and redelivered later

    assert failed_ids(first) == failed_ids(second) == []
    assert mailed_addresses() == ["ana@example.com"]
    assert statuses() == {("n-9", "u-1#email#ana@example.com"): "sent"}


def test_the_same_notification_to_two_addresses_and_users_sends_each_once(
    world: None, context: FakeLambdaContext
) -> None:
    subscribe(
        "u-1", {"a@example.com": verified("t1"), "A@EXAMPLE.COM": verified("t2"), "b@example.com": verified()}
    )
    subscribe("u-2", {"a@example.com": verified("t3")})

    response = run(sqs_event(channel_message("n-1", "u-1"), channel_message("n-1", "u-2")), context)

    assert failed_ids(response) == []
    assert mailed_addresses() == ["A@EXAMPLE.COM", "b@example.com", "a@example.com"]
    assert set(statuses()) == {
        ("n-1", "u-1#email#a@example.com"),
        ("n-1", "u-1#email#b@example.com"),
        ("n-1", "u-2#email#a@example.com"),
    }, "one row per user and lower-cased address; case variants of one address are one recipient"


def test_a_suppressed_address_is_never_mailed(world: None, context: FakeLambdaContext) -> None:
    subscribe("u-1", {"Gone@Example.com": verified("t"), "ok@example.com": verified("t")})
    subscribe("u-2", {"angry@example.com": verified("t")})
    suppress("gone@example.com", "bounce")
    suppress("angry@example.com", "complaint")

    response = run(
        sqs_event(
            channel_message("n-1", "u-1"),
            channel_message("n-1", "u-2"),
            channel_message("n-2", "u-2", critical=True),
        ),
        context,
    )

    assert failed_ids(response) == []
    assert mailed_addresses() == ["ok@example.com"], (
        "critical types do not bypass the suppression list either"
    )
    rows = delivery_rows()
    assert rows[("n-1", "u-1#email#gone@example.com")]["status"] == "suppressed_bounce"
    assert rows[("n-1", "u-1#email#gone@example.com")]["reason"] == "on the suppression list (bounce)"
    assert rows[("n-1", "u-2#email#angry@example.com")]["reason"] == "on the suppression list (complaint)"
    assert rows[("n-2", "u-2#email#angry@example.com")]["status"] == "suppressed_bounce"
    assert rows[("n-1", "u-1#email#ok@example.com")]["status"] == "sent"


def test_users_without_a_verified_address_get_a_no_address_row(
    world: None, context: FakeLambdaContext
) -> None:
    subscribe("u-1", {"pending@example.com": {"status": "pending", "unsubscribe_token": "t"}})

    response = run(sqs_event(channel_message("n-1", "u-1"), channel_message("n-1", "u-unknown")), context)

    assert failed_ids(response) == []
    assert sent_mail() == []
    assert statuses() == {("n-1", "u-1#email#-"): "no_address", ("n-1", "u-unknown#email#-"): "no_address"}


def test_a_malformed_record_fails_alone_and_its_neighbours_are_delivered(
    world: None, context: FakeLambdaContext
) -> None:
    subscribe("u-1", {"ana@example.com": verified("t")})
    push = {**channel_message("n-1", "u-1"), "channel": "push"}
    no_subject = channel_message("n-3", "u-1", subject=" ")
    secret_body = '{"version": 1, "content": "SECRET-BODY-TEXT"'

    with capture_logs(logger) as logs:
        response = run(
            sqs_event(
                channel_message("n-1", "u-1"), secret_body, push, no_subject, channel_message("n-2", "u-1")
            ),
            context,
        )

    assert failed_ids(response) == ["m-1", "m-2", "m-3"]
    assert [mail.subject for mail in sent_mail()] == ["Order 1234 shipped"] * 2
    assert set(statuses()) == {("n-1", "u-1#email#ana@example.com"), ("n-2", "u-1#email#ana@example.com")}
    rejected = [r for r in logs() if r.get("decision") == "rejected"]
    assert [r["problem"] for r in rejected] == [
        "body is not JSON",
        "channel must be 'email', got 'push'",
        "content.subject is missing or empty",
    ]
    assert all("SECRET-BODY-TEXT" not in str(r) for r in logs()), "bodies are never logged"


def test_a_delivery_in_progress_elsewhere_fails_the_record_until_it_is_done(
    world: None, context: FakeLambdaContext
) -> None:
    subscribe("u-1", {"ana@example.com": verified("t"), "work@example.com": verified("t")})
    other = Deduplicator(TABLES["IDEMPOTENCY_TABLE"], 3600, "notification-service-email-worker")
    assert other.claim("n-1#u-1#email#ana@example.com") is Claim.CLAIMED

    response = run(sqs_event(channel_message("n-1", "u-1")), context)

    assert failed_ids(response) == ["m-0"]
    assert mailed_addresses() == ["work@example.com"], "the free address is sent, the held one is not"
    other.complete("n-1#u-1#email#ana@example.com")  # the other invocation sent it

    retry = run(sqs_event(channel_message("n-1", "u-1")), context)

    assert failed_ids(retry) == []
    assert mailed_addresses() == ["work@example.com"], "nothing is sent twice"


def test_logs_carry_the_notification_and_mask_addresses(world: None, context: FakeLambdaContext) -> None:
    subscribe("u-1", {"ana.long.name@example.com": verified("t"), "gone@example.com": verified("t")})
    suppress("gone@example.com")

    with capture_logs(logger) as logs:
        run(sqs_event(channel_message("n-7", "u-1"), channel_message("n-8", "u-nobody")), context)

    records = logs()
    per_message = [r for r in records if r.get("decision") in {"sent", "suppressed_bounce", "no_address"}]
    assert {(r["decision"], r["notification_id"], r["address"]) for r in per_message} == {
        ("sent", "n-7", "a***@example.com"),
        ("suppressed_bounce", "n-7", "g***@example.com"),
        ("no_address", "n-8", "-"),
    }
    text = "\n".join(map(str, records))
    assert "ana.long.name@" not in text and "gone@" not in text
    summary = records[-1]
    assert summary["message"] == "Processed email batch" and "notification_id" not in summary
    assert (summary["records"], summary["sent"], summary["failed_records"]) == (2, 1, 0)


def test_a_subscriptions_read_failure_fails_the_whole_batch(
    world: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe("u-1", {"ana@example.com": verified("t")})
    with no_sleep(monkeypatch):
        fail_attempts("dynamodb", "BatchGetItem", [("ProvisionedThroughputExceededException", 400)] * 3)
        with pytest.raises(Exception, match="ProvisionedThroughputExceeded"):
            run(sqs_event(channel_message("n-1", "u-1")), context)
    assert sent_mail() == [] and statuses() == {}


def test_a_delivery_log_failure_raises_and_the_redelivery_sends_nothing_twice(
    world: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe("u-1", {"ana@example.com": verified("t")})
    with no_sleep(monkeypatch):
        fail_attempts("dynamodb", "BatchWriteItem", [("InternalServerError", 500)] * 3)
        with pytest.raises(Exception, match="InternalServerError"):
            run(sqs_event(channel_message("n-1", "u-1")), context)
    assert mailed_addresses() == ["ana@example.com"]

    assert failed_ids(run(sqs_event(channel_message("n-1", "u-1")), context)) == []
    assert mailed_addresses() == ["ana@example.com"]


def test_delivery_log_rows_lost_when_the_final_write_fails_are_written_by_the_retry(
    world: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry found the claims complete, sent nothing and wrote no row."""
    subscribe("u-1", {"refused@example.com": verified("t")})
    subscribe("u-2", {"ana@example.com": verified("t"), "gone@example.com": verified("t")})
    suppress("gone@example.com")
    batch = sqs_event(
        channel_message("n-1", "u-1"), channel_message("n-1", "u-2"), channel_message("n-1", "u-3")
    )
    with no_sleep(monkeypatch):
        fail_attempts("sesv2", "SendEmail", [("MessageRejected", 400)])  # the first address: permanent
        fail_attempts("dynamodb", "BatchWriteItem", [("InternalServerError", 500)] * 3)
        with pytest.raises(Exception, match="InternalServerError"):
            run(batch, context)
    assert statuses() == {} and mailed_addresses() == ["ana@example.com"]

    assert failed_ids(run(batch, context)) == []  # SQS redelivers the whole batch

    assert mailed_addresses() == ["ana@example.com"], "nothing is sent twice"
    rows = delivery_rows()
    assert {key: row["status"] for key, row in rows.items()} == {
        ("n-1", "u-1#email#refused@example.com"): "failed",
        ("n-1", "u-2#email#ana@example.com"): "sent",
        ("n-1", "u-2#email#gone@example.com"): "suppressed_bounce",
        ("n-1", "u-3#email#-"): "no_address",
    }
    assert str(rows[("n-1", "u-1#email#refused@example.com")]["reason"]).startswith("MessageRejected")
    assert rows[("n-1", "u-2#email#ana@example.com")]["notification_type"] == "order_shipped"


def test_ses_identity_and_configuration_set_are_passed(
    world: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe("u-1", {"ana@example.com": verified("t")})
    monkeypatch.setenv("SES_IDENTITY_ARN", "arn:aws:ses:us-east-1:123456789012:identity/example.com")
    sesv2 = record_calls("sesv2")
    # moto has no configuration sets for SES v2 SendEmail to check; the request is what matters here.
    monkeypatch.setenv("SES_CONFIGURATION_SET", "notification-service")

    run(sqs_event(channel_message("n-1", "u-1")), context)

    [request] = sesv2.params("SendEmail")
    assert request["FromEmailAddressIdentityArn"] == "arn:aws:ses:us-east-1:123456789012:identity/example.com"
    assert request["ConfigurationSetName"] == "notification-service"


def test_without_a_template_no_unsubscribe_header_is_sent(
    world: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UNSUBSCRIBE_URL_TEMPLATE")
    subscribe("u-1", {"ana@example.com": verified("t")})
    sesv2 = record_calls("sesv2")

    run(sqs_event(channel_message("n-1", "u-1")), context)

    assert [headers_of(r) for r in sesv2.params("SendEmail")] == [{}]


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("SENDER_ADDRESS", "", "SENDER_ADDRESS is not set"),
        ("SENDER_ADDRESS", "not-an-address", "not an email address"),
        ("UNSUBSCRIBE_URL_TEMPLATE", "https://x.example/u", "must contain {token}"),
        ("UNSUBSCRIBE_URL_TEMPLATE", "http://x.example/{token}", "https://"),
        ("EMAIL_SUPPRESSIONS_TABLE", "", "EMAIL_SUPPRESSIONS_TABLE is not set"),
        ("IDEMPOTENCY_TABLE", "", "IDEMPOTENCY_TABLE is not set"),
    ],
)
def test_a_bad_configuration_fails_the_invocation_before_sending(
    name: str,
    value: str,
    problem: str,
    world: None,
    context: FakeLambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subscribe("u-1", {"ana@example.com": verified("t")})
    monkeypatch.setenv(name, value)
    email_worker.deduplicator_from_env.cache_clear()

    with pytest.raises(ConfigurationError, match=problem.replace("{", r"\{").replace("}", r"\}")):
        run(sqs_event(channel_message("n-1", "u-1")), context)
    assert sent_mail() == []
