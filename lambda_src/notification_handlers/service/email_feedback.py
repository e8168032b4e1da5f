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

Verification mail is different (``is_verification_mail``: sent through the verification configuration set
``VERIFICATION_CONFIGURATION_SET``, or tagged ``purpose=email_verification``): anyone with an account can
make the service mail a code to any address, so a complaint or bounce about it says nothing about the
notifications the address's owner asked for. It never touches the suppressions table; instead the address
is blocked for verification mail only, for ``VERIFICATION_BLOCK_DAYS`` (default 30): an item
``verify-blocked#<address>`` on the limits table (``LIMITS_TABLE``) with the same fields plus ``address``,
``blocked_at`` and ``expires_at`` (epoch seconds; DynamoDB's TTL removes it, the registration API also
checks it). While it lasts, the registration API mails no code to the address.

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
    EMAIL_SUPPRESSIONS_TABLE        required; the suppressions table's name.
    VERIFICATION_CONFIGURATION_SET  optional; the configuration set of verification mail.
    LIMITS_TABLE                    the limits table; required when a report about verification mail comes.
    VERIFICATION_BLOCK_DAYS         optional (default 30); how long such a report blocks verification mail.
    POWERTOOLS_SERVICE_NAME   the ``service`` key of the structured logs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, NamedTuple

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
    from notification_handlers.lambda_context import LambdaContext

REASON_BOUNCE: Final = "bounce"
REASON_COMPLAINT: Final = "complaint"
MAX_DETAIL_LENGTH: Final = 500
MAX_NAMED_PROBLEMS: Final = 20
# Recipients per SES message are at most 50; a report naming more is not one SES wrote.
MAX_RECIPIENTS: Final = 50
SCOPE_ALL: Final = "all"  # the suppressions table: no mail of the service
SCOPE_VERIFICATION: Final = "verification"  # the limits table: no verification mail, for a while
VERIFICATION_PURPOSE: Final = "email_verification"  # the registration API's EmailTags purpose
DEFAULT_VERIFICATION_BLOCK_DAYS: Final = 30
BLOCKED_PREFIX: Final = "verify-blocked"  # verification.BLOCKED_PREFIX

_SUPPRESSING_BOUNCE_TYPES: Final = frozenset({"Permanent"})
_KNOWN_BOUNCE_TYPES: Final = frozenset({"Permanent", "Transient", "Undetermined"})


class Suppression(NamedTuple):
    """One address to put on the suppressions table."""

    address: str  # normalised (lower-case)
    reason: str  # bounce | complaint
    detail: str
    feedback_id: str
    suppressed_at: str  # UTC ISO 8601
    scope: str = SCOPE_ALL  # SCOPE_VERIFICATION: a report about a verification mail

    def item(self) -> dict[str, str]:
        return {
            "address": self.address,
            "reason": self.reason,
            "detail": self.detail,
            "feedback_id": self.feedback_id,
            "suppressed_at": self.suppressed_at,
        }

    def block_item(self, block_days: int) -> dict[str, Any]:
        """The limits-table item that blocks verification mail to the address for ``block_days``."""
        blocked_at = parse_utc_time(self.suppressed_at, "suppressed_at")
        return {
            "limit_key": f"{BLOCKED_PREFIX}#{self.address}",
            "address": self.address,
            "reason": self.reason,
            "detail": self.detail,
            "feedback_id": self.feedback_id,
            "blocked_at": self.suppressed_at,
            "expires_at": int((blocked_at + timedelta(days=block_days)).timestamp()),
        }


@dataclass(frozen=True, slots=True)  # a field named index: a NamedTuple would hide tuple.index
class Feedback:
    """What one SNS record said: its SES event type, and the suppressions it asks for (maybe none)."""

    index: int
    event_type: str
    suppressions: tuple[Suppression, ...]
    ignored_because: str | None = None  # set when the record asks for no suppression


@dataclass(frozen=True, slots=True)  # a field named index: a NamedTuple would hide tuple.index
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


def is_verification_mail(message: Mapping[str, Any], verification_set: str | None) -> bool:
    """Whether the reported mail is a verification code mail: sent through the verification configuration
    set, or tagged purpose=email_verification (SES copies a mail's tags into its events)."""
    mail = message.get("mail")
    tags = mail.get("tags") if isinstance(mail, Mapping) else None
    if not isinstance(tags, Mapping):
        return False

    def values(name: str) -> list[Any]:
        found = tags.get(name)
        return found if isinstance(found, list) else []

    if verification_set and verification_set in values("ses:configuration-set"):
        return True
    return VERIFICATION_PURPOSE in values("purpose")


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


def parse_message(text: str, index: int, received: datetime, verification_set: str | None = None) -> Feedback:
    """One SES event (an SNS message body) as a decision; raises MalformedEventError naming the field.
    A report about a verification mail asks for suppressions of scope SCOPE_VERIFICATION."""
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
        feedback = _bounce(message, index, event_type, received)
    elif event_type == "Complaint":
        feedback = _complaint(message, index, event_type, received)
    else:
        return Feedback(index, event_type[:64], (), "not a bounce or complaint")
    if feedback.suppressions and is_verification_mail(message, verification_set):
        scoped = tuple(s._replace(scope=SCOPE_VERIFICATION) for s in feedback.suppressions)
        return replace(feedback, suppressions=scoped)
    return feedback


def parse_record(
    record: object, index: int, *, now: datetime, verification_set: str | None = None
) -> Feedback:
    """One SNS record; the SNS ``Timestamp`` (or ``now``) stands in for a report without a timestamp."""
    if not isinstance(record, Mapping):
        raise MalformedEventError(f"record must be an object, got {type_name(record)}")
    sns = read_object(record, "Sns", "Sns", required=True)
    text = read_required_text(sns, "Message", "Sns.Message")
    published = read_optional_text(sns, "Timestamp", "Sns.Timestamp")
    received = parse_utc_time(published, "Sns.Timestamp") if published else now
    try:
        return parse_message(text, index, received, verification_set)
    except MalformedEventError as error:
        raise MalformedEventError(f"Sns.Message: {error}") from None


def parse_event(
    event: object, *, now: datetime, verification_set: str | None = None
) -> tuple[list[Feedback], list[RecordProblem]]:
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
            feedback.append(parse_record(record, index, now=now, verification_set=verification_set))
        except MalformedEventError as error:
            problems.append(RecordProblem(index, str(error)))
    return feedback, problems


def merge(feedback: Sequence[Feedback]) -> list[Suppression]:
    """One suppression per scope and address (batch writes refuse duplicate keys): a complaint wins over
    a bounce, otherwise the first report stays. Order: first appearance."""
    chosen: dict[tuple[str, str], Suppression] = {}
    for item in feedback:
        for suppression in item.suppressions:
            key = (suppression.scope, suppression.address)
            current = chosen.get(key)
            if current is None or (
                current.reason != REASON_COMPLAINT and suppression.reason == REASON_COMPLAINT
            ):
                chosen[key] = suppression
    return list(chosen.values())


# --- edge ----------------------------------------------------------------------------


def table_name(environ: Mapping[str, str]) -> str:
    name = environ.get("EMAIL_SUPPRESSIONS_TABLE", "").strip()
    if not name:
        raise ConfigurationError("EMAIL_SUPPRESSIONS_TABLE is not set")
    return name


def verification_block_days(environ: Mapping[str, str]) -> int:
    raw = environ.get("VERIFICATION_BLOCK_DAYS", "").strip()
    if not raw:
        return DEFAULT_VERIFICATION_BLOCK_DAYS
    if not raw.isdecimal() or not 1 <= int(raw) <= 3650:
        raise ConfigurationError(f"VERIFICATION_BLOCK_DAYS must be a whole number of days, got {raw[:20]!r}")
    return int(raw)


def _write(suppressions: Sequence[Suppression], table: str, environ: Mapping[str, str]) -> tuple[int, int]:
    """Suppressions of scope SCOPE_ALL to the suppressions table, SCOPE_VERIFICATION blocks to the limits
    table; (suppressed, blocked)."""
    everywhere = [s.item() for s in suppressions if s.scope == SCOPE_ALL]
    scoped = [s for s in suppressions if s.scope == SCOPE_VERIFICATION]
    if everywhere:
        dynamodb_batch.batch_write(table, everywhere)
    if scoped:
        limits = environ.get("LIMITS_TABLE", "").strip()
        if not limits:
            raise ConfigurationError(
                "LIMITS_TABLE is not set: a report about verification mail cannot be kept"
            )
        days = verification_block_days(environ)
        dynamodb_batch.batch_write(limits, [s.block_item(days) for s in scoped])
    return len(everywhere), len(scoped)


def _named(problems: Sequence[RecordProblem]) -> tuple[list[str], str]:
    named = [str(problem) for problem in problems[:MAX_NAMED_PROBLEMS]]
    more = f"; and {len(problems) - len(named)} more" if len(problems) > len(named) else ""
    return named, more


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        table = table_name(os.environ)
    except ConfigurationError as error:
        logger.error("Invalid configuration", extra={"decision": "rejected", "problem": str(error)})
        raise
    verification_set = os.environ.get("VERIFICATION_CONFIGURATION_SET", "").strip() or None
    try:
        feedback, problems = parse_event(event, now=datetime.now(UTC), verification_set=verification_set)
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
    suppressed = blocked = 0
    if suppressions:
        try:
            suppressed, blocked = _write(suppressions, table, os.environ)
        except ConfigurationError as error:
            logger.error("Invalid configuration", extra={"decision": "rejected", "problem": str(error)})
            raise
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
            "Suppressed address"
            if suppression.scope == SCOPE_ALL
            else "Blocked verification mail to address",
            extra={
                "decision": "suppress" if suppression.scope == SCOPE_ALL else "block_verification",
                "reason": suppression.reason,
                "address": mask(suppression.address),
            },
        )

    result = {
        "records": len(feedback) + len(problems),
        "suppressed": suppressed,
        "verification_blocked": blocked,
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
            f" ({len(feedback)} valid record(s) applied, {suppressed} address(es) suppressed,"
            f" {blocked} blocked for verification mail)"
        )
    return result
