"""Send many SQS messages with few calls: ``SendMessageBatch``, 10 entries per call.

A call holds at most ``MAX_ENTRIES`` entries and ``MAX_PAYLOAD_BYTES`` bytes (the sum of the bodies and
message attributes, as SQS counts them); entries are packed greedily, in order, under both limits.

``SendMessageBatch`` answers per entry. Entries that failed on the service's side (``SenderFault`` false:
throttling, internal errors) are sent again, ``MAX_ROUNDS`` rounds in all, with capped exponential backoff
and full jitter. Entries that failed through the sender's fault (too large, invalid characters) are not:
sending them again cannot help. A call that fails as a whole after botocore's own retries (throttled,
KMS unavailable, access denied) marks all its entries failed, and the other calls still go out.
``send_batch`` returns the ids of the entries that were not sent; the caller decides (the router reports
the events they came from as batch item failures, so SQS delivers those again).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from notification_handlers import aws_clients
from notification_handlers.records import EMPTY_MAPPING
from notification_handlers.service import _backoff
from notification_handlers.service.log import logger

MAX_ENTRIES: Final = 10
MAX_PAYLOAD_BYTES: Final = 256 * 1024
MAX_ROUNDS: Final = 3  # the first send and two re-sends of what failed on the service's side
_ENTRY_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,80}")  # fullmatch: "$" would admit a trailing newline


class OutgoingMessage(NamedTuple):
    """One message: ``entry_id`` is unique within a ``send_batch`` call (1-80 of A-Z a-z 0-9 _ -)."""

    entry_id: str
    body: str
    attributes: Mapping[str, str] = EMPTY_MAPPING

    def payload_bytes(self) -> int:
        """The size SQS counts against the message and batch limits: body + attribute names, types, values."""
        size = len(self.body.encode("utf-8"))
        for name, value in self.attributes.items():
            size += len(name.encode("utf-8")) + len(b"String") + len(value.encode("utf-8"))
        return size

    def entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"Id": self.entry_id, "MessageBody": self.body}
        if self.attributes:
            entry["MessageAttributes"] = {
                name: {"DataType": "String", "StringValue": value} for name, value in self.attributes.items()
            }
        return entry


def pack(messages: Sequence[OutgoingMessage]) -> list[list[OutgoingMessage]]:
    """Consecutive groups of at most ``MAX_ENTRIES`` messages and ``MAX_PAYLOAD_BYTES`` bytes.

    A message larger than the limit on its own gets a call of its own (SQS then rejects it as the
    sender's fault, and it is reported failed).
    """
    groups: list[list[OutgoingMessage]] = []
    current: list[OutgoingMessage] = []
    size = 0
    for message in messages:
        message_size = message.payload_bytes()
        if current and (len(current) == MAX_ENTRIES or size + message_size > MAX_PAYLOAD_BYTES):
            groups.append(current)
            current, size = [], 0
        current.append(message)
        size += message_size
    if current:
        groups.append(current)
    return groups


def _check_ids(messages: Sequence[OutgoingMessage]) -> None:
    seen: set[str] = set()
    for message in messages:
        if not _ENTRY_ID.fullmatch(message.entry_id):
            raise ValueError(f"entry id {message.entry_id[:100]!r} is not 1-80 characters of A-Z a-z 0-9 _ -")
        if message.entry_id in seen:
            raise ValueError(f"entry id {message.entry_id!r} is used twice")
        seen.add(message.entry_id)


def _send_group(queue_url: str, group: list[OutgoingMessage]) -> tuple[set[str], set[str]]:
    """One SendMessageBatch call: (ids to retry, ids failed for good)."""
    try:
        response = aws_clients.client("sqs").send_message_batch(
            QueueUrl=queue_url, Entries=[message.entry() for message in group]
        )
    except (ClientError, BotoCoreError) as error:
        logger.warning(
            "SendMessageBatch failed",
            extra={"error_code": aws_clients.error_code(error), "entries": len(group)},
        )
        return {message.entry_id for message in group}, set()
    retry: set[str] = set()
    permanent: set[str] = set()
    for failure in response.get("Failed", []):
        (permanent if failure.get("SenderFault") else retry).add(str(failure["Id"]))
        logger.warning(
            "SendMessageBatch entry failed",
            extra={"error_code": failure.get("Code"), "sender_fault": bool(failure.get("SenderFault"))},
        )
    return retry, permanent


def send_batch(queue_url: str, messages: Sequence[OutgoingMessage]) -> set[str]:
    """Send every message to ``queue_url``; return the entry ids that could not be sent."""
    _check_ids(messages)
    failed: set[str] = set()
    pending = list(messages)
    for round_number in range(1, MAX_ROUNDS + 1):
        if round_number > 1:
            _backoff.sleep(_backoff.delay(round_number - 1))
        retry: set[str] = set()
        for group in pack(pending):
            group_retry, group_permanent = _send_group(queue_url, group)
            retry |= group_retry
            failed |= group_permanent
        pending = [message for message in pending if message.entry_id in retry]
        if not pending:
            break
    failed |= {message.entry_id for message in pending}
    return failed
