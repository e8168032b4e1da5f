"""The delivery log: one row per notification, recipient, channel and target, with what happened.

Table layout (docs/notification-service.md, section 3): ``notification_id`` (hash key), ``delivery_key``
= ``<user_id>#<channel>#<target>`` (range key), ``user_id``, ``channel``, ``target``, ``status``,
``reason`` (failures and suppressions), ``notification_type``, ``updated_at``, ``expires_at`` (TTL, epoch
seconds). ``delivery_item`` is the pure mapping; ``record`` writes a batch of rows (25 per call).

``as_claim_result`` / ``from_claim_result``: a channel worker stores a delivery's row in the completed
idempotency claim of that delivery, so a redelivery that finds the claim complete (the batch's final
log write failed) writes the row again instead of losing it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple

from notification_handlers.service import dynamodb_batch, env

SENT: Final = "sent"
SUPPRESSED_PREFERENCE: Final = "suppressed_preference"
SUPPRESSED_BOUNCE: Final = "suppressed_bounce"
NO_ADDRESS: Final = "no_address"
FAILED: Final = "failed"
NO_CONNECTION: Final = "no_connection"  # websocket: the user has no open connection
NO_DEVICE: Final = "no_device"  # push: the user has no registered device token
SUPPRESSED_OPTED_OUT: Final = "suppressed_opted_out"  # sms: the number replied STOP (SNS opt-out list)
NO_PHONE_NUMBER: Final = "no_phone_number"  # sms: the user has no verified phone number
# Channel controls (docs/notification-service.md, "Channel fallback and the channel kill switch"):
SUPPRESSED_CHANNEL_DISABLED: Final = "suppressed_channel_disabled"  # an operator's switch turned it off
FALLBACK_USED: Final = "fallback_used"  # delivered on a later channel of the type's fallback list
NO_REACHABLE_CHANNEL: Final = "no_reachable_channel"  # no channel of the fallback list can reach the user
# Frequency caps and digests (docs/notification-service.md, "Frequency caps and digests"):
SUPPRESSED_FREQUENCY_CAP: Final = "suppressed_frequency_cap"  # over the type's max_per_user: dropped
DIGESTED: Final = (
    "digested"  # collected into the user's digest of the type; the digest is sent at the window end
)
# Quiet hours (docs/notification-service.md, "Quiet hours"): held to the window's end (reason: the due time).
DEFERRED_QUIET_HOURS: Final = "deferred_quiet_hours"
STATUSES: Final = frozenset(
    {
        SENT,
        SUPPRESSED_PREFERENCE,
        SUPPRESSED_BOUNCE,
        NO_ADDRESS,
        FAILED,
        NO_CONNECTION,
        NO_DEVICE,
        SUPPRESSED_OPTED_OUT,
        NO_PHONE_NUMBER,
        SUPPRESSED_CHANNEL_DISABLED,
        FALLBACK_USED,
        NO_REACHABLE_CHANNEL,
        SUPPRESSED_FREQUENCY_CAP,
        DIGESTED,
        DEFERRED_QUIET_HOURS,
    }
)

DEFAULT_TTL_DAYS: Final = 90
MAX_REASON_LENGTH: Final = 1000
NO_TARGET: Final = "-"


class Delivery(NamedTuple):
    notification_id: str
    notification_type: str
    user_id: str
    channel: str
    status: str
    target: str = NO_TARGET  # the address for email; "-" when the row is about the user
    reason: str | None = None

    @property
    def delivery_key(self) -> str:
        return f"{self.user_id}#{self.channel}#{self.target}"


def delivery_item(delivery: Delivery, *, now: datetime, ttl_days: int) -> dict[str, Any]:
    """The table item for one delivery, written at ``now`` and expiring ``ttl_days`` later."""
    if delivery.status not in STATUSES:
        raise ValueError(f"unknown delivery status {delivery.status!r}")
    moment = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    item: dict[str, Any] = {
        "notification_id": delivery.notification_id,
        "delivery_key": delivery.delivery_key,
        "user_id": delivery.user_id,
        "channel": delivery.channel,
        "target": delivery.target,
        "status": delivery.status,
        "notification_type": delivery.notification_type,
        "updated_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expires_at": int((moment + timedelta(days=ttl_days)).timestamp()),
    }
    if delivery.reason:
        item["reason"] = delivery.reason[:MAX_REASON_LENGTH]
    return item


_CLAIM_RESULT_KEY: Final = "delivery"


def as_claim_result(delivery: Delivery) -> dict[str, Any]:
    """The row as the JSON object stored in the delivery's completed claim."""
    return {_CLAIM_RESULT_KEY: delivery._asdict()}


def from_claim_result(result: Mapping[str, Any] | None) -> Delivery | None:
    """The row stored by ``as_claim_result``, or None (no row stored, or not one this code wrote)."""
    stored = (result or {}).get(_CLAIM_RESULT_KEY)
    if not isinstance(stored, Mapping):
        return None
    names = set(Delivery._fields)
    values = {name: value for name, value in stored.items() if name in names}
    reason = values.get("reason")
    if not all(isinstance(value, str) for name, value in values.items() if name != "reason") or not (
        reason is None or isinstance(reason, str)
    ):
        return None
    try:
        delivery = Delivery(**values)
    except TypeError:  # a required field is missing
        return None
    return delivery if delivery.status in STATUSES else None


def record(deliveries: Sequence[Delivery]) -> None:
    """Write the rows to ``DELIVERY_LOG_TABLE`` (TTL ``DELIVERY_LOG_TTL_DAYS``, default 90).

    A later row for the same notification, user, channel and target replaces the earlier one.
    """
    if not deliveries:
        return
    table = env.required("DELIVERY_LOG_TABLE")
    ttl_days = env.positive_int("DELIVERY_LOG_TTL_DAYS", DEFAULT_TTL_DAYS)
    now = datetime.now(UTC)
    # BatchWriteItem refuses two requests for one key in a call: the last row for a key wins.
    items = {
        (delivery.notification_id, delivery.delivery_key): delivery_item(delivery, now=now, ttl_days=ttl_days)
        for delivery in deliveries
    }
    dynamodb_batch.batch_write(table, list(items.values()))
