"""Lazily created, cached boto3 clients shared by the handlers.

Clients are built on first use, not at import: a module import never talks to AWS,
tests can set up their fakes before the first call, and a warm container reuses the
client (and its connection pool) across invocations.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final, Protocol, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

# Fail fast and leave persistent failures to Lambda's async retries and the DLQ,
# rather than burning the function timeout inside the SDK.
#
# Retries are explicit, never taken from the environment or ~/.aws/config:
# * "standard" mode retries throttling errors (Throttling, TooManyRequestsException, ...), 5xx responses
#   and connection/read timeouts with exponential backoff and full jitter (up to 1 s, then 2 s after a
#   throttle; 50 ms, then 100 ms after a 5xx), and never retries a permanent error (MessageRejected,
#   NotFound, AuthorizationError, KMS* -- SNS's KMSThrottling too: it is a modeled 400, so Lambda's
#   async retries, a minute and more apart, absorb it). Its retry quota stops retrying once a warm
#   container has seen many failed retries, so a service that is down fails each call fast instead of
#   eating the function's timeout.
# * Not "adaptive": it retries the same errors, and adds a client-side rate limiter that can sleep
#   before the *first* attempt of later calls. Its state lives in one execution environment while
#   Lambda spreads load over many, so it throttles nothing fleet-wide, only spends the function's time.
#   The AWS SDKs reference guide recommends standard and keeps adaptive for specialised use cases.
# * "total_max_attempts" counts the first attempt: 3 = 1 try + 2 retries. (botocore's "max_attempts"
#   key counts retries only: {"max_attempts": 3} would mean 4 attempts.) Worst case per call:
#   3 x (3 s connect + 5 s read) + 3 s backoff = 27 s, within the 30 s default function timeout.
_CLIENT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=5,
    retries={"mode": "standard", "total_max_attempts": 3},
)


class SnsPublisher(Protocol):
    """The slice of the SNS client the handlers use (boto3 ships no type hints)."""

    def publish(self, **kwargs: Any) -> dict[str, Any]: ...


class SesV2Sender(Protocol):
    """The slice of the SES v2 (``sesv2``) client the handlers use."""

    def send_email(self, **kwargs: Any) -> dict[str, Any]: ...


@cache
def client(service_name: str) -> Any:
    """Return the process-wide boto3 client for ``service_name``, creating it on first use."""
    return boto3.client(service_name, config=_CLIENT_CONFIG)


@cache
def client_with_endpoint(service_name: str, endpoint_url: str, *, max_pool_connections: int = 10) -> Any:
    """The process-wide boto3 client for ``service_name`` at ``endpoint_url`` (one per service, endpoint and
    pool size), e.g. the API Gateway management API of one WebSocket stage. ``max_pool_connections`` bounds
    the HTTP connections threads sharing the client may hold (botocore's default is 10)."""
    config = _CLIENT_CONFIG.merge(Config(max_pool_connections=max_pool_connections))
    return boto3.client(service_name, endpoint_url=endpoint_url, config=config)


def sns() -> SnsPublisher:
    """Return the shared SNS client."""
    return cast(SnsPublisher, client("sns"))


def sesv2() -> SesV2Sender:
    """Return the shared SES v2 client."""
    return cast(SesV2Sender, client("sesv2"))


def error_code(error: Exception) -> str:
    """What to log for a failed call: the AWS error code (e.g. "MessageRejected"), or, for a failure that
    got no response (timeouts, connection errors), the botocore exception's name (e.g. "ReadTimeoutError")."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "Unknown")
    return type(error).__name__


# Error codes that mean "busy: the same call may succeed later", for a caller deciding after the SDK's own
# retries between "retry later" (503, fail open, redeliver) and a fault: botocore's throttling codes and
# transient codes (standard retry mode, botocore/retries/standard.py), plus DynamoDB's
# TransactionConflictException (a concurrent transaction on one of the items) and the 5xx codes of services
# that answer them with a 4xx-looking body. Any 5xx status counts too.
TRANSIENT_ERROR_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "RequestTimeout",
        "RequestTimeoutException",
        "TransactionConflictException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
# Per-item reasons of a cancelled DynamoDB transaction that say "try again later".
TRANSIENT_CANCELLATION_REASONS: Final = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)


def cancellation_reasons(error: ClientError) -> list[str] | None:
    """The per-item reason codes of a cancelled DynamoDB transaction ("None" for items that were fine);
    None when the error is not a cancelled transaction."""
    if error_code(error) != "TransactionCanceledException":
        return None
    reasons = error.response.get("CancellationReasons")
    if not isinstance(reasons, list):
        return []
    return [str((reason or {}).get("Code") or "None") for reason in reasons]


def is_transient(error: Exception) -> bool:
    """Whether a failed call may succeed if made again later: a timeout or connection error (no answer at
    all), a throttle, a 5xx, or a transaction cancelled by a conflict or a throttle. False for everything
    else: a refused request (validation, access denied, missing resource) and botocore's own errors that
    no retry cures (missing credentials or region, invalid parameters)."""
    if isinstance(error, BotocoreConnectionError | HTTPClientError):
        return True  # connect/read timeouts, refused or dropped connections
    if not isinstance(error, ClientError):
        return False
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if error_code(error) in TRANSIENT_ERROR_CODES or status >= 500:
        return True
    return not TRANSIENT_CANCELLATION_REASONS.isdisjoint(cancellation_reasons(error) or ())


def reset_clients() -> None:
    """Forget cached clients (tests switch credentials, regions and mocks between cases)."""
    client.cache_clear()
    client_with_endpoint.cache_clear()
