"""S3 object notifier handler against moto's in-process SES v2: emails are read back from the backend."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from conftest import ACCOUNT_ID, REGION, FakeLambdaContext, load_event
from moto import mock_aws
from moto.ses.models import ses_backends

from notification_handlers import aws_clients, s3_object_notifier
from notification_handlers.s3_object_notifier import ConfigurationError, MalformedEventError, handler

SENDER = "s3-alerts@example.com"
RECIPIENTS = ("ops@example.com", "data-team@example.org")
ENV_NAMES = ("SENDER", "RECIPIENTS", "CONFIGURATION_SET", "SES_IDENTITY_ARN", "SUBJECT_PREFIX")

Logs = Callable[[], list[dict[str, Any]]]


@dataclass(frozen=True)
class SentEmail:
    source: str
    subject: str
    body: str  # moto keeps the HTML part when a message has both
    to: list[str]


@dataclass
class Ses:
    """Read back what SES v2 accepted in the moto backend."""

    def sent(self) -> list[SentEmail]:
        messages = ses_backends[ACCOUNT_ID][REGION].sent_messages
        return [SentEmail(m.source, m.subject, m.body, m.destinations["ToAddresses"]) for m in messages]


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    s3_object_notifier.forget_sent_records()
    yield
    s3_object_notifier.forget_sent_records()


@pytest.fixture
def ses(monkeypatch: pytest.MonkeyPatch) -> Iterator[Ses]:
    """moto SES v2 with the sender's identity, and the handler's environment pointing at it."""
    with mock_aws():
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
        monkeypatch.setenv("SENDER", SENDER)
        monkeypatch.setenv("RECIPIENTS", ",".join(RECIPIENTS))
        yield Ses()


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext(
        function_name="s3-object-notifier",
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:s3-object-notifier",
    )


@pytest.fixture
def captured_logs() -> Iterator[Logs]:
    buffer = io.StringIO()
    stream = s3_object_notifier.logger.registered_handler
    assert isinstance(stream, logging.StreamHandler)
    previous = stream.setStream(buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    stream.setStream(previous)


class SpySesV2:
    """Forwards to the real (moto) client and keeps the requests, for what moto does not store."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._client = boto3.client("sesv2", region_name=REGION)

    def send_email(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append(kwargs)
        return self._client.send_email(**kwargs)  # type: ignore[no-any-return]


def test_put_is_mailed_with_the_decoded_key(ses: Ses, lambda_context: FakeLambdaContext) -> None:
    result = handler(load_event("s3_object_created_put"), lambda_context)

    [email] = ses.sent()
    assert result == {"status": "sent", "message_ids": [mock.ANY], "duplicates": 0}
    assert email.source == SENDER
    assert email.to == list(RECIPIENTS)
    assert email.subject == "S3 object created: s3://acme-reports/reports/2024/quarterly report Q2.pdf"
    for fact in (
        "reports/2024/quarterly report Q2.pdf",
        "created (ObjectCreated:Put)",
        "1.5 MiB (1,572,864 bytes)",
        "2024-05-14 09:12:38 UTC",
        "AWS:AIDAJDPLRKLG7UEXAMPLE",
        "198.51.100.7",
        "096fKKXTRTtl3on89fVO.nfljtsv6qko",
    ):
        assert fact in email.body, f"{fact!r} missing from:\n{email.body}"


def test_delete_with_non_ascii_key_is_mailed(ses: Ses, lambda_context: FakeLambdaContext) -> None:
    handler(load_event("s3_object_removed_delete"), lambda_context)

    [email] = ses.sent()
    assert email.subject == "S3 object deleted: s3://acme-reports/menus/café menu — été.txt"
    assert "deleted (ObjectRemoved:Delete)" in email.body
    assert "bytes" not in email.body, "S3 gives no size for deletions"


def test_put_and_delete_in_one_event_are_two_emails(ses: Ses, lambda_context: FakeLambdaContext) -> None:
    result = handler(load_event("s3_batch_put_and_delete"), lambda_context)

    put, delete = ses.sent()
    assert len(result["message_ids"]) == 2
    assert put.subject == "S3 object created: s3://acme-reports/uploads/café menu.txt"
    assert "734 bytes" in put.body and "AWS:AROAEXAMPLEROLEID:uploader" in put.body
    assert delete.subject == "S3 object deleted: s3://acme-reports/uploads/old price list (1).csv"
    assert "created" not in delete.body and "203.0.113.10" in delete.body


def test_the_s3_test_event_is_ignored_and_logged(
    ses: Ses, lambda_context: FakeLambdaContext, captured_logs: Logs
) -> None:
    result = handler(load_event("s3_test_event"), lambda_context)

    assert result == {"status": "ignored", "reason": "s3:TestEvent"}
    assert ses.sent() == []
    [record] = captured_logs()
    assert record["message"] == "Ignored s3:TestEvent" and record["bucket"] == "acme-reports"


def test_configuration_set_and_identity_arn_are_used(
    ses: Ses, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity_arn = f"arn:aws:ses:{REGION}:{ACCOUNT_ID}:identity/{SENDER}"
    boto3.client("sesv2", region_name=REGION).create_configuration_set(ConfigurationSetName="tracking")
    monkeypatch.setenv("CONFIGURATION_SET", "tracking")
    monkeypatch.setenv("SES_IDENTITY_ARN", identity_arn)
    spy = SpySesV2()

    with mock.patch.object(aws_clients, "sesv2", return_value=spy):
        handler(load_event("s3_object_created_put"), lambda_context)

    [request] = spy.requests
    assert request["ConfigurationSetName"] == "tracking"
    assert request["FromEmailAddressIdentityArn"] == identity_arn
    simple = request["Content"]["Simple"]
    assert simple["Subject"]["Charset"] == simple["Body"]["Text"]["Charset"] == "UTF-8"
    assert "Key:        reports/2024/quarterly report Q2.pdf" in simple["Body"]["Text"]["Data"]
    assert len(ses.sent()) == 1


def test_no_configuration_set_means_none_is_sent(ses: Ses, lambda_context: FakeLambdaContext) -> None:
    spy = SpySesV2()

    with mock.patch.object(aws_clients, "sesv2", return_value=spy):
        handler(load_event("s3_object_created_put"), lambda_context)

    assert "ConfigurationSetName" not in spy.requests[0]
    assert "FromEmailAddressIdentityArn" not in spy.requests[0]


def test_unverified_sender_raises_for_retry(
    ses: Ses, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch, captured_logs: Logs
) -> None:
    monkeypatch.setenv("SENDER", "someone-else@example.net")

    with pytest.raises(ClientError) as raised:
        handler(load_event("s3_object_created_put"), lambda_context)

    assert raised.value.response["Error"]["Code"] == "MessageRejected"
    assert ses.sent() == []
    [error] = [r for r in captured_logs() if r["level"] == "ERROR"]
    assert error["error_code"] == "MessageRejected"
    assert error["key"] == "reports/2024/quarterly report Q2.pdf"


def test_ses_failure_midway_is_retried_without_mailing_the_sent_record_again(
    ses: Ses, lambda_context: FakeLambdaContext
) -> None:
    event = load_event("s3_batch_put_and_delete")
    spy = SpySesV2()
    throttled = ClientError(
        {"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}}, "SendEmail"
    )
    calls = {"n": 0}

    def flaky_send(**kwargs: Any) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise throttled
        return spy.send_email(**kwargs)

    failing = mock.Mock(send_email=flaky_send)
    with mock.patch.object(aws_clients, "sesv2", return_value=failing):
        with pytest.raises(ClientError, match="TooManyRequests"):
            handler(event, lambda_context)
        retried = handler(event, lambda_context)  # Lambda's retry, same warm environment

    assert retried["duplicates"] == 1 and len(retried["message_ids"]) == 1
    assert [e.subject.split(":")[0] for e in ses.sent()] == ["S3 object created", "S3 object deleted"]


def test_malformed_record_does_not_drop_the_good_one_and_raises_naming_it(
    ses: Ses, lambda_context: FakeLambdaContext, captured_logs: Logs
) -> None:
    event = load_event("s3_batch_put_and_delete")
    del event["Records"][1]["s3"]["bucket"]["name"]

    with pytest.raises(MalformedEventError) as raised:
        handler(event, lambda_context)

    assert str(raised.value) == (
        "1 of 2 S3 record(s) malformed: Records[1]: s3.bucket.name is missing (1 valid record(s) mailed)"
    )
    [email] = ses.sent()
    assert email.subject == "S3 object created: s3://acme-reports/uploads/café menu.txt"
    [error] = [r for r in captured_logs() if r["level"] == "ERROR"]
    assert error["problems"] == ["Records[1]: s3.bucket.name is missing"]

    # Lambda retries the whole event: the good record is not mailed again by this environment.
    with pytest.raises(MalformedEventError):
        handler(event, lambda_context)
    assert len(ses.sent()) == 1


def test_a_new_environment_mails_again(ses: Ses, lambda_context: FakeLambdaContext) -> None:
    """The duplicate memory is per execution environment: documented best effort, not exactly-once."""
    handler(load_event("s3_object_created_put"), lambda_context)
    s3_object_notifier.forget_sent_records()
    handler(load_event("s3_object_created_put"), lambda_context)

    assert len(ses.sent()) == 2


def test_malformed_envelope_raises_and_sends_nothing(ses: Ses, lambda_context: FakeLambdaContext) -> None:
    with pytest.raises(MalformedEventError, match="Records is missing"):
        handler({"detail-type": "Object Created"}, lambda_context)
    assert ses.sent() == []


def test_missing_configuration_is_a_clear_error(
    ses: Ses, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECIPIENTS")

    with pytest.raises(ConfigurationError, match="RECIPIENTS is not set"):
        handler(load_event("s3_object_created_put"), lambda_context)


def test_logs_name_records_without_dumping_the_event(
    ses: Ses, lambda_context: FakeLambdaContext, captured_logs: Logs
) -> None:
    handler(load_event("s3_batch_put_and_delete"), lambda_context)

    records = captured_logs()
    assert [(r["message"], r["key"]) for r in records] == [
        ("Sent email", "uploads/café menu.txt"),
        ("Sent email", "uploads/old price list (1).csv"),
    ]
    flat = json.dumps(records)
    assert "203.0.113.10" not in flat and "userIdentity" not in flat and "x-amz-id-2" not in flat
