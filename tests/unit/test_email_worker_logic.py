"""The email worker's pure parts: settings, message parsing, recipients, planning, the SendEmail request
(headers, tags, quoting) and the permanent/transient split; plus property tests of the parser and tags."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from conftest import JSON_VALUES, TEXT, examples
from hypothesis import given
from hypothesis import strategies as st

from notification_handlers.event_fields import ConfigurationError, MalformedEventError
from notification_handlers.service import channel_worker, email_worker
from notification_handlers.service.email_address import is_plausible, mask, normalise
from notification_handlers.service.email_worker import (
    EmailContent,
    Recipient,
    Settings,
    build_request,
    claim_key,
    is_permanent,
    load_settings,
    parse_email_message,
    plan,
    tag_value,
    unsubscribe_url,
    verified_recipients,
)
from tests.unit.email_service_fakes import channel_message

SETTINGS = Settings(
    sender="Shop <notifications@example.com>",
    identity_arn=None,
    configuration_set=None,
    unsubscribe_url_template="https://prefs.example.com/u/{token}?src=email",
    subscriptions_table="subs",
    suppressions_table="supp",
)
ENV = {
    "SENDER_ADDRESS": "notifications@example.com",
    "EMAIL_SUBSCRIPTIONS_TABLE": "subs",
    "EMAIL_SUPPRESSIONS_TABLE": "supp",
}


def parsed(**overrides: Any) -> tuple[Any, EmailContent]:
    return parse_email_message(json.dumps({**channel_message(), **overrides}))


def test_load_settings_reads_every_variable() -> None:
    settings = load_settings(
        {
            **ENV,
            "SES_IDENTITY_ARN": " arn:aws:ses:us-east-1:123456789012:identity/example.com ",
            "SES_CONFIGURATION_SET": "cs",
            "UNSUBSCRIBE_URL_TEMPLATE": "https://x.example/{token}",
        }
    )
    assert settings == Settings(
        "notifications@example.com",
        "arn:aws:ses:us-east-1:123456789012:identity/example.com",
        "cs",
        "https://x.example/{token}",
        "subs",
        "supp",
    )
    assert load_settings(ENV).unsubscribe_url_template is None


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"SENDER_ADDRESS": " "}, "SENDER_ADDRESS is not set"),
        ({"EMAIL_SUBSCRIPTIONS_TABLE": ""}, "EMAIL_SUBSCRIPTIONS_TABLE is not set"),
        ({"UNSUBSCRIBE_URL_TEMPLATE": "https://x.example/{token} x"}, "printable ASCII without spaces"),
        ({"UNSUBSCRIBE_URL_TEMPLATE": "https://x.example/é/{token}"}, "printable ASCII"),
        ({"UNSUBSCRIBE_URL_TEMPLATE": "https://x.example/{tok}"}, "must contain"),
    ],
)
def test_load_settings_rejects_bad_values(overrides: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(problem)):
        load_settings({**ENV, **overrides})


def test_parse_email_message_returns_the_content() -> None:
    message, content = parsed()
    assert (message.notification_id, message.user_id, message.critical) == ("n-1", "u-1", False)
    assert content == EmailContent(
        "Order 1234 shipped", "Your order is on its way.", "<p>Your order is on its way.</p>"
    )
    assert parsed(content={"subject": "s", "text": "t", "html": ""})[1].html is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (json.dumps({**channel_message(), "channel": "push"}), "channel must be 'email', got 'push'"),
        (json.dumps({**channel_message(), "content": {"text": "t"}}), "content.subject is missing or empty"),
        (json.dumps({**channel_message(), "content": {"subject": "s"}}), "content.text is missing or empty"),
        (json.dumps({**channel_message(), "version": 2}), "version must be 1"),
        ("[" * 100_000, "not JSON"),
        ("", "not JSON"),
    ],
)
def test_parse_email_message_names_the_problem(body: str, problem: str) -> None:
    with pytest.raises(MalformedEventError, match=re.escape(problem)):
        parse_email_message(body)


def test_verified_recipients_skips_everything_but_verified_plausible_addresses() -> None:
    item = {
        "user_id": "u-1",
        "addresses": {
            "B@Example.com": {"status": "verified", "unsubscribe_token": "t1"},
            "b@example.com": {"status": "verified", "unsubscribe_token": "t2"},
            "pending@example.com": {"status": "pending"},
            "broken": {"status": "verified"},
            "odd@example.com": "verified",
            "notoken@example.com": {"status": "verified", "unsubscribe_token": ""},
        },
    }
    assert verified_recipients(item) == [
        Recipient("B@Example.com", "b@example.com", "t1"),
        Recipient("notoken@example.com", "notoken@example.com", None),
    ]
    assert verified_recipients(None) == verified_recipients({"addresses": ["a@example.com"]}) == []


def test_plan_splits_suppressed_from_sendable_and_reports_no_address() -> None:
    message, _ = parsed()
    a = Recipient("A@example.com", "a@example.com", "t")
    b = Recipient("b@example.com", "b@example.com", None)
    decided = plan(message, [a, b], {"b@example.com": "complaint"})
    assert decided.sends == (a,)
    [row] = decided.rows
    assert (row.status, row.target, row.reason, row.delivery_key) == (
        "suppressed_bounce",
        "b@example.com",
        "on the suppression list (complaint)",
        "u-1#email#b@example.com",
    )
    [nothing] = plan(message, [], {}).rows
    assert (nothing.status, nothing.target, nothing.delivery_key) == ("no_address", "-", "u-1#email#-")
    assert claim_key(message, a) == "n-1#u-1#email#a@example.com"


def test_build_request_for_a_non_critical_type() -> None:
    message, content = parsed(user_id="user@idp:42", notification_id="key.v1:abc")
    request = build_request(
        message, content, Recipient("Ana@example.com", "ana@example.com", "a/b c+é"), SETTINGS
    )
    assert request == {
        "FromEmailAddress": "Shop <notifications@example.com>",
        "Destination": {"ToAddresses": ["Ana@example.com"]},
        "Content": {
            "Simple": {
                "Subject": {"Data": "Order 1234 shipped", "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": "Your order is on its way.", "Charset": "UTF-8"},
                    "Html": {"Data": "<p>Your order is on its way.</p>", "Charset": "UTF-8"},
                },
                "Headers": [
                    {
                        "Name": "List-Unsubscribe",
                        "Value": "<https://prefs.example.com/u/a%2Fb%20c%2B%C3%A9?src=email>",
                    },
                    {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"},
                ],
            }
        },
        "EmailTags": [
            {"Name": "notification_id", "Value": "key_v1_abc"},
            {"Name": "notification_type", "Value": "order_shipped"},
            {"Name": "user_id", "Value": "user_idp_42"},
        ],
    }


def test_build_request_for_a_critical_type_has_no_unsubscribe_headers() -> None:
    message, content = parsed(critical=True, content={"subject": "Reset\r\nBcc: x", "text": "code"})
    request = build_request(message, content, Recipient("a@example.com", "a@example.com", "t"), SETTINGS)
    simple = request["Content"]["Simple"]
    assert "Headers" not in simple
    assert "Html" not in simple["Body"]
    assert simple["Subject"]["Data"] == "Reset Bcc: x", "control characters cannot break the subject line"


def test_no_unsubscribe_header_without_a_token_or_when_the_url_is_too_long() -> None:
    message, content = parsed()
    no_token = build_request(message, content, Recipient("a@example.com", "a@example.com", None), SETTINGS)
    huge = build_request(message, content, Recipient("a@example.com", "a@example.com", "x" * 1000), SETTINGS)
    assert "Headers" not in no_token["Content"]["Simple"] and "Headers" not in huge["Content"]["Simple"]


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "SendEmail")


@pytest.mark.parametrize("code", sorted(email_worker.PERMANENT_SES_ERRORS))
def test_permanent_codes(code: str) -> None:
    assert is_permanent(client_error(code))


@pytest.mark.parametrize(
    "code",
    ["TooManyRequestsException", "LimitExceededException", "Throttling", "InternalFailure", "AccessDenied"],
)
def test_transient_or_unknown_codes_are_retried(code: str) -> None:
    assert not is_permanent(client_error(code))
    assert not is_permanent(ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com"))


def test_unsubscribe_url_quotes_everything_in_the_token() -> None:
    assert (
        unsubscribe_url("https://x.example/{token}/{token}", "a&b=c")
        == "https://x.example/a%26b%3Dc/a%26b%3Dc"
    )


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("ana@example.com", "a***@example.com"),
        (" Bob@Example.org ", "B***@Example.org"),
        ("nope", "***"),
        ("@x.y", "***"),
    ],
)
def test_mask(address: str, masked: str) -> None:
    assert mask(address) == masked


@pytest.mark.parametrize(
    ("address", "plausible"),
    [
        ("a@example.com", True),
        ("a@b@example.com", False),
        ("a@example", False),
        ("a @example.com", False),
        ("a@.example.com", False),
        ("@example.com", False),
        ("a@example.com.", False),
        (("x" * 320) + "@example.com", False),
    ],
)
def test_is_plausible(address: str, plausible: bool) -> None:
    assert is_plausible(address) is plausible
    assert normalise(f" {address.upper()} ") == address.lower()


@examples(300)
@given(
    st.one_of(
        TEXT,
        JSON_VALUES.map(json.dumps),
        st.builds(
            lambda extra: json.dumps({**channel_message(), **extra}),
            st.dictionaries(st.sampled_from(sorted(channel_message())), JSON_VALUES, max_size=3),
        ),
    )
)
def test_any_body_is_parsed_or_rejected_with_a_malformed_event_error(body: str) -> None:
    try:
        message, content = parse_email_message(body)
    except MalformedEventError as error:
        assert str(error)
        return
    assert message.channel == "email" and content.subject.strip() and content.text


@examples(200)
@given(TEXT)
def test_tag_values_are_always_in_the_ses_tag_alphabet(value: str) -> None:
    tag = tag_value(value)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,255}", tag)
    if re.fullmatch(r"[A-Za-z0-9_-]{1,255}", value):
        assert tag == value, "a valid value is kept as it is"


def test_claims_are_bounded_by_the_invocation_remaining_time() -> None:
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 12_345

    assert channel_worker.remaining_ms(Context()) == 12_345
    assert channel_worker.remaining_ms(object()) is None, "no context method: the de-duplicator's default"
