"""Email channel worker: deliver the router's email channel messages through SES v2, once per address.

Trigger: the email queue's event source mapping with ``ReportBatchItemFailures`` (partial batch responses
built by ``partial_batch``). One invocation handles one batch:

1. Parse every record's body as a channel message (docs/notification-service.md, section 4).
2. Prefetch, for the whole batch, with ONE ``batch_get`` each: the ``email_subscriptions`` items of all
   users in the batch, then the ``email_suppressions`` items of all their verified addresses
   (lower-cased).
3. Per message and verified address (``plan``): an address on the suppression list gets a
   ``suppressed_bounce`` row and is never sent; a user without a verified address gets one
   ``no_address`` row (target ``-``); every other address is claimed with the de-duplicator under
   ``<notification_id>#<user_id>#email#<address>`` (already done: skipped; held by another invocation:
   the record fails and is retried later), sent with SES v2 ``SendEmail`` and its claim completed.
4. All delivery-log rows of the batch are written with ONE ``delivery_log.record`` call at the end,
   including the rows of records that failed.

Failure semantics:

* Malformed body (not a channel message, not the email channel, no subject/text): a permanent failure
  with no better place to go. Its reason (never the body) is logged, nothing is recorded, and the record
  is reported in ``batchItemFailures``: SQS redelivers it until ``max_receive_count``, then moves it to
  the email queue's DLQ, where the DLQ alarm shows it. (Deleting it would lose it silently; the router
  validates every event, so this only happens on a router bug or a hand-written message.)
* SES errors that will fail again however often they are retried (``PERMANENT_SES_ERRORS``):
  ``MessageRejected`` (content or recipient refused; unverified sender in the sandbox),
  ``BadRequestException`` (the request itself is invalid), ``MailFromDomainNotVerifiedException``,
  ``NotFoundException`` (configuration set or identity missing), ``AccountSuspendedException`` and
  ``SendingPausedException`` (sending is off until an operator acts, which takes longer than the queue's
  redrive window). The address gets a ``failed`` row with the code and message, the claim is completed
  (not retried), and the error is logged at ERROR with ``error_code`` so a metric filter can alarm.
* Everything else after the SDK's own retries (standard mode, 3 attempts: throttling such as
  ``TooManyRequestsException``, ``LimitExceededException`` (the sending quota), 5xx, timeouts, and codes
  not listed, e.g. ``AccessDeniedException``, a permission a deployment can fix): the claim is released
  and the record reported in ``batchItemFailures``; SQS retries it, then dead-letters it. Addresses of
  that message already sent are not sent again (their claims are complete).
* A batch-wide failure (the subscriptions or suppressions cannot be read, a bad configuration) raises,
  so every record of the batch is retried.
* Completing a claim after SES accepted the message can fail: the address still gets its ``sent`` row,
  the error is logged, and the record is not retried (a retry would send it again once the claim's
  in-progress time has expired).
* The delivery-log write failing (after its retries) raises after the emails went out: every record of
  the batch is redelivered and the completed claims make the redelivery send nothing twice. Each
  completed claim holds its address's row (``delivery_log.as_claim_result``), so the redelivery writes
  the rows again from the claims it finds done: no row is lost, at no extra AWS call.

Non-critical types carry ``List-Unsubscribe: <url>`` and ``List-Unsubscribe-Post:
List-Unsubscribe=One-Click`` (RFC 8058) when ``UNSUBSCRIBE_URL_TEMPLATE`` is set and the address has an
``unsubscribe_token``; critical types never do (they cannot be opted out of). Every message carries the
``EmailTags`` ``notification_id``, ``notification_type`` and ``user_id`` (sanitised to SES's tag
characters), which SES copies into its bounce, complaint and delivery events.

Logs carry ``notification_id``, ``notification_type`` and ``user_id`` on every line about a message;
addresses appear masked only (``a***@example.com``); bodies and SES error messages (which may quote
addresses) are never logged.

Environment:
    SENDER_ADDRESS             required; From address (of a verified SES identity), may carry a display name.
    SES_IDENTITY_ARN           optional; FromEmailAddressIdentityArn (sending authorization).
    SES_CONFIGURATION_SET      optional; ConfigurationSetName (event publishing to the feedback topic).
    UNSUBSCRIBE_URL_TEMPLATE   optional; an https URL containing ``{token}``.
    EMAIL_SUBSCRIPTIONS_TABLE, EMAIL_SUPPRESSIONS_TABLE  required; table names.
    DELIVERY_LOG_TABLE, DELIVERY_LOG_TTL_DAYS            (delivery_log)
    IDEMPOTENCY_TABLE, IDEMPOTENCY_TTL_SECONDS           (idempotency)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, NamedTuple
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import ConfigurationError, MalformedEventError, type_name
from notification_handlers.service import delivery_log, dynamodb_batch, partial_batch
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
from notification_handlers.service.email_address import (
    Recipient,
    mask,
    verified_recipients,
)
from notification_handlers.service.idempotency import Claim, Deduplicator, deduplicator_from_env
from notification_handlers.service.log import logger
from notification_handlers.service.partial_batch import Records

if TYPE_CHECKING:
    from notification_handlers.lambda_context import LambdaContext

CHANNEL: Final = "email"
URL_PLACEHOLDER: Final = "{token}"

# SES v2 SendEmail errors that fail the same way on every retry (see the module docstring).
PERMANENT_SES_ERRORS: Final = frozenset(
    {
        "MessageRejected",
        "BadRequestException",
        "MailFromDomainNotVerifiedException",
        "MailFromDomainNotVerified",  # SES v1's spelling, should a proxy or an older endpoint answer
        "NotFoundException",
        "AccountSuspendedException",
        "SendingPausedException",
    }
)

MAX_TAG_LENGTH: Final = 255  # SES: tag names and values under 256 characters
MAX_HEADER_VALUE_LENGTH: Final = 995  # SES v2 MessageHeaderValue
MAX_SUBJECT_LENGTH: Final = 998  # RFC 5322 line limit
MAX_FAILURE_REASON: Final = 500
_TAG_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_-]")
_PRINTABLE_ASCII: Final = re.compile(r"[ -~]+")  # fullmatch: "$" would admit a trailing newline


class DeliveryInProgressError(RuntimeError):
    """Another invocation holds the claim of an address of this message: retry the record later."""


class TransientDeliveryError(RuntimeError):
    """SES or DynamoDB failed for an address after the SDK's retries: retry the record later."""


# --- configuration -------------------------------------------------------------------


class Settings(NamedTuple):
    sender: str
    identity_arn: str | None
    configuration_set: str | None
    unsubscribe_url_template: str | None
    subscriptions_table: str
    suppressions_table: str


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"{name} is not set")
    return value


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read and validate the worker's settings; ``ConfigurationError`` names the bad variable."""
    sender = _required(environ, "SENDER_ADDRESS")
    if "@" not in sender:
        raise ConfigurationError(f"SENDER_ADDRESS={sender[:80]!r} is not an email address")
    template = environ.get("UNSUBSCRIBE_URL_TEMPLATE", "").strip() or None
    if template is not None:
        if URL_PLACEHOLDER not in template:
            raise ConfigurationError(f"UNSUBSCRIBE_URL_TEMPLATE must contain {URL_PLACEHOLDER}")
        if not template.startswith("https://") or not _PRINTABLE_ASCII.fullmatch(template) or " " in template:
            raise ConfigurationError(
                "UNSUBSCRIBE_URL_TEMPLATE must be an https:// URL of printable ASCII without spaces"
            )
    return Settings(
        sender=sender,
        identity_arn=environ.get("SES_IDENTITY_ARN", "").strip() or None,
        configuration_set=environ.get("SES_CONFIGURATION_SET", "").strip() or None,
        unsubscribe_url_template=template,
        subscriptions_table=_required(environ, "EMAIL_SUBSCRIPTIONS_TABLE"),
        suppressions_table=_required(environ, "EMAIL_SUPPRESSIONS_TABLE"),
    )


# --- parse ---------------------------------------------------------------------------


class EmailContent(NamedTuple):
    subject: str
    text: str
    html: str | None


def parse_email_message(body: object) -> tuple[ChannelMessage, EmailContent]:
    """A channel message for this channel with its email content; MalformedEventError names the field."""
    if not isinstance(body, str):
        raise MalformedEventError(f"body must be a string, got {type_name(body)}")
    try:
        message = parse_channel_message(body)
    except RecursionError:  # absurdly nested JSON
        raise MalformedEventError("body is not JSON (nested too deeply)") from None
    if message.channel != CHANNEL:
        raise MalformedEventError(f"channel must be {CHANNEL!r}, got {message.channel[:40]!r}")
    subject = message.content.get("subject")
    text = message.content.get("text")
    if not subject or not subject.strip():
        raise MalformedEventError("content.subject is missing or empty")
    if not text:
        raise MalformedEventError("content.text is missing or empty")
    html = message.content.get("html") or None
    return message, EmailContent(subject=subject, text=text, html=html)


# --- decide ---------------------------------------------------------------------------


class Plan(NamedTuple):
    """What to do for one message: rows known without sending, and the addresses to send to."""

    rows: tuple[Delivery, ...]
    sends: tuple[Recipient, ...]


def plan(message: ChannelMessage, recipients: Sequence[Recipient], suppressed: Mapping[str, str]) -> Plan:
    """``suppressed`` maps normalised address -> suppression reason (bounce | complaint)."""

    def row(status: str, target: str = delivery_log.NO_TARGET, reason: str | None = None) -> Delivery:
        return Delivery(
            notification_id=message.notification_id,
            notification_type=message.notification_type,
            user_id=message.user_id,
            channel=CHANNEL,
            status=status,
            target=target,
            reason=reason,
        )

    if not recipients:
        return Plan((row(delivery_log.NO_ADDRESS, reason="no verified email address"),), ())
    rows = tuple(
        row(delivery_log.SUPPRESSED_BOUNCE, r.key, f"on the suppression list ({suppressed[r.key]})")
        for r in recipients
        if r.key in suppressed
    )
    return Plan(rows, tuple(r for r in recipients if r.key not in suppressed))


def claim_key(message: ChannelMessage, recipient: Recipient) -> str:
    return f"{message.notification_id}#{message.user_id}#{CHANNEL}#{recipient.key}"


def is_permanent(error: Exception) -> bool:
    return isinstance(error, ClientError) and aws_clients.error_code(error) in PERMANENT_SES_ERRORS


# --- render the request -----------------------------------------------------------------


def tag_value(value: str) -> str:
    """``value`` in SES's tag alphabet (ASCII letters, digits, ``_``, ``-``; under 256 characters)."""
    return _TAG_UNSAFE.sub("_", value)[:MAX_TAG_LENGTH] or "_"


def unsubscribe_url(template: str, token: str) -> str:
    return template.replace(URL_PLACEHOLDER, quote(token, safe=""))


def _one_line(text: str) -> str:
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def unsubscribe_headers(
    message: ChannelMessage, recipient: Recipient, settings: Settings
) -> list[dict[str, str]]:
    """RFC 2369 / RFC 8058 one-click unsubscribe headers; none for critical types, without a template, or
    without the address's token (or when the URL would exceed SES's header length)."""
    if message.critical or settings.unsubscribe_url_template is None or recipient.unsubscribe_token is None:
        return []
    value = f"<{unsubscribe_url(settings.unsubscribe_url_template, recipient.unsubscribe_token)}>"
    if len(value) > MAX_HEADER_VALUE_LENGTH:
        return []
    return [
        {"Name": "List-Unsubscribe", "Value": value},
        {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"},
    ]


def build_request(
    message: ChannelMessage, content: EmailContent, recipient: Recipient, settings: Settings
) -> dict[str, Any]:
    """The SES v2 ``SendEmail`` parameters for one address."""
    body: dict[str, Any] = {"Text": {"Data": content.text, "Charset": "UTF-8"}}
    if content.html:
        body["Html"] = {"Data": content.html, "Charset": "UTF-8"}
    simple: dict[str, Any] = {
        "Subject": {"Data": _one_line(content.subject)[:MAX_SUBJECT_LENGTH], "Charset": "UTF-8"},
        "Body": body,
    }
    headers = unsubscribe_headers(message, recipient, settings)
    if headers:
        simple["Headers"] = headers
    request: dict[str, Any] = {
        "FromEmailAddress": settings.sender,
        "Destination": {"ToAddresses": [recipient.address]},
        "Content": {"Simple": simple},
        "EmailTags": [
            {"Name": "notification_id", "Value": tag_value(message.notification_id)},
            {"Name": "notification_type", "Value": tag_value(message.notification_type)},
            {"Name": "user_id", "Value": tag_value(message.user_id)},
        ],
    }
    if settings.identity_arn:
        request["FromEmailAddressIdentityArn"] = settings.identity_arn
    if settings.configuration_set:
        request["ConfigurationSetName"] = settings.configuration_set
    return request


# --- edge ----------------------------------------------------------------------------


@dataclass(eq=False, repr=False)  # mutable per-batch state: identity is its equality
class Batch(WorkerBatch[EmailContent]):
    """The parsed records of one invocation and the rows collected while processing them."""

    settings: Settings
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    suppressed: dict[str, str] = field(default_factory=dict)


def _parse_batch(records: Records, batch: Batch) -> None:
    for record in records:
        try:
            batch.messages[record["messageId"]] = parse_email_message(record.get("body"))
        except MalformedEventError as error:
            batch.problems[record["messageId"]] = str(error)


def _prefetch(batch: Batch) -> None:
    """ONE batch_get of the users' subscriptions, ONE of their verified addresses' suppressions."""
    users = sorted({message.user_id for message, _ in batch.messages.values()})
    if not users:
        return
    items = dynamodb_batch.batch_get(
        batch.settings.subscriptions_table, [{"user_id": user} for user in users], attributes=["addresses"]
    )
    batch.subscriptions = {str(item["user_id"]): item for item in items}
    addresses = sorted({r.key for item in batch.subscriptions.values() for r in verified_recipients(item)})
    if not addresses:
        return
    suppressions = dynamodb_batch.batch_get(
        batch.settings.suppressions_table, [{"address": a} for a in addresses], attributes=["reason"]
    )
    batch.suppressed = {
        str(item["address"]): str(item.get("reason") or "suppressed") for item in suppressions
    }


def _send(request: Mapping[str, Any]) -> str:
    response = aws_clients.sesv2().send_email(**request)
    return str(response.get("MessageId", ""))


def _deliver(
    message: ChannelMessage,
    content: EmailContent,
    recipient: Recipient,
    batch: Batch,
    remaining_ms: int | None,
) -> str | None:
    """Claim, send, complete one address. Returns why the record must be retried, or None."""
    dedup = deduplicator_from_env()
    key = claim_key(message, recipient)
    where = {"address": mask(recipient.key)}
    try:
        claim, done = dedup.claim_with_result(key, remaining_time_in_millis=remaining_ms)
    except AWS_ERRORS as error:
        logger.error(
            "Claiming the delivery failed; the record will be retried",
            extra={"decision": "retry", "error_code": aws_clients.error_code(error), **where},
        )
        batch.count("retried")
        return f"claim failed ({aws_clients.error_code(error)})"
    if claim is Claim.ALREADY_DONE:
        logger.info(
            "Skipped an address already delivered (duplicate message)",
            extra={"decision": "duplicate", **where},
        )
        batch.count("duplicate")
        rewrite_completed_row(batch, done)
        return None
    if claim is Claim.IN_PROGRESS:
        logger.info(
            "Another invocation is delivering this address; retrying later",
            extra={"decision": "retry", **where},
        )
        batch.count("in_progress")
        return "delivery in progress elsewhere"

    try:
        message_id = _send(build_request(message, content, recipient, batch.settings))
    except (ClientError, BotoCoreError) as error:
        code = aws_clients.error_code(error)
        if is_permanent(error):
            detail = (
                str(error.response.get("Error", {}).get("Message") or "")
                if isinstance(error, ClientError)
                else ""
            )
            reason = f"{code}: {detail}".rstrip(": ")[:MAX_FAILURE_REASON]
            failed = Delivery(
                message.notification_id,
                message.notification_type,
                message.user_id,
                CHANNEL,
                delivery_log.FAILED,
                recipient.key,
                reason,
            )
            batch.rows.append(failed)
            batch.count("failed")
            logger.error(
                "SES refused the email permanently; recorded as failed, not retried",
                extra={"decision": "failed", "error_code": code, **where},
            )
            _complete(dedup, key, failed, where)
            return None
        logger.warning(
            "SES SendEmail failed after the SDK's retries; the record will be retried",
            extra={"decision": "retry", "error_code": code, **where},
        )
        batch.count("retried")
        try:
            dedup.release(key)
        except AWS_ERRORS as release_error:  # the claim then expires with this invocation's time
            logger.error(
                "Releasing the claim failed; it expires with this invocation",
                extra={"error_code": aws_clients.error_code(release_error), **where},
            )
        return f"SES {code}"

    sent = Delivery(
        message.notification_id,
        message.notification_type,
        message.user_id,
        CHANNEL,
        delivery_log.SENT,
        recipient.key,
    )
    batch.rows.append(sent)
    batch.count("sent")
    logger.info("Sent email", extra={"decision": "sent", "message_id": message_id, **where})
    _complete(dedup, key, sent, where)
    return None


def _complete(dedup: Deduplicator, key: str, row: Delivery, where: Mapping[str, str]) -> None:
    """Complete the claim with the address's row in it (re-written by a redelivery that finds it done)."""
    try:
        dedup.complete(key, delivery_log.as_claim_result(row))
    except AWS_ERRORS as error:
        logger.error(
            "Completing the claim failed after the outcome was final; not retrying the record",
            extra={"error_code": aws_clients.error_code(error), **where},
        )


def _record_handler(batch: Batch, context: object) -> Any:
    def handle(message_id: str) -> None:
        with bound_message(batch, message_id) as (message, content):
            recipients = verified_recipients(batch.subscriptions.get(message.user_id))
            decided = plan(message, recipients, batch.suppressed)
            for row in decided.rows:
                logger.info(
                    "Not sending",
                    extra={
                        "decision": row.status,
                        "address": mask(row.target) if row.status != delivery_log.NO_ADDRESS else "-",
                    },
                )
                batch.count(row.status)
            batch.rows.extend(decided.rows)
            retry = [
                why
                for recipient in decided.sends
                if (why := _deliver(message, content, recipient, batch, remaining_ms(context))) is not None
            ]
            if retry:
                raise TransientDeliveryError(f"{len(retry)} address(es) to retry: {'; '.join(retry)}")

    return handle


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        settings = load_settings(os.environ)
        deduplicator_from_env()
    except ConfigurationError as error:
        logger.error("Invalid configuration", extra={"decision": "rejected", "problem": str(error)})
        raise
    batch = Batch(settings)
    records = partial_batch.sqs_records(event)
    _parse_batch(records, batch)
    try:
        _prefetch(batch)
    except AWS_ERRORS as error:
        logger.error(
            "Reading subscriptions or suppressions failed; failing the whole batch",
            extra={
                "decision": "retry",
                "error_code": aws_clients.error_code(error),
                "records": len(records),
            },
        )
        raise

    return finish_batch(records, batch, _record_handler(batch, context), CHANNEL)
