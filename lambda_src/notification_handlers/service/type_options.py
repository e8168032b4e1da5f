"""A notification type's delivery options as the catalog declares them: ``digest`` and ``max_per_user``.

Pure parsing and validation (``ValueError`` saying what is wrong), with no AWS client: the catalog loads them
without importing ``digests`` and ``frequency_caps``, which act on them (and import the scheduling and
contract machinery), so the registration API, which reads the catalog, does not pay for those at cold start.
docs/notification-service.md, "Frequency caps and digests".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from notification_handlers.event_fields import type_name

MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS = 60, 7 * 86_400
MIN_ITEMS, MAX_ITEMS = 1, 50
_DIGEST_KEYS: Final = frozenset({"window_seconds", "max_items"})


class DigestWindow(NamedTuple):
    window_seconds: int
    max_items: int


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValueError(f"{name} must be a whole number, got {type_name(value)}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be {low}-{high}, got {int(value)}")
    return int(value)


def _option(value: Any, name: str, keys: frozenset[str], *, critical: bool, never: str) -> Mapping[str, Any]:
    """The option object ``name``: a mapping of known ``keys``, refused on a critical type (which is never
    ``never``); ``ValueError`` saying what is wrong."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be an object, got {type_name(value)}")
    unknown = sorted(set(value) - keys)
    if unknown:
        raise ValueError(f"{name} has unknown key(s) {', '.join(unknown)}")
    if critical:
        raise ValueError(
            f"{name} is not allowed on a critical type (a critical notification is never {never})"
        )
    return value


def parse_digest(value: Any, *, critical: bool) -> DigestWindow | None:
    """A type's ``digest`` (None when absent); ``ValueError`` saying what is wrong."""
    if value is None:
        return None
    value = _option(value, "digest", _DIGEST_KEYS, critical=critical, never="delayed")
    return DigestWindow(
        _whole(value.get("window_seconds"), "digest.window_seconds", MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS),
        _whole(value.get("max_items"), "digest.max_items", MIN_ITEMS, MAX_ITEMS),
    )


DROP: Final = "drop"
DIGEST: Final = "digest"
OVERFLOWS: Final = (DROP, DIGEST)
MIN_COUNT, MAX_COUNT = 1, 1000
MIN_PERIOD_SECONDS, MAX_PERIOD_SECONDS = 60, 30 * 86_400
_CAP_KEYS: Final = frozenset({"count", "period_seconds", "overflow"})


class FrequencyCap(NamedTuple):
    limit: int  # the catalog's ``count`` (a field named count would hide tuple.count)
    period_seconds: int
    overflow: str = DROP


def parse_cap(value: Any, *, critical: bool, has_digest: bool) -> FrequencyCap | None:
    """A type's ``max_per_user`` (None when absent); ``ValueError`` saying what is wrong."""
    if value is None:
        return None
    value = _option(value, "max_per_user", _CAP_KEYS, critical=critical, never="dropped")
    count = _whole(value.get("count"), "max_per_user.count", MIN_COUNT, MAX_COUNT)
    period = _whole(
        value.get("period_seconds"), "max_per_user.period_seconds", MIN_PERIOD_SECONDS, MAX_PERIOD_SECONDS
    )
    overflow = value.get("overflow", DROP)
    if overflow not in OVERFLOWS:
        raise ValueError(f"max_per_user.overflow must be one of {', '.join(OVERFLOWS)}")
    if overflow == DIGEST and not has_digest:
        raise ValueError('max_per_user.overflow = "digest" needs the type to declare digest')
    if overflow == DROP and has_digest:
        # Without a cap every event of a digest type is digested; a cap that drops would drop digest items.
        raise ValueError('a type with digest may only use max_per_user.overflow = "digest"')
    return FrequencyCap(count, period, overflow)
