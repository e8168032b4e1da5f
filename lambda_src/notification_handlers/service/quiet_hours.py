"""Quiet hours: a recipient's nightly window in their own time zone, and when it ends (pure).

A window is ``{"start": "HH:MM", "end": "HH:MM"}`` (preferences item, ``quiet_hours``), a wall-clock interval
``[start, end)`` in the recipient's IANA time zone (profile ``time_zone``); ``start > end`` crosses midnight,
``start == end`` is invalid (it would mean "never" or "always"). ``window_end`` answers, for an instant, None
(not quiet) or the UTC instant the window ends, with these rules on DST transitions:

* An instant is in the window when its local wall-clock time is: in a repeated hour both occurrences count,
  in a skipped hour nothing does (no instant has that wall time).
* The end is the first instant after ``now`` whose wall time is outside the window. So: a repeated ``end``
  ends it at its first occurrence (at the second only when ``now`` is already in the repeated hour, past the
  first); an ``end`` in a skipped hour ends it at the first instant after the gap (the transition itself),
  nobody waits an extra hour for a wall time that never comes; a clock set back to before ``start`` ends a
  window that crossed midnight at that transition.

``zone`` resolves a time-zone name (``zoneinfo``, imported on first use: the router's other paths and the
other handlers never pay for it); the package ships the ``tzdata`` distribution, which ``zoneinfo`` falls back
to when the runtime has no system database (docs/notification-service.md, "Quiet hours").
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, NamedTuple

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

HHMM_PATTERN: Final = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
# Interrupting channels: always held in quiet hours; email only for types that say so
# (``defer_email_in_quiet_hours``). websocket, inbox and chat never interrupt anyone.
INTERRUPTING_CHANNELS: Final = frozenset({"push", "sms"})
MAX_ZONE_NAME: Final = 255
MAX_SEGMENTS: Final = 8  # stretches of constant UTC offset walked through (one window crosses at most 2)


class WindowError(ValueError):
    """A quiet-hours window that is not two distinct HH:MM times."""


class _Times(NamedTuple):
    start: time
    end: time


class Window(_Times):
    """Two distinct local wall-clock times: a record (``notification_handlers.records``) checked when made."""

    __slots__ = ()

    def __new__(cls, start: time, end: time) -> Window:
        if start == end:
            raise WindowError("quiet_hours.start and quiet_hours.end must differ")
        return super().__new__(cls, start, end)

    def contains(self, wall: time) -> bool:
        """Whether a local wall-clock time is inside ``[start, end)`` (crossing midnight when start > end)."""
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end

    def as_item(self) -> dict[str, str]:
        return {"start": f"{self.start:%H:%M}", "end": f"{self.end:%H:%M}"}


def parse_hhmm(value: Any, field_name: str) -> time:
    """``HH:MM`` (00:00-23:59, two digits each) as a time; ``WindowError`` naming the field."""
    if not isinstance(value, str) or not HHMM_PATTERN.fullmatch(value):
        shown = value[:20] if isinstance(value, str) else type(value).__name__
        raise WindowError(f"{field_name} must be a time as HH:MM (00:00 to 23:59), got {shown!r}")
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def parse_window(value: Any) -> Window:
    """``{"start": "HH:MM", "end": "HH:MM"}`` strictly (the registration API); ``WindowError`` says why."""
    if not isinstance(value, Mapping):
        raise WindowError('quiet_hours must be an object {"start": "HH:MM", "end": "HH:MM"}')
    unknown = sorted(str(key)[:20] for key in set(value) - {"start", "end"})
    if unknown:
        raise WindowError(f"quiet_hours has unknown field(s): {unknown[:5]}")
    return Window(
        parse_hhmm(value.get("start"), "quiet_hours.start"), parse_hhmm(value.get("end"), "quiet_hours.end")
    )


def window_from_preferences(preferences: Mapping[str, Any] | None) -> Window | None:
    """The stored window, or None when there is none or it is broken (like every other preference field, a bad
    value is ignored rather than blocking the notification; the API never stores one)."""
    if not preferences or preferences.get("quiet_hours") is None:
        return None
    try:
        return parse_window(preferences["quiet_hours"])
    except WindowError:
        return None


def interrupts(channel: str, *, defer_email: bool) -> bool:
    """Whether quiet hours hold a message on this channel."""
    return channel in INTERRUPTING_CHANNELS or (defer_email and channel == "email")


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo | None:
    """The time zone of an IANA name, or None when the name is not one (``zoneinfo`` imported lazily)."""
    from zoneinfo import ZoneInfo  # noqa: PLC0415 - only recipients with quiet hours need the database

    if not name or len(name) > MAX_ZONE_NAME:
        return None
    try:
        return ZoneInfo(name)
    # ZoneInfoNotFoundError is a KeyError; a path-like key is a ValueError; a directory name an OSError.
    except (KeyError, ValueError, OSError):
        return None


def _offset(moment: datetime, zone_info: ZoneInfo) -> timedelta:
    return moment.astimezone(zone_info).utcoffset() or timedelta(0)


def _next_transition(after: datetime, until: datetime, zone_info: ZoneInfo) -> datetime | None:
    """The first instant in ``(after, until]`` at which the zone's UTC offset differs from its offset at
    ``after`` (to the second), or None when it is the same at ``until`` (zones change at most once a day)."""
    offset = _offset(after, zone_info)
    if _offset(until, zone_info) == offset:
        return None
    low = math.floor(after.timestamp())  # offset unchanged
    high = math.ceil(until.timestamp())  # offset changed
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(datetime.fromtimestamp(middle, UTC), zone_info) == offset:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def window_end(now: datetime, window: Window, zone_info: ZoneInfo) -> datetime | None:
    """None when ``now`` is outside the window in ``zone_info``, else the UTC instant the window ends: the
    first instant after ``now`` whose local wall time is outside ``[start, end)``.

    Between transitions the wall clock runs with UTC, so that is the instant it reads ``end``; at a
    transition it jumps: forward over ``end`` (the end is in the skipped hour: the window ends at the
    transition, the first instant after the gap), or back to before ``start`` (a repeated hour ahead of a
    window that crossed midnight: it ends at the transition). A repeated ``end`` is thus reached at its first
    occurrence, or at the second when ``now`` is already in the repeated hour past the first.
    """
    moment = now.astimezone(UTC)
    for _ in range(MAX_SEGMENTS):
        local = moment.astimezone(zone_info)
        wall = local.time().replace(tzinfo=None)
        if not window.contains(wall):
            return None if moment == now.astimezone(UTC) else moment
        end_date: date = local.date()
        if window.start > window.end and wall >= window.start:
            end_date += timedelta(days=1)  # crossing midnight, before it: the window ends tomorrow
        # The instant the wall clock reads `end` if the offset stays as it is now.
        end_wall = datetime.combine(end_date, window.end)
        end = (end_wall - _offset(moment, zone_info)).replace(tzinfo=UTC)
        transition = _next_transition(moment, end, zone_info)
        if transition is None:
            return end
        if transition.astimezone(zone_info).replace(tzinfo=None) >= end_wall:
            # Jumped over `end`: the window ends here, even when the jump also passed the next `start` (a
            # window of nearly a day whose free stretch the gap swallowed): waiting is bounded by one window.
            return transition
        moment = transition  # the clock jumped (back, or forward short of `end`): inside the window still?
    return moment  # not reached with real zone data; never defer forever on a surprise
