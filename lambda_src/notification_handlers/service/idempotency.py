"""Claim-then-complete de-duplication on AWS Lambda Powertools' idempotency store (DynamoDB).

Why not ``@idempotent_function``: it marks a record completed when the decorated function returns, one
call per key. The router fans many events out with one ``SendMessageBatch`` per ten channel messages;
an event is only done once the batched send that carries its messages has succeeded. So ``Deduplicator``
claims each key first (``save_inprogress``), the caller sends everything in batches, then completes
(``save_success``) the keys whose messages all went out and releases (``delete_record``) the others.
Using Powertools' persistence layer directly keeps its storage layout (``id``, ``status``,
``expiration``, ``in_progress_expiration``), its record expiry and its in-progress timeout: a claim
left behind by an invocation that died expires with that invocation's remaining time, and the key can
then be claimed again.

The key is hashed by Powertools (``event_key_jmespath="key"`` over ``{"key": key}``, md5 as Powertools'
default); records are prefixed with the function name, so the router's and the workers' records never
meet even in one table.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from functools import cache
from typing import Any, Final

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyItemAlreadyExistsError

from notification_handlers import aws_clients
from notification_handlers.event_fields import ConfigurationError
from notification_handlers.service import env

DEFAULT_TTL_SECONDS: Final = 86_400
# In-progress claims expire after the invocation's remaining time; without a context, after Lambda's
# maximum timeout (15 minutes), never after the whole record TTL.
DEFAULT_IN_PROGRESS_MILLIS: Final = 15 * 60 * 1000
_COMPLETED: Final = "COMPLETED"


class Claim(enum.Enum):
    CLAIMED = "claimed"  # this invocation owns the key: do the work, then complete or release
    ALREADY_DONE = "already_done"  # completed before: skip
    IN_PROGRESS = "in_progress"  # another invocation holds it: retry later


class Deduplicator:
    """Claims, completes and releases keys in a Powertools idempotency table."""

    def __init__(self, table_name: str, ttl_seconds: int, function_name: str) -> None:
        if ttl_seconds <= 0:
            raise ConfigurationError(
                f"idempotency TTL must be a positive number of seconds, got {ttl_seconds}"
            )
        self._layer = DynamoDBPersistenceLayer(
            table_name=table_name, boto3_client=aws_clients.client("dynamodb")
        )
        self._layer.configure(
            IdempotencyConfig(
                event_key_jmespath="key",
                raise_on_no_idempotency_key=True,
                expires_after_seconds=ttl_seconds,
            ),
            key_prefix=function_name,
        )

    @staticmethod
    def _data(key: str) -> dict[str, str]:
        if not key:
            raise ValueError("an idempotency key must not be empty")
        return {"key": key}

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

        Same single conditional ``PutItem``: the existing record comes back with the refusal.
        """
        millis = DEFAULT_IN_PROGRESS_MILLIS if remaining_time_in_millis is None else remaining_time_in_millis
        try:
            self._layer.save_inprogress(self._data(key), remaining_time_in_millis=millis)
        except IdempotencyItemAlreadyExistsError as existing:
            record = existing.old_data_record
            if record is not None and record.status == _COMPLETED:
                try:
                    result = record.response_json_as_dict()
                except ValueError:  # not JSON: written by something else; the key is still done
                    result = None
                return Claim.ALREADY_DONE, result if isinstance(result, dict) and result else None
            return Claim.IN_PROGRESS, None
        return Claim.CLAIMED, None

    def complete(self, key: str, result: Mapping[str, Any] | None = None) -> None:
        """Mark a claimed key done: later claims return ``ALREADY_DONE`` (and ``result``, a small JSON
        object) until the record expires."""
        self._layer.save_success(self._data(key), result=dict(result or {}))

    def release(self, key: str, error: Exception) -> None:
        """Delete a claimed key's record, so a retry can claim it again."""
        self._layer.delete_record(self._data(key), error)


@cache
def deduplicator_from_env() -> Deduplicator:
    """The process-wide ``Deduplicator`` from ``IDEMPOTENCY_TABLE``, ``IDEMPOTENCY_TTL_SECONDS`` (default
    86400) and ``AWS_LAMBDA_FUNCTION_NAME``."""
    return Deduplicator(
        env.required("IDEMPOTENCY_TABLE"),
        env.positive_int("IDEMPOTENCY_TTL_SECONDS", DEFAULT_TTL_SECONDS),
        env.optional("AWS_LAMBDA_FUNCTION_NAME") or "notification-service",
    )
