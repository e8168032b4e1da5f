"""Claim-then-complete de-duplication in a DynamoDB table: one conditional write per claim.

The router fans many events out with one ``SendMessageBatch`` per ten channel messages; an event is only
done once the batched send that carries its messages has succeeded. So ``Deduplicator`` claims each key
first (a conditional ``PutItem``), the caller sends everything in batches, then completes (``UpdateItem``)
the keys whose messages all went out and releases (``DeleteItem``) the others.

A claim succeeds when no record exists, when the record has expired (``expiration``, epoch seconds, also
the table's TTL attribute), or when it is an in-progress claim whose holder's time ran out
(``in_progress_expiration``, epoch milliseconds: the claiming invocation's remaining time). A refused
claim returns the existing record in the same call (``ReturnValuesOnConditionCheckFailure``), so telling
"done" from "in progress" costs nothing more.

The records keep the layout of AWS Lambda Powertools' idempotency store (``id`` = function name + ``#`` +
the md5 of the JSON-encoded key; ``status`` INPROGRESS or COMPLETED; ``expiration``;
``in_progress_expiration``; ``data``, the completed result as JSON), which the service used before: a
deployment that replaces a running version honours the records the old one wrote, and the table needs no
migration. Powertools itself is not used any more: its persistence layer costs 14 M instructions and 20
modules at every cold start on top of its logger (docs/benchmarks.md, "Cold start"), for three calls.
Records are prefixed with the function name, so the router's and the workers' records never meet even in
one table.
"""

from __future__ import annotations

import enum
import hashlib
import json
import time
from collections.abc import Mapping
from functools import cache
from typing import Any, Final

from botocore.exceptions import ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import ConfigurationError
from notification_handlers.service import env

DEFAULT_TTL_SECONDS: Final = 86_400
# In-progress claims expire after the invocation's remaining time; without a context, after Lambda's
# maximum timeout (15 minutes), never after the whole record TTL.
DEFAULT_IN_PROGRESS_MILLIS: Final = 15 * 60 * 1000
IN_PROGRESS: Final = "INPROGRESS"
COMPLETED: Final = "COMPLETED"
_NAMES: Final = {
    "#id": "id",
    "#status": "status",
    "#expiry": "expiration",
    "#in_progress_expiry": "in_progress_expiration",
}
_CLAIMABLE: Final = (
    "attribute_not_exists(#id) OR #expiry < :now"
    " OR (#status = :in_progress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_ms)"
)


class Claim(enum.Enum):
    CLAIMED = "claimed"  # this invocation owns the key: do the work, then complete or release
    ALREADY_DONE = "already_done"  # completed before: skip
    IN_PROGRESS = "in_progress"  # another invocation holds it: retry later


def record_id(function_name: str, key: str) -> str:
    """The record's ``id``: ``function_name#`` + md5 of the JSON-encoded key (a fixed length whatever the
    key; the same ids as the Powertools store the service used before)."""
    if not key:
        raise ValueError("an idempotency key must not be empty")
    digest = hashlib.md5(json.dumps(key).encode(), usedforsecurity=False).hexdigest()
    return f"{function_name}#{digest}"


def claim_request(
    table: str, record: str, *, now: float, ttl_seconds: int, in_progress_millis: int
) -> dict[str, Any]:
    """``PutItem`` parameters writing an in-progress claim of ``record`` unless a live record holds it."""
    return {
        "TableName": table,
        "Item": {
            "id": {"S": record},
            "status": {"S": IN_PROGRESS},
            "expiration": {"N": str(int(now) + ttl_seconds)},
            "in_progress_expiration": {"N": str(int(now * 1000) + in_progress_millis)},
        },
        "ConditionExpression": _CLAIMABLE,
        "ExpressionAttributeNames": _NAMES,
        "ExpressionAttributeValues": {
            ":now": {"N": str(int(now))},
            ":now_ms": {"N": str(int(now * 1000))},
            ":in_progress": {"S": IN_PROGRESS},
        },
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def complete_request(
    table: str, record: str, *, now: float, ttl_seconds: int, result: Mapping[str, Any]
) -> dict[str, Any]:
    """``UpdateItem`` parameters marking ``record`` completed with ``result`` for ``ttl_seconds`` from now."""
    return {
        "TableName": table,
        "Key": {"id": {"S": record}},
        "UpdateExpression": "SET #data = :data, #expiry = :expiry, #status = :status",
        "ExpressionAttributeNames": {"#data": "data", "#expiry": "expiration", "#status": "status"},
        "ExpressionAttributeValues": {
            ":data": {"S": json.dumps(dict(result), sort_keys=True)},
            ":expiry": {"N": str(int(now) + ttl_seconds)},
            ":status": {"S": COMPLETED},
        },
    }


def refusal(existing: Mapping[str, Any] | None) -> tuple[Claim, dict[str, Any] | None]:
    """What a refused claim means, from the record that refused it (None: not returned by the table)."""
    if not existing or existing.get("status", {}).get("S") != COMPLETED:
        return Claim.IN_PROGRESS, None
    try:
        result = json.loads(existing.get("data", {}).get("S", "{}"))
    except ValueError:  # not JSON: written by something else; the key is still done
        result = None
    return Claim.ALREADY_DONE, result if isinstance(result, dict) and result else None


class Deduplicator:
    """Claims, completes and releases keys in an idempotency table (hash key ``id``, TTL ``expiration``)."""

    def __init__(self, table_name: str, ttl_seconds: int, function_name: str) -> None:
        if ttl_seconds <= 0:
            raise ConfigurationError(
                f"idempotency TTL must be a positive number of seconds, got {ttl_seconds}"
            )
        self._table = table_name
        self._ttl_seconds = ttl_seconds
        self._function_name = function_name

    def claim(self, key: str, *, remaining_time_in_millis: int | None = None) -> Claim:
        """Record ``key`` as in progress unless a live record exists; say who owns it.

        ``remaining_time_in_millis`` (the Lambda context's) bounds how long the claim blocks others if
        this invocation dies before completing or releasing it.
        """
        return self.claim_with_result(key, remaining_time_in_millis=remaining_time_in_millis)[0]

    def claim_with_result(
        self, key: str, *, remaining_time_in_millis: int | None = None
    ) -> tuple[Claim, dict[str, Any] | None]:
        """``claim``, plus the result stored by ``complete`` when the key is ``ALREADY_DONE`` (else None).

        One conditional ``PutItem``: the existing record comes back with the refusal.
        """
        millis = DEFAULT_IN_PROGRESS_MILLIS if remaining_time_in_millis is None else remaining_time_in_millis
        request = claim_request(
            self._table,
            record_id(self._function_name, key),
            now=time.time(),
            ttl_seconds=self._ttl_seconds,
            in_progress_millis=millis,
        )
        try:
            aws_clients.client("dynamodb").put_item(**request)
        except ClientError as error:
            if aws_clients.error_code(error) != "ConditionalCheckFailedException":
                raise
            return refusal(error.response.get("Item"))  # ALL_OLD: the record that refused the claim
        return Claim.CLAIMED, None

    def complete(self, key: str, result: Mapping[str, Any] | None = None) -> None:
        """Mark a claimed key done: later claims return ``ALREADY_DONE`` (and ``result``, a small JSON
        object) until the record expires."""
        request = complete_request(
            self._table,
            record_id(self._function_name, key),
            now=time.time(),
            ttl_seconds=self._ttl_seconds,
            result=result or {},
        )
        aws_clients.client("dynamodb").update_item(**request)

    def release(self, key: str) -> None:
        """Delete a claimed key's record, so a retry can claim it again."""
        aws_clients.client("dynamodb").delete_item(
            TableName=self._table, Key={"id": {"S": record_id(self._function_name, key)}}
        )


@cache
def deduplicator_from_env() -> Deduplicator:
    """The process-wide ``Deduplicator`` from ``IDEMPOTENCY_TABLE``, ``IDEMPOTENCY_TTL_SECONDS`` (default
    86400) and ``AWS_LAMBDA_FUNCTION_NAME``."""
    return Deduplicator(
        env.required("IDEMPOTENCY_TABLE"),
        env.positive_int("IDEMPOTENCY_TTL_SECONDS", DEFAULT_TTL_SECONDS),
        env.optional("AWS_LAMBDA_FUNCTION_NAME") or "notification-service",
    )
