"""Lazily created, cached boto3 clients shared by the handlers.

Clients are built on first use, not at import: a module import never talks to AWS,
tests can set up their fakes before the first call, and a warm container reuses the
client (and its connection pool) across invocations.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Protocol, cast

import boto3
from botocore.config import Config

# Fail fast and leave persistent failures to Lambda's async retries and the DLQ,
# rather than burning the function timeout inside the SDK.
_CLIENT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
)


class SnsPublisher(Protocol):
    """The slice of the SNS client the handlers use (boto3 ships no type hints)."""

    def publish(self, **kwargs: Any) -> dict[str, Any]: ...


class SesV2Sender(Protocol):
    """The slice of the SES v2 (``sesv2``) client the handlers use."""

    def send_email(self, **kwargs: Any) -> dict[str, Any]: ...


@cache
def client(service_name: str) -> Any:
    """Return the process-wide boto3 client for ``service_name``, creating it on first use."""
    return boto3.client(service_name, config=_CLIENT_CONFIG)


def sns() -> SnsPublisher:
    """Return the shared SNS client."""
    return cast(SnsPublisher, client("sns"))


def sesv2() -> SesV2Sender:
    """Return the shared SES v2 client."""
    return cast(SesV2Sender, client("sesv2"))


def reset_clients() -> None:
    """Forget cached clients (tests switch credentials, regions and mocks between cases)."""
    client.cache_clear()
