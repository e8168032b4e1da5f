"""Registration API under AWS faults (moto in-process; faults injected into the handler's real botocore
clients, so standard-mode retries run): transient errors after the SDK's retries are 503 JSON with
Retry-After, permanent ones 500 JSON, races on conditional writes 409/200; a body never carries a
traceback or an AWS error message, and a retry after the fault completes the request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import NoCredentialsError, ReadTimeoutError

from notification_handlers import aws_clients
from notification_handlers.service import catalog, registration_api, verification
from tests.unit.registration_api_fakes import (
    APNS_TOKEN,
    FCM_TOKEN,
    SUB,
    Answer,
    World,
    api_world,
    delete_device,
    deliveries,
    endpoints,
    get_preferences,
    last_code,
    mail,
    put_device,
    put_preferences,
    subscribe,
    subscription,
    verify,
)
from tests.unit.service_fakes import _Body, fail_attempts, no_sleep, record_calls, scan


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with api_world(monkeypatch) as created, no_sleep(monkeypatch):
        yield created


def assert_clean(answer: Answer, status: int, code: str) -> None:
    assert (answer.status, answer.error_code) == (status, code)
    text = json.dumps(answer.body)
    for leak in ("injected", "Traceback", "arn:aws", "Exception", "@example.com"):
        assert leak not in text


def assert_unavailable(answer: Answer) -> None:
    assert_clean(answer, 503, "service_unavailable")
    assert answer.headers["retry-after"] == "1"


def fail_sns(operation: str, faults: list[tuple[str, int, str]]) -> list[int]:
    """Answer the next attempts of an SNS (query protocol) ``operation`` with XML errors (code, status,
    message); returns a list that counts the attempts answered."""
    queue = list(faults)
    answered: list[int] = []

    def hook(request: Any, **_: Any) -> AWSResponse | None:
        if not queue:
            return None
        code, status, message = queue.pop(0)
        answered.append(status)
        url = request.url
        request.url = "https://fault-injected.invalid/"
        xml = (
            '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error>'
            f"<Type>{'Receiver' if status >= 500 else 'Sender'}</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
        )
        return AWSResponse(url, status, {"Content-Type": "text/xml"}, _Body(xml.encode()))

    aws_clients.client("sns").meta.events.register_first(f"before-send.sns.{operation}", hook)
    return answered


def time_out(service: str, operation: str, times: int) -> None:
    left = [times]

    def hook(request: Any, **_: Any) -> None:
        if left[0] > 0:
            left[0] -= 1
            raise ReadTimeoutError(endpoint_url=request.url)

    aws_clients.client(service).meta.events.register_first(f"before-send.{service}.{operation}", hook)


THROTTLED_3 = [("ProvisionedThroughputExceededException", 400)] * 3


def test_dynamodb_throttled_through_the_retries_is_503_and_nothing_is_created(world: World) -> None:
    calls = record_calls("dynamodb")
    fail_attempts("dynamodb", "GetItem", THROTTLED_3)

    assert_unavailable(put_device("fcm", FCM_TOKEN))

    assert calls.count("GetItem") == 3, "the SDK retried twice"
    assert endpoints(world.applications["fcm"]) == []
    assert put_device("fcm", FCM_TOKEN).status == 200, "the client's retry succeeds"


def test_missing_credentials_are_500_not_retry_later(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A botocore error no retry cures (no credentials, invalid parameters) is a fault, not a 503."""

    def no_credentials(**_: object) -> None:
        raise NoCredentialsError()

    monkeypatch.setattr(aws_clients.client("dynamodb"), "get_item", no_credentials)
    assert_clean(get_preferences(), 500, "internal_error")


def test_one_throttle_is_absorbed_by_the_sdk(world: World) -> None:
    fail_attempts("dynamodb", "GetItem", THROTTLED_3[:1])
    assert get_preferences().status == 200


def test_dynamodb_access_denied_is_500_and_a_retry_reuses_the_endpoint(world: World) -> None:
    fail_attempts("dynamodb", "TransactWriteItems", [("AccessDeniedException", 400)])

    assert_clean(put_device("fcm", FCM_TOKEN), 500, "internal_error")

    [endpoint] = endpoints(world.applications["fcm"])
    retry = put_device("fcm", FCM_TOKEN)
    assert retry.status == 200
    assert retry.body["endpoint_arn"] == endpoint["EndpointArn"]
    assert len(endpoints(world.applications["fcm"])) == 1


def test_sns_5xx_through_the_retries_is_503_and_no_item_is_written(world: World) -> None:
    answered = fail_sns("CreatePlatformEndpoint", [("InternalError", 500, "injected")] * 3)

    assert_unavailable(put_device("apns", APNS_TOKEN))

    assert answered == [500, 500, 500]
    assert scan("device-tokens") == []


def test_sns_refusing_the_token_is_422(world: World) -> None:
    fail_sns(
        "CreatePlatformEndpoint", [("InvalidParameter", 400, "Invalid parameter: Token Reason: injected")]
    )
    assert_clean(put_device("fcm", FCM_TOKEN), 422, "invalid_token")
    assert scan("device-tokens") == []


def test_delete_endpoint_throttled_keeps_the_item_for_the_retry(world: World) -> None:
    put_device("fcm", FCM_TOKEN)
    fail_sns("DeleteEndpoint", [("Throttling", 400, "injected")] * 3)

    assert_unavailable(delete_device("fcm", FCM_TOKEN))
    assert len(scan("device-tokens")) == 1, "kept: the retry must find the endpoint to delete"

    assert delete_device("fcm", FCM_TOKEN).status == 204
    assert scan("device-tokens") == [] and endpoints(world.applications["fcm"]) == []


def test_delete_endpoint_already_gone_still_removes_the_item(world: World) -> None:
    put_device("fcm", FCM_TOKEN)
    fail_sns("DeleteEndpoint", [("NotFound", 404, "injected")])
    assert delete_device("fcm", FCM_TOKEN).status == 204
    assert scan("device-tokens") == []


def test_ses_throttled_is_503_and_a_later_put_mails_a_working_code(world: World) -> None:
    fail_attempts("sesv2", "SendEmail", [("TooManyRequestsException", 429)] * 3)

    assert_unavailable(subscribe("ana@example.com"))
    assert mail() == []

    world.advance(seconds=60)
    assert subscribe("ana@example.com").status == 200
    assert verify("ana@example.com", last_code("ana@example.com")).status == 200


def test_ses_permanent_error_is_500(world: World) -> None:
    fail_attempts("sesv2", "SendEmail", [("MessageRejected", 400)])
    assert_clean(subscribe("ana@example.com"), 500, "internal_error")


def test_timeouts_through_the_retries_are_503(world: World) -> None:
    time_out("dynamodb", "Query", 3)
    assert_unavailable(deliveries("0" * 64))


def test_concurrent_change_during_verify_is_409_and_uses_no_attempt(world: World) -> None:
    subscribe("ana@example.com")
    fail_attempts(
        "dynamodb", "UpdateItem", [("ConditionalCheckFailedException", 400)], table="email-subscriptions"
    )

    assert_clean(verify("ana@example.com", last_code("ana@example.com")), 409, "conflict")

    entry = subscription()["addresses"]["ana@example.com"]  # type: ignore[index]
    assert entry["status"] == "pending" and entry["verify_attempts"] == 0
    assert verify("ana@example.com", last_code("ana@example.com")).status == 200


def test_address_verified_concurrently_is_not_reset_to_pending(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe("bob@example.org")  # the item exists: the next PUT is one conditional UpdateItem
    # ... after the limit counters, which are not under test here (test_verification_limits)
    monkeypatch.setattr(verification, "consume_send", lambda *_: None)
    fail_attempts(
        "dynamodb", "UpdateItem", [("ConditionalCheckFailedException", 400)], table="email-subscriptions"
    )

    answer = subscribe("ana@example.com")

    assert answer.status == 200 and answer.body == {"address": "ana@example.com", "status": "verified"}
    assert [to for to, _, _ in mail()] == [["bob@example.org"]], "no code mailed"


def test_unexpected_exception_is_500_without_details(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode() -> None:
        raise RuntimeError("secret internals at 0xdeadbeef")

    monkeypatch.setattr(catalog, "load", explode)

    answer = put_preferences({"muted": True})

    assert_clean(answer, 500, "internal_error")
    assert "deadbeef" not in json.dumps(answer.body)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEVICE_TOKENS_TABLE", None),
        ("PLATFORM_APPLICATION_ARNS", "not json"),
        ("PLATFORM_APPLICATION_ARNS", "[]"),
    ],
)
def test_configuration_errors_are_500(
    world: World, monkeypatch: pytest.MonkeyPatch, variable: str, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv(variable)
    else:
        monkeypatch.setenv(variable, value)
    assert_clean(put_device("fcm", FCM_TOKEN), 500, "internal_error")


def test_handler_survives_an_event_that_is_not_an_object(world: World) -> None:
    response = registration_api.handler([], None)  # type: ignore[arg-type]
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["code"] == "malformed_request"


def test_sub_is_the_only_identity_in_the_tables(world: World) -> None:
    put_device("fcm", FCM_TOKEN)
    subscribe("ana@example.com")
    put_preferences({"muted": True})
    owners = {
        item["user_id"]
        for table in ("device-tokens", "email-subscriptions", "preferences")
        for item in scan(table)
    }
    assert owners == {SUB}
