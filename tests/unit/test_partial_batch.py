"""The SQS partial batch response helper the router and the channel workers use.

It replaced Powertools' ``BatchProcessor`` for cold-start time (docs/benchmarks.md), so its responses
are checked against that processor's for any pattern of failures, besides the rules one by one.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from hypothesis import given
from hypothesis import strategies as st

from notification_handlers.event_fields import MalformedEventError
from notification_handlers.service import partial_batch
from notification_handlers.service.partial_batch import EntireBatchFailedError
from tests.unit.conftest import FakeLambdaContext, load_event


def sqs_event(*message_ids: str) -> dict[str, Any]:
    template = load_event("notification_service_email_queue_batch")["Records"][0]
    return {"Records": [{**template, "messageId": message_id} for message_id in message_ids]}


def failing_on(*bad: str) -> Any:
    def handle(message_id: str) -> None:
        if message_id in bad:
            raise RuntimeError(f"{message_id} failed")

    return handle


def test_failed_records_are_reported_in_batch_order_and_the_others_still_run() -> None:
    records = partial_batch.sqs_records(sqs_event("m-1", "m-2", "m-3", "m-4"))
    ran: list[str] = []

    def handle(message_id: str) -> None:
        ran.append(message_id)
        failing_on("m-3", "m-1")(message_id)

    failures = partial_batch.run_each(records, handle)
    assert ran == ["m-1", "m-2", "m-3", "m-4"]
    assert sorted(failures) == ["m-1", "m-3"] and str(failures["m-3"]) == "m-3 failed"
    assert partial_batch.response(records, failures, raise_if_all_failed=True) == {
        "batchItemFailures": [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-3"}]
    }


def test_a_batch_without_failures_reports_an_empty_list() -> None:
    records = partial_batch.sqs_records(sqs_event("m-1", "m-2"))
    outcomes: dict[str, Exception | None] = {"m-1": None, "m-2": None}
    assert partial_batch.response(records, outcomes, raise_if_all_failed=True) == {"batchItemFailures": []}


def test_an_entire_failed_batch_raises_chained_to_the_first_failure_when_asked() -> None:
    records = partial_batch.sqs_records(sqs_event("m-1", "m-2"))
    failures = partial_batch.run_each(records, failing_on("m-1", "m-2"))
    with pytest.raises(EntireBatchFailedError, match="All 2 records failed") as raised:
        partial_batch.response(records, failures, raise_if_all_failed=True)
    assert raised.value.__cause__ is failures["m-1"]
    assert raised.value.failures == failures
    assert partial_batch.response(records, failures, raise_if_all_failed=False) == {
        "batchItemFailures": [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}]
    }


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({}, "Records is missing or not a list"),
        ([], "Records is missing or not a list"),
        ({"Records": {"messageId": "m-1"}}, "Records is missing or not a list"),
        ({"Records": []}, "Records is empty"),
        ({"Records": [{"body": "{}"}]}, r"Records\[0\].messageId is missing"),
        ({"Records": [{"messageId": "m-1"}, "m-2"]}, r"Records\[1\].messageId is missing"),
        ({"Records": [{"messageId": 7}]}, r"Records\[0\].messageId is missing"),
    ],
)
def test_an_event_that_is_not_an_sqs_batch_is_rejected_with_the_reason(event: object, problem: str) -> None:
    with pytest.raises(MalformedEventError, match=problem):
        partial_batch.sqs_records(event)


@given(
    outcomes=st.lists(st.booleans(), min_size=1, max_size=12),
    raise_if_all_failed=st.booleans(),
)
def test_the_response_is_the_one_powertools_batch_processor_gives(
    outcomes: list[bool], raise_if_all_failed: bool
) -> None:
    event = sqs_event(*(f"m-{index}" for index in range(len(outcomes))))
    bad = [f"m-{index}" for index, ok in enumerate(outcomes) if not ok]
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=raise_if_all_failed)

    def powertools() -> Any:
        return process_partial_response(
            event=event,
            record_handler=lambda record: failing_on(*bad)(record.message_id),
            processor=processor,
            context=FakeLambdaContext(),
        )

    def ours() -> Any:
        records = partial_batch.sqs_records(event)
        failures = partial_batch.run_each(records, failing_on(*bad))
        return partial_batch.response(records, failures, raise_if_all_failed=raise_if_all_failed)

    if raise_if_all_failed and len(bad) == len(outcomes):
        with pytest.raises(BatchProcessingError):
            powertools()
        with pytest.raises(EntireBatchFailedError):
            ours()
    else:
        assert ours() == powertools()
