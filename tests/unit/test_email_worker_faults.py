"""Fault injection into the email worker's SES v2 SendEmail calls, with DynamoDB on moto.

``FakeAws`` (conftest) answers the SES v2 client only (built by ``aws_clients`` with its retry config), at
its ``before-send`` hook, so botocore's real standard-mode retries decide what is retried; the tables,
idempotency records and delivery log stay on moto. What must hold, counted from what SES accepted: a
fault the SDK cannot clear fails only the record it belongs to, its claim is released so the redelivery
sends it exactly once, and nothing already sent is sent again; a permanent refusal is a ``failed`` row,
not a retry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import botocore.endpoint
import pytest
from conftest import TRANSIENT_FAULTS, Attempt, FakeAws, FakeLambdaContext, Fault, capture_logs

from notification_handlers import aws_clients
from notification_handlers.service.email_worker import PERMANENT_SES_ERRORS, handler
from notification_handlers.service.log import logger
from tests.unit.email_service_fakes import (
    channel_message,
    delivery_rows,
    email_world,
    failed_ids,
    sqs_event,
    statuses,
    subscribe,
    verified,
)

PERMANENT_FAULTS = (
    Fault("permanent", "MessageRejected", 400),
    Fault("permanent", "MailFromDomainNotVerifiedException", 400),
    Fault("permanent", "NotFoundException", 404),
    Fault("permanent", "AccountSuspendedException", 400),
    Fault("permanent", "SendingPausedException", 400),
    Fault("permanent", "BadRequestException", 400),
)
# Not retried by the SDK (not throttling or 5xx) and not in PERMANENT_SES_ERRORS: the record is retried.
UNLISTED_FAULTS = (
    Fault("permanent", "LimitExceededException", 400),  # the account's sending quota
    Fault("permanent", "AccessDeniedException", 403),  # a missing permission a deployment fixes
)


def fault_id(fault: Fault) -> str:
    return f"{fault.kind}-{fault.code}"


@pytest.fixture
def fake_ses(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAws]:
    """moto for everything, except SES v2, which ``FakeAws`` answers; botocore's backoff is recorded."""
    with email_world(monkeypatch):
        fake = FakeAws()
        real_client = boto3.client

        def client(service_name: str, **kwargs: Any) -> Any:
            if service_name == "sesv2":
                return fake.session.client(service_name, **kwargs)
            return real_client(service_name, **kwargs)

        monkeypatch.setattr(aws_clients, "boto3", SimpleNamespace(client=client))
        monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=fake.sleep))
        aws_clients.reset_clients()
        subscribe("u-0", {"a@example.com": verified("ta")})
        subscribe("u-1", {"b@example.com": verified("tb")})
        subscribe("u-2", {"c@example.com": verified("tc")})
        yield fake


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext(function_name="notification-service-email-worker")


def to(attempt: Attempt) -> str:
    return str(attempt.params["Destination"]["ToAddresses"][0])


def mailed(fake: FakeAws) -> Counter[str]:
    """How many times SES accepted an email, per address."""
    return Counter(str(d.params["Destination"]["ToAddresses"][0]) for d in fake.deliveries)


def batch() -> dict[str, Any]:
    return sqs_event(*(channel_message("n-1", f"u-{n}") for n in range(3)))


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS, ids=fault_id)
def test_a_transient_fault_the_sdk_cannot_clear_fails_only_that_record(
    fault: Fault, fake_ses: FakeAws, context: FakeLambdaContext
) -> None:
    fake_ses.plan = lambda attempt: fault if to(attempt) == "b@example.com" else None

    with capture_logs(logger) as logs:
        response = handler(batch(), context)

    assert failed_ids(response) == ["m-1"]
    assert mailed(fake_ses) == {"a@example.com": 1, "c@example.com": 1}
    assert fake_ses.attempts_per_request() == [1, 3, 1], "the SDK retried the failing call 3 times in all"
    assert statuses() == {
        ("n-1", "u-0#email#a@example.com"): "sent",
        ("n-1", "u-2#email#c@example.com"): "sent",
    }
    [warning] = [r for r in logs() if r.get("decision") == "retry"]
    assert (warning["error_code"], warning["address"], warning["notification_id"]) == (
        fault.code,
        "b***@example.com",
        "n-1",
    )

    fake_ses.plan = lambda _attempt: None  # SES recovers; SQS redelivers the whole batch's failures
    redelivery = sqs_event(channel_message("n-1", "u-1"))
    redelivery["Records"][0]["messageId"] = "m-1"
    assert failed_ids(handler(redelivery, context)) == []
    assert mailed(fake_ses) == {"a@example.com": 1, "b@example.com": 1, "c@example.com": 1}
    assert statuses()[("n-1", "u-1#email#b@example.com")] == "sent"


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS[::2], ids=fault_id)
def test_a_transient_fault_the_sdk_clears_costs_nothing(
    fault: Fault, fake_ses: FakeAws, context: FakeLambdaContext
) -> None:
    fake_ses.fail_first(fault, fault)

    response = handler(batch(), context)

    assert failed_ids(response) == []
    assert fake_ses.attempts_per_request() == [3, 1, 1]
    assert len(fake_ses.sleeps) == 2
    assert mailed(fake_ses) == {"a@example.com": 1, "b@example.com": 1, "c@example.com": 1}


@pytest.mark.parametrize("fault", PERMANENT_FAULTS, ids=fault_id)
def test_a_permanent_ses_error_is_a_failed_row_and_never_retried(
    fault: Fault, fake_ses: FakeAws, context: FakeLambdaContext
) -> None:
    assert fault.code in PERMANENT_SES_ERRORS
    fake_ses.plan = lambda attempt: fault if to(attempt) == "b@example.com" else None

    with capture_logs(logger) as logs:
        response = handler(batch(), context)

    assert failed_ids(response) == []
    assert fake_ses.attempts_per_request() == [1, 1, 1], "not retried by the SDK either"
    row = delivery_rows()[("n-1", "u-1#email#b@example.com")]
    assert row["status"] == "failed"
    assert row["reason"] == f"{fault.code}: injected permanent"
    [error] = [r for r in logs() if r.get("decision") == "failed"]
    assert (error["level"], error["error_code"], error["address"]) == (
        "ERROR",
        fault.code,
        "b***@example.com",
    )

    fake_ses.plan = lambda _attempt: None
    assert failed_ids(handler(batch(), context)) == []  # a redelivery of the same messages
    assert mailed(fake_ses) == {"a@example.com": 1, "c@example.com": 1}, "the refused address is not retried"


@pytest.mark.parametrize("fault", UNLISTED_FAULTS, ids=fault_id)
def test_an_unlisted_error_is_retried_through_the_queue_not_recorded(
    fault: Fault, fake_ses: FakeAws, context: FakeLambdaContext
) -> None:
    fake_ses.plan = lambda attempt: fault if to(attempt) == "c@example.com" else None

    response = handler(batch(), context)

    assert failed_ids(response) == ["m-2"]
    assert ("n-1", "u-2#email#c@example.com") not in statuses()


def test_one_failing_address_of_a_message_retries_only_that_address(
    fake_ses: FakeAws, context: FakeLambdaContext
) -> None:
    subscribe(
        "u-1",
        {"b@example.com": verified("tb"), "b2@example.com": verified("tb2"), "b3@example.com": verified()},
    )
    throttle = TRANSIENT_FAULTS[0]
    fake_ses.plan = lambda attempt: throttle if to(attempt) == "b2@example.com" else None

    response = handler(sqs_event(channel_message("n-5", "u-1")), context)

    assert failed_ids(response) == ["m-0"]
    assert mailed(fake_ses) == {"b@example.com": 1, "b3@example.com": 1}
    fake_ses.plan = lambda _attempt: None

    assert failed_ids(handler(sqs_event(channel_message("n-5", "u-1")), context)) == []
    assert mailed(fake_ses) == {"b@example.com": 1, "b2@example.com": 1, "b3@example.com": 1}
    assert set(statuses().values()) == {"sent"} and len(statuses()) == 3


def test_every_record_failing_is_reported_not_raised(fake_ses: FakeAws, context: FakeLambdaContext) -> None:
    fake_ses.plan = lambda _attempt: TRANSIENT_FAULTS[3]  # InternalError on every attempt

    response = handler(batch(), context)

    assert failed_ids(response) == ["m-0", "m-1", "m-2"]
    assert fake_ses.deliveries == [] and statuses() == {}
