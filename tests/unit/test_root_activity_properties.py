"""Property-based tests of the root activity handler (EventBridge -> Lambda, async).

Whatever arrives -- arbitrary JSON, real CloudTrail events with one field deleted or replaced by a wrong,
empty, huge or odd value, random configuration -- the handler publishes exactly one notification, ignores
the event, or raises ``MalformedEventError``/``ConfigurationError`` whose message starts with the name of
the offending field. No ``KeyError``/``TypeError``/``AttributeError``/``OverflowError`` leaks, and what SNS
received always matches what the handler reported.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from conftest import JSON_VALUES, TEXT, FakeAws, FakeLambdaContext, examples, load_event, mutated
from hypothesis import given
from hypothesis import strategies as st

from notification_handlers.root_activity import (
    API_CALL_DETAIL_TYPE,
    MAX_SUBJECT_LENGTH,
    SIGN_IN_DETAIL_TYPE,
    ConfigurationError,
    MalformedEventError,
    handler,
)

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:root-activity"
FIXTURES = (
    "root_console_sign_in",
    "root_console_sign_in_failure",
    "root_api_call",
    "iam_user_console_sign_in",
)
# Every field the handler reads, as its errors name them.
FIELDS = (
    "event",
    "detail-type",
    "detail",
    "id",
    "source",
    "account",
    "detail.userIdentity",
    "detail.userIdentity.type",
    "detail.userIdentity.arn",
    "detail.userIdentity.principalId",
    "detail.userIdentity.accountId",
    "detail.errorCode",
    "detail.errorMessage",
    "detail.eventID",
    "detail.eventName",
    "detail.eventSource",
    "detail.eventTime",
    "detail.awsRegion",
    "detail.sourceIPAddress",
    "detail.userAgent",
    "detail.additionalEventData",
    "detail.responseElements",
)


@pytest.fixture(autouse=True)
def topic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNS_TOPIC_ARN", TOPIC_ARN)


def invoke(event: Any, fake: FakeAws, context: FakeLambdaContext) -> dict[str, Any] | MalformedEventError:
    """Run the handler; check that what SNS received agrees with what it returned or raised."""
    fake.reset()
    try:
        result = handler(event, context)
    except MalformedEventError as error:
        assert fake.attempts == [], "a rejected event must not publish anything"
        message = str(error)
        assert any(message.startswith(f"{field} ") for field in FIELDS), f"names no field: {message!r}"
        assert len(message) < 400, "the reason must stay readable (and fit a DLQ message attribute)"
        return error
    if result["status"] == "published":
        [delivery] = fake.deliveries
        assert result["message_id"] == delivery.message_id
        assert delivery.params["TopicArn"] == TOPIC_ARN
        subject = delivery.params["Subject"]
        assert 0 < len(subject) <= MAX_SUBJECT_LENGTH and subject.isascii() and subject.isprintable()
    else:
        assert result["status"] == "ignored" and fake.deliveries == []
    return result


@examples(150)
@given(event=JSON_VALUES | st.dictionaries(st.sampled_from(FIELDS[1:6]) | TEXT, JSON_VALUES, max_size=7))
def test_arbitrary_json_is_published_ignored_or_rejected_naming_a_field(
    event: Any, fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    outcome = invoke(event, fake_aws, lambda_context)
    assert isinstance(outcome, MalformedEventError), "arbitrary JSON is never a valid CloudTrail event"


@examples(300)
@given(case=st.sampled_from(FIXTURES).flatmap(lambda name: mutated(load_event(name), lambda _path: False)))
def test_a_real_event_with_one_field_broken_is_rejected_naming_that_field(
    case: tuple[dict[str, Any], tuple[str, ...]], fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    event, path = case
    outcome = invoke(event, fake_aws, lambda_context)
    if isinstance(outcome, MalformedEventError):
        # The broken field itself, or a field inside the object that replaced it.
        field = ".".join(path)
        assert str(outcome).startswith((f"{field} ", f"{field}.")), f"{field} broken, but: {outcome}"


def _iso(moment: datetime) -> str:
    text = moment.isoformat()
    return text.replace("+00:00", "Z") if moment.utcoffset() == timedelta(0) else text


OFFSETS = st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-14), max_value=timedelta(hours=14)))
MOMENTS = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=OFFSETS)
OPTIONAL_TEXT = st.none() | TEXT


@st.composite
def root_events(draw: st.DrawFn) -> dict[str, Any]:
    """Valid EventBridge-wrapped CloudTrail root events with arbitrary text in every free-form field."""
    required = TEXT.filter(str.strip)
    detail: dict[str, Any] = {
        "userIdentity": {"type": "Root", "arn": draw(OPTIONAL_TEXT), "accountId": draw(OPTIONAL_TEXT)},
        "eventTime": _iso(draw(MOMENTS)),
        "eventSource": draw(required),
        "eventName": draw(required),
        "awsRegion": draw(required),
        "eventID": draw(required),
        "sourceIPAddress": draw(OPTIONAL_TEXT),
        "userAgent": draw(OPTIONAL_TEXT),
        "errorCode": draw(OPTIONAL_TEXT),
        "errorMessage": draw(OPTIONAL_TEXT),
        "additionalEventData": {"MFAUsed": draw(st.sampled_from(["Yes", "No", "", None]))},
        "responseElements": {"ConsoleLogin": draw(st.sampled_from(["Success", "Failure", None]))},
    }
    return {
        "version": "0",
        "id": draw(required),
        "detail-type": draw(st.sampled_from([SIGN_IN_DETAIL_TYPE, API_CALL_DETAIL_TYPE])),
        "source": draw(required),
        "account": draw(required),
        "time": "2024-05-14T09:12:38Z",
        "detail": detail,
    }


@examples(150)
@given(event=root_events())
def test_every_valid_root_event_is_published_exactly_once(
    event: dict[str, Any], fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    outcome = invoke(event, fake_aws, lambda_context)

    assert isinstance(outcome, dict) and outcome["status"] == "published"
    [delivery] = fake_aws.deliveries
    message = delivery.params["Message"]
    assert f"CloudTrail event ID: {event['detail']['eventID']}" in message
    when = datetime.fromisoformat(event["detail"]["eventTime"]).astimezone(UTC)
    assert when.strftime("When:       %Y-%m-%d %H:%M:%S UTC") in message.splitlines()


@examples(100)
@given(moment=st.datetimes(timezones=OFFSETS), naive=st.datetimes(), text=TEXT)
def test_any_event_time_is_rendered_in_utc_or_rejected_naming_it(
    moment: datetime, naive: datetime, text: str, fake_aws: FakeAws, lambda_context: FakeLambdaContext
) -> None:
    """Years 1-9999 and offsets of +-14 h: a valid ISO 8601 time can still fall outside datetime in UTC."""
    for value in (_iso(moment), naive.isoformat(), text):
        event = load_event("root_api_call")
        event["detail"]["eventTime"] = value
        outcome = invoke(event, fake_aws, lambda_context)
        if isinstance(outcome, MalformedEventError):
            assert str(outcome).startswith("detail.eventTime "), str(outcome)


ENV_TEXT = TEXT.filter(lambda text: "\x00" not in text)  # the only character an environment cannot hold


@examples(100)
@given(
    topic_arn=ENV_TEXT,
    policy=st.sampled_from(["ignore", "notify", " NOTIFY ", ""]) | ENV_TEXT,
    alias=ENV_TEXT,
)
def test_any_configuration_works_or_is_rejected_naming_the_variable(
    topic_arn: str,
    policy: str,
    alias: str,
    fake_aws: FakeAws,
    lambda_context: FakeLambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in (("SNS_TOPIC_ARN", topic_arn), ("NON_ROOT_EVENTS", policy), ("ACCOUNT_ALIAS", alias)):
        monkeypatch.setenv(name, value)
    fake_aws.reset()

    try:
        result = handler(load_event("root_console_sign_in"), lambda_context)
    except ConfigurationError as error:
        assert str(error).startswith(("SNS_TOPIC_ARN ", "NON_ROOT_EVENTS=")), str(error)
        assert fake_aws.attempts == []
        return
    assert result["status"] == "published"
    [delivery] = fake_aws.deliveries
    assert delivery.params["TopicArn"] == os.environ["SNS_TOPIC_ARN"].strip()
