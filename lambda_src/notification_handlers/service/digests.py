"""Digests: events of a type per user and window collected, then delivered as one message at the window end.

See docs/notification-service.md, "Frequency caps and digests".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from notification_handlers.event_fields import type_name

MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS = 60, 7 * 86_400
MIN_ITEMS, MAX_ITEMS = 1, 50
_KEYS: Final = frozenset({"window_seconds", "max_items"})


@dataclass(frozen=True)
class DigestWindow:
    window_seconds: int
    max_items: int


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValueError(f"digest.{name} must be a whole number, got {type_name(value)}")
    if not low <= value <= high:
        raise ValueError(f"digest.{name} must be {low}-{high}, got {int(value)}")
    return int(value)


def parse_digest(value: Any, *, critical: bool) -> DigestWindow | None:
    """A type's ``digest`` (None when absent); ``ValueError`` saying what is wrong."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"digest must be an object, got {type_name(value)}")
    unknown = sorted(set(value) - _KEYS)
    if unknown:
        raise ValueError(f"digest has unknown key(s) {', '.join(unknown)}")
    if critical:
        raise ValueError(
            "digest is not allowed on a critical type (a critical notification is never delayed)"
        )
    return DigestWindow(
        _whole(value.get("window_seconds"), "window_seconds", MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS),
        _whole(value.get("max_items"), "max_items", MIN_ITEMS, MAX_ITEMS),
    )
