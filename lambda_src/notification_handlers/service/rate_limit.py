"""Per-user request limiting of the registration API: a fixed one-minute window per JWT ``sub``.

The HTTP API stage's throttling is one bucket shared by every caller, so one user could spend it for
all. This counter is per user: each request makes ONE conditional ``UpdateItem`` on the ``limits`` table
(``LIMITS_TABLE``, hash key ``limit_key``; ``limit_counters.count_one``):

    limit_key   = "requests#<sub>#<window start, epoch seconds>"
    UpdateExpression    ADD #count :one SET #expires = :expires        (count, expires_at)
    ConditionExpression (attribute_not_exists(#count) OR #count < :ceiling)

so at most ``REQUESTS_PER_USER_PER_MINUTE`` requests of one user are admitted per window, however many
race (DynamoDB serialises the updates of one item). The refused request is not counted. ``expires_at``
(the table's TTL attribute) is the window's end plus ``EXPIRY_GRACE_SECONDS``, so windows vanish on
their own; a window's key is never reused, so a TTL deletion that runs late changes nothing. A fixed
window lets a user spend up to twice the ceiling across a window boundary; that is the price of one
write per request (a sliding window needs a read of the previous window too).

Over the ceiling: 429 ``too_many_requests`` with ``retry-after`` (whole seconds to the window's end).

DynamoDB throttling, 5xx or a timeout of the counter update (after the SDK's retries;
``aws_clients.is_transient``): the request is
let through (fail open) and logged at WARNING with ``error_code``. The limiter is a fairness control,
not an access control (the JWT authorizer and the ``sub`` check come first, and the stage throttle
still caps the total); failing closed would turn a capacity hiccup of one table into an outage of the
whole API for every user, the very harm the limiter exists to prevent. The expensive routes keep their
own counters (verification mail). Any other error (``AccessDenied``, a missing table or credentials:
a deployment fault) is raised, so a broken limiter shows as 500s instead of silently limiting nothing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Final, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from notification_handlers import aws_clients
from notification_handlers.service import env, limit_counters
from notification_handlers.service.log import logger

WINDOW_SECONDS: Final = 60
DEFAULT_REQUESTS_PER_MINUTE: Final = 60
EXPIRY_GRACE_SECONDS: Final = 60
KEY_PREFIX: Final = "requests"

# Builds the caller's refusal: (HTTP status, error code, message, headers) -> the exception to raise.
Refuse = Callable[[int, str, str, Mapping[str, str]], Exception]


class Window(NamedTuple):
    key: str
    ends_at: int  # epoch seconds
    expires_at: int  # epoch seconds, the TTL attribute

    def retry_after(self, now: float) -> int:
        """Whole seconds until the window ends (at least 1)."""
        return max(1, math.ceil(self.ends_at - now))


def window(user_id: str, now: float) -> Window:
    """The counter of ``user_id`` for the window containing ``now`` (epoch seconds)."""
    start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
    ends_at = start + WINDOW_SECONDS
    return Window(f"{KEY_PREFIX}#{user_id}#{start}", ends_at, ends_at + EXPIRY_GRACE_SECONDS)


def _now() -> float:
    """The current time (a function so tests can move the clock)."""
    return time.time()


def admit(user_id: str, refuse: Refuse) -> None:
    """Count one request of ``user_id``; raise ``refuse(429, ...)`` when the window's ceiling is reached."""
    ceiling = env.positive_int("REQUESTS_PER_USER_PER_MINUTE", DEFAULT_REQUESTS_PER_MINUTE)
    table = env.required("LIMITS_TABLE")
    now = _now()
    current = window(user_id, now)
    try:
        aws_clients.client("dynamodb").update_item(
            **limit_counters.count_one(table, current.key, ceiling, expires_at=current.expires_at)
        )
    except (ClientError, BotoCoreError) as error:
        if aws_clients.error_code(error) == "ConditionalCheckFailedException":
            retry_after = current.retry_after(now)
            raise refuse(  # the caller logs the refusal (one line per request)
                429,
                "too_many_requests",
                f"more than {ceiling} requests in a minute from this user: retry after {retry_after} s",
                {"retry-after": str(retry_after)},
            ) from None
        if not aws_clients.is_transient(error):
            raise
        _let_through(error)


def _let_through(error: ClientError | BotoCoreError) -> None:
    logger.warning(
        "per-user request counter unavailable; request let through (fail open)",
        extra={"error_code": aws_clients.error_code(error)},
    )
