"""SQS partial batch responses (``ReportBatchItemFailures``) for the router and the channel workers.

Run a handler per record, keep each record's exception, and report the message ids that failed as
``{"batchItemFailures": [{"itemIdentifier": id}, ...]}``: SQS deletes the others and redelivers those.

Why not Powertools' ``BatchProcessor``, which does the same: importing
``aws_lambda_powertools.utilities.batch`` costs about 19 ms of every cold start (it loads asyncio and
every event data class), which took the router and the workers past the 25 ms cold-start budget
(docs/benchmarks.md); the handlers use none of its other features (FIFO, Kinesis, DynamoDB streams,
pydantic models, async). The response and the entire-batch-failure rule are the same as its.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from notification_handlers.event_fields import MalformedEventError, type_name
from notification_handlers.service.log import logger

Records = Sequence[Mapping[str, Any]]
PartialBatchResponse = dict[str, list[dict[str, str]]]


class EntireBatchFailedError(Exception):
    """Every record of the batch failed: raised so the invocation counts as an error (Lambda's error
    metric and the event source mapping's back-off see it), rather than returned as a response that
    lists every record."""

    def __init__(self, failures: Mapping[str, Exception]) -> None:
        self.failures = dict(failures)
        first = next(iter(self.failures.values()), None)
        super().__init__(f"All {len(self.failures)} records failed processing; the first: {first!r}")


def sqs_records(event: object) -> Records:
    """The event's SQS records, each with a string ``messageId``.

    Otherwise the problem is logged and ``MalformedEventError`` raised: the invocation fails, Lambda
    retries it and then its on-failure handling applies (an event source mapping never sends one).
    """
    try:
        return _checked_records(event)
    except MalformedEventError as error:
        logger.error("Rejected malformed event", extra={"decision": "rejected", "problem": str(error)})
        raise


def _checked_records(event: object) -> Records:
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list):
        raise MalformedEventError(
            f"Records is missing or not a list (got {type_name(records)}): not an SQS event"
        )
    if not records:
        raise MalformedEventError("Records is empty: not an SQS batch")
    for index, record in enumerate(records):
        if not isinstance(record, Mapping) or not isinstance(record.get("messageId"), str):
            raise MalformedEventError(f"Records[{index}].messageId is missing: not an SQS event")
    return records


def run_each(records: Records, handle: Callable[[str], None]) -> dict[str, Exception]:
    """Call ``handle`` with each record's message id, in order; the exception of each that raised."""
    failures: dict[str, Exception] = {}
    for record in records:
        message_id = record["messageId"]
        try:
            handle(message_id)
        except Exception as error:  # one record's failure is reported, the others go on
            failures[message_id] = error
    return failures


def response(
    records: Records, failures: Mapping[str, Exception | None], *, raise_if_all_failed: bool
) -> PartialBatchResponse:
    """The partial batch response for ``failures`` (message id -> exception; None: processed).

    With ``raise_if_all_failed``, a batch whose every record failed raises ``EntireBatchFailedError``
    (chained to the first failure) instead.
    """
    errors = [
        (record["messageId"], error)
        for record in records
        if (error := failures.get(record["messageId"])) is not None
    ]
    if raise_if_all_failed and errors and len(errors) == len(records):
        raise EntireBatchFailedError(dict(errors)) from errors[0][1]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id, _ in errors]}
