"""The registration API's test world: moto tables, SNS platform applications, a verified SES sender, the
handler's environment, request helpers built on the real HTTP API event fixtures, and readers for what
the handler stored and mailed."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.ses.models import ses_backends

from notification_handlers import aws_clients
from notification_handlers.service import catalog, dynamodb_batch, rate_limit, registration_api
from notification_handlers.service.registration import edge
from tests.unit.conftest import load_event
from tests.unit.service_fakes import create_table, scan
from tools.emulator.account import ACCOUNT_ID
from tools.emulator.account import DEFAULT_REGION as REGION

SENDER = "verify@example.com"
SUB = "3f8e2b6c-5d1a-4c7e-9b20-8a6f4e1d2c39"  # the fixtures' JWT sub claim
TABLES = {
    "DEVICE_TOKENS_TABLE": ("device-tokens", "user_id", "device_key"),
    "DEVICE_OWNERS_TABLE": ("device-owners", "device_key", None),
    "LIMITS_TABLE": ("limits", "limit_key", None),
    "EMAIL_SUBSCRIPTIONS_TABLE": ("email-subscriptions", "user_id", None),
    "PREFERENCES_TABLE": ("preferences", "user_id", None),
    "DELIVERY_LOG_TABLE": ("delivery-log", "notification_id", "delivery_key"),
    "CATALOG_TABLE": ("catalog", "catalog_id", "notification_type"),
    "EMAIL_SUPPRESSIONS_TABLE": ("email-suppressions", "address", None),
}
API_ENV = (
    *TABLES,
    "PLATFORM_APPLICATION_ARNS",
    "SENDER_ADDRESS",
    "SES_CONFIGURATION_SET",
    "SES_IDENTITY_ARN",
    "VERIFY_CODES_PER_ADDRESS_PER_DAY",
    "VERIFY_CODES_PER_USER_PER_DAY",
    "VERIFY_GUESSES_PER_ADDRESS_PER_DAY",
    "VERIFY_RESEND_COOLDOWN_SECONDS",
    "MAX_DEVICES_PER_USER",
    "REQUESTS_PER_USER_PER_MINUTE",
)
FIXTURE = "notification_service_registration_{}"
APNS_TOKEN = "fe01" * 16
FCM_TOKEN = load_event(FIXTURE.format("put_device"))["pathParameters"]["token"]

ORDER_SHIPPED = {
    "critical": False,
    "channels": ["email", "push"],
    "fallback_locale": "en",
    "templates": {"en": {"email": {"subject": "s", "text": "t"}, "push": {"title": "t", "body": "b"}}},
}
SECURITY_ALERT = {
    "critical": True,
    "channels": ["email"],
    "fallback_locale": "en",
    "templates": {"en": {"email": {"subject": "s", "text": "t"}}},
}


@dataclass
class World:
    applications: dict[str, str]  # platform -> platform application ARN
    clock: list[datetime]

    def advance(self, **delta: float) -> None:
        self.clock[0] += timedelta(**delta)


@contextmanager
def api_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """moto with the seven tables, APNs and FCM platform applications (not APNs sandbox), a verified
    sender, a catalog of two types, the handler's environment, and a clock the test can move."""
    with mock_aws():
        for name in API_ENV:
            monkeypatch.delenv(name, raising=False)
        for variable, (table, hash_key, range_key) in TABLES.items():
            create_table(table, hash_key, range_key)
            monkeypatch.setenv(variable, table)
        sns = boto3.client("sns", region_name=REGION)
        applications = {
            platform: sns.create_platform_application(
                Name=f"orders-{platform}", Platform=sns_platform, Attributes={"PlatformCredential": "fake"}
            )["PlatformApplicationArn"]
            for platform, sns_platform in (("apns", "APNS"), ("fcm", "GCM"))
        }
        monkeypatch.setenv("PLATFORM_APPLICATION_ARNS", json.dumps(applications))
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
        monkeypatch.setenv("SENDER_ADDRESS", SENDER)
        dynamodb_batch.batch_write(
            "catalog",
            [
                {"catalog_id": catalog.CATALOG_ID, "notification_type": name, "definition": json.dumps(d)}
                for name, d in (("order_shipped", ORDER_SHIPPED), ("security_alert", SECURITY_ALERT))
            ]
            + [{"catalog_id": catalog.CATALOG_ID, "notification_type": "broken_type", "definition": "{"}],
        )
        catalog._CACHE.clear()
        clock = [datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)]
        monkeypatch.setattr(edge, "now", lambda: clock[0])
        monkeypatch.setattr(rate_limit, "_now", lambda: clock[0].timestamp())  # noqa: PLW0108 (read late)
        aws_clients.reset_clients()
        try:
            yield World(applications, clock)
        finally:
            catalog._CACHE.clear()


def fixture_event(name: str) -> dict[str, Any]:
    return load_event(FIXTURE.format(name))


def request(
    route_key: str,
    path: dict[str, str] | None = None,
    *,
    body: Any = None,
    raw_body: str | None = None,
    base64_body: bool = False,
    query: dict[str, str] | None = None,
    sub: str | None = SUB,
) -> dict[str, Any]:
    """An HTTP API event: the put_device fixture's shape with this route, path, body, query and sub."""
    event = fixture_event("put_device")
    method, path_template = route_key.split(" ", 1)
    event["routeKey"] = event["requestContext"]["routeKey"] = route_key
    event["requestContext"]["http"]["method"] = method
    raw_path = path_template
    for name, value in (path or {}).items():
        raw_path = raw_path.replace(f"{{{name}}}", value)
    event["rawPath"] = event["requestContext"]["http"]["path"] = raw_path
    if path:
        event["pathParameters"] = dict(path)
    else:
        event.pop("pathParameters", None)
    if query:
        event["queryStringParameters"] = dict(query)
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    if text is not None:
        event["body"] = base64.b64encode(text.encode()).decode() if base64_body else text
        event["isBase64Encoded"] = base64_body
    if sub is None:
        del event["requestContext"]["authorizer"]
    else:
        event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = sub
    return event


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def error_code(self) -> str:
        return str(self.body["error"]["code"])


def call(event: dict[str, Any]) -> Answer:
    response = registration_api.handler(event, None)
    assert set(response) == {"statusCode", "headers", "body", "isBase64Encoded"}
    assert response["isBase64Encoded"] is False
    body = json.loads(response["body"]) if response["body"] else None
    if response["statusCode"] >= 400:
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return Answer(response["statusCode"], body, response["headers"])


def put_device(platform: str, token: str, sub: str | None = SUB) -> Answer:
    return call(request("PUT /devices/{platform}/{token}", {"platform": platform, "token": token}, sub=sub))


def delete_device(platform: str, token: str, sub: str | None = SUB) -> Answer:
    return call(
        request("DELETE /devices/{platform}/{token}", {"platform": platform, "token": token}, sub=sub)
    )


def subscribe(address: str, sub: str = SUB) -> Answer:
    return call(request("PUT /email-subscriptions/{address}", {"address": address}, sub=sub))


def verify(address: str, code: Any, sub: str = SUB) -> Answer:
    return call(
        request(
            "POST /email-subscriptions/{address}/verify", {"address": address}, body={"code": code}, sub=sub
        )
    )


def unsubscribe(address: str, sub: str = SUB) -> Answer:
    return call(request("DELETE /email-subscriptions/{address}", {"address": address}, sub=sub))


def get_preferences(sub: str = SUB) -> Answer:
    return call(request("GET /preferences", sub=sub))


def put_preferences(body: Any, sub: str = SUB) -> Answer:
    return call(request("PUT /preferences", body=body, sub=sub))


def deliveries(notification_id: str, sub: str = SUB, **query: str) -> Answer:
    return call(
        request(
            "GET /notifications/{notification_id}/deliveries",
            {"notification_id": notification_id},
            query=query or None,
            sub=sub,
        )
    )


def mail() -> list[tuple[list[str], str, str]]:
    """(to, subject, body) of every message SES (moto) accepted."""
    return [
        (m.destinations["ToAddresses"], m.subject, m.body)
        for m in ses_backends[ACCOUNT_ID][REGION].sent_messages
    ]


def last_code(address: str) -> str:
    """The code of the last mail to ``address``, as mailed (``XXXX-XXXX``)."""
    _to, _, body = [m for m in mail() if m[0] == [address]][-1]
    match = re.search(r"code is ([0-9A-Z]{4}-[0-9A-Z]{4})\.", body)
    assert match, body
    return match.group(1)


def subscription(sub: str = SUB) -> dict[str, Any] | None:
    items = [item for item in scan("email-subscriptions") if item["user_id"] == sub]
    return items[0] if items else None


def endpoints(platform_application_arn: str) -> list[dict[str, Any]]:
    sns = boto3.client("sns", region_name=REGION)
    return list(
        sns.list_endpoints_by_platform_application(PlatformApplicationArn=platform_application_arn)[
            "Endpoints"
        ]
    )
