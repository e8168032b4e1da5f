"""Limits on email verification that outlive the subscription entry (docs/notification-service.md,
section 7, email verification).

Deleting an address removes its entry from the subscriptions table; the counters that protect the mailbox
and the code therefore live in the limits table (key ``limit_key``, TTL attribute ``expires_at``), which
the registration API never deletes from:

* ``verify-send-user#<user>#<day>``: codes mailed on behalf of one user on one UTC day (ceiling
  ``VERIFY_CODES_PER_USER_PER_DAY``): one account cannot mail-bomb many addresses.
* ``verify-send#<address>#<day>``: codes mailed to one address on one UTC day, by any user (ceiling
  ``VERIFY_CODES_PER_ADDRESS_PER_DAY``), plus ``next_send_at``: the resend cooldown
  (``VERIFY_RESEND_COOLDOWN_SECONDS``) in the same conditional write.
* ``verify-guess#<address>#<day>``: codes guessed for one address on one UTC day, by any user (ceiling
  ``VERIFY_GUESSES_PER_ADDRESS_PER_DAY``).
* ``verify-blocked#<address>``: written by the feedback function when a verification mail bounced or was
  complained about; while it lasts (``expires_at``), no code is mailed to the address.

Every counter is one conditional ``UpdateItem`` (``limit_counters.count_one``: ``ADD`` with the ceiling in
the condition), so concurrent requests cannot exceed it; each carries ``expires_at`` (the end of the day
after its window) so DynamoDB's TTL removes it on its own. The window is in the key, so a late TTL deletion
never extends a limit.

Codes: 8 characters of Crockford's base32 alphabet (no I, L, O, U), mailed as ``XXXX-XXXX``, read back
case-insensitively with or without the hyphen (O is read as 0, I and L as 1): 32^8 = 2^40 codes.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple

from botocore.exceptions import ClientError

from notification_handlers import aws_clients
from notification_handlers.service import env, limit_counters
from notification_handlers.service.dynamodb_batch import deserialize_item, serialize_item

CODE_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
CODE_LENGTH: Final = 8
CODE_SPACE: Final = len(CODE_ALPHABET) ** CODE_LENGTH  # 2^40 = 1,099,511,627,776
_LOOKALIKES: Final = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})
MAX_CODE_INPUT_LENGTH: Final = 16

DEFAULT_CODES_PER_ADDRESS_PER_DAY: Final = 5
DEFAULT_CODES_PER_USER_PER_DAY: Final = 10
DEFAULT_GUESSES_PER_ADDRESS_PER_DAY: Final = 10
DEFAULT_RESEND_COOLDOWN_SECONDS: Final = 60

SEND_USER_PREFIX: Final = "verify-send-user"
SEND_ADDRESS_PREFIX: Final = "verify-send"
GUESS_PREFIX: Final = "verify-guess"
BLOCKED_PREFIX: Final = "verify-blocked"


class LimitExceeded(Exception):
    """A verification limit is reached: wait ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = max(1, retry_after)


class Limits(NamedTuple):
    codes_per_address_per_day: int = DEFAULT_CODES_PER_ADDRESS_PER_DAY
    codes_per_user_per_day: int = DEFAULT_CODES_PER_USER_PER_DAY
    guesses_per_address_per_day: int = DEFAULT_GUESSES_PER_ADDRESS_PER_DAY
    resend_cooldown_seconds: int = DEFAULT_RESEND_COOLDOWN_SECONDS


def limits_from_env() -> Limits:
    return Limits(
        codes_per_address_per_day=env.positive_int(
            "VERIFY_CODES_PER_ADDRESS_PER_DAY", DEFAULT_CODES_PER_ADDRESS_PER_DAY
        ),
        codes_per_user_per_day=env.positive_int(
            "VERIFY_CODES_PER_USER_PER_DAY", DEFAULT_CODES_PER_USER_PER_DAY
        ),
        guesses_per_address_per_day=env.positive_int(
            "VERIFY_GUESSES_PER_ADDRESS_PER_DAY", DEFAULT_GUESSES_PER_ADDRESS_PER_DAY
        ),
        resend_cooldown_seconds=env.positive_int(
            "VERIFY_RESEND_COOLDOWN_SECONDS", DEFAULT_RESEND_COOLDOWN_SECONDS
        ),
    )


# --- codes (pure) ---------------------------------------------------------------------------------


def new_code() -> str:
    """A fresh code, uniformly random over CODE_SPACE (the canonical form: 8 characters, no hyphen)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def display_code(code: str) -> str:
    """``7KQ2M9XD`` as mailed: ``7KQ2-M9XD``."""
    half = CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def canonical_code(text: str) -> str | None:
    """What the user typed as a canonical code (upper case, no hyphen or spaces, look-alikes mapped);
    None unless it is CODE_LENGTH characters of the alphabet."""
    if len(text) > MAX_CODE_INPUT_LENGTH:
        return None
    code = text.upper().translate(_LOOKALIKES)
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def guess_probability(guesses: int) -> float:
    """Upper bound on the chance that ``guesses`` guesses hit a code (each against a code drawn
    uniformly at random: union bound)."""
    return guesses / CODE_SPACE


# --- keys and windows (pure) ----------------------------------------------------------------------


def day(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%d")


def seconds_to_next_day(now: datetime) -> int:
    moment = now.astimezone(UTC)
    midnight = datetime(moment.year, moment.month, moment.day, tzinfo=UTC) + timedelta(days=1)
    return int((midnight - moment).total_seconds())


def _expiry(now: datetime) -> int:
    """The end of the day after ``now``'s: a counter outlives its window, and TTL removes it later."""
    return int(now.timestamp()) + seconds_to_next_day(now) + 86400


def send_user_key(user_id: str, now: datetime) -> str:
    return f"{SEND_USER_PREFIX}#{user_id}#{day(now)}"


def send_address_key(address: str, now: datetime) -> str:
    return f"{SEND_ADDRESS_PREFIX}#{address}#{day(now)}"


def guess_key(address: str, now: datetime) -> str:
    return f"{GUESS_PREFIX}#{address}#{day(now)}"


def blocked_key(address: str) -> str:
    return f"{BLOCKED_PREFIX}#{address}"


# --- AWS edge -------------------------------------------------------------------------------------


def _dynamodb() -> Any:
    return aws_clients.client("dynamodb")


def _condition_failed(error: ClientError) -> bool:
    return aws_clients.error_code(error) == "ConditionalCheckFailedException"


def _count(table: str, key: str, ceiling: int, now: datetime, next_send_at: int | None = None) -> bool:
    """ADD 1 to the counter ``key`` unless it reached ``ceiling``; with ``next_send_at``, also unless
    the previous ``next_send_at`` is still ahead (the cooldown), and set it. False when refused."""
    params = limit_counters.count_one(table, key, ceiling, expires_at=_expiry(now))
    if next_send_at is not None:
        params["UpdateExpression"] += ", #next = :next"
        params["ConditionExpression"] += " AND (attribute_not_exists(#next) OR #next <= :now)"
        params["ExpressionAttributeNames"]["#next"] = "next_send_at"
        params["ExpressionAttributeValues"].update(
            serialize_item({":next": next_send_at, ":now": int(now.timestamp())})
        )
    try:
        _dynamodb().update_item(**params)
    except ClientError as error:
        if not _condition_failed(error):
            raise
        return False
    return True


def _read(table: str, key: str) -> dict[str, Any]:
    response = _dynamodb().get_item(
        TableName=table, Key=serialize_item({"limit_key": key}), ConsistentRead=True
    )
    item = response.get("Item")
    return deserialize_item(item) if item else {}


def consume_send(user_id: str, address: str, now: datetime, limits: Limits) -> None:
    """Count one code mailed by ``user_id`` to ``address``; LimitExceeded (nothing counted against the
    address) when the user's or the address's daily ceiling, or the address's cooldown, refuses it."""
    table = env.required("LIMITS_TABLE")
    user_key = send_user_key(user_id, now)
    if not _count(table, user_key, limits.codes_per_user_per_day, now):
        raise LimitExceeded(
            f"at most {limits.codes_per_user_per_day} verification codes per user per day",
            seconds_to_next_day(now),
        )
    epoch = int(now.timestamp())
    address_key = send_address_key(address, now)
    cooldown_end = epoch + limits.resend_cooldown_seconds
    if _count(table, address_key, limits.codes_per_address_per_day, now, next_send_at=cooldown_end):
        return
    # Refused for the address: the user's count goes back, so waiting out a cooldown does not cost the
    # user a code of the day (never below 0: a counter already there has nothing to give back).
    try:
        _dynamodb().update_item(**limit_counters.give_back_one(table, user_key))
    except ClientError as error:
        if not _condition_failed(error):
            raise
    item = _read(table, address_key)
    if int(item.get("count", 0)) >= limits.codes_per_address_per_day:
        raise LimitExceeded(
            f"at most {limits.codes_per_address_per_day} verification codes per address per day",
            seconds_to_next_day(now),
        )
    wait = int(item.get("next_send_at", epoch + 1)) - epoch
    raise LimitExceeded(
        f"a code was sent to this address less than {limits.resend_cooldown_seconds} s ago", wait
    )


def consume_guess(address: str, now: datetime, limits: Limits) -> None:
    """Count one guess at a code of ``address``; LimitExceeded at the daily ceiling."""
    table = env.required("LIMITS_TABLE")
    if not _count(table, guess_key(address, now), limits.guesses_per_address_per_day, now):
        raise LimitExceeded(
            f"at most {limits.guesses_per_address_per_day} verification guesses per address per day",
            seconds_to_next_day(now),
        )


def is_suppressed(address: str, now: datetime) -> bool:
    """True when the address is on the suppressions table (bounce or complaint about any mail of the
    service) or blocked for verification mail (a bounce or complaint about a verification mail)."""
    suppressions = env.required("EMAIL_SUPPRESSIONS_TABLE")
    found = _dynamodb().get_item(
        TableName=suppressions, Key=serialize_item({"address": address}), ConsistentRead=True
    )
    if found.get("Item"):
        return True
    blocked = _read(env.required("LIMITS_TABLE"), blocked_key(address))
    return bool(blocked) and int(blocked.get("expires_at", 0)) > int(now.timestamp())
