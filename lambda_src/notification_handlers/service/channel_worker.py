"""The skeleton the three channel workers (email, websocket, push) share around their own delivery logic.

Each worker validates the event (``partial_batch.sqs_records``) and parses its SQS batch up front into a
``WorkerBatch`` subclass (parsed messages by SQS message id, or why a body was rejected), then writes a
record handler (called with the record's SQS message id) that opens with ``bound_message`` and does its
channel's work inside it; ``finish_batch`` runs that handler over the batch (``partial_batch``: a partial
batch response), writes all the batch's delivery rows with ONE ``delivery_log.record`` call and logs the
summary.

Failure semantics kept here (see docs/notification-service.md and each worker's docstring):

* A record whose body was rejected is logged (reason only, never the body), counted as ``malformed`` and
  raised as ``MalformedEventError``: the record is reported in ``batchItemFailures`` and reaches the
  queue's DLQ after ``max_receive_count``.
* The delivery-log write failing (after its retries) is logged at ERROR with the row count and re-raised:
  the whole batch is redelivered, and the completed claims make the redelivery deliver nothing twice.
  Each worker completes a delivery's claim with its row in it (``delivery_log.as_claim_result``); the
  redelivery finds the claim done and puts that row back in its batch (``rewrite_completed_row``), so
  the rows of the failed write are written by the retry. This costs no AWS call: the completion was
  already an ``UpdateItem``, and the refused claim's ``PutItem`` already returns the stored record.
  (Writing the rows before completing the claims would instead leave every claim of the batch in
  progress until the write ends, and a crash in between would re-send them all once the claims expire.)
* The channel kill switch (``channel_switches``) holds for messages already queued too: a message whose
  channel an operator turned off (for every type or for its type) is not handed to the worker's
  handler; it gets a ``suppressed_channel_disabled`` row and its record counts as processed (it is not
  kept for later: re-enabling the channel delivers new notifications, not the ones dropped meanwhile).
  So a misbehaving provider stops within ``CHANNEL_SWITCH_REFRESH_SECONDS``, not once the queue drains.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import MalformedEventError
from notification_handlers.service import channel_switches, delivery_log, dynamodb_batch, partial_batch
from notification_handlers.service.channel_message import ChannelMessage
from notification_handlers.service.delivery_log import Delivery
from notification_handlers.service.log import logger

AWS_ERRORS: Final = (ClientError, BotoCoreError, dynamodb_batch.UnprocessedItemsError)
MESSAGE_KEYS: Final = ("notification_id", "notification_type", "user_id")
WRITE_FAILED: Final = "Writing the delivery log failed; the batch is redelivered and sends nothing twice"

ContentT = TypeVar("ContentT")
RecordHandler = Callable[[str], None]  # called with the record's SQS message id


@dataclass(kw_only=True, eq=False, repr=False)  # mutable per-batch state: identity is its equality
class WorkerBatch(Generic[ContentT]):
    """One invocation's parsed records and what processing them collected.

    ``messages`` maps an SQS message id to its channel message and the worker's own content for it;
    ``problems`` maps the id of a rejected record to why its body was rejected. Subclasses add their
    settings and prefetched data (as positional fields: these ones are keyword-only).
    """

    messages: dict[str, tuple[ChannelMessage, ContentT]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # messageId -> why the body was rejected
    rows: list[Delivery] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, by: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + by


def remaining_ms(context: object) -> int | None:
    """The invocation's remaining time (bounds how long a claim left by a crash blocks a retry)."""
    getter = getattr(context, "get_remaining_time_in_millis", None)
    value = getter() if callable(getter) else None
    return value if isinstance(value, int) and value > 0 else None


def reject_malformed(batch: WorkerBatch[Any], message_id: str) -> None:
    """Log, count and raise ``MalformedEventError`` when the record's body was rejected while parsing."""
    problem = batch.problems.get(message_id)
    if problem is not None:
        logger.error(
            "Rejected a malformed channel message; it goes to the DLQ after max_receive_count",
            extra={"decision": "rejected", "problem": problem, "sqs_message_id": message_id},
        )
        batch.count("malformed")
        raise MalformedEventError(problem)


def rewrite_completed_row(batch: WorkerBatch[Any], claim_result: Mapping[str, Any] | None) -> None:
    """Put the row stored in a completed claim back into the batch's rows (a redelivery writes it again)."""
    row = delivery_log.from_claim_result(claim_result)
    if row is not None:
        batch.rows.append(row)


def bind_message(message: ChannelMessage) -> None:
    """Put the message's notification id, type and user id on every following log line."""
    logger.append_keys(
        notification_id=message.notification_id,
        notification_type=message.notification_type,
        user_id=message.user_id,
    )


@contextmanager
def bound_message(batch: WorkerBatch[ContentT], message_id: str) -> Iterator[tuple[ChannelMessage, ContentT]]:
    """The record's parsed message and content, its keys bound to the logs until the block ends.

    A rejected record raises ``MalformedEventError`` (``reject_malformed``) before the block runs.
    """
    reject_malformed(batch, message_id)
    message, content = batch.messages[message_id]
    bind_message(message)
    try:
        yield message, content
    finally:
        logger.remove_keys(list(MESSAGE_KEYS))


def unless_switched_off(
    batch: WorkerBatch[Any], record_handler: RecordHandler, switches: channel_switches.Switches
) -> RecordHandler:
    """``record_handler``, except for messages whose channel is switched off: those get a
    ``suppressed_channel_disabled`` row and are not delivered (``channel_switches``)."""
    if switches == channel_switches.NONE:
        return record_handler

    def handle(message_id: str) -> None:
        entry = batch.messages.get(message_id)
        scope = None if entry is None else switches.disabled(entry[0].channel, entry[0].notification_type)
        if entry is None or scope is None:
            record_handler(message_id)
            return
        message = entry[0]
        batch.rows.append(
            Delivery(
                message.notification_id,
                message.notification_type,
                message.user_id,
                message.channel,
                delivery_log.SUPPRESSED_CHANNEL_DISABLED,
                reason=scope,
            )
        )
        batch.count("channel_disabled")
        bind_message(message)
        try:
            logger.info(
                "Channel switched off by an operator: message not sent",
                extra={"decision": delivery_log.SUPPRESSED_CHANNEL_DISABLED, "scope": scope},
            )
        finally:
            logger.remove_keys(list(MESSAGE_KEYS))

    return handle


def finish_batch(
    records: partial_batch.Records,
    batch: WorkerBatch[Any],
    record_handler: RecordHandler,
    channel: str,
    *,
    after_write: Callable[[], Mapping[str, int]] | None = None,
    write_failed: str = WRITE_FAILED,
) -> dict[str, Any]:
    """Run ``record_handler`` over the batch (partial batch response), write its rows, log the summary.

    ``after_write`` is a batch-wide clean-up the worker runs once the rows are written, in the same
    failure scope as the delivery-log write (then describe both in ``write_failed``); the figures it
    returns are added to the summary line. An AWS error in either is logged and re-raised, so the whole
    batch is redelivered. It runs after the write because it removes what a redelivery needs to find
    the completed claims again (a gone connection, a dead device): removed first, a failed write
    would lose their rows.
    """
    # Not raised when every record failed: the delivery-log write below must still run, and the
    # response lists every record then.
    switches = channel_switches.load()
    handle = unless_switched_off(batch, record_handler, switches)
    response = partial_batch.response(
        records, partial_batch.run_each(records, handle), raise_if_all_failed=False
    )
    try:
        delivery_log.record(batch.rows)
        figures = dict(after_write()) if after_write is not None else {}
    except AWS_ERRORS as error:
        logger.error(
            write_failed, extra={"error_code": aws_clients.error_code(error), "rows": len(batch.rows)}
        )
        raise
    logger.info(
        f"Processed {channel} batch",
        extra={
            "records": len(records),
            "failed_records": len(response["batchItemFailures"]),
            "rows": len(batch.rows),
            **({"channels_switched_off": switches.scopes()} if switches != channel_switches.NONE else {}),
            **figures,
            **batch.counts,
        },
    )
    return dict(response)
