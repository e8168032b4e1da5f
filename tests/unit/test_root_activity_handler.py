"""Handler tests against moto's in-process SNS, with an SQS queue subscribed to read messages back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError
from conftest import ACCOUNT_ID, FakeLambdaContext, SnsToSqs, load_event

from notification_handlers import aws_clients
from notification_handlers.root_activity import ConfigurationError, MalformedEventError, handler

Logs = Callable[[], list[dict[str, Any]]]


def test_root_sign_in_is_published(
    sns_topic: SnsToSqs, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCOUNT_ALIAS", "my-alias")

    result = handler(load_event("root_console_sign_in"), lambda_context)

    assert result["status"] == "published"
    [delivered] = sns_topic.received()
    assert delivered["MessageId"] == result["message_id"]
    assert delivered["Subject"] == "Root user console sign-in in 123456789012 (my-alias)"
    body = delivered["Message"].splitlines()
    assert "Who:        Root user of account 123456789012 (my-alias)" in body
    assert "MFA used:   No" in body
    assert "Source IP:  198.51.100.23" in body
    assert "When:       2024-05-14 09:12:38 UTC" in body
    assert any(line.endswith("#/events/deb1e1f9-c99b-4612-8e9f-21f93b5d79c0") for line in body)
    assert delivered["MessageAttributes"]["event_name"] == {"Type": "String", "Value": "ConsoleLogin"}
    assert delivered["MessageAttributes"]["account"] == {"Type": "String", "Value": ACCOUNT_ID}


def test_root_api_call_is_published(sns_topic: SnsToSqs, lambda_context: FakeLambdaContext) -> None:
    result = handler(load_event("root_api_call"), lambda_context)

    assert result["status"] == "published"
    [delivered] = sns_topic.received()
    assert delivered["Subject"] == "Root user API call CreateAccessKey in 123456789012"
    assert "What:       CreateAccessKey (iam.amazonaws.com)" in delivered["Message"].splitlines()


def test_failed_root_sign_in_is_published(sns_topic: SnsToSqs, lambda_context: FakeLambdaContext) -> None:
    handler(load_event("root_console_sign_in_failure"), lambda_context)

    [delivered] = sns_topic.received()
    assert delivered["Subject"] == "Root user console sign-in FAILED in 123456789012"


def test_alias_is_not_applied_to_events_from_other_accounts(
    sns_topic: SnsToSqs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCOUNT_ALIAS", "central")
    context = FakeLambdaContext(
        invoked_function_arn="arn:aws:lambda:us-east-1:999999999999:function:notifier"
    )

    handler(load_event("root_console_sign_in"), context)

    [delivered] = sns_topic.received()
    assert delivered["Subject"] == "Root user console sign-in in 123456789012"


def test_non_root_is_ignored_by_default(
    sns_topic: SnsToSqs, lambda_context: FakeLambdaContext, captured_logs: Logs
) -> None:
    result = handler(load_event("iam_user_console_sign_in"), lambda_context)

    assert result == {"status": "ignored", "reason": "non-root identity IAMUser; NON_ROOT_EVENTS=ignore"}
    assert sns_topic.received() == []
    [record] = captured_logs()
    assert record["message"] == "Ignored event"
    assert record["decision"] == "ignored"
    assert record["event_id"] == "3e8b6f1d-52a7-4c09-9d4e-a1b2c3d4e5f6"


def test_non_root_is_published_when_configured(
    sns_topic: SnsToSqs, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NON_ROOT_EVENTS", "notify")

    result = handler(load_event("iam_user_console_sign_in"), lambda_context)

    assert result["status"] == "published"
    [delivered] = sns_topic.received()
    assert delivered["Subject"] == "IAM user console sign-in in 123456789012"


def test_logs_identify_the_event_without_dumping_it(
    sns_topic: SnsToSqs, lambda_context: FakeLambdaContext, captured_logs: Logs
) -> None:
    event = load_event("root_console_sign_in")

    handler(event, lambda_context)

    records = captured_logs()
    [published] = [r for r in records if r["message"] == "Published notification"]
    assert published["level"] == "INFO"
    assert published["service"] == "root-activity-notifier"
    assert published["event_id"] == event["id"]
    assert published["cloudtrail_event_id"] == "deb1e1f9-c99b-4612-8e9f-21f93b5d79c0"
    assert published["event_name"] == "ConsoleLogin"
    assert published["account"] == ACCOUNT_ID
    assert published["decision"] == "notify"
    assert published["function_request_id"] == lambda_context.aws_request_id
    raw = json.dumps(records)
    for payload_value in (event["detail"]["sourceIPAddress"], event["detail"]["userAgent"], "LoginTo"):
        assert payload_value not in raw


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        pytest.param(lambda e: e.pop("detail"), "detail is missing: expected an object", id="no-detail"),
        pytest.param(
            lambda e: e.update({"detail-type": "Scheduled Event"}),
            "detail-type 'Scheduled Event' is not a CloudTrail event",
            id="not-cloudtrail",
        ),
        pytest.param(
            lambda e: e["detail"].update({"userIdentity": "Root"}),
            "detail.userIdentity must be an object, got str",
            id="identity-string",
        ),
    ],
)
def test_malformed_events_raise_and_publish_nothing(
    sns_topic: SnsToSqs,
    lambda_context: FakeLambdaContext,
    captured_logs: Logs,
    mutate: Callable[[dict[str, Any]], object],
    problem: str,
) -> None:
    event = load_event("root_console_sign_in")
    mutate(event)

    with pytest.raises(MalformedEventError) as raised:
        handler(event, lambda_context)

    assert str(raised.value).startswith(problem)
    assert sns_topic.received() == []
    [record] = captured_logs()
    assert record["level"] == "ERROR"
    assert record["decision"] == "rejected"
    assert record["event_id"] == event["id"]
    assert record["problem"].startswith(problem)


def test_missing_topic_setting_is_a_clear_error(lambda_context: FakeLambdaContext) -> None:
    with pytest.raises(ConfigurationError, match="SNS_TOPIC_ARN is not set"):
        handler(load_event("root_console_sign_in"), lambda_context)


def test_unknown_topic_raises_for_retry(
    sns_topic: SnsToSqs,
    lambda_context: FakeLambdaContext,
    captured_logs: Logs,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SNS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:does-not-exist")

    with pytest.raises(ClientError) as raised:
        handler(load_event("root_console_sign_in"), lambda_context)

    assert raised.value.response["Error"]["Code"] == "NotFound"
    [record] = [r for r in captured_logs() if r["level"] == "ERROR"]
    assert record["error_code"] == "NotFound"
    assert record["event_id"] == "5b1a9c3e-7d2f-4c8a-9e61-0f3b2d4a6c81"


def test_throttled_publish_raises_for_retry(
    sns_topic: SnsToSqs, lambda_context: FakeLambdaContext, captured_logs: Logs
) -> None:
    throttled = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "Publish")
    failing_client = mock.Mock()
    failing_client.publish.side_effect = throttled

    with (
        mock.patch.object(aws_clients, "sns", return_value=failing_client),
        pytest.raises(ClientError) as raised,
    ):
        handler(load_event("root_api_call"), lambda_context)

    assert raised.value is throttled
    assert (
        failing_client.publish.call_args.kwargs["Subject"]
        == "Root user API call CreateAccessKey in 123456789012"
    )
    assert [r["error_code"] for r in captured_logs() if r["level"] == "ERROR"] == ["Throttling"]


def test_sns_client_is_created_lazily_and_reused(
    sns_topic: SnsToSqs, lambda_context: FakeLambdaContext
) -> None:
    assert aws_clients.client.cache_info().currsize == 0

    handler(load_event("root_console_sign_in"), lambda_context)
    handler(load_event("root_api_call"), lambda_context)

    assert aws_clients.client.cache_info().currsize == 1
    assert aws_clients.client.cache_info().hits == 1
    assert len(sns_topic.received()) == 2


def test_event_logging_stays_off_even_when_powertools_is_told_to_log_events() -> None:
    # Powertools reads POWERTOOLS_LOGGER_LOG_EVENT when the decorator is applied, i.e. at import,
    # so this needs a fresh interpreter that imports the handler with the variable set.
    script = (
        "import json, sys\n"
        "from conftest import FakeLambdaContext, load_event\n"
        "from notification_handlers.root_activity import handler\n"
        "result = handler(load_event('iam_user_console_sign_in'), FakeLambdaContext())\n"
        "sys.stderr.write(json.dumps(result))\n"
    )
    repo = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(repo / "lambda_src"), str(Path(__file__).parent)]),
        "POWERTOOLS_LOGGER_LOG_EVENT": "true",
        "SNS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:root-activity",
    }

    completed = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=True
    )

    assert json.loads(completed.stderr.splitlines()[-1])["status"] == "ignored"
    records = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    assert [r["message"] for r in records] == ["Ignored event"]
    assert "anaya" not in completed.stdout
    assert "Mozilla" not in completed.stdout
