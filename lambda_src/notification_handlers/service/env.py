"""Readers for the service's environment variables; a missing or invalid one raises ``ConfigurationError``."""

from __future__ import annotations

import json
import os

from notification_handlers.event_fields import ConfigurationError


def required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"{name} is not set")
    return value


def optional(name: str) -> str | None:
    return os.environ.get(name, "").strip() or None


def positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw[:40]!r}") from None
    if value <= 0:
        raise ConfigurationError(f"{name} must be positive, got {value}")
    return value


def string_map(name: str) -> dict[str, str]:
    """A JSON object of strings, e.g. ``CHANNEL_QUEUE_URLS={"email": "https://sqs..."}``."""
    raw = required(name)
    try:
        value = json.loads(raw)
    except ValueError:
        raise ConfigurationError(f"{name} is not JSON") from None
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and isinstance(item, str) and item for key, item in value.items()
    ):
        raise ConfigurationError(f"{name} must be a JSON object of non-empty strings")
    return value
