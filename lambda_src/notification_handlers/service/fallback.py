"""Which channels one recipient gets for one notification, after preferences, switches and reachability.

Pure: the router resolves reachability for the whole batch first (``first_reachable``, with the batched
probes of ``reachability``), then calls ``decide`` per notification and recipient.

A type delivers on every channel of ``channels`` (as before fallback existed) and, when it lists
``fallback``, on exactly ONE channel of that ordered list: the first one that is

1. not suppressed by the recipient's preferences (critical types ignore preferences),
2. not turned off by an operator's channel switch (critical types too: the switch is about a broken
   provider, and the fallback still tries the other channels), and
3. reachable: the recipient has a target there (``reachability``).

Outcomes and their delivery-log rows (``delivery_log``):

* ``channels``: a channel suppressed by preferences -> ``suppressed_preference``; turned off ->
  ``suppressed_channel_disabled``; otherwise sent (the worker writes the row).
* ``fallback``: a channel skipped for preferences or a switch gets the same row as above. The chosen
  channel is sent; when it is not the first of the list, a ``fallback_used`` row (on the chosen channel,
  target ``-``) names every channel skipped and why. No channel left: if any was skipped as unreachable,
  one ``no_reachable_channel`` row on the first unreachable channel names them all.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Final, NamedTuple, TypeVar

from notification_handlers.service.delivery_log import (
    FALLBACK_USED,
    NO_REACHABLE_CHANNEL,
    SUPPRESSED_CHANNEL_DISABLED,
    SUPPRESSED_PREFERENCE,
)

UNREACHABLE: Final = "unreachable"

K = TypeVar("K", bound=Hashable)


class Decision(NamedTuple):
    """One recipient's channels: what to send on, and the (channel, status, reason) rows to log."""

    send: tuple[str, ...] = ()
    rows: tuple[tuple[str, str, str], ...] = ()
    fallback_used: bool = False
    skipped: tuple[tuple[str, str], ...] = ()  # fallback channels skipped, and why


def candidates(
    fallback: Sequence[str],
    preference: Callable[[str], str | None],
    disabled: Callable[[str], str | None],
) -> list[str]:
    """The fallback channels that preferences and switches leave, in order (reachability still to check)."""
    return [c for c in fallback if preference(c) is None and disabled(c) is None]


def first_reachable(
    requests: Mapping[K, tuple[str, Sequence[str]]],
    probe: Callable[[str, Sequence[str]], set[str]],
) -> dict[tuple[str, str], bool]:
    """Reachability of (channel, user) for every request (key -> (user, candidate channels in order)),
    asking ``probe`` (channel, users -> reachable users) once per channel and round, and only for users
    whose earlier candidates were all unreachable. Each (channel, user) is probed at most once; a request
    needs at most ``len(candidates)`` rounds."""
    known: dict[tuple[str, str], bool] = {}
    pending = dict(requests)
    while pending:
        wanted: dict[str, list[str]] = {}
        still: dict[K, tuple[str, Sequence[str]]] = {}
        for key, (user, channels) in pending.items():
            for channel in channels:
                state = known.get((channel, user))
                if state is True:
                    break  # resolved: this channel reaches the user
                if state is None:
                    users = wanted.setdefault(channel, [])
                    if user not in users:
                        users.append(user)
                    still[key] = (user, channels)
                    break
        for channel, users in wanted.items():
            found = probe(channel, users)
            for user in users:
                known[(channel, user)] = user in found
        pending = still
    return known


def _held_back(
    channel: str, preference: Callable[[str], str | None], disabled: Callable[[str], str | None]
) -> tuple[str, str] | None:
    """(status, reason) when preferences or a switch hold ``channel`` back, else None."""
    if (reason := preference(channel)) is not None:
        return SUPPRESSED_PREFERENCE, reason
    if (scope := disabled(channel)) is not None:
        return SUPPRESSED_CHANNEL_DISABLED, scope
    return None


def decide(
    channels: Sequence[str],
    fallback: Sequence[str],
    preference: Callable[[str], str | None],
    disabled: Callable[[str], str | None],
    reachable: Callable[[str], bool],
) -> Decision:
    """One recipient's decision. ``preference(channel)``: suppression reason (muted / opted_out) or None;
    ``disabled(channel)``: switch scope or None; ``reachable(channel)``: whether the user has a target."""
    send: list[str] = []
    rows: list[tuple[str, str, str]] = []
    for channel in channels:
        held = _held_back(channel, preference, disabled)
        if held is None:
            send.append(channel)
        else:
            rows.append((channel, *held))
    if not fallback:
        return Decision(tuple(send), tuple(rows))
    skipped: list[tuple[str, str]] = []
    chosen: str | None = None
    for channel in fallback:
        held = _held_back(channel, preference, disabled)
        if held is not None:
            rows.append((channel, *held))
            skipped.append((channel, held[1]))
        elif not reachable(channel):
            skipped.append((channel, UNREACHABLE))
        else:
            chosen = channel
            break
    why = "; ".join(f"{channel}: {reason}" for channel, reason in skipped)
    if chosen is not None:
        send.append(chosen)
        if skipped:
            rows.append((chosen, FALLBACK_USED, f"skipped {why}"))
        return Decision(tuple(send), tuple(rows), bool(skipped), tuple(skipped))
    unreachable = [channel for channel, reason in skipped if reason == UNREACHABLE]
    if unreachable:
        rows.append((unreachable[0], NO_REACHABLE_CHANNEL, f"no channel can reach the user: {why}"))
    return Decision(tuple(send), tuple(rows), False, tuple(skipped))
