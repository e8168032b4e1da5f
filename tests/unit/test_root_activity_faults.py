"""Fault injection into the root activity handler's SNS Publish, through botocore's real retry machinery.

``FakeAws`` (conftest) answers the real SNS client at its ``before-send`` hook, so every attempt goes
through botocore's serializer, its standard-mode retry handler (which errors, how many attempts, backoff,
retry quota) and its error parser. Transient faults are retried by the SDK; permanent ones are not, are
logged with their code and raised, so Lambda's async retries run and then the event is dead-lettered.
Nothing is lost and, apart from the documented lost-response case, nothing is published twice.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import (
    THROTTLING_FAULTS,
    TRANSIENT_FAULTS,
    Attempt,
    FakeAws,
    FakeLambdaContext,
    Fault,
    capture_logs,
    examples,
    invoke_async,
    load_event,
)
from hypothesis import given
from hypothesis import strategies as st

from notification_handlers import aws_clients, root_activity
from notification_handlers.root_activity import handler

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:root-activity"
PERMANENT_FAULTS = (
    Fault("permanent", "NotFound", 404),  # the topic was deleted
    Fault("permanent", "AuthorizationError", 403),  # the role lost sns:Publish
    Fault("permanent", "KMSAccessDenied", 400),  # the key policy does not let the role use the topic's CMK
    Fault("permanent", "KMSThrottling", 400),  # modeled as a plain 400: left to Lambda's retries
    Fault("permanent", "InvalidParameter", 400),
)


def fault_id(fault: Fault) -> str:
    return f"{fault.kind}-{fault.code}"


def error_code(error: BaseException) -> str:
    if isinstance(error, ClientError):
        return str(error.response["Error"]["Code"])
    return type(error).__name__


@pytest.fixture(autouse=True)
def topic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNS_TOPIC_ARN", TOPIC_ARN)


def test_clients_use_explicit_standard_retries_whatever_the_environment_says(
    fake_aws: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "10")
    for service in ("sns", "sesv2"):
        config = aws_clients.client(service).meta.config
        assert config.retries == {"mode": "standard", "total_max_attempts": 3}
        assert (config.connect_timeout, config.read_timeout) == (3, 5)


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS, ids=fault_id)
def test_a_transient_fault_is_retried_by_the_sdk_with_backoff_and_published_once(
    fault: Fault, fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    fake_aws.fail_first(fault, fault)

    with capture_logs(root_activity.logger) as logs:
        result = handler(load_event("root_console_sign_in"), lambda_context)

    assert [(a.attempt, a.max_attempts, a.fault) for a in fake_aws.attempts] == [
        (1, 3, fault),
        (2, 3, fault),
        (3, 3, None),
    ]
    assert len({a.invocation_id for a in fake_aws.attempts}) == 1, "one API call, retried by the SDK"
    [delivery] = fake_aws.deliveries
    assert result == {"status": "published", "message_id": delivery.message_id}
    # Standard mode: full jitter under base * 2**retry; base 1 s after a throttle, 50 ms otherwise.
    base = 1.0 if fault in THROTTLING_FAULTS else 0.05
    assert len(fake_aws.sleeps) == 2
    assert all(0 <= delay <= base * 2**retry for retry, delay in enumerate(fake_aws.sleeps)), fake_aws.sleeps
    assert [r for r in logs() if r["level"] == "ERROR"] == []


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS, ids=fault_id)
def test_a_persistent_transient_fault_stops_after_3_attempts_and_dead_letters_with_its_code(
    fault: Fault, fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    fake_aws.plan = lambda _attempt: fault
    event = load_event("root_api_call")

    with capture_logs(root_activity.logger) as logs:
        outcome = invoke_async(handler, event, lambda_context)

    assert outcome.dead_lettered and outcome.invocations == 3
    assert fake_aws.attempts_per_request() == [3, 3, 3], "3 SDK attempts in each of Lambda's 3 invocations"
    assert fake_aws.deliveries == []
    assert [error_code(e) for e in outcome.errors] == [fault.code] * 3
    errors = [r for r in logs() if r["level"] == "ERROR"]
    assert [r["error_code"] for r in errors] == [fault.code] * 3
    assert all(r["message"].startswith("SNS publish failed") for r in errors)


@pytest.mark.parametrize("fault", PERMANENT_FAULTS, ids=fault_id)
def test_a_permanent_fault_is_not_retried_by_the_sdk_and_is_raised_with_its_code(
    fault: Fault, fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    fake_aws.plan = lambda _attempt: fault

    with capture_logs(root_activity.logger) as logs:
        outcome = invoke_async(handler, load_event("root_console_sign_in"), lambda_context)

    assert fake_aws.attempts_per_request() == [1, 1, 1], "no SDK retry; Lambda retries the invocation"
    assert fake_aws.sleeps == [] and fake_aws.deliveries == []
    assert outcome.dead_lettered
    assert all(isinstance(e, ClientError) and error_code(e) == fault.code for e in outcome.errors)
    assert fault.code in outcome.dlq_error_message
    assert [r["error_code"] for r in logs() if r["level"] == "ERROR"] == [fault.code] * 3


def test_lambdas_retry_publishes_once_when_the_outage_ends(
    fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    outage = Fault("5xx", "InternalError", 500)
    fake_aws.fail_first(*[outage] * 4)

    outcome = invoke_async(handler, load_event("root_console_sign_in"), lambda_context)

    assert outcome.invocations == 2 and outcome.result is not None
    assert fake_aws.attempts_per_request() == [3, 2]
    [delivery] = fake_aws.deliveries
    assert outcome.result["message_id"] == delivery.message_id


def test_a_lost_response_is_retried_and_publishes_twice_at_least_once_by_design(
    fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    """SNS accepted the message but the response timed out: the SDK cannot know and retries. SNS itself is
    at-least-once; subscribers dedupe on the CloudTrail event ID the message carries."""
    fake_aws.lost_responses = lambda attempt: attempt.attempt == 1

    result = handler(load_event("root_console_sign_in"), lambda_context)

    first, second = fake_aws.deliveries
    assert result["message_id"] == second.message_id
    assert first.params["Message"] == second.params["Message"]
    assert "CloudTrail event ID: deb1e1f9-c99b-4612-8e9f-21f93b5d79c0" in first.params["Message"]


def test_the_retry_quota_makes_a_warm_container_fail_fast_when_sns_is_down(
    fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    fake_aws.plan = lambda _attempt: Fault("5xx", "ServiceUnavailable", 503)

    for _ in range(30):
        with pytest.raises(ClientError, match="ServiceUnavailable"):
            handler(load_event("root_console_sign_in"), lambda_context)

    per_call = fake_aws.attempts_per_request()
    assert per_call[0] == 3 and per_call[-1] == 1, per_call
    assert per_call == sorted(per_call, reverse=True), "once the quota is spent, calls stop retrying"
    assert sum(per_call) < 3 * 30


FAULTS = st.sampled_from((*TRANSIENT_FAULTS, *PERMANENT_FAULTS))


@examples(80)
@given(schedule=st.lists(st.none() | FAULTS, max_size=10))
def test_any_fault_schedule_publishes_exactly_once_or_dead_letters_with_the_last_code(
    schedule: list[Fault | None], fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    fake_aws.reset()
    aws_clients.reset_clients()  # a fresh retry quota: each example is its own execution environment
    fake_aws.fail_first(*schedule)

    outcome = invoke_async(handler, load_event("root_api_call"), lambda_context)

    calls: dict[str, list[Attempt]] = {}
    for attempt in fake_aws.attempts:
        calls.setdefault(attempt.invocation_id, []).append(attempt)
    assert len(calls) == outcome.invocations
    for attempts in calls.values():  # standard mode, call by call
        *retried, last = attempts
        assert len(attempts) <= 3
        assert all(a.fault is not None and a.fault.transient for a in retried), (
            "only transient faults retried"
        )
        assert last.fault is None or not last.fault.transient or len(attempts) == 3
    if outcome.dead_lettered:
        assert fake_aws.deliveries == []
        last: Any = fake_aws.attempts[-1].fault
        assert last is not None and error_code(outcome.errors[-1]) == last.code
    else:
        [delivery] = fake_aws.deliveries
        assert outcome.result == {"status": "published", "message_id": delivery.message_id}
        assert fake_aws.attempts[-1].fault is None
