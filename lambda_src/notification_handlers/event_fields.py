"""Typed readers for fields of AWS events, shared by the handlers.

Each reader takes the container, the key and the field's path in the event (for the message), and raises
``MalformedEventError`` naming that path when the field is missing or of the wrong type, so a rejected
event says exactly what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


class MalformedEventError(ValueError):
    """The event (or one of its records) does not have the shape the handler expects."""


class ConfigurationError(RuntimeError):
    """The function's environment is missing or has an invalid setting."""


def type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def read_object(container: Mapping[str, Any], key: str, path: str, *, required: bool) -> Mapping[str, Any]:
    value = container.get(key)
    if value is None:
        if required:
            raise MalformedEventError(f"{path} is missing: expected an object")
        return {}
    if not isinstance(value, Mapping):
        raise MalformedEventError(f"{path} must be an object, got {type_name(value)}")
    return value


def read_required_text(container: Mapping[str, Any], key: str, path: str) -> str:
    value = container.get(key)
    if value is None:
        raise MalformedEventError(f"{path} is missing")
    if not isinstance(value, str):
        raise MalformedEventError(f"{path} must be a string, got {type_name(value)}")
    if not value.strip():
        raise MalformedEventError(f"{path} is empty")
    return value


def read_optional_text(container: Mapping[str, Any], key: str, path: str) -> str | None:
    value = container.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedEventError(f"{path} must be a string, got {type_name(value)}")
    return value or None


def parse_utc_time(text: str, path: str) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime; AWS writes UTC ("Z"), so a naive value is UTC too."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedEventError(f"{path} is not an ISO 8601 timestamp: {text[:40]!r}") from None
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-10:00 is past the last datetime once in UTC
        raise MalformedEventError(f"{path} is out of range in UTC: {text[:40]!r}") from None
