"""Email a human about every object created in or removed from an S3 bucket, through SES v2.

S3 invokes this function asynchronously with an event of one or more ``Records``. The pure functions
``parse_records``, ``render`` and ``human_size`` hold all the logic; ``send`` and ``handler`` are the
thin edge that talks to SES.

Every record gets its own email. Keys arrive URL-encoded the way S3 writes them (``+`` for a space,
``%XX`` escapes for everything else, UTF-8), and are decoded with ``urllib.parse.unquote_plus``.
The message is built from the event alone (bucket, key, size, event name, time, requester): the
function never reads the object, so it needs no ``s3:GetObject`` and no access to the bucket's key.

Failure handling (asynchronous invocation: Lambda retries twice, then dead-letters the whole event):

* An SES failure that the SDK's own retries (``aws_clients``: standard mode, 3 attempts) did not clear
  raises at once, so the event is retried and finally dead-lettered; the records after it are mailed
  by the retry.
* A malformed record does not stop the good ones: every valid record is mailed first, then the
  handler raises ``MalformedEventError`` naming each bad record and field (the first
  ``MAX_NAMED_PROBLEMS``; all are counted), so the event is retried and dead-lettered with the reason
  in its ``ErrorMessage`` attribute.
* Retries of the same event must not mail the good records again. The function remembers the
  fingerprint (a hash of the record as delivered) of the last ``SENT_MEMORY_SIZE`` records it mailed,
  in memory, for the life of the execution environment; a retry that lands on the same warm
  environment skips them and reports them as ``duplicates``. This also absorbs S3's own occasional
  duplicate deliveries. It is best effort by design: a retry that lands on a different or fresh
  environment mails again (at most once per attempt, three times in all). Exactly-once delivery
  needs a persistent store (a conditional write per key in DynamoDB, as the notification service
  does), which this pattern does not deploy.
* The ``s3:TestEvent`` S3 may send when notifications are configured is ignored explicitly (logged).

Environment:
    SENDER                   required; the From address (must be, or belong to, a verified SES identity).
    RECIPIENTS               required; comma-separated addresses or a JSON list of addresses.
    CONFIGURATION_SET        optional; SES configuration set used for every message.
    SES_IDENTITY_ARN         optional; sent as FromEmailAddressIdentityArn (sending authorization).
    SUBJECT_PREFIX           optional; prepended to every subject, e.g. "[prod]".
    POWERTOOLS_SERVICE_NAME  the ``service`` key of the structured logs.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, NamedTuple
from urllib.parse import quote, unquote_plus

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
from notification_handlers.structured_log import service_logger

if TYPE_CHECKING:
    from notification_handlers.lambda_context import LambdaContext

logger = service_logger("s3-object-notifier")

TEST_EVENT_NAME: Final = "s3:TestEvent"
CREATED_PREFIX: Final = "ObjectCreated:"
REMOVED_PREFIX: Final = "ObjectRemoved:"
# SES v2 SendEmail accepts at most 50 recipients per message.
MAX_RECIPIENTS: Final = 50
MAX_SUBJECT_LENGTH: Final = 200
# Fingerprints of mailed records kept per execution environment (a few KB).
SENT_MEMORY_SIZE: Final = 1000
# Malformed records named in the error (all are counted): its text becomes the DLQ message's ErrorMessage.
MAX_NAMED_PROBLEMS: Final = 20
# S3 sizes are 64-bit; anything larger is not a size (and would overflow the float in human_size).
MAX_OBJECT_SIZE: Final = 2**63 - 1

_EMAIL: Final = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[A-Za-z]{2,}")  # fullmatch
_SIZE_UNITS: Final = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB")


class Settings(NamedTuple):
    sender: str
    recipients: tuple[str, ...]
    configuration_set: str | None
    identity_arn: str | None
    subject_prefix: str | None


@dataclass(frozen=True, slots=True)  # a field named index: a NamedTuple would hide tuple.index
class ObjectEvent:
    """What one S3 record says about one object, with the key already decoded."""

    index: int
    bucket: str
    key: str
    event_name: str
    event_time: datetime
    region: str | None
    size: int | None
    etag: str | None
    version_id: str | None
    principal_id: str | None
    source_ip: str | None
    request_id: str | None
    configuration_id: str | None
    fingerprint: str

    @property
    def action(self) -> str:
        return "created" if self.event_name.startswith(CREATED_PREFIX) else "deleted"


@dataclass(frozen=True, slots=True)  # a field named index: a NamedTuple would hide tuple.index
class RecordProblem:
    index: int
    problem: str

    def __str__(self) -> str:
        return f"Records[{self.index}]: {self.problem}"


class Email(NamedTuple):
    subject: str
    text: str
    html: str


# --- configuration -------------------------------------------------------------------


def parse_recipients(raw: str) -> tuple[str, ...]:
    """Recipients from a comma-separated list or a JSON list of strings; validated, de-duplicated."""
    text = raw.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: absurdly nested, e.g. "[[[[..."
            raise ConfigurationError("RECIPIENTS looks like JSON but is not a valid JSON list") from None
        if not isinstance(parsed, list) or not all(isinstance(a, str) for a in parsed):
            raise ConfigurationError("RECIPIENTS as JSON must be a list of strings")
        candidates = [a.strip() for a in parsed]
    else:
        candidates = [a.strip() for a in text.split(",")]
    addresses = tuple(dict.fromkeys(a for a in candidates if a))
    if not addresses:
        raise ConfigurationError("RECIPIENTS is not set: give at least one email address")
    bad = [a for a in addresses if not _EMAIL.fullmatch(a)]
    if bad:
        raise ConfigurationError(f"RECIPIENTS has invalid email address(es): {', '.join(map(repr, bad))}")
    if len(addresses) > MAX_RECIPIENTS:
        raise ConfigurationError(f"RECIPIENTS has {len(addresses)} addresses; SES allows {MAX_RECIPIENTS}")
    return addresses


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read and validate the handler's settings from an environment mapping."""
    sender = environ.get("SENDER", "").strip()
    if not sender:
        raise ConfigurationError("SENDER is not set: it must be the From address of a verified SES identity")
    if not _EMAIL.fullmatch(sender):
        raise ConfigurationError(f"SENDER={sender!r} is not an email address")
    return Settings(
        sender=sender,
        recipients=parse_recipients(environ.get("RECIPIENTS", "")),
        configuration_set=environ.get("CONFIGURATION_SET", "").strip() or None,
        identity_arn=environ.get("SES_IDENTITY_ARN", "").strip() or None,
        subject_prefix=environ.get("SUBJECT_PREFIX", "").strip() or None,
    )


# --- parse ---------------------------------------------------------------------------


def _size(container: Mapping[str, Any], path: str, *, required: bool) -> int | None:
    value = container.get("size")
    if value is None:
        if required:
            raise MalformedEventError(f"{path} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_OBJECT_SIZE:
        raise MalformedEventError(f"{path} must be a non-negative integer below 2**63, got {value!r:.40}")
    return value


def decode_key(raw: str) -> str:
    """An S3 event key as the object's real name: ``+`` is a space, ``%XX`` are UTF-8 escapes."""
    return unquote_plus(raw, encoding="utf-8", errors="strict")


def fingerprint(record: object) -> str:
    """A stable identity of a record as delivered (S3 redelivers and Lambda retries identical records)."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_record(record: object, index: int) -> ObjectEvent:
    """Validate one S3 record; raises MalformedEventError naming the field (relative to the record)."""
    if not isinstance(record, Mapping):
        raise MalformedEventError(f"record must be an object, got {type_name(record)}")
    event_name = read_required_text(record, "eventName", "eventName")
    if not event_name.startswith((CREATED_PREFIX, REMOVED_PREFIX)):
        raise MalformedEventError(
            f"eventName {event_name[:60]!r} is not an object created/removed event "
            f"(expected {CREATED_PREFIX}* or {REMOVED_PREFIX}*)"
        )
    s3 = read_object(record, "s3", "s3", required=True)
    bucket = read_object(s3, "bucket", "s3.bucket", required=True)
    obj = read_object(s3, "object", "s3.object", required=True)
    raw_key = read_required_text(obj, "key", "s3.object.key")
    try:
        key = decode_key(raw_key)
    except UnicodeDecodeError:
        raise MalformedEventError(f"s3.object.key is not URL-encoded UTF-8: {raw_key[:80]!r}") from None
    identity = read_object(record, "userIdentity", "userIdentity", required=False)
    request = read_object(record, "requestParameters", "requestParameters", required=False)
    response = read_object(record, "responseElements", "responseElements", required=False)
    return ObjectEvent(
        index=index,
        bucket=read_required_text(bucket, "name", "s3.bucket.name"),
        key=key,
        event_name=event_name,
        event_time=parse_utc_time(read_required_text(record, "eventTime", "eventTime"), "eventTime"),
        region=read_optional_text(record, "awsRegion", "awsRegion"),
        # S3 sends the size of created objects only.
        size=_size(obj, "s3.object.size", required=event_name.startswith(CREATED_PREFIX)),
        etag=read_optional_text(obj, "eTag", "s3.object.eTag"),
        version_id=read_optional_text(obj, "versionId", "s3.object.versionId"),
        principal_id=read_optional_text(identity, "principalId", "userIdentity.principalId"),
        source_ip=read_optional_text(request, "sourceIPAddress", "requestParameters.sourceIPAddress"),
        request_id=read_optional_text(response, "x-amz-request-id", "responseElements.x-amz-request-id"),
        configuration_id=read_optional_text(s3, "configurationId", "s3.configurationId"),
        fingerprint=fingerprint(record),
    )


def is_test_event(event: object) -> bool:
    """S3's ``s3:TestEvent``, sent when a notification configuration is saved (no Records)."""
    return isinstance(event, Mapping) and event.get("Event") == TEST_EVENT_NAME and "Records" not in event


def parse_records(event: object) -> tuple[list[ObjectEvent], list[RecordProblem]]:
    """Every valid record, and a problem per invalid one (the envelope itself must be valid)."""
    if not isinstance(event, Mapping):
        raise MalformedEventError(f"event must be a JSON object, got {type_name(event)}")
    records = event.get("Records")
    if records is None:
        raise MalformedEventError("Records is missing: not an S3 event notification")
    if not isinstance(records, list):
        raise MalformedEventError(f"Records must be a list, got {type_name(records)}")
    if not records:
        raise MalformedEventError("Records is empty")
    valid: list[ObjectEvent] = []
    problems: list[RecordProblem] = []
    for index, record in enumerate(records):
        try:
            valid.append(parse_record(record, index))
        except MalformedEventError as error:
            problems.append(RecordProblem(index, str(error)))
    return valid, problems


# --- render --------------------------------------------------------------------------


def human_size(size: int) -> str:
    """Binary units with one decimal, e.g. 1536 -> "1.5 KiB"; below 1 KiB, "512 bytes"."""
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    value = float(size)
    unit = 0
    while value >= 1024 and unit < len(_SIZE_UNITS) - 1:
        value /= 1024
        unit += 1
    return f"{value:.1f} {_SIZE_UNITS[unit]}"


def size_label(size: int | None) -> str | None:
    if size is None:
        return None
    return f"{human_size(size)} ({size:,} bytes)" if size >= 1024 else human_size(size)


def console_url(event: ObjectEvent) -> str:
    """S3 console page of the object (created) or of its folder (deleted objects have no page)."""
    region = quote(event.region or "us-east-1", safe="")
    bucket = quote(event.bucket, safe="")
    if event.action == "created":
        return (
            f"https://{region}.console.aws.amazon.com/s3/object/{bucket}"
            f"?region={region}&prefix={quote(event.key, safe='')}"
        )
    folder = event.key.rpartition("/")[0]
    folder_part = f"&prefix={quote(folder + '/', safe='')}" if folder else ""
    return f"https://{region}.console.aws.amazon.com/s3/buckets/{bucket}?region={region}{folder_part}"


def _one_line(text: str) -> str:
    """Control characters (a key may hold newlines) would break a header or a table row."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def render_subject(event: ObjectEvent, prefix: str | None = None) -> str:
    subject = _one_line(f"S3 object {event.action}: s3://{event.bucket}/{event.key}")
    if prefix:
        subject = f"{_one_line(prefix)} {subject}"
    if len(subject) <= MAX_SUBJECT_LENGTH:
        return subject
    return subject[: MAX_SUBJECT_LENGTH - 3].rstrip() + "..."


def render_rows(event: ObjectEvent) -> list[tuple[str, str]]:
    rows = [
        ("Bucket", event.bucket),
        ("Key", _one_line(event.key)),
        ("Event", f"{event.action} ({event.event_name})"),
        ("Size", size_label(event.size) or "-"),
        ("Time", event.event_time.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("Requester", event.principal_id or "-"),
        ("Source IP", event.source_ip or "-"),
        ("Version ID", event.version_id or "-"),
        ("Region", event.region or "-"),
    ]
    if event.etag:
        rows.append(("ETag", event.etag))
    if event.request_id:
        rows.append(("Request ID", event.request_id))
    return rows


def render(event: ObjectEvent, subject_prefix: str | None = None) -> Email:
    """The email for one record: subject, plain text, and an HTML version with every value escaped."""
    subject = render_subject(event, subject_prefix)
    rows = render_rows(event)
    where = "in" if event.action == "created" else "from"
    headline = f"An object was {event.action} {where} the S3 bucket {event.bucket}."
    link = console_url(event)
    width = max(len(label) for label, _ in rows) + 1
    text_lines = [headline, ""]
    text_lines += [f"{label + ':':<{width}} {value}" for label, value in rows]
    text_lines += ["", f"S3 console: {link}"]
    table = "".join(
        f'<tr><th align="left">{html.escape(label)}</th><td>{html.escape(value)}</td></tr>'
        for label, value in rows
    )
    body_html = (
        f"<html><body><p>{html.escape(headline)}</p>"
        f'<table cellpadding="4">{table}</table>'
        f'<p><a href="{html.escape(link, quote=True)}">Open in the S3 console</a></p></body></html>'
    )
    return Email(subject=subject, text="\n".join(text_lines) + "\n", html=body_html)


# --- edge ----------------------------------------------------------------------------

# Fingerprints of records this execution environment has mailed (see the module docstring).
_sent: OrderedDict[str, str] = OrderedDict()


def forget_sent_records() -> None:
    """Forget which records were mailed (tests; a new execution environment starts empty)."""
    _sent.clear()


def _remember(record_fingerprint: str, message_id: str) -> None:
    _sent[record_fingerprint] = message_id
    while len(_sent) > SENT_MEMORY_SIZE:
        _sent.popitem(last=False)


def send(email: Email, settings: Settings) -> str:
    """Send through SES v2 and return the message id; a ClientError propagates to the caller."""
    request: dict[str, Any] = {
        "FromEmailAddress": settings.sender,
        "Destination": {"ToAddresses": list(settings.recipients)},
        "Content": {
            "Simple": {
                "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": email.text, "Charset": "UTF-8"},
                    "Html": {"Data": email.html, "Charset": "UTF-8"},
                },
            }
        },
    }
    if settings.configuration_set:
        request["ConfigurationSetName"] = settings.configuration_set
    if settings.identity_arn:
        request["FromEmailAddressIdentityArn"] = settings.identity_arn
    response = aws_clients.sesv2().send_email(**request)
    return str(response["MessageId"])


def _record_log_keys(event: ObjectEvent) -> dict[str, Any]:
    # Keys can be personal data in some buckets, but they are what the operator needs to trace a mail.
    return {"record": event.index, "event_name": event.event_name, "bucket": event.bucket, "key": event.key}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_test_event(event):
        logger.info(
            "Ignored s3:TestEvent",
            extra={"decision": "ignored", "bucket": str(event.get("Bucket", ""))[:255]},
        )
        return {"status": "ignored", "reason": TEST_EVENT_NAME}
    try:
        settings = load_settings(os.environ)
    except ConfigurationError as error:
        logger.error("Invalid configuration", extra={"decision": "rejected", "problem": str(error)})
        raise
    try:
        objects, problems = parse_records(event)
    except MalformedEventError as error:
        logger.error("Rejected malformed event", extra={"decision": "rejected", "problem": str(error)})
        raise

    message_ids: list[str] = []
    duplicates = 0
    # Looked up before sending: when the memory is full, mailing an evicted record again must not evict
    # (and so re-mail) the next ones too.
    mailed_before = {item.fingerprint for item in objects if item.fingerprint in _sent}
    for item in objects:
        if item.fingerprint in mailed_before or item.fingerprint in _sent:
            duplicates += 1
            logger.info(
                "Skipped a record already mailed by this environment (retry or S3 redelivery)",
                extra={"decision": "duplicate", **_record_log_keys(item)},
            )
            continue
        try:
            message_id = send(render(item, settings.subject_prefix), settings)
        except (ClientError, BotoCoreError) as error:  # after the SDK's own retries (aws_clients)
            logger.exception(
                "SES SendEmail failed; raising so Lambda retries and then dead-letters the event",
                extra={
                    "decision": "notify",
                    "error_code": aws_clients.error_code(error),
                    **_record_log_keys(item),
                },
            )
            raise
        _remember(item.fingerprint, message_id)
        message_ids.append(message_id)
        logger.info(
            "Sent email", extra={"decision": "notify", "message_id": message_id, **_record_log_keys(item)}
        )

    if problems:
        named = [str(p) for p in problems[:MAX_NAMED_PROBLEMS]]
        more = f"; and {len(problems) - len(named)} more" if len(problems) > len(named) else ""
        earlier = f", {duplicates} of them by an earlier attempt" if duplicates else ""
        logger.error(
            "Rejected malformed record(s) after mailing the valid ones",
            extra={
                "decision": "rejected",
                "problems": named,
                "problem_count": len(problems),
                "sent": len(message_ids),
                "duplicates": duplicates,
            },
        )
        total = len(problems) + len(objects)
        raise MalformedEventError(
            f"{len(problems)} of {total} S3 record(s) malformed: {'; '.join(named)}{more}"
            f" ({len(objects)} valid record(s) mailed{earlier})"
        )
    return {"status": "sent", "message_ids": message_ids, "duplicates": duplicates}
