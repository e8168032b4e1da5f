"""Who gets what: a recipient's preferences applied to a notification type (pure).

Preferences item (docs/notification-service.md, section 3): ``muted`` (BOOL: every non-critical
notification off), ``opt_outs`` (M: type -> L of channel names). Critical types ignore both. A missing
item means no preferences. A field of the wrong type is ignored (treated as absent) rather than failing
the notification: preferences are written by user-facing code, and a bad one must not block delivery
to everyone else in the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from notification_handlers.service.catalog import TypeDefinition

MUTED: Final = "muted"
OPTED_OUT: Final = "opted_out"


def channels_for(
    definition: TypeDefinition, preferences: Mapping[str, Any] | None
) -> tuple[list[str], list[tuple[str, str]]]:
    """(channels to send on, [(channel, reason) suppressed]) for one recipient, in the type's order."""
    channels = list(definition.channels)
    if definition.critical or not preferences:
        return channels, []
    if preferences.get("muted") is True:
        return [], [(channel, MUTED) for channel in channels]
    opt_outs = preferences.get("opt_outs")
    opted: Any = opt_outs.get(definition.name) if isinstance(opt_outs, Mapping) else None
    opted_channels = (
        {c for c in opted if isinstance(c, str)} if isinstance(opted, list | set | tuple) else set()
    )
    send = [channel for channel in channels if channel not in opted_channels]
    suppressed = [(channel, OPTED_OUT) for channel in channels if channel in opted_channels]
    return send, suppressed


def suppression(
    definition: TypeDefinition, preferences: Mapping[str, Any] | None
) -> Callable[[str], str | None]:
    """channel -> why the recipient's preferences suppress it (``muted`` / ``opted_out``) or None; the same
    rules as ``channels_for``, for any channel (the fallback channels too)."""
    if definition.critical or not preferences:
        return lambda channel: None
    if preferences.get("muted") is True:
        return lambda channel: MUTED
    opt_outs = preferences.get("opt_outs")
    opted: Any = opt_outs.get(definition.name) if isinstance(opt_outs, Mapping) else None
    opted_channels = (
        {c for c in opted if isinstance(c, str)} if isinstance(opted, list | set | tuple) else set()
    )
    return lambda channel: OPTED_OUT if channel in opted_channels else None
