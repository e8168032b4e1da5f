"""The channel queue message (router -> channel worker), one per recipient and channel.

docs/notification-service.md, section 4::

    {"version": 1, "notification_id": "n-1", "notification_type": "order_shipped", "critical": false,
     "user_id": "u-1", "channel": "email", "locale": "de",
     "content": {"subject": "...", "text": "...", "html": "..."}, "created_at": "2026-11-24T10:00:00Z"}

A chat message is one per notification and target, not per recipient: it carries ``"target": "<target>"``
and ``"user_id": "-"`` (never a user id). Other channels' messages have no ``target``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from notification_handlers.event_fields import MalformedEventError, parse_utc_time, type_name

VERSION: Final = 1


class ChannelMessage(NamedTuple):
    notification_id: str
    notification_type: str
    critical: bool
    user_id: str
    channel: str
    locale: str
    content: Mapping[str, str]  # the rendered fields of the channel's template, e.g. subject/text/html
    created_at: str  # ISO 8601 UTC, "2026-11-24T10:00:00Z"
    version: int = VERSION
    target: str | None = None  # chat: the chat target (chat.targets key); None on every other channel

    def to_json(self) -> str:
        extra = {} if self.target is None else {"target": self.target}
        return json.dumps(
            {
                "version": self.version,
                "notification_id": self.notification_id,
                "notification_type": self.notification_type,
                "critical": self.critical,
                "user_id": self.user_id,
                "channel": self.channel,
                "locale": self.locale,
                "content": dict(self.content),
                "created_at": self.created_at,
                **extra,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )


def _text(document: Mapping[str, Any], key: str) -> str:
    value = document.get(key)
    if value is None:
        raise MalformedEventError(f"{key} is missing")
    if not isinstance(value, str):
        raise MalformedEventError(f"{key} must be a string, got {type_name(value)}")
    if not value:
        raise MalformedEventError(f"{key} is empty")
    return value


def parse_channel_message(body: str) -> ChannelMessage:
    """The message in an SQS body; ``MalformedEventError`` naming the field when it is not one."""
    try:
        document = json.loads(body)
    except ValueError:
        raise MalformedEventError("body is not JSON") from None
    if not isinstance(document, dict):
        raise MalformedEventError(f"body must be a JSON object, got {type_name(document)}")
    version = document.get("version")
    if version != VERSION or isinstance(version, bool):
        raise MalformedEventError(f"version must be {VERSION}, got {str(version)[:20]!r}")
    critical = document.get("critical")
    if not isinstance(critical, bool):
        raise MalformedEventError(f"critical must be a boolean, got {type_name(critical)}")
    content = document.get("content")
    if not isinstance(content, dict):
        raise MalformedEventError(f"content must be an object, got {type_name(content)}")
    for name, value in content.items():
        if not isinstance(value, str):
            raise MalformedEventError(f"content.{name} must be a string, got {type_name(value)}")
    created_at = _text(document, "created_at")
    parse_utc_time(created_at, "created_at")
    target = _text(document, "target") if "target" in document else None
    return ChannelMessage(
        notification_id=_text(document, "notification_id"),
        notification_type=_text(document, "notification_type"),
        critical=critical,
        user_id=_text(document, "user_id"),
        channel=_text(document, "channel"),
        locale=_text(document, "locale"),
        content=dict(content),
        created_at=created_at,
        version=VERSION,
        target=target,
    )
