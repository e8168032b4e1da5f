"""SMS channel worker: send the router's SMS channel messages to the recipient's verified phone number
through Amazon SNS (``Publish`` with ``PhoneNumber``; docs/notification-service.md, section 9).

Trigger: the SMS queue's event source mapping with ``ReportBatchItemFailures`` (partial batch
responses, ``partial_batch``). One invocation handles one batch:

1. Parse every body as a channel message with content ``{"text": "..."}``.
2. The recipients' verified numbers: ``phone_numbers.verified_phone_numbers`` (ONE ``BatchGetItem`` per
   100 users of the batch). No verified number -> a ``no_phone_number`` row (not an error).
3. A text over ``SMS_MAX_SEGMENTS`` segments (``phone_numbers.segments``: GSM-7 or UCS-2) -> a ``failed``
   row (``message_too_long``), no call.
4. Claim ``<notification_id>#<user_id>#sms#<target>``, then ``CheckIfPhoneNumberIsOptedOut``: a number
   that replied STOP (SNS keeps the account's opt-out list) -> a ``suppressed_opted_out`` row, nothing
   sent. Else ``Publish`` with ``PhoneNumber`` and the message attributes ``AWS.SNS.SMS.SMSType``
   (``SMS_TYPE``), ``AWS.SNS.SMS.MaxPrice`` (``SMS_MAX_PRICE_USD``: SNS does not send a message that
   would cost more), and, when set, ``AWS.SNS.SMS.SenderID`` and ``AWS.MM.SMS.OriginationNumber``.
5. ``InvalidParameter``/``InvalidParameterValue`` (a number SNS refuses), ``OptedOut``-style refusals and
   KMS errors: ``failed`` row with the code, not retried. Throttling, 5xx, timeouts, ``AuthorizationError``
   and unlisted codes release the claim and report the record as a batch item failure (retried, then the
   SMS DLQ after ``max_receive_count``).
6. One delivery row per recipient (``target`` = ``phone_numbers.target``: masked number and a hash; the
   delivery log never stores the number), written with ONE ``delivery_log.record`` per batch; a completed
   claim holds its row, so a redelivery after a failed write writes it again.

Logs never contain a number (masked) or the text.

Environment: ``PHONE_NUMBERS_TABLE`` (required), ``SMS_TYPE`` (``Transactional`` or ``Promotional``,
default Transactional), ``SMS_MAX_PRICE_USD``, ``SMS_SENDER_ID``, ``SMS_ORIGINATION_NUMBER`` (optional),
``SMS_MAX_SEGMENTS`` (default 3), delivery log and idempotency variables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import ConfigurationError, MalformedEventError, type_name
from notification_handlers.service import delivery_log, env, partial_batch, phone_numbers, sms
from notification_handlers.service.channel_message import ChannelMessage, parse_channel_message
from notification_handlers.service.channel_worker import (
    AWS_ERRORS,
    WorkerBatch,
    bound_message,
    finish_batch,
    remaining_ms,
    rewrite_completed_row,
)
from notification_handlers.service.delivery_log import Delivery
from notification_handlers.service.idempotency import Claim, deduplicator_from_env
from notification_handlers.service.log import logger
from notification_handlers.service.partial_batch import Records
from notification_handlers.service.sms import Settings, is_opted_out, settings_from_env

if TYPE_CHECKING:
    from notification_handlers.lambda_context import LambdaContext

CHANNEL: Final = "sms"
REASON_TOO_LONG: Final = "message_too_long"
# SNS client errors that fail again on every retry: recorded as failed, not retried
PERMANENT_ERRORS: Final = frozenset(
    {
        "InvalidParameter",
        "InvalidParameterValue",
        "OptedOut",
        "OptedOutException",
        "KMSAccessDenied",
        "KMSDisabled",
        "KMSInvalidState",
        "KMSNotFound",
        "KMSOptInRequired",
        "ValidationException",
    }
)


class DeliveryRetryError(RuntimeError):
    """The message must be sent again later."""


# --- parse, decide, render -----------------------------------------------------------


class SmsContent(NamedTuple):
    text: str


def parse_sms_message(body: object) -> tuple[ChannelMessage, SmsContent]:
    """An SMS channel message and its content; ``MalformedEventError`` names the field."""
    if not isinstance(body, str):
        raise MalformedEventError(f"body must be a string, got {type_name(body)}")
    try:
        message = parse_channel_message(body)
    except RecursionError:
        raise MalformedEventError("body is not JSON (nested too deeply)") from None
    if message.channel != CHANNEL:
        raise MalformedEventError(f"channel must be {CHANNEL!r}, got {message.channel[:40]!r}")
    text = message.content.get("text")
    if not text or not text.strip():
        raise MalformedEventError("content.text is missing or empty")
    return message, SmsContent(text)


# --- the batch ----------------------------------------------------------------------


@dataclass(eq=False, repr=False)  # mutable per-batch state: identity is its equality
class Batch(WorkerBatch[SmsContent]):
    settings: Settings
    numbers: dict[str, str] = field(default_factory=dict)  # user id -> verified number


Row = Callable[..., Delivery]


def _parse_batch(records: Records, batch: Batch) -> None:
    for record in records:
        try:
            batch.messages[record["messageId"]] = parse_sms_message(record.get("body"))
        except MalformedEventError as error:
            batch.problems[record["messageId"]] = str(error)


def _deliver(
    message: ChannelMessage, content: SmsContent, number: str, batch: Batch, remaining: int | None
) -> str | None:
    """Claim, check the opt-out list, publish, settle. Returns why the record must be retried, or None."""
    target = phone_numbers.target(number)

    def row(status: str, reason: str | None = None) -> Delivery:
        delivery = Delivery(
            message.notification_id,
            message.notification_type,
            message.user_id,
            CHANNEL,
            status,
            target,
            reason,
        )
        batch.rows.append(delivery)
        batch.count(status if reason is None else f"{status}:{reason}")
        return delivery

    count = phone_numbers.segments(content.text)
    if _unsendable(number, count, batch.settings, row):
        return None
    dedup = deduplicator_from_env()
    key = f"{message.notification_id}#{message.user_id}#{CHANNEL}#{target}"
    try:
        claim, done = dedup.claim_with_result(key, remaining_time_in_millis=remaining)
    except AWS_ERRORS as error:
        batch.count("retried")
        return f"claim failed ({aws_clients.error_code(error)})"
    if claim is Claim.ALREADY_DONE:
        batch.count("duplicate")
        rewrite_completed_row(batch, done)
        logger.info("Skipped an SMS already handled (duplicate message)", extra={"decision": "duplicate"})
        return None
    if claim is Claim.IN_PROGRESS:
        batch.count("in_progress")
        return "delivery in progress elsewhere"
    return _send(number, content.text, count, key=key, row=row, batch=batch)


def _send(number: str, text: str, count: int, *, key: str, row: Row, batch: Batch) -> str | None:
    """The claimed SMS: opt-out check, then Publish; settle the claim. Why to retry, or None."""
    where = {"phone_number": phone_numbers.mask(number)}
    try:
        if is_opted_out(number):
            suppressed = row(delivery_log.SUPPRESSED_OPTED_OUT, "opted_out")
            logger.info(
                "The number opted out of SMS (STOP); nothing sent",
                extra={"decision": delivery_log.SUPPRESSED_OPTED_OUT, **where},
            )
            _settle(key, suppressed)
            return None
        sns_message_id = sms.publish(number, text, batch.settings)
    except (ClientError, BotoCoreError) as error:
        return _failed(error, key=key, row=row, where=where, batch=batch)
    sent = row(delivery_log.SENT)
    logger.info(
        "Sent SMS",
        extra={"decision": "sent", "segments": count, "message_id": sns_message_id, **where},
    )
    _settle(key, sent)
    return None


def _unsendable(number: str, count: int, settings: Settings, row: Row) -> bool:
    """True (and a failed row) when the SMS is never sent: too many segments, or a number the service does
    not send to (premium rate, or a country no longer allowed since it was verified)."""
    if count > settings.max_segments:
        row(delivery_log.FAILED, REASON_TOO_LONG)
        logger.error(
            "SMS text over the segment limit; recorded as failed, nothing sent",
            extra={"decision": "failed", "segments": count, "max_segments": settings.max_segments},
        )
        return True
    refused = sms.refusal(number, settings)
    if refused is not None:
        row(delivery_log.FAILED, refused)
        logger.warning(
            "The number is not one the service sends to; nothing sent",
            extra={"decision": "failed", "reason": refused, "phone_number": phone_numbers.mask(number)},
        )
        return True
    return False


def _failed(
    error: ClientError | BotoCoreError, *, key: str, row: Row, where: Mapping[str, str], batch: Batch
) -> str | None:
    code = aws_clients.error_code(error)
    if isinstance(error, ClientError) and code in PERMANENT_ERRORS and not aws_clients.is_transient(error):
        refused = row(delivery_log.FAILED, code)
        logger.error(
            "SNS refused the SMS permanently; recorded as failed",
            extra={"decision": "failed", "error_code": code, **where},
        )
        _settle(key, refused)
        return None
    batch.count("retried")
    logger.warning(
        "SNS failed after the SDK's retries; the record will be retried",
        extra={"decision": "retry", "error_code": code, **where},
    )
    _settle(key, error)
    return f"SNS {code}"


def _settle(key: str, outcome: Delivery | Exception) -> None:
    """Complete the claim with the row (re-written by a redelivery that finds it done), or release it."""
    dedup = deduplicator_from_env()
    try:
        if isinstance(outcome, Delivery):
            dedup.complete(key, delivery_log.as_claim_result(outcome))
        else:
            dedup.release(key)
    except AWS_ERRORS as settle_error:
        logger.error(
            "Settling the claim failed; it expires with this invocation",
            extra={"error_code": aws_clients.error_code(settle_error)},
        )


def _record_handler(batch: Batch, context: object) -> Callable[[str], None]:
    def handle(message_id: str) -> None:
        with bound_message(batch, message_id) as (message, content):
            number = batch.numbers.get(message.user_id)
            if number is None:
                batch.rows.append(
                    Delivery(
                        message.notification_id,
                        message.notification_type,
                        message.user_id,
                        CHANNEL,
                        delivery_log.NO_PHONE_NUMBER,
                    )
                )
                batch.count(delivery_log.NO_PHONE_NUMBER)
                logger.info(
                    "The user has no verified phone number", extra={"decision": delivery_log.NO_PHONE_NUMBER}
                )
                return
            why = _deliver(message, content, number, batch, remaining_ms(context))
            if why is not None:
                raise DeliveryRetryError(why)

    return handle


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        table = env.required(phone_numbers.TABLE_ENV)
        settings = settings_from_env()
        deduplicator_from_env()
    except ConfigurationError as error:
        logger.error("Invalid configuration", extra={"decision": "rejected", "problem": str(error)})
        raise
    batch = Batch(settings)
    records = partial_batch.sqs_records(event)
    _parse_batch(records, batch)
    try:
        users = sorted({message.user_id for message, _ in batch.messages.values()})
        batch.numbers = phone_numbers.verified_phone_numbers(users, table)
    except AWS_ERRORS as error:
        logger.error(
            "Reading the users' phone numbers failed; failing the whole batch",
            extra={"decision": "retry", "error_code": aws_clients.error_code(error)},
        )
        raise
    return finish_batch(records, batch, _record_handler(batch, context), CHANNEL)
