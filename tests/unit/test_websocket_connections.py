"""WebSocket $connect / $disconnect / $default against moto: the user id comes only from the authorizer's
principalId (or, when IAM was chosen explicitly, the Cognito identity id; never the query string or an ARN)
and must be a valid user id; connections are stored with their TTL and deleted on disconnect."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import FakeLambdaContext, capture_logs, load_event
from hypothesis import given
from hypothesis import strategies as st

from notification_handlers.event_fields import ConfigurationError, MalformedEventError
from notification_handlers.service.log import logger
from notification_handlers.service.websocket_connections import handler, user_id_from_context
from tests.unit.realtime_fakes import TABLES, connect, connection_ids, realtime_world
from tests.unit.service_fakes import fail_attempts, no_sleep, scan

CONNECTED_AT = 1795514400  # the fixtures' requestContext.connectedAt, in seconds


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with realtime_world(monkeypatch, "notification-service-websocket-connections"):
        yield


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext(function_name="notification-service-websocket-connections")


def items() -> dict[str, dict[str, Any]]:
    return {str(item["connection_id"]): item for item in scan(TABLES["CONNECTIONS_TABLE"])}


def test_connect_with_a_lambda_authorizer_stores_the_principal_not_the_query_string(
    world: None, context: FakeLambdaContext
) -> None:
    event = load_event("notification_service_websocket_connect_lambda_authorizer")
    assert event["queryStringParameters"] == {"user_id": "mallory"}, "the fixture tries to impersonate"

    assert handler(event, context) == {"statusCode": 200}

    assert items() == {
        "L0SM9cOFvHcCIhw=": {
            "connection_id": "L0SM9cOFvHcCIhw=",
            "user_id": "u-1",
            "connected_at": "2026-11-24T10:00:00.000Z",
            "expires_at": CONNECTED_AT + 7200,
        }
    }


def test_connect_with_iam_uses_the_cognito_identity_only_when_iam_was_chosen(
    world: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = load_event("notification_service_websocket_connect_iam")
    refused = handler(event, context)  # the default: only an authorizer's principalId is a user id
    assert refused["statusCode"] == 403 and connection_ids() == set()

    monkeypatch.setenv("USER_ID_SOURCE", "iam")
    assert handler(event, context) == {"statusCode": 200}
    assert items()["L0SNAdG8vHcCJbQ="]["user_id"] == "us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


def test_connect_with_iam_never_falls_back_to_the_user_arn(
    world: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER_ID_SOURCE", "iam")
    event = load_event("notification_service_websocket_connect_iam")
    event["requestContext"]["identity"]["cognitoIdentityId"] = None  # the ARN's session name is the caller's
    assert handler(event, context)["statusCode"] == 403
    assert connection_ids() == set()


# --- finding 5: one identity across channels -----------------------------------------------------------


@pytest.mark.parametrize(
    "principal",
    [
        "arn:aws:sts::123456789012:assumed-role/web-identity/victim",  # "/" and a caller-chosen session
        "u-1#websocket",  # "#" would widen the delivery log's begins_with to another user's rows
        "-leading-dash",
        "x" * 129,
        "Ann Example",
    ],
)
def test_websocket_identity_that_is_not_a_valid_user_id_is_refused_and_stores_nothing(
    world: None, context: FakeLambdaContext, principal: str
) -> None:
    event = load_event("notification_service_websocket_connect_lambda_authorizer")
    event["requestContext"]["authorizer"]["principalId"] = principal
    answer = handler(event, context)
    assert answer["statusCode"] == 403 and '"forbidden"' in answer["body"]
    assert connection_ids() == set()


def test_websocket_identity_source_must_be_authorizer_or_iam(
    world: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER_ID_SOURCE", "query")
    with pytest.raises(ConfigurationError, match="USER_ID_SOURCE"):
        handler(load_event("notification_service_websocket_connect_lambda_authorizer"), context)


def test_connect_answers_the_offered_subprotocol_never_the_token(
    world: None, context: FakeLambdaContext
) -> None:
    event = load_event("notification_service_websocket_connect_lambda_authorizer")
    event["headers"]["Sec-WebSocket-Protocol"] = (
        "notifications, eyJhbGciOiJSUzI1NiJ9.e30.c2ln"  # pragma: allowlist secret
    )
    assert handler(event, context) == {
        "statusCode": 200,
        "headers": {"Sec-WebSocket-Protocol": "notifications"},
    }


def test_connect_without_an_authenticated_user_is_refused_and_stores_nothing(
    world: None, context: FakeLambdaContext
) -> None:
    event = load_event("notification_service_websocket_connect_lambda_authorizer")
    del event["requestContext"]["authorizer"]  # anonymous: only the query string names a user
    event["headers"]["user_id"] = "mallory"

    answer = handler(event, context)

    assert answer["statusCode"] == 403
    assert '"forbidden"' in answer["body"]
    assert connection_ids() == set()


def test_connection_ttl_is_configurable(
    world: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNECTION_TTL_SECONDS", "600")
    handler(load_event("notification_service_websocket_connect_lambda_authorizer"), context)
    assert items()["L0SM9cOFvHcCIhw="]["expires_at"] == CONNECTED_AT + 600


def test_disconnect_deletes_only_that_connection(world: None, context: FakeLambdaContext) -> None:
    connect("L0SM9cOFvHcCIhw=", "u-1")
    connect("other-tab", "u-1")

    assert handler(load_event("notification_service_websocket_disconnect"), context) == {"statusCode": 200}

    assert connection_ids() == {"other-tab"}


def test_default_route_answers_400_json_and_stores_nothing(world: None, context: FakeLambdaContext) -> None:
    with capture_logs(logger) as logs:
        answer = handler(load_event("notification_service_websocket_default"), context)
    assert answer["statusCode"] == 400
    assert answer["headers"] == {"Content-Type": "application/json"}
    assert '"this API only pushes notifications' in answer["body"]
    assert connection_ids() == set()
    assert "sendmessage" not in str(logs()), "the client's message is never logged"


def test_a_storage_failure_refuses_the_connection(
    world: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_attempts("dynamodb", "PutItem", [("InternalServerError", 500)] * 3)
    with no_sleep(monkeypatch), pytest.raises(Exception, match="InternalServerError"):
        handler(load_event("notification_service_websocket_connect_lambda_authorizer"), context)
    assert connection_ids() == set()


def test_malformed_events_and_configuration_name_the_problem(
    world: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(MalformedEventError, match=r"requestContext is missing"):
        handler({"body": "x"}, context)
    event = load_event("notification_service_websocket_disconnect")
    del event["requestContext"]["connectionId"]
    with pytest.raises(MalformedEventError, match=r"requestContext.connectionId is missing"):
        handler(event, context)
    monkeypatch.delenv("CONNECTIONS_TABLE")
    with pytest.raises(ConfigurationError, match="CONNECTIONS_TABLE"):
        handler(load_event("notification_service_websocket_disconnect"), context)


def test_logs_never_carry_the_user_id(world: None, context: FakeLambdaContext) -> None:
    with capture_logs(logger) as logs:
        handler(load_event("notification_service_websocket_connect_lambda_authorizer"), context)
    lines = logs()
    assert any(line.get("user_id_source") == "authorizer.principalId" for line in lines)
    assert "u-1" not in str(lines)


_text = st.one_of(st.none(), st.just(""), st.just("  "), st.text(min_size=1, max_size=20))


@given(
    principal=_text,
    cognito=_text,
    user_arn=_text,
    source=st.sampled_from(["authorizer", "iam"]),
    query=st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3),
)
def test_user_id_comes_from_the_chosen_source_only(
    principal: str | None, cognito: str | None, user_arn: str | None, source: str, query: dict[str, str]
) -> None:
    request_context: dict[str, Any] = {
        "authorizer": {"principalId": principal},
        "identity": {"cognitoIdentityId": cognito, "userArn": user_arn},
        "queryStringParameters": query,  # never a source, wherever it appears
    }
    value = principal if source == "authorizer" else cognito  # never a fallback, never the ARN
    expected = value.strip() if value is not None and value.strip() else None
    caller = user_id_from_context(request_context, source)
    assert (caller.user_id if caller else None) == expected
