"""A complaint (or bounce) about a verification mail must not suppress the address for
every user's notifications forever. Verification mail goes through its own configuration set; the feedback
function blocks only verification mail to the address, for a bounded time (limits table, TTL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import FakeLambdaContext, load_event
from moto import mock_aws

from notification_handlers.event_fields import ConfigurationError
from notification_handlers.service.email_feedback import handler
from tests.unit.service_fakes import create_table, scan

VERIFICATION_SET = "notification-service-verification"
RECIPIENT = "recipient@example.com"  # the fixtures' complained recipient
COMPLAINED_AT = int(datetime(2026, 11, 24, 11, 20, 5, tzinfo=UTC).timestamp())


@pytest.fixture
def tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with mock_aws():
        create_table("email-suppressions", "address")
        create_table("limits", "limit_key")
        monkeypatch.setenv("EMAIL_SUPPRESSIONS_TABLE", "email-suppressions")
        monkeypatch.setenv("LIMITS_TABLE", "limits")
        monkeypatch.setenv("VERIFICATION_CONFIGURATION_SET", VERIFICATION_SET)
        monkeypatch.delenv("VERIFICATION_BLOCK_DAYS", raising=False)
        yield


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext(function_name="notification-service-email-feedback")


def blocks() -> dict[str, dict[str, Any]]:
    return {item["limit_key"]: item for item in scan("limits")}


def retagged(name: str, tags: dict[str, list[str]]) -> dict[str, Any]:
    event = load_event(name)
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["mail"]["tags"] = tags
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    return event


def test_complaint_about_a_verification_mail_blocks_only_verification_mail_for_30_days(
    tables: None, context: FakeLambdaContext
) -> None:
    result = handler(load_event("notification_service_ses_complaint_verification"), context)

    assert result == {"records": 1, "suppressed": 0, "verification_blocked": 1, "ignored": 0}
    assert scan("email-suppressions") == [], "notifications to the address are not suppressed"
    assert blocks() == {
        f"verify-blocked#{RECIPIENT}": {
            "limit_key": f"verify-blocked#{RECIPIENT}",
            "address": RECIPIENT,
            "reason": "complaint",
            "detail": "abuse",
            "feedback_id": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000002",
            "blocked_at": "2026-11-24T11:20:05.000Z",
            "expires_at": COMPLAINED_AT + 30 * 86400,
        }
    }


def test_block_duration_comes_from_the_environment(
    tables: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERIFICATION_BLOCK_DAYS", "7")
    handler(load_event("notification_service_ses_complaint_verification"), context)
    assert blocks()[f"verify-blocked#{RECIPIENT}"]["expires_at"] == COMPLAINED_AT + 7 * 86400


def test_permanent_bounce_of_a_verification_mail_is_scoped_too(
    tables: None, context: FakeLambdaContext
) -> None:
    event = retagged(
        "notification_service_ses_bounce_permanent", {"ses:configuration-set": [VERIFICATION_SET]}
    )
    result = handler(event, context)
    assert (result["suppressed"], result["verification_blocked"]) == (0, 1)
    assert scan("email-suppressions") == []


def test_the_purpose_tag_alone_marks_verification_mail(
    tables: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VERIFICATION_CONFIGURATION_SET")
    handler(retagged("notification_service_ses_complaint", {"purpose": ["email_verification"]}), context)
    assert scan("email-suppressions") == [] and len(blocks()) == 1


def test_complaint_about_a_notification_still_suppresses_the_address_everywhere(
    tables: None, context: FakeLambdaContext
) -> None:
    result = handler(load_event("notification_service_ses_complaint"), context)  # the main configuration set

    assert (result["suppressed"], result["verification_blocked"]) == (1, 0)
    assert [item["address"] for item in scan("email-suppressions")] == [RECIPIENT]
    assert blocks() == {}


def test_both_kinds_in_one_invocation_are_kept_apart(tables: None, context: FakeLambdaContext) -> None:
    event = load_event("notification_service_ses_complaint")
    event["Records"].append(load_event("notification_service_ses_complaint_verification")["Records"][0])

    result = handler(event, context)

    assert (result["suppressed"], result["verification_blocked"]) == (1, 1)


def test_verification_report_without_a_limits_table_is_retried_not_lost(
    tables: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LIMITS_TABLE")
    with pytest.raises(ConfigurationError, match="LIMITS_TABLE"):
        handler(load_event("notification_service_ses_complaint_verification"), context)
    assert scan("email-suppressions") == []
