"""Pure-function tests: parse, decide, render, settings. No AWS involved."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import load_event

from notification_handlers.root_activity import (
    MAX_SUBJECT_LENGTH,
    ConfigurationError,
    MalformedEventError,
    NonRootPolicy,
    alias_for,
    cloudtrail_event_url,
    decide,
    envelope_log_keys,
    function_account_id,
    load_settings,
    parse_event,
    render,
    render_subject,
    sanitize_subject,
)

TOPIC = "arn:aws:sns:us-east-1:123456789012:root-activity"


# --- parse ---------------------------------------------------------------------------


def test_parse_root_console_sign_in() -> None:
    activity = parse_event(load_event("root_console_sign_in"))

    assert activity.is_root
    assert activity.is_console_sign_in
    assert activity.envelope_id == "5b1a9c3e-7d2f-4c8a-9e61-0f3b2d4a6c81"
    assert activity.event_id == "deb1e1f9-c99b-4612-8e9f-21f93b5d79c0"
    assert activity.event_name == "ConsoleLogin"
    assert activity.event_source == "signin.amazonaws.com"
    assert activity.source == "aws.signin"
    assert activity.account == "123456789012"
    assert activity.event_time == datetime(2024, 5, 14, 9, 12, 38, tzinfo=UTC)
    assert activity.aws_region == "us-east-1"
    assert activity.identity_arn == "arn:aws:iam::123456789012:root"
    assert activity.source_ip == "198.51.100.23"
    assert activity.user_agent is not None and activity.user_agent.startswith("Mozilla/5.0 (X11")
    assert activity.mfa_used is False
    assert activity.succeeded is True
    assert activity.error_code is None


def test_parse_failed_root_sign_in() -> None:
    activity = parse_event(load_event("root_console_sign_in_failure"))

    assert activity.succeeded is False
    assert activity.error_message == "Failed authentication"


def test_parse_root_api_call_reads_mfa_from_session_context() -> None:
    activity = parse_event(load_event("root_api_call"))

    assert not activity.is_console_sign_in
    assert activity.event_name == "CreateAccessKey"
    assert activity.event_source == "iam.amazonaws.com"
    assert activity.mfa_used is False
    assert activity.succeeded is True


def test_parse_api_call_with_error_code_is_a_failure() -> None:
    event = load_event("root_api_call")
    event["detail"]["errorCode"] = "AccessDenied"
    event["detail"]["errorMessage"] = "Access denied"

    activity = parse_event(event)

    assert activity.succeeded is False
    assert activity.error_code == "AccessDenied"


def test_parse_mfa_unknown_when_absent() -> None:
    sign_in = load_event("root_console_sign_in")
    del sign_in["detail"]["additionalEventData"]
    api_call = load_event("root_api_call")
    del api_call["detail"]["userIdentity"]["sessionContext"]

    assert parse_event(sign_in).mfa_used is None
    assert parse_event(api_call).mfa_used is None


def test_parse_accepts_null_response_elements_and_missing_optional_fields() -> None:
    event = load_event("root_console_sign_in")
    event["detail"]["responseElements"] = None
    for key in ("sourceIPAddress", "userAgent"):
        del event["detail"][key]

    activity = parse_event(event)

    assert activity.succeeded is None
    assert activity.source_ip is None
    assert activity.user_agent is None


def _without(path: tuple[str, ...]) -> dict[str, Any]:
    event = load_event("root_console_sign_in")
    target: dict[str, Any] = event
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return event


def _with(path: tuple[str, ...], value: object) -> dict[str, Any]:
    event = load_event("root_console_sign_in")
    target: dict[str, Any] = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return event


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param([1, 2], r"^event must be a JSON object, got list$", id="not-an-object"),
        pytest.param(None, r"^event must be a JSON object, got null$", id="null"),
        pytest.param(_without(("detail",)), r"^detail is missing: expected an object$", id="no-detail"),
        pytest.param(_with(("detail",), "text"), r"^detail must be an object, got str$", id="detail-string"),
        pytest.param(_without(("detail-type",)), r"^detail-type is missing$", id="no-detail-type"),
        pytest.param(
            _with(("detail-type",), "EC2 Instance State-change Notification"),
            r"detail-type 'EC2 Instance State-change Notification' is not a CloudTrail event",
            id="not-cloudtrail",
        ),
        pytest.param(_without(("id",)), r"^id is missing$", id="no-id"),
        pytest.param(
            _with(("account",), 123456789012), r"^account must be a string, got int$", id="account-int"
        ),
        pytest.param(
            _without(("detail", "userIdentity")),
            r"^detail.userIdentity is missing: expected an object$",
            id="no-identity",
        ),
        pytest.param(
            _with(("detail", "userIdentity", "type"), None),
            r"^detail.userIdentity.type is missing$",
            id="identity-type-null",
        ),
        pytest.param(
            _with(("detail", "userIdentity", "arn"), ["arn"]),
            r"^detail.userIdentity.arn must be a string, got list$",
            id="identity-arn-list",
        ),
        pytest.param(_with(("detail", "eventName"), ""), r"^detail.eventName is empty$", id="empty-name"),
        pytest.param(_without(("detail", "eventID")), r"^detail.eventID is missing$", id="no-event-id"),
        pytest.param(
            _with(("detail", "eventTime"), "yesterday"),
            r"^detail.eventTime is not an ISO 8601 timestamp: 'yesterday'$",
            id="bad-time",
        ),
        pytest.param(
            _with(("detail", "additionalEventData"), "MFAUsed=No"),
            r"^detail.additionalEventData must be an object, got str$",
            id="extra-data-string",
        ),
        pytest.param(
            _with(("detail", "sourceIPAddress"), 19802),
            r"^detail.sourceIPAddress must be a string, got int$",
            id="ip-int",
        ),
    ],
)
def test_parse_rejects_malformed_events_naming_the_problem(event: object, expected: str) -> None:
    with pytest.raises(MalformedEventError, match=expected):
        parse_event(event)


def test_envelope_log_keys_are_safe_for_malformed_events() -> None:
    event = load_event("root_console_sign_in")

    assert envelope_log_keys(event) == {
        "event_id": "5b1a9c3e-7d2f-4c8a-9e61-0f3b2d4a6c81",
        "detail_type": "AWS Console Sign In via CloudTrail",
        "source": "aws.signin",
        "account": "123456789012",
    }
    assert envelope_log_keys(["not", "an", "event"]) == {}
    assert envelope_log_keys({"id": 7, "source": "aws.signin"}) == {"source": "aws.signin"}


# --- decide --------------------------------------------------------------------------


def test_root_is_always_notified() -> None:
    activity = parse_event(load_event("root_api_call"))

    assert decide(activity, NonRootPolicy.IGNORE).notify
    assert decide(activity, NonRootPolicy.NOTIFY).notify


def test_non_root_follows_policy() -> None:
    activity = parse_event(load_event("iam_user_console_sign_in"))

    ignored = decide(activity, NonRootPolicy.IGNORE)
    notified = decide(activity, NonRootPolicy.NOTIFY)

    assert not ignored.notify
    assert ignored.reason == "non-root identity IAMUser; NON_ROOT_EVENTS=ignore"
    assert notified.notify


def test_alias_only_labels_the_functions_own_account() -> None:
    assert alias_for("123456789012", "123456789012", "prod") == "prod"
    assert alias_for("123456789012", None, "prod") == "prod"
    assert alias_for("210987654321", "123456789012", "prod") is None
    assert alias_for("123456789012", "123456789012", None) is None


def test_function_account_id_from_arn() -> None:
    assert function_account_id("arn:aws:lambda:us-east-1:123456789012:function:f") == "123456789012"
    assert function_account_id(None) is None
    assert function_account_id("not-an-arn") is None


# --- render --------------------------------------------------------------------------


def test_render_root_console_sign_in() -> None:
    notification = render(parse_event(load_event("root_console_sign_in")), "my-alias")

    assert notification.subject == "Root user console sign-in in 123456789012 (my-alias)"
    lines = notification.message.splitlines()
    assert lines[0] == notification.subject
    assert "Who:        Root user of account 123456789012 (my-alias)" in lines
    assert "What:       ConsoleLogin (signin.amazonaws.com)" in lines
    assert "Result:     Success" in lines
    assert "When:       2024-05-14 09:12:38 UTC" in lines
    assert "Source IP:  198.51.100.23" in lines
    assert "Region:     us-east-1" in lines
    assert "MFA used:   No" in lines
    assert (
        "CloudTrail event: https://us-east-1.console.aws.amazon.com/cloudtrailv2/home"
        "?region=us-east-1#/events/deb1e1f9-c99b-4612-8e9f-21f93b5d79c0"
    ) in lines
    assert "EventBridge event ID: 5b1a9c3e-7d2f-4c8a-9e61-0f3b2d4a6c81" in lines
    assert notification.attributes == {
        "event_name": "ConsoleLogin",
        "account": "123456789012",
        "identity_type": "Root",
    }


def test_render_failed_sign_in_says_failed_in_subject_and_body() -> None:
    notification = render(parse_event(load_event("root_console_sign_in_failure")), None)

    assert notification.subject == "Root user console sign-in FAILED in 123456789012"
    assert "Result:     FAILED (Failed authentication)" in notification.message.splitlines()


def test_render_root_api_call() -> None:
    event = load_event("root_api_call")
    event["detail"]["errorCode"] = "AccessDenied"

    notification = render(parse_event(event), None)

    assert notification.subject == "Root user API call CreateAccessKey FAILED in 123456789012"
    assert "What:       CreateAccessKey (iam.amazonaws.com)" in notification.message.splitlines()
    assert "Result:     FAILED (AccessDenied)" in notification.message.splitlines()


def test_render_non_root_names_the_principal() -> None:
    notification = render(parse_event(load_event("iam_user_console_sign_in")), None)

    assert notification.subject == "IAM user console sign-in in 123456789012"
    assert (
        "Who:        IAM user arn:aws:iam::123456789012:user/anaya in account 123456789012"
        in notification.message.splitlines()
    )
    assert "MFA used:   Yes" in notification.message.splitlines()


def test_render_unknown_mfa() -> None:
    event = load_event("root_console_sign_in")
    del event["detail"]["additionalEventData"]

    assert "MFA used:   unknown" in render(parse_event(event), None).message.splitlines()


def test_cloudtrail_event_url_escapes_its_parts() -> None:
    assert cloudtrail_event_url("eu-west-1", "a/b") == (
        "https://eu-west-1.console.aws.amazon.com/cloudtrailv2/home?region=eu-west-1#/events/a%2Fb"
    )


@pytest.mark.parametrize(
    "alias",
    ["a" * 150, "prod\nsecond-line", "pr\u00f6d-\u00e9u\u2013west", "tab\there\r\x00nul"],
)
def test_subject_is_short_single_line_ascii(alias: str) -> None:
    activity = parse_event(load_event("root_api_call"))

    subject = render_subject(activity, alias)

    assert 0 < len(subject) <= MAX_SUBJECT_LENGTH < 100
    assert subject.isascii()
    assert subject.isprintable()
    assert subject.startswith("Root user API call CreateAccessKey in 123456789012 (")


def test_sanitize_subject() -> None:
    assert sanitize_subject("Root  user\nsign-in \u00e9") == "Root user sign-in ?"
    assert sanitize_subject("x" * 120) == "x" * 96 + "..."
    assert len(sanitize_subject("word " * 40)) <= MAX_SUBJECT_LENGTH


# --- settings ------------------------------------------------------------------------


def test_settings_defaults() -> None:
    settings = load_settings({"SNS_TOPIC_ARN": TOPIC})

    assert settings.topic_arn == TOPIC
    assert settings.non_root_policy is NonRootPolicy.IGNORE
    assert settings.account_alias is None


def test_settings_read_policy_and_alias() -> None:
    settings = load_settings({"SNS_TOPIC_ARN": TOPIC, "NON_ROOT_EVENTS": " Notify ", "ACCOUNT_ALIAS": "prod"})

    assert settings.non_root_policy is NonRootPolicy.NOTIFY
    assert settings.account_alias == "prod"


@pytest.mark.parametrize("environ", [{}, {"SNS_TOPIC_ARN": "  "}])
def test_settings_require_topic(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="SNS_TOPIC_ARN is not set"):
        load_settings(environ)


def test_settings_reject_unknown_policy() -> None:
    with pytest.raises(
        ConfigurationError, match=r"NON_ROOT_EVENTS='always' is invalid; use one of 'ignore', 'notify'"
    ):
        load_settings({"SNS_TOPIC_ARN": TOPIC, "NON_ROOT_EVENTS": "always"})
