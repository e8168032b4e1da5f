"""Fault injection into the S3 object notifier's SES v2 SendEmail calls (several emails per event).

``FakeAws`` (conftest) answers the real SES v2 client at its ``before-send`` hook, so botocore's own retry
machinery decides what is retried. What must hold, counted from what SES received: a fault on record k
loses none of the records after it (Lambda's retry mails them) and a warm retry does not mail the records
before it again (the handler's in-memory fingerprints). The documented limits are tested as such: a
retry on a cold environment mails the earlier records again, and the memory keeps the last
``SENT_MEMORY_SIZE`` records only.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import (
    THROTTLING_FAULTS,
    TIMEOUT_FAULTS,
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

from notification_handlers import aws_clients, s3_object_notifier
from notification_handlers.s3_object_notifier import handler

SENDER = "s3-alerts@example.com"
MESSAGE_REJECTED = Fault("permanent", "MessageRejected", 400)
PERMANENT_FAULTS = (
    MESSAGE_REJECTED,  # e.g. the sender identity is not verified
    Fault("permanent", "SendingPausedException", 400),
    Fault("permanent", "AccountSuspendedException", 400),
    Fault("permanent", "NotFoundException", 404),  # the configuration set was deleted
)


def fault_id(fault: Fault) -> str:
    return f"{fault.kind}-{fault.code}"


def error_code(error: BaseException) -> str:
    if isinstance(error, ClientError):
        return str(error.response["Error"]["Code"])
    return type(error).__name__


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENDER", SENDER)
    monkeypatch.setenv("RECIPIENTS", "ops@example.com")
    for name in ("CONFIGURATION_SET", "SES_IDENTITY_ARN", "SUBJECT_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    s3_object_notifier.forget_sent_records()


def event_of(count: int) -> dict[str, Any]:
    """An S3 event with ``count`` records for the objects obj-0 ... obj-<count-1>."""
    template = load_event("s3_object_created_put")["Records"][0]
    records = []
    for index in range(count):
        record = load_event("s3_object_created_put")["Records"][0] if index else template
        record["s3"]["object"]["key"] = f"obj-{index}"
        records.append(record)
    return {"Records": records}


def key_of(attempt: Attempt) -> str:
    """Which record an attempt mails (the subject ends with s3://bucket/<key>)."""
    return str(attempt.params["Content"]["Simple"]["Subject"]["Data"]).rsplit("/", 1)[-1]


def mailed(fake: FakeAws) -> Counter[str]:
    """How many times SES accepted an email for each key."""
    return Counter(
        str(d.params["Content"]["Simple"]["Subject"]["Data"]).rsplit("/", 1)[-1] for d in fake.deliveries
    )


def cold_start(_retry: int) -> None:
    """Lambda's retry lands on a new execution environment: empty memory, new clients."""
    s3_object_notifier.forget_sent_records()
    aws_clients.reset_clients()


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS, ids=fault_id)
def test_a_transient_ses_fault_is_retried_by_the_sdk_and_every_record_is_mailed_once(
    fault: Fault, fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    fake_aws.fail_first(fault, fault)

    with capture_logs(s3_object_notifier.logger) as logs:
        result = handler(event_of(3), lambda_context)

    assert fake_aws.attempts_per_request() == [3, 1, 1]
    assert [a.max_attempts for a in fake_aws.attempts] == [3] * 5
    assert mailed(fake_aws) == {"obj-0": 1, "obj-1": 1, "obj-2": 1}
    assert result == {
        "status": "sent",
        "message_ids": [d.message_id for d in fake_aws.deliveries],
        "duplicates": 0,
    }
    base = 1.0 if fault in THROTTLING_FAULTS else 0.05
    assert len(fake_aws.sleeps) == 2
    assert all(0 <= delay <= base * 2**retry for retry, delay in enumerate(fake_aws.sleeps)), fake_aws.sleeps
    assert [r for r in logs() if r["level"] == "ERROR"] == []


@pytest.mark.parametrize(
    "fault", PERMANENT_FAULTS + TRANSIENT_FAULTS[:1] + TRANSIENT_FAULTS[-1:], ids=fault_id
)
def test_an_ses_fault_the_sdk_cannot_clear_is_logged_with_its_code_and_raised(
    fault: Fault, fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    fake_aws.plan = lambda attempt: fault if key_of(attempt) == "obj-1" else None

    with capture_logs(s3_object_notifier.logger) as logs, pytest.raises(Exception) as raised:
        handler(event_of(3), lambda_context)

    assert error_code(raised.value) == fault.code
    assert fake_aws.attempts_per_request() == [1, 3 if fault.transient else 1]
    assert len(fake_aws.sleeps) == (2 if fault.transient else 0)
    assert mailed(fake_aws) == {"obj-0": 1}, "stops at the failing record; Lambda's retry mails the rest"
    [error] = [r for r in logs() if r["level"] == "ERROR"]
    assert (error["error_code"], error["record"], error["key"]) == (fault.code, 1, "obj-1")


@pytest.mark.parametrize("k", [0, 2, 4])
@pytest.mark.parametrize("fault", [MESSAGE_REJECTED, TIMEOUT_FAULTS[0]], ids=fault_id)
def test_a_fault_on_record_k_loses_nothing_and_a_warm_retry_sends_nothing_twice(
    k: int, fault: Fault, fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    failures = {"left": 1 if not fault.transient else 3}  # one whole failed SendEmail call

    def plan(attempt: Attempt) -> Fault | None:
        if key_of(attempt) == f"obj-{k}" and failures["left"]:
            failures["left"] -= 1
            return fault
        return None

    fake_aws.plan = plan

    outcome = invoke_async(handler, event_of(5), lambda_context)

    assert outcome.invocations == 2 and outcome.result is not None
    assert mailed(fake_aws) == {f"obj-{i}": 1 for i in range(5)}, "each record exactly once"
    assert outcome.result["duplicates"] == k, "the retry skipped the records mailed before the fault"
    assert error_code(outcome.errors[0]) == fault.code


@pytest.mark.parametrize("k", [1, 3])
def test_a_retry_on_a_cold_environment_mails_the_records_before_k_again_documented_limit(
    k: int, fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    failures = {"left": 1}

    def plan(attempt: Attempt) -> Fault | None:
        if key_of(attempt) == f"obj-{k}" and failures["left"]:
            failures["left"] -= 1
            return MESSAGE_REJECTED
        return None

    fake_aws.plan = plan

    outcome = invoke_async(handler, event_of(4), lambda_context, before_retry=cold_start)

    assert outcome.result is not None and outcome.result["duplicates"] == 0
    assert mailed(fake_aws) == {f"obj-{i}": 2 if i < k else 1 for i in range(4)}, (
        "lost nothing; sent some twice"
    )


def test_an_event_whose_record_k_always_fails_is_dead_lettered_with_nothing_lost(
    fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    fake_aws.plan = lambda attempt: MESSAGE_REJECTED if key_of(attempt) == "obj-2" else None
    event = event_of(5)

    outcome = invoke_async(handler, event, lambda_context)

    assert outcome.dead_lettered and "MessageRejected" in outcome.dlq_error_message
    assert mailed(fake_aws) == {"obj-0": 1, "obj-1": 1}, "mailed once, not once per Lambda attempt"
    # The DLQ holds the whole event: the records not mailed are in it, so none is lost.
    in_dlq = {record["s3"]["object"]["key"] for record in event["Records"]}
    assert set(mailed(fake_aws)) | in_dlq == {f"obj-{i}" for i in range(5)}


def test_the_memory_keeps_only_the_last_records_documented_limit(
    fake_aws: FakeAws, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_object_notifier, "SENT_MEMORY_SIZE", 3)
    failures = {"left": 1}

    def plan(attempt: Attempt) -> Fault | None:
        if key_of(attempt) == "obj-4" and failures["left"]:
            failures["left"] -= 1
            return MESSAGE_REJECTED
        return None

    fake_aws.plan = plan

    outcome = invoke_async(handler, event_of(5), lambda_context)

    # obj-0..3 were mailed, the memory kept obj-1..3: only obj-0 (evicted) is mailed again.
    assert outcome.result is not None and outcome.result["duplicates"] == 3
    assert mailed(fake_aws) == {"obj-0": 2, "obj-1": 1, "obj-2": 1, "obj-3": 1, "obj-4": 1}


def test_a_malformed_record_and_an_ses_fault_together_lose_nothing(
    fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    event = event_of(4)
    del event["Records"][1]["s3"]["bucket"]["name"]
    fake_aws.fail_first(MESSAGE_REJECTED)  # the first SendEmail (obj-0) fails once

    outcome = invoke_async(handler, event, lambda_context)

    assert outcome.dead_lettered  # the malformed record makes every attempt raise
    assert error_code(outcome.errors[0]) == "MessageRejected"
    assert outcome.dlq_error_message == (
        "1 of 4 S3 record(s) malformed: Records[1]: s3.bucket.name is missing"
        " (3 valid record(s) mailed, 3 of them by an earlier attempt)"
    )
    assert mailed(fake_aws) == {"obj-0": 1, "obj-2": 1, "obj-3": 1}


FAULTS = st.sampled_from((*TRANSIENT_FAULTS, *PERMANENT_FAULTS))


@examples(60)
@given(
    records=st.integers(min_value=1, max_value=6),
    schedule=st.lists(st.none() | FAULTS, max_size=14),
    cold=st.booleans(),
)
def test_any_fault_schedule_loses_no_record_and_a_warm_retry_sends_none_twice(
    records: int,
    schedule: list[Fault | None],
    cold: bool,
    fake_aws: FakeAws,
    lambda_context: FakeLambdaContext,
) -> None:
    fake_aws.reset()
    aws_clients.reset_clients()
    s3_object_notifier.forget_sent_records()
    fake_aws.fail_first(*schedule)

    outcome = invoke_async(
        handler, event_of(records), lambda_context, before_retry=cold_start if cold else lambda _n: None
    )

    counts = mailed(fake_aws)
    keys = {f"obj-{i}" for i in range(records)}
    assert set(counts) <= keys
    if cold:
        assert all(n <= outcome.invocations for n in counts.values()), "at most once per attempt"
    else:
        assert all(n == 1 for n in counts.values()), f"a warm retry mailed a record twice: {counts}"
    if outcome.dead_lettered:
        last = fake_aws.attempts[-1].fault
        assert last is not None and error_code(outcome.errors[-1]) == last.code
        if not cold:  # a record mailed once is skipped by a warm retry, so the failing one never went out
            assert key_of(fake_aws.attempts[-1]) not in counts
    else:
        assert set(counts) == keys, "the event succeeded, so every record was mailed"
        assert outcome.result is not None
        assert len(outcome.result["message_ids"]) + outcome.result["duplicates"] == records
