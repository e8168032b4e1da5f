"""Push worker against moto in-process: SNS platform endpoints receive the platform's payload
(MessageStructure json), a disabled/invalid endpoint removes its token and endpoint, a user without
devices is a no_device row, duplicates publish once, throttling retries only what was not sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from conftest import FakeLambdaContext, capture_logs, examples, load_event
from hypothesis import given
from hypothesis import strategies as st

from notification_handlers.event_fields import ConfigurationError, MalformedEventError
from notification_handlers.service import push_worker
from notification_handlers.service.log import logger
from notification_handlers.service.push_worker import (
    Device,
    handler,
    is_dead_endpoint,
    parse_push_message,
    platform_message,
    remove_device,
)
from tests.unit.realtime_fakes import (
    TABLES,
    channel_message,
    device_keys,
    disable_endpoint,
    endpoint_exists,
    endpoint_messages,
    fail_sns_publish,
    failed_ids,
    platform_application,
    realtime_world,
    record_params,
    register_device,
    sqs_event,
    statuses,
)
from tests.unit.service_fakes import fail_attempts, no_sleep, record_calls
from tools.emulator.account import DEFAULT_REGION as REGION

QUEUE = "notification-service-push"
APNS_TOKEN = "a" * 64
FCM_TOKEN = "fcm-registration-token-1"
SANDBOX_TOKEN = "b" * 64


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with realtime_world(monkeypatch, "notification-service-push-worker"):
        yield


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext(function_name="notification-service-push-worker")


@pytest.fixture
def apps(world: None) -> dict[str, str]:
    return {
        "apns": platform_application("APNS", "ios"),
        "apns_sandbox": platform_application("APNS_SANDBOX", "ios-dev"),
        "fcm": platform_application("GCM", "android"),
    }


def target(platform: str, token: str) -> str:
    return Device(platform, token, f"{platform}#{token}", None, None).target


def message(notification_id: str = "n-1", user_id: str = "u-1", **content: str) -> dict[str, Any]:
    return channel_message(
        notification_id, user_id, "push", {"title": "Order 1234 shipped", "body": "On its way.", **content}
    )


def test_fixture_batch_reaches_each_device_in_its_platform_format(
    apps: dict[str, str], context: FakeLambdaContext
) -> None:
    ios = register_device("u-1", "apns", APNS_TOKEN, apps["apns"])
    android = register_device("u-1", "fcm", FCM_TOKEN, apps["fcm"])
    sandbox = register_device("u-2", "apns_sandbox", SANDBOX_TOKEN, apps["apns_sandbox"])
    other = register_device("u-3", "fcm", "someone-else", apps["fcm"])
    sns = record_params("sns")
    dynamodb = record_calls("dynamodb")

    response = handler(load_event("notification_service_push_queue_batch"), context)

    assert response == {"batchItemFailures": []}
    [ios_message] = endpoint_messages(ios)
    assert set(ios_message) == {"default", "APNS"}
    assert json.loads(ios_message["APNS"]) == {
        "aps": {
            "alert": {
                "title": "Bestellung 1234 versandt",
                "body": "Hallo Ana, Ihre Bestellung ist unterwegs.",
            },
            "badge": 1,
            "sound": "default",
        },
        "notification_id": "n-1",
    }
    [android_message] = endpoint_messages(android)
    assert set(android_message) == {"default", "GCM"}
    assert json.loads(android_message["GCM"]) == {
        "fcmV1Message": {
            "message": {
                "notification": {
                    "title": "Bestellung 1234 versandt",
                    "body": "Hallo Ana, Ihre Bestellung ist unterwegs.",
                },
                "data": {"notification_id": "n-1", "notification_type": "order_shipped"},
            }
        }
    }
    [sandbox_message] = endpoint_messages(sandbox)
    assert json.loads(sandbox_message["APNS_SANDBOX"])["aps"]["alert"]["title"] == "Order 1234 shipped"
    assert endpoint_messages(other) == []
    publishes = [params for name, params in sns if name == "Publish"]
    assert {p["MessageStructure"] for p in publishes} == {"json"}
    assert {p["TargetArn"] for p in publishes} == {ios, android, sandbox}
    assert statuses() == {
        ("n-1", f"u-1#push#{target('apns', APNS_TOKEN)}"): ("sent", None),
        ("n-1", f"u-1#push#{target('fcm', FCM_TOKEN)}"): ("sent", None),
        ("n-1", f"u-2#push#{target('apns_sandbox', SANDBOX_TOKEN)}"): ("sent", None),
    }
    assert [q["ExpressionAttributeValues"][":u"]["S"] for q in dynamodb.params("Query")] == ["u-1", "u-2"]
    assert dynamodb.count("Scan") == 0


def test_a_disabled_endpoint_removes_its_token_and_endpoint(
    apps: dict[str, str], context: FakeLambdaContext
) -> None:
    dead = register_device("u-1", "apns", APNS_TOKEN, apps["apns"])
    live = register_device("u-1", "fcm", FCM_TOKEN, apps["fcm"])
    disable_endpoint(dead)

    response = handler(sqs_event(QUEUE, message()), context)

    assert response == {"batchItemFailures": []}, "a dead token is not an error to retry"
    assert device_keys() == {("u-1", f"fcm#{FCM_TOKEN}")}
    assert not endpoint_exists(dead)
    assert len(endpoint_messages(live)) == 1
    assert statuses()[("n-1", f"u-1#push#{target('apns', APNS_TOKEN)}")] == ("failed", "endpoint_disabled")


def test_an_invalid_parameter_naming_the_token_removes_it(
    apps: dict[str, str], context: FakeLambdaContext
) -> None:
    register_device("u-1", "fcm", FCM_TOKEN, apps["fcm"])
    fail_sns_publish([("InvalidParameter", 400, "Invalid parameter: Token Reason: the token is invalid")])
    handler(sqs_event(QUEUE, message()), context)
    assert device_keys() == set()
    assert statuses()[("n-1", f"u-1#push#{target('fcm', FCM_TOKEN)}")] == ("failed", "endpoint_disabled")


def test_dead_endpoint_errors_are_recognised() -> None:
    def error(code: str, text: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": text}}, "Publish")

    assert is_dead_endpoint(error("EndpointDisabled", "Endpoint is disabled"))
    assert is_dead_endpoint(error("NotFound", "Endpoint does not exist"))
    assert is_dead_endpoint(
        error("InvalidParameter", "Invalid parameter: TargetArn Reason: No endpoint found")
    )
    assert not is_dead_endpoint(error("InvalidParameter", "Invalid parameter: Message too long"))
    assert not is_dead_endpoint(error("Throttling", "Rate exceeded"))


def test_an_invalid_message_is_failed_and_keeps_the_token(
    apps: dict[str, str], context: FakeLambdaContext
) -> None:
    register_device("u-1", "fcm", FCM_TOKEN, apps["fcm"])
    fail_sns_publish([("InvalidParameter", 400, "Invalid parameter: Message Reason: too long")])
    assert handler(sqs_event(QUEUE, message()), context) == {"batchItemFailures": []}
    assert device_keys() == {("u-1", f"fcm#{FCM_TOKEN}")}
    assert statuses()[("n-1", f"u-1#push#{target('fcm', FCM_TOKEN)}")] == ("failed", "InvalidParameter")


def test_a_token_registered_again_meanwhile_is_kept(apps: dict[str, str]) -> None:
    endpoint = register_device("u-1", "apns", APNS_TOKEN, apps["apns"])
    read_earlier = Device("apns", APNS_TOKEN, f"apns#{APNS_TOKEN}", endpoint, "2026-11-24T08:00:00Z")
    batch = push_worker.Batch(
        TABLES["DEVICE_TOKENS_TABLE"], TABLES["DEVICE_OWNERS_TABLE"], TABLES["LIMITS_TABLE"]
    )
    assert remove_device(batch, "u-1", read_earlier) is False
    assert device_keys() == {("u-1", f"apns#{APNS_TOKEN}")}
    assert endpoint_exists(endpoint)


def test_a_user_without_devices_gets_a_no_device_row(
    apps: dict[str, str], context: FakeLambdaContext
) -> None:
    sns = record_params("sns")
    assert handler(sqs_event(QUEUE, message(user_id="u-9")), context) == {"batchItemFailures": []}
    assert statuses() == {("n-1", "u-9#push#-"): ("no_device", None)}
    assert sns == []


def test_a_duplicate_message_publishes_once(apps: dict[str, str], context: FakeLambdaContext) -> None:
    endpoint = register_device("u-1", "apns", APNS_TOKEN, apps["apns"])
    handler(sqs_event(QUEUE, message(), message()), context)
    handler(sqs_event(QUEUE, message()), context)
    assert len(endpoint_messages(endpoint)) == 1


def test_throttling_retries_the_record_without_publishing_twice(
    apps: dict[str, str], context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_device = register_device("u-1", "apns", APNS_TOKEN, apps["apns"])
    second_device = register_device("u-1", "fcm", FCM_TOKEN, apps["fcm"])
    hit = fail_sns_publish([("Throttling", 400, "Rate exceeded")] * 3, target_arn=second_device)
    with no_sleep(monkeypatch):
        first = handler(sqs_event(QUEUE, message()), context)
        second = handler(sqs_event(QUEUE, message()), context)

    assert failed_ids(first) == ["m-0"]
    assert failed_ids(second) == []
    assert len(endpoint_messages(first_device)) == 1
    assert len(endpoint_messages(second_device)) == 1
    assert hit == [second_device] * 3, "every SDK attempt of the first invocation was throttled"


def test_delivery_log_rows_lost_when_the_final_write_fails_are_written_by_the_retry(
    apps: dict[str, str], context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry found the claims complete, published nothing and wrote no row."""
    live = register_device("u-1", "fcm", FCM_TOKEN, apps["fcm"])
    dead = register_device("u-1", "apns", APNS_TOKEN, apps["apns"])
    disable_endpoint(dead)
    batch = sqs_event(QUEUE, message(), message(user_id="u-9"))
    with no_sleep(monkeypatch):
        fail_attempts("dynamodb", "BatchWriteItem", [("InternalServerError", 500)] * 3)
        with pytest.raises(ClientError, match="InternalServerError"):
            handler(batch, context)
    assert statuses() == {} and len(endpoint_messages(live)) == 1

    assert handler(batch, context) == {"batchItemFailures": []}  # SQS redelivers the whole batch

    assert len(endpoint_messages(live)) == 1, "nothing is published twice"
    assert statuses() == {
        ("n-1", f"u-1#push#{target('fcm', FCM_TOKEN)}"): ("sent", None),
        ("n-1", f"u-1#push#{target('apns', APNS_TOKEN)}"): ("failed", "endpoint_disabled"),
        ("n-1", "u-9#push#-"): ("no_device", None),
    }


def test_a_payload_over_the_platform_limit_is_failed_without_a_call(
    apps: dict[str, str], context: FakeLambdaContext
) -> None:
    endpoint = register_device("u-1", "apns", APNS_TOKEN, apps["apns"])
    sns = record_params("sns")
    handler(sqs_event(QUEUE, message(body="x" * 5000)), context)
    assert sns == []
    assert endpoint_messages(endpoint) == []
    assert statuses()[("n-1", f"u-1#push#{target('apns', APNS_TOKEN)}")] == ("failed", "payload_too_large")


def test_devices_are_read_page_by_page(apps: dict[str, str], context: FakeLambdaContext) -> None:
    endpoints = [register_device("u-1", "fcm", f"token-{n}", apps["fcm"]) for n in range(5)]
    dynamodb = record_calls("dynamodb")

    def small_pages(params: dict[str, Any], **_: Any) -> None:
        params["Limit"] = 2

    push_worker.aws_clients.client("dynamodb").meta.events.register(
        "provide-client-params.dynamodb.Query", small_pages
    )
    handler(sqs_event(QUEUE, message()), context)
    assert dynamodb.count("Query") == 3
    assert all(len(endpoint_messages(e)) == 1 for e in endpoints)


def test_logs_never_contain_tokens_titles_or_bodies(apps: dict[str, str], context: FakeLambdaContext) -> None:
    dead = register_device("u-1", "apns", APNS_TOKEN, apps["apns"])
    register_device("u-1", "fcm", FCM_TOKEN, apps["fcm"])
    disable_endpoint(dead)
    with capture_logs(logger) as logs:
        handler(sqs_event(QUEUE, message(title="Secret title", body="Secret body")), context)
    text = json.dumps(logs())
    assert APNS_TOKEN not in text and FCM_TOKEN not in text
    assert "Secret title" not in text and "Secret body" not in text
    assert target("apns", APNS_TOKEN) in text


def test_a_malformed_body_fails_only_its_record(apps: dict[str, str], context: FakeLambdaContext) -> None:
    endpoint = register_device("u-1", "apns", APNS_TOKEN, apps["apns"])
    bad = message()
    bad["content"] = {"body": "no title"}
    response = handler(sqs_event(QUEUE, bad, message()), context)
    assert failed_ids(response) == ["m-0"]
    assert len(endpoint_messages(endpoint)) == 1


def test_configuration_is_required(
    world: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEVICE_TOKENS_TABLE")
    with pytest.raises(ConfigurationError, match="DEVICE_TOKENS_TABLE"):
        handler(sqs_event(QUEUE, message()), context)


def test_a_failed_device_query_fails_the_batch(
    apps: dict[str, str], context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = register_device("u-1", "apns", APNS_TOKEN, apps["apns"])
    fail_attempts("dynamodb", "Query", [("InternalServerError", 500)] * 3)
    with no_sleep(monkeypatch), pytest.raises(ClientError):
        handler(sqs_event(QUEUE, message()), context)
    assert endpoint_messages(endpoint) == []


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ({"body": "b"}, "content.title is missing or empty"),
        ({"title": " ", "body": "b"}, "content.title is missing or empty"),
        ({"title": "t"}, "content.body is missing or empty"),
    ],
)
def test_parse_names_the_bad_field(content: dict[str, str], problem: str) -> None:
    with pytest.raises(MalformedEventError, match=problem):
        parse_push_message(json.dumps(channel_message("n-1", "u-1", "push", content)))


@examples(80)
@given(
    platform=st.sampled_from(["apns", "apns_sandbox", "fcm"]),
    title=st.text(min_size=1, max_size=50).filter(str.strip),
    body=st.text(min_size=1, max_size=200),
)
def test_platform_message_round_trips_title_and_body(platform: str, title: str, body: str) -> None:
    parsed, content = parse_push_message(json.dumps(message(title=title, body=body)))
    sns_message, size = platform_message(platform, parsed, content)
    document = json.loads(sns_message)
    key = push_worker.SNS_MESSAGE_KEYS[platform]
    assert set(document) == {"default", key}
    assert document["default"] == body
    payload = json.loads(document[key])
    assert size == len(document[key].encode())
    alert = (
        payload["aps"]["alert"] if platform != "fcm" else payload["fcmV1Message"]["message"]["notification"]
    )
    assert alert == {"title": title, "body": body}


def test_moto_publishes_to_a_disabled_endpoint_as_endpoint_disabled(apps: dict[str, str]) -> None:
    """The emulator behaviour the disabled-endpoint test relies on."""
    endpoint = register_device("u-1", "apns", APNS_TOKEN, apps["apns"])
    disable_endpoint(endpoint)
    with pytest.raises(ClientError, match="EndpointDisabled"):
        boto3.client("sns", region_name=REGION).publish(TargetArn=endpoint, Message="x")
