"""The event contract: what producers put on the bus, as the ingest queue delivers it to the router.

``parse_notification`` is pure: JSON, then the JSON Schema in ``schemas/notification-event.schema.json``
(draft-07, checked by ``notification_event_validator``: fastjsonschema's code for it, generated ahead of
time by tools/ci/event_validator.py, so no environment compiles the schema at run time), then the
notification id rule (``notification_id``). Anything else raises ``MalformedEventError`` with a reason that
names the field. See docs/notification-service.md, section 1.

The notification id is namespaced by the producer: the SHA-256 of the event's ``detail-type``, ``source``
and key (``detail.idempotencyKey`` when given, else the EventBridge event ``id``), as 64 lowercase hex
digits. The same key from two sources, or for two types, is two notifications; repeats of one producer's
event are one. The encoding hashed is unambiguous whatever characters a source or key holds:
``<detail-type> LF <UTF-8 byte length of source> ":" <source> LF <key>`` (a detail-type holds no LF; the
length prefix delimits the free-form source; the key is the rest).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from importlib import resources
from typing import Any, Final, NamedTuple, cast

from notification_handlers.event_fields import MalformedEventError, parse_utc_time, type_name
from notification_handlers.records import EMPTY_MAPPING
from notification_handlers.service.notification_event_validator import JsonSchemaValueException, validate

SCHEMA_FILE: Final = "notification-event.schema.json"
MAX_REASON: Final = 500
# What a notification id looks like (the registration API checks path parameters against it).
NOTIFICATION_ID_PATTERN: Final = re.compile(r"[0-9a-f]{64}")
# The schema's detail-type and idempotencyKey rules (fullmatch), for the cancel request (``deferral``).
TYPE_PATTERN: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
KEY_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# Top-level field the service adds to a deferred event when it comes back due (``deferral``): EventBridge
# builds the envelope of every event put on the bus, so producers cannot set it.
DUE_MARKER: Final = "notification-service-due"
# The top-level field of a digest's flush message (digests.py): the service's own, like DUE_MARKER.
FLUSH_MARKER: Final = "notification-service-digest"


class Notification(NamedTuple):
    notification_id: str  # notification_id(source, notification_type, idempotency_key)
    notification_type: str  # the event's detail-type
    event_id: str
    source: str
    time: datetime
    recipients: tuple[str, ...]
    data: Mapping[str, Any] = EMPTY_MAPPING
    idempotency_key: str = ""  # detail.idempotencyKey, else the event id: the producer's own name for it
    send_at: datetime | None = None  # detail.sendAt
    delay_seconds: int | None = None  # detail.delaySeconds
    due: bool = False  # the service's DUE_MARKER: a deferred event come back at its time


def namespaced_key(source: str, notification_type: str, key: str) -> bytes:
    """The bytes hashed into a notification id: ``<type> LF <len(source)>:<source> LF <key>``.

    Injective: the type holds no LF (its schema pattern), the byte-length prefix delimits the source
    whatever it contains, and the key is everything after the next LF.
    """
    source_bytes = _utf8(source)
    return b"%s\n%d:%s\n%s" % (_utf8(notification_type), len(source_bytes), source_bytes, _utf8(key))


def _utf8(text: str) -> bytes:
    # JSON may carry a lone surrogate ("\\ud800"): encode it rather than fail the whole batch on it.
    return text.encode("utf-8", "surrogatepass")


def notification_id(source: str, notification_type: str, key: str) -> str:
    """The notification id of a producer's key: 64 lowercase hex digits (SHA-256), one per
    (source, detail-type, key); a producer computes it the same way to look up deliveries."""
    return hashlib.sha256(namespaced_key(source, notification_type, key)).hexdigest()


def schema() -> dict[str, Any]:
    """The contract's JSON Schema (shipped inside the package)."""
    text = resources.files(__package__).joinpath("schemas", SCHEMA_FILE).read_text(encoding="utf-8")
    return cast(dict[str, Any], json.loads(text))


def _schema_reason(error: JsonSchemaValueException) -> str:
    """fastjsonschema says ``data.detail.recipients[0] must match pattern ...``: name the field the way
    the contract does (``detail.recipients[0]``), without echoing the offending value."""
    path = error.name or "data"
    field_name = path[len("data.") :] if path.startswith("data.") else ("event" if path == "data" else path)
    message = error.message
    if message.startswith(path):
        message = message[len(path) :].strip()
    if field_name.startswith("detail.data") and "any definition" in message:
        message = (
            "must be a string, number or boolean, or a list/object of them nested at most 5 deep "
            "(null is not allowed)"
        )
    return f"{field_name} {message}"[:MAX_REASON]


def parse_notification(body: str) -> Notification:
    """The notification in one ingest queue message body (a whole EventBridge event)."""
    try:
        document = json.loads(body)
    except ValueError:
        raise MalformedEventError("body is not JSON") from None
    if not isinstance(document, dict):
        raise MalformedEventError(
            f"body must be a JSON object (an EventBridge event), got {type_name(document)}"
        )
    detail = document.get("detail")
    if isinstance(detail, dict) and "sendAt" in detail and "delaySeconds" in detail:
        raise MalformedEventError("detail.sendAt and detail.delaySeconds exclude each other: give one")
    try:
        validate(document)  # type: ignore[no-untyped-call]  # generated code carries no type hints
    except JsonSchemaValueException as error:
        raise MalformedEventError(_schema_reason(error)) from None
    detail = document["detail"]
    recipients = tuple(detail["recipients"])
    if len(set(recipients)) != len(recipients):  # the schema says so too; kept for a clear reason
        raise MalformedEventError("detail.recipients must not repeat a user id")
    key = detail.get("idempotencyKey") or document["id"]
    send_at = detail.get("sendAt")
    return Notification(
        notification_id=notification_id(document["source"], document["detail-type"], key),
        notification_type=document["detail-type"],
        event_id=document["id"],
        source=document["source"],
        time=parse_utc_time(document["time"], "time"),
        recipients=recipients,
        data=detail.get("data", {}),
        idempotency_key=key,
        send_at=None if send_at is None else parse_utc_time(send_at, "detail.sendAt"),
        delay_seconds=detail.get("delaySeconds"),
        due=DUE_MARKER in document,
    )
