"""Property tests of the registration API's validators and body parsing (hypothesis, fixed CI profile),
and of the handler on randomly broken real events: every input gets a 2xx or a 4xx JSON answer naming
the problem, never a crash or a 5xx."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from notification_handlers.service import contract, registration_api
from notification_handlers.service.catalog import parse_catalog
from notification_handlers.service.email_address import is_plausible
from notification_handlers.service.registration import http_api
from notification_handlers.service.registration import request as api_request
from notification_handlers.service.registration.http_api import ApiError
from tests.unit.conftest import JSON_VALUES, TEXT, examples, mutated
from tests.unit.registration_api_fakes import (
    ORDER_SHIPPED,
    SECURITY_ALERT,
    World,
    api_world,
    fixture_event,
)

ROUTE_FIXTURES = (
    "put_device",
    "delete_device",
    "put_email_subscription",
    "verify_email_subscription",
    "delete_email_subscription",
    "get_preferences",
    "put_preferences",
    "get_deliveries",
    "no_authorizer",
)
CATALOG = parse_catalog(
    [
        {"notification_type": "order_shipped", "definition": json.dumps(ORDER_SHIPPED)},
        {"notification_type": "security_alert", "definition": json.dumps(SECURITY_ALERT)},
    ]
)


def test_patterns_are_the_event_contracts() -> None:
    detail = contract.schema()["properties"]["detail"]["properties"]
    assert f"^{api_request.USER_ID_PATTERN.pattern}(?![\\s\\S])" == detail["recipients"]["items"]["pattern"]
    assert api_request.NOTIFICATION_ID_PATTERN.pattern == contract.NOTIFICATION_ID_PATTERN.pattern


@examples(300)
@given(
    body=st.one_of(st.none(), TEXT, st.binary(max_size=200).map(lambda b: base64.b64encode(b).decode())),
    b64=st.booleans(),
)
def test_body_parsing_answers_an_object_or_400(body: str | None, b64: bool) -> None:
    try:
        document = http_api.parse_json_object(http_api.body_text(body, b64))
    except ApiError as error:
        assert error.status == 400
        assert error.code in {"malformed_body", "body_too_large", "invalid_body"}
        return
    assert isinstance(document, dict)


@examples(200)
@given(document=st.dictionaries(TEXT, JSON_VALUES, max_size=5), b64=st.booleans())
def test_any_json_object_round_trips(document: dict[str, Any], b64: bool) -> None:
    text = json.dumps(document)
    assume(len(text.encode()) <= http_api.MAX_BODY_BYTES)
    body = base64.b64encode(text.encode()).decode() if b64 else text
    assert http_api.parse_json_object(http_api.body_text(body, b64)) == document


@examples(300)
@given(
    platform=st.one_of(st.sampled_from(api_request.PLATFORMS), TEXT),
    token=st.one_of(
        TEXT,
        st.text("0123456789abcdefABCDEF", min_size=60, max_size=68),
        st.from_regex(r"[A-Za-z0-9_:-]{1,1100}", fullmatch=True),
    ),
)
def test_device_validation(platform: str, token: str) -> None:
    try:
        device = api_request.parse_device(platform, token)
    except ApiError as error:
        assert (error.status, error.code) in {(422, "invalid_platform"), (422, "invalid_token")}
        assert len(error.message) < 120, "the answer names the rule, it does not echo the token"
        return
    assert device.platform in api_request.PLATFORMS
    if device.platform == "fcm":
        assert device.token == token and re.fullmatch(r"[A-Za-z0-9_:-]+", token)
    else:
        assert device.token == token.lower() and re.fullmatch(r"[0-9a-f]{64}", device.token)
    assert len(device.device_key.encode()) <= 1024


@examples(300)
@given(address=st.one_of(TEXT, st.emails().map(lambda a: a.upper() if len(a) % 2 else a)))
def test_address_validation(address: str) -> None:
    try:
        parsed = api_request.parse_address(address)
    except ApiError as error:
        assert (error.status, error.code) == (422, "invalid_address")
        return
    assert parsed == parsed.strip().lower()
    assert is_plausible(parsed) and len(parsed) <= 254
    assert api_request.parse_address(parsed) == parsed


@examples(300)
@given(claims=st.one_of(JSON_VALUES, st.fixed_dictionaries({"sub": st.one_of(TEXT, JSON_VALUES)})))
def test_only_a_contract_user_id_passes_as_sub(claims: Any) -> None:
    event = {"requestContext": {"authorizer": {"jwt": {"claims": claims}}}}
    try:
        user_id = api_request.user_id_from(event)
    except ApiError as error:
        assert (error.status, error.code) == (403, "forbidden")
        return
    assert user_id == claims["sub"]
    assert "#" not in user_id and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@:+-]{0,127}", user_id)


OPT_OUT_KEYS = st.one_of(st.sampled_from(["order_shipped", "security_alert", "nope"]), TEXT)
CHANNELS = st.lists(st.one_of(st.sampled_from(["email", "push", "websocket", "sms"]), TEXT), max_size=4)


@examples(300)
@given(
    document=st.one_of(
        st.dictionaries(TEXT, JSON_VALUES, max_size=3),
        st.fixed_dictionaries(
            {},
            optional={
                "muted": st.one_of(st.booleans(), JSON_VALUES),
                "opt_outs": st.one_of(
                    st.dictionaries(OPT_OUT_KEYS, st.one_of(CHANNELS, JSON_VALUES), max_size=3), JSON_VALUES
                ),
            },
        ),
    )
)
def test_preferences_validation(document: dict[str, Any]) -> None:
    try:
        parsed = api_request.parse_preferences(document, CATALOG)
    except ApiError as error:
        assert error.status in (400, 422)
        return
    assert isinstance(parsed["muted"], bool)
    for name, channels in parsed["opt_outs"].items():
        definition = CATALOG.types[name]
        assert not definition.critical
        assert channels == sorted(set(channels)) and set(channels) <= set(definition.channels) and channels


@examples(200)
@given(user=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._@:+-]{0,20}", fullmatch=True), rest=TEXT, token=TEXT)
def test_page_tokens(user: str, rest: str, token: str) -> None:
    key = f"{user}#{rest}"[:2048]
    encoded = api_request.encode_page_token({"notification_id": {"S": "n"}, "delivery_key": {"S": key}})
    assert api_request.decode_page_token(encoded, user) == key
    try:
        decoded = api_request.decode_page_token(token, user)
    except ApiError as error:
        assert (error.status, error.code) == (400, "invalid_query")
        return
    assert decoded.startswith(f"{user}#")


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with api_world(monkeypatch) as created:
        yield created


def _skip(path: tuple[str, ...]) -> bool:
    return path[:1] == ("headers",) or path[-1:] in {"timeEpoch", "time", "domainPrefix"}


@examples(120)
@given(data=st.data(), name=st.sampled_from(ROUTE_FIXTURES))
def test_broken_events_get_a_json_answer_never_a_5xx(world: World, data: st.DataObject, name: str) -> None:
    event, path = data.draw(mutated(fixture_event(name), _skip))

    response = registration_api.handler(event, None)

    assert response["statusCode"] < 500, (path, response)
    if response["body"]:
        body = json.loads(response["body"])
        if response["statusCode"] >= 400:
            assert set(body["error"]) == {"code", "message"}
