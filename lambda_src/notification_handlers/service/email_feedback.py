"""Put the addresses SES reports as permanently bouncing or complaining on the suppressions table.

SES publishes its events to an SNS topic, and SNS invokes this function asynchronously with one or more
``Records``; each record's ``Sns.Message`` is one SES event as JSON. Two formats are accepted:

* event publishing through a configuration set (``eventType``: ``Bounce``, ``Complaint``, ``Delivery``,
  ``Send``, ``Open``, ...), the format the notification service configures;
* identity feedback notifications (``notificationType``: ``Bounce``, ``Complaint``, ``Delivery``, and
  ``AmazonSnsSubscriptionSucceeded`` when the topic is first set), for accounts that route an identity's
  feedback to the same topic.

Decisions (``decide``): a ``Permanent`` bounce suppresses every bounced recipient (reason ``bounce``);
every complaint suppresses every complained recipient (reason ``complaint``); ``Transient`` and
``Undetermined`` bounces (mailbox full, message too large, ...) and every other event type are ignored
with a log line, so a full mailbox does not lose a user their notifications. The email worker reads the
table before each send and never mails a suppressed address.

Items (key ``address``, lower-cased): ``reason`` (``bounce`` | ``complaint``), ``detail`` (bounce type and
sub-type plus the recipient's status and diagnostic code, or the complaint's feedback type; at most
``MAX_DETAIL_LENGTH`` characters), ``feedback_id`` (SES's id of the bounce or complaint report),
``suppressed_at`` (when SES received the feedback, UTC ISO 8601). All items of one invocation are written
with one ``batch_write`` (25 per call); an address reported twice in one invocation is written once, a
complaint winning over a bounce. A later report of the same address overwrites the item (a put): the
address stays suppressed, with the latest reason.

Failure handling (asynchronous invocation: Lambda retries twice, then sends the event to the function's
DLQ): a malformed record does not stop the others: every valid record is applied first, then the handler
raises ``MalformedEventError`` naming each bad record and field (the first ``MAX_NAMED_PROBLEMS``), so the
event is retried and dead-lettered with the reason in its ``ErrorMessage``. Retrying is harmless: the
writes are idempotent puts. A DynamoDB failure after the SDK's retries is logged with its code and raised.
Addresses are logged masked only (``a***@example.com``).

Environment:
    EMAIL_SUPPRESSIONS_TABLE  required; the suppressions table's name.
    POWERTOOLS_SERVICE_NAME   the ``service`` key of the structured logs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import (
    ConfigurationError,
    MalformedEventError,
    parse_utc_time,
    read_object,
    read_optional_text,
    read_required_text,
    type_name,
)
from notification_handlers.service import dynamodb_batch
from notification_handlers.service.email_address import is_plausible, mask, normalise
from notification_handlers.service.log import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

REASON_BOUNCE: Final = "bounce"
REASON_COMPLAINT: Final = "complaint"
MAX_DETAIL_LENGTH: Final = 500
MAX_NAMED_PROBLEMS: Final = 20
# Recipients per SES message are at most 50; a report naming more is not one SES wrote.
MAX_RECIPIENTS: Final = 50

_SUPPRESSING_BOUNCE_TYPES: Final = frozenset({"Permanent"})
_KNOWN_BOUNCE_TYPES: Final = frozenset({"Permanent", "Transient", "Undetermined"})


@dataclass(frozen=True, slots=True)
class Suppression:
    """One address to put on the suppressions table."""

    address: str  # normalised (lower-case)
    reason: str  # bounce | complaint
    detail: str
    feedback_id: str
    suppressed_at: str  # UTC ISO 8601

    def item(self) -> dict[str, str]:
        return {
            "address": self.address,
            "reason": self.reason,
            "detail": self.detail,
            "feedback_id": self.feedback_id,
            "suppressed_at": self.suppressed_at,
        }


@dataclass(frozen=True, slots=True)
class Feedback:
    """What one SNS record said: its SES event type, and the suppressions it asks for (maybe none)."""

    index: int
    event_type: str
    suppressions: tuple[Suppression, ...]
    ignored_because: str | None = None  # set when the record asks for no suppression


@dataclass(frozen=True, slots=True)
class RecordProblem:
    index: int
    problem: str

    def __str__(self) -> str:
        return f"Records[{self.index}]: {self.problem}"


# --- parse and decide -----------------------------------------------------------------


def _truncate(text: str, limit: int = MAX_DETAIL_LENGTH) -> str:
    text = " ".join(text.split())  # diagnostic codes can hold CR/LF from the remote MTA's reply
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _timestamp(report: Mapping[str, Any], path: str, fallback: datetime) -> str:
    raw = read_optional_text(report, "timestamp", path)
    moment = parse_utc_time(raw, path) if raw else fallback
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _recipients(report: Mapping[str, Any], key: str, path: str) -> list[tuple[int, Mapping[str, Any], str]]:
    """(index, recipient object, normalised address) for each entry of a recipients list."""
    entries = report.get(key)
    if entries is None:
        raise MalformedEventError(f"{path} is missing")
    if not isinstance(entries, list):
        raise MalformedEventError(f"{path} must be a list, got {type_name(entries)}")
    if not entries:
        raise MalformedEventError(f"{path} is empty")
    if len(entries) > MAX_RECIPIENTS:
        raise MalformedEventError(f"{path} has {len(entries)} entries; SES reports at most {MAX_RECIPIENTS}")
    recipients = []
    for position, entry in enumerate(entries):
        entry_path = f"{path}[{position}]"
        if not isinstance(entry, Mapping):
            raise MalformedEventError(f"{entry_path} must be an object, got {type_name(entry)}")
        address = normalise(read_required_text(entry, "emailAddress", f"{entry_path}.emailAddress"))
        if not is_plausible(address):
            raise MalformedEventError(f"{entry_path}.emailAddress is not an email address: {mask(address)!r}")
        recipients.append((position, entry, address))
    return recipients


def _bounce(message: Mapping[str, Any], index: int, event_type: str, received: datetime) -> Feedback:
    bounce = read_object(message, "bounce", "bounce", required=True)
    bounce_type = read_required_text(bounce, "bounceType", "bounce.bounceType")
    if bounce_type not in _KNOWN_BOUNCE_TYPES:
        raise MalformedEventError(
            f"bounce.bounceType {bounce_type[:40]!r} is not one of {', '.join(sorted(_KNOWN_BOUNCE_TYPES))}"
        )
    sub_type = read_optional_text(bounce, "bounceSubType", "bounce.bounceSubType") or "-"
    feedback_id = read_required_text(bounce, "feedbackId", "bounce.feedbackId")
    recipients = _recipients(bounce, "bouncedRecipients", "bounce.bouncedRecipients")
    suppressed_at = _timestamp(bounce, "bounce.timestamp", received)
    if bounce_type not in _SUPPRESSING_BOUNCE_TYPES:
        return Feedback(index, event_type, (), f"{bounce_type} bounce ({sub_type}): SES may deliver later")
    suppressions = []
    for position, entry, address in recipients:
        path = f"bounce.bouncedRecipients[{position}]"
        status = read_optional_text(entry, "status", f"{path}.status")
        diagnostic = read_optional_text(entry, "diagnosticCode", f"{path}.diagnosticCode")
        detail = " ".join(
            part for part in (f"{bounce_type}/{sub_type}", status, diagnostic and f"({diagnostic})") if part
        )
        suppressions.append(
            Suppression(address, REASON_BOUNCE, _truncate(detail), _truncate(feedback_id, 256), suppressed_at)
        )
    return Feedback(index, event_type, tuple(suppressions))


def _complaint(message: Mapping[str, Any], index: int, event_type: str, received: datetime) -> Feedback:
    complaint = read_object(message, "complaint", "complaint", required=True)
    feedback_id = read_required_text(complaint, "feedbackId", "complaint.feedbackId")
    recipients = _recipients(complaint, "complainedRecipients", "complaint.complainedRecipients")
    feedback_type = read_optional_text(complaint, "complaintFeedbackType", "complaint.complaintFeedbackType")
    sub_type = read_optional_text(complaint, "complaintSubType", "complaint.complaintSubType")
    detail = _truncate(" ".join(part for part in (feedback_type or "complaint", sub_type) if part))
    suppressed_at = _timestamp(complaint, "complaint.timestamp", received)
    return Feedback(
        index,
        event_type,
        tuple(
            Suppression(address, REASON_COMPLAINT, detail, _truncate(feedback_id, 256), suppressed_at)
            for _, _, address in recipients
        ),
    )


def parse_message(text: str, index: int, received: datetime) -> Feedback:
    """One SES event (an SNS message body) as a decision; raises MalformedEventError naming the field."""
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        raise MalformedEventError("Sns.Message is not JSON") from None
    if not isinstance(message, Mapping):
        raise MalformedEventError(f"Sns.Message must be a JSON object, got {type_name(message)}")
    if "eventType" in message:
        event_type = read_required_text(message, "eventType", "eventType")
    elif "notificationType" in message:
        event_type = read_required_text(message, "notificationType", "notificationType")
    else:
        raise MalformedEventError("eventType (or notificationType) is missing: not an SES event")
    if event_type == "Bounce":
        return _bounce(message, index, event_type, received)
    if event_type == "Complaint":
        return _complaint(message, index, event_type, received)
    return Feedback(index, event_type[:64], (), "not a bounce or complaint")


def parse_record(record: object, index: int, *, now: datetime) -> Feedback:
    """One SNS record; the SNS ``Timestamp`` (or ``now``) stands in for a report without a timestamp."""
    if not isinstance(record, Mapping):
        raise MalformedEventError(f"record must be an object, got {type_name(record)}")
    sns = read_object(record, "Sns", "Sns", required=True)
    text = read_required_text(sns, "Message", "Sns.Message")
    published = read_optional_text(sns, "Timestamp", "Sns.Timestamp")
    received = parse_utc_time(published, "Sns.Timestamp") if published else now
    try:
        return parse_message(text, index, received)
    except MalformedEventError as error:
        raise MalformedEventError(f"Sns.Message: {error}") from None


def parse_event(event: object, *, now: datetime) -> tuple[list[Feedback], list[RecordProblem]]:
    """Every valid record's decision, and a problem per invalid one (the envelope itself must be valid)."""
    if not isinstance(event, Mapping):
        raise MalformedEventError(f"event must be a JSON object, got {type_name(event)}")
    records = event.get("Records")
    if records is None:
        raise MalformedEventError("Records is missing: not an SNS event")
    if not isinstance(records, list):
        raise MalformedEventError(f"Records must be a list, got {type_name(records)}")
    if not records:
        raise MalformedEventError("Records is empty")
    feedback: list[Feedback] = []
    problems: list[RecordProblem] = []
    for index, record in enumerate(records):
        try:
            feedback.append(parse_record(record, index, now=now))
        except MalformedEventError as error:
            problems.append(RecordProblem(index, str(error)))
    return feedback, problems


def merge(feedback: Sequence[Feedback]) -> list[Suppression]:
    """One suppression per address (batch writes refuse duplicate keys): a complaint wins over a
    bounce, otherwise the first report stays. Order: first appearance."""
    chosen: dict[str, Suppression] = {}
    for item in feedback:
        for suppression in item.suppressions:
            current = chosen.get(suppression.address)
            if current is None or (
                current.reason != REASON_COMPLAINT and suppression.reason == REASON_COMPLAINT
            ):
                chosen[suppression.address] = suppression
    return list(chosen.values())


# --- edge ----------------------------------------------------------------------------


def table_name(environ: Mapping[str, str]) -> str:
    name = environ.get("EMAIL_SUPPRESSIONS_TABLE", "").strip()
    if not name:
        raise ConfigurationError("EMAIL_SUPPRESSIONS_TABLE is not set")
    return name


def _named(problems: Sequence[RecordProblem]) -> tuple[list[str], str]:
    named = [str(problem) for problem in problems[:MAX_NAMED_PROBLEMS]]
    more = f"; and {len(problems) - len(named)} more" if len(problems) > len(named) else ""
    return named, more


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        table = table_name(os.environ)
    except ConfigurationError as error:
        logger.error("Invalid configuration", extra={"decision": "rejected", "problem": str(error)})
        raise
    try:
        feedback, problems = parse_event(event, now=datetime.now(UTC))
    except MalformedEventError as error:
        logger.error("Rejected malformed event", extra={"decision": "rejected", "problem": str(error)})
        raise

    for item in feedback:
        if item.ignored_because:
            logger.info(
                "Ignored SES event",
                extra={
                    "decision": "ignored",
                    "record": item.index,
                    "event_type": item.event_type,
                    "why": item.ignored_because,
                },
            )
    suppressions = merge(feedback)
    if suppressions:
        try:
            dynamodb_batch.batch_write(table, [suppression.item() for suppression in suppressions])
        except (ClientError, BotoCoreError, dynamodb_batch.UnprocessedItemsError) as error:
            logger.exception(
                "Writing suppressions failed; raising so Lambda retries and then dead-letters the event",
                extra={
                    "decision": "suppress",
                    "error_code": aws_clients.error_code(error),
                    "count": len(suppressions),
                },
            )
            raise
    for suppression in suppressions:
        logger.info(
            "Suppressed address",
            extra={
                "decision": "suppress",
                "reason": suppression.reason,
                "address": mask(suppression.address),
            },
        )

    result = {
        "records": len(feedback) + len(problems),
        "suppressed": len(suppressions),
        "ignored": sum(1 for item in feedback if item.ignored_because),
    }
    if problems:
        named, more = _named(problems)
        logger.error(
            "Rejected malformed record(s) after applying the valid ones",
            extra={"decision": "rejected", "problems": named, "problem_count": len(problems), **result},
        )
        raise MalformedEventError(
            f"{len(problems)} of {result['records']} SNS record(s) malformed: {'; '.join(named)}{more}"
            f" ({len(feedback)} valid record(s) applied, {len(suppressions)} address(es) suppressed)"
        )
    return result
