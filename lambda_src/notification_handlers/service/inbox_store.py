"""The in-app inbox table (``<name>-inbox``): its keys, items and the unread counter, shared by the inbox
worker (writes items) and the registration API's inbox routes (reads, marks read, archives).
docs/notification-service.md, section 7 ("In-app inbox").

Layout: hash key ``user_id`` (always the recipient, or the caller's JWT ``sub``: never a request field),
range key ``item_key``:

* ``item#<item_id>``: one inbox item; ``item_id`` = ``<created, YYYYMMDDTHHMMSSZ>.<notification_id>``, so
  a ``Query`` with ``ScanIndexForward=False`` lists newest first. Attributes ``item_id``,
  ``notification_id``, ``notification_type``, ``title``, ``body``, ``url`` (optional), ``created_at``,
  ``read_at`` (once read), ``expires_at`` (TTL, epoch seconds).
* ``archived#<item_id>``: the same item once archived (moved, so the default list never reads it).
* ``nid#<notification_id>``: the per-(user, notification) marker, written in the same transaction as the
  item with ``attribute_not_exists``: a redelivered message (or the router routing the notification
  again with another ``created_at``) creates no second item and counts nothing twice. Same TTL.
* ``counter``: ``unread`` (number), ``read_before`` (an ``item#`` key: every item at or below it counts as
  read, set by mark-all-read in ONE write however many items there are) and ``version`` (added to by
  every change of ``unread``, so mark-all-read can set ``unread = 0`` only if no item arrived between its
  reads). ``unread`` only moves together with an item's read state, in the same transaction, with
  conditions, so it is never below 0, and a replayed or raced mark-read counts once.

An item is read when it has ``read_at`` or its key is at or below ``read_before`` (``is_read``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

ITEM_PREFIX: Final = "item#"
ARCHIVED_PREFIX: Final = "archived#"
MARKER_PREFIX: Final = "nid#"
COUNTER_KEY: Final = "counter"
# <created YYYYMMDDTHHMMSSZ>.<notification id of the event contract (the router's 64 hex digits)>
ITEM_ID_PATTERN: Final = re.compile(r"[0-9]{8}T[0-9]{6}Z\.[A-Za-z0-9_-]{1,128}")
ITEM_FIELDS: Final = ("title", "body", "url")
# templates.SAFE_URL's https branch (not imported: the worker would load the HTML parser for one regex).
HTTPS_URL: Final = re.compile(r"https://[^\s\x00-\x1f\x7f/\\][^\s\x00-\x1f\x7f]*", re.I)
VIEW_FIELDS: Final = ("item_id", "notification_id", "notification_type", "title", "body", "url", "created_at")


def item_id_for(notification_id: str, created_at: str) -> str:
    """``20261205T081500Z.<notification id>`` from the channel message's ISO 8601 UTC ``created_at``."""
    moment = datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return f"{moment.strftime('%Y%m%dT%H%M%SZ')}.{notification_id}"


def item_key(item_id: str) -> str:
    return f"{ITEM_PREFIX}{item_id}"


def archived_key(item_id: str) -> str:
    return f"{ARCHIVED_PREFIX}{item_id}"


def marker_key(notification_id: str) -> str:
    return f"{MARKER_PREFIX}{notification_id}"


def is_item_id(value: str) -> bool:
    return ITEM_ID_PATTERN.fullmatch(value) is not None


def is_read(item: Mapping[str, Any], read_before: str | None) -> bool:
    """Read: marked (``read_at``), archived, or covered by mark-all-read's watermark."""
    if item.get("read_at") or item.get("archived_at"):
        return True
    key = item.get("item_key")
    return read_before is not None and isinstance(key, str) and key <= read_before


def item_view(item: Mapping[str, Any], read_before: str | None) -> dict[str, Any]:
    """An item as its owner sees it: no keys, no TTL; ``read`` and ``archived`` as booleans."""
    view = {name: item[name] for name in VIEW_FIELDS if isinstance(item.get(name), str)}
    view["read"] = is_read(item, read_before)
    view["archived"] = bool(item.get("archived_at"))
    return view


def counter_state(item: Mapping[str, Any] | None) -> tuple[int, str | None, int]:
    """(unread, read_before, version) of a counter item (all defaults when there is none)."""
    if not item:
        return 0, None, 0
    unread = item.get("unread")
    version = item.get("version")
    read_before = item.get("read_before")
    return (
        max(0, int(unread)) if isinstance(unread, int | Decimal) else 0,
        read_before if isinstance(read_before, str) else None,
        int(version) if isinstance(version, int | Decimal) else 0,
    )


# The condition under which an item of key :key still counts as unread on the counter side.
NOT_COVERED: Final = "(attribute_not_exists(read_before) OR read_before < :key)"


def counter_change(table: str, user_id: str, key: str, delta: int) -> dict[str, Any]:
    """The transaction item adding ``delta`` (+1/-1) to the user's unread counter, only while the item
    ``key`` is not covered by mark-all-read (``read_before``); a -1 only while ``unread`` is above 0."""
    condition = NOT_COVERED if delta > 0 else f"unread > :zero AND {NOT_COVERED}"
    values: dict[str, Any] = {":d": {"N": str(delta)}, ":one": {"N": "1"}, ":key": {"S": key}}
    if delta <= 0:
        values[":zero"] = {"N": "0"}
    return {
        "Update": {
            "TableName": table,
            "Key": {"user_id": {"S": user_id}, "item_key": {"S": COUNTER_KEY}},
            "UpdateExpression": "ADD unread :d, version :one",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
    }
