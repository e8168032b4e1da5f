"""The channel kill switch: operator-written items that turn a channel off, for every type or for one.

Where: the catalog table, partition ``catalog_id = "channel-switches"`` (the types live under
``"notification-types"``). Terraform never manages these items, so an apply never reverts a switch. The
range key ``notification_type`` is the switch's scope: ``<channel>`` turns the channel off for every type,
``<channel>#<type>`` for one type. ``disabled`` (BOOL) says whether it is off; ``reason`` (S) is optional
and only logged. Turning a channel back on deletes the item (or writes ``disabled = false``). The exact
commands are the module output ``channel_switch_commands`` (docs/notification-service.md).

Who reads: the router (before fan-out: a disabled channel is skipped to the next of a type's fallback list,
or logged ``suppressed_channel_disabled``) and every channel worker (messages already queued: logged
``suppressed_channel_disabled`` and not sent), each with one ``Query`` of the partition, cached for
``CHANNEL_SWITCH_REFRESH_SECONDS`` (default 10) per execution environment: a switch takes effect within
that many seconds.

Fail open, loudly: a malformed item (a scope that is not ``<channel>[#<type>]``, ``disabled`` that is not a
boolean) is ignored and logged at ERROR, and an unreadable partition keeps the switches last read (none on
a cold start) and is logged at ERROR. An operator's typo must not silently stop every email; a stopped
channel is the one thing the switch must never do by accident. ``parse_switches`` is pure.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import type_name
from notification_handlers.service import env
from notification_handlers.service.dynamodb_batch import deserialize_item
from notification_handlers.service.log import logger

PARTITION: Final = "channel-switches"
DEFAULT_REFRESH_SECONDS: Final = 10
SCOPE_PATTERN: Final = re.compile(r"([a-z][a-z0-9_]{0,31})(?:#([a-z][a-z0-9_]{0,63}))?")
GLOBALLY: Final = "disabled globally"
FOR_TYPE: Final = "disabled for this type"


class Switches(NamedTuple):
    """The channels operators turned off: for every type, and per (channel, type)."""

    globally: frozenset[str] = frozenset()
    by_type: frozenset[tuple[str, str]] = frozenset()

    def disabled(self, channel: str, notification_type: str) -> str | None:
        """Why ``channel`` is off for ``notification_type`` (``GLOBALLY`` / ``FOR_TYPE``), or None: on."""
        if channel in self.globally:
            return GLOBALLY
        if (channel, notification_type) in self.by_type:
            return FOR_TYPE
        return None

    def scopes(self) -> list[str]:
        """The switches that are off, as their scopes (``<channel>``, ``<channel>#<type>``), sorted."""
        return sorted([*self.globally, *(f"{c}#{t}" for c, t in self.by_type)])

    @property
    def channels(self) -> frozenset[str]:
        """Every channel named by a switch that is off (to check against the channels that exist)."""
        return self.globally | {channel for channel, _ in self.by_type}


NONE: Final = Switches()


class Parsed(NamedTuple):
    switches: Switches
    errors: list[str]  # one per ignored item, naming its scope


def parse_switches(items: Iterable[Mapping[str, Any]]) -> Parsed:
    """The switches of the partition's items (plain values); malformed items are ignored with an error."""
    globally: set[str] = set()
    by_type: set[tuple[str, str]] = set()
    errors: list[str] = []
    for item in items:
        scope = item.get("notification_type")
        match = SCOPE_PATTERN.fullmatch(scope) if isinstance(scope, str) else None
        if match is None:
            errors.append(
                f"switch {str(scope)[:80]!r} ignored: the scope must be <channel> or <channel>#<type>"
            )
            continue
        disabled = item.get("disabled")
        if not isinstance(disabled, bool):
            errors.append(
                f"switch {scope!r} ignored: disabled must be a boolean (BOOL), got {type_name(disabled)}"
            )
            continue
        if not disabled:
            continue
        channel, notification_type = match.group(1), match.group(2)
        if notification_type is None:
            globally.add(channel)
        else:
            by_type.add((channel, notification_type))
    return Parsed(Switches(frozenset(globally), frozenset(by_type)), errors)


def query_items(table: str) -> list[dict[str, Any]]:
    """Every item of the switch partition (one paginated Query; it holds a handful of items)."""
    client = aws_clients.client("dynamodb")
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "catalog_id = :partition",
        "ExpressionAttributeValues": {":partition": {"S": PARTITION}},
        # Strongly consistent: a switch an operator just wrote is seen on the next refresh, not a bit later.
        "ConsistentRead": True,
    }
    while True:
        response = client.query(**request)
        items.extend(deserialize_item(item) for item in response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return items
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


class SwitchCache:
    """The switches of one table, read again once ``refresh_seconds`` have passed (``clock``: monotonic).

    A failed read keeps what was read last (none on a cold start) until the next refresh: fail open.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._loaded: tuple[str, float, Switches] | None = None

    def get(self, table: str, refresh_seconds: int) -> Switches:
        now = self._clock()
        previous = NONE
        if self._loaded is not None:
            loaded_table, loaded_at, switches = self._loaded
            if loaded_table == table:
                if now - loaded_at < refresh_seconds:
                    return switches
                previous = switches
        try:
            parsed = parse_switches(query_items(table))
        except (ClientError, BotoCoreError) as error:
            logger.error(
                "channel switches unreadable: keeping the last ones read",
                extra={"error_code": aws_clients.error_code(error), "disabled": sorted(previous.channels)},
            )
            self._loaded = (table, now, previous)
            return previous
        for problem in parsed.errors:
            logger.error("malformed channel switch ignored", extra={"reason": problem})
        if parsed.switches != previous:
            logger.info(
                "channel switches changed",
                extra={"switched_off": parsed.switches.scopes()},
            )
        self._loaded = (table, now, parsed.switches)
        return parsed.switches

    def clear(self) -> None:
        self._loaded = None


_CACHE: Final = SwitchCache()


def load() -> Switches:
    """The switches of ``CATALOG_TABLE`` (none when it is not set), cached for
    ``CHANNEL_SWITCH_REFRESH_SECONDS`` (default 10)."""
    table = env.optional("CATALOG_TABLE")
    if table is None:
        return NONE
    return _CACHE.get(table, env.positive_int("CHANNEL_SWITCH_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS))
