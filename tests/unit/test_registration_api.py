"""Registration API end to end against moto in-process (tables, SNS platform endpoints, SES v2), driven
with the real HTTP API (payload 2.0, JWT authorizer) event fixtures: every route, authorisation, the
validation answers, idempotency, the email verification state machine and the delivery-log isolation."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import time
from typing import Any

import boto3
import pytest

from notification_handlers.service import (
    contract,
    dynamodb_batch,
    email_worker,
    preferences,
    quiet_hours,
    registration_api,
)
from notification_handlers.service.catalog import parse_catalog
from notification_handlers.service.log import logger
from notification_handlers.service.registration import email_subscriptions
from tests.unit.conftest import capture_logs
from tests.unit.registration_api_fakes import (
    APNS_TOKEN,
    FCM_TOKEN,
    ORDER_SHIPPED,
    SUB,
    World,
    api_world,
    call,
    delete_device,
    deliveries,
    endpoints,
    fixture_event,
    get_preferences,
    last_code,
    mail,
    put_device,
    put_preferences,
    request,
    subscribe,
    subscription,
    unsubscribe,
    verify,
)
from tests.unit.service_fakes import record_calls, scan
from tools.emulator.account import DEFAULT_REGION as REGION

OTHER = "u-2"
# Notification ids as the router makes them (contract.notification_id): 64 hex digits.
FIXTURE_ID = contract.notification_id("com.example.shop", "order_shipped", "order-A-1001-shipped")
N1 = contract.notification_id("com.example.shop", "order_shipped", "n-1")
N2 = contract.notification_id("com.example.shop", "order_shipped", "n-2")


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with api_world(monkeypatch) as created:
        yield created


def devices() -> dict[tuple[str, str], dict[str, Any]]:
    return {(item["user_id"], item["device_key"]): item for item in scan("device-tokens")}


def wrong(code: str) -> str:
    return "0000-0000" if code != "0000-0000" else "1111-1111"


def log_rows(*rows: tuple[str, str, str, str]) -> None:
    """Delivery-log rows (notification_id, user_id, channel, target) as the workers write them."""
    dynamodb_batch.batch_write(
        "delivery-log",
        [
            {
                "notification_id": notification_id,
                "delivery_key": f"{user}#{channel}#{target}",
                "user_id": user,
                "channel": channel,
                "target": target,
                "status": "sent",
                "notification_type": "order_shipped",
                "updated_at": "2026-11-24T10:00:00Z",
                "expires_at": 1803290400,
            }
            for notification_id, user, channel, target in rows
        ],
    )


# --- the fixtures: one real event per route shape ---------------------------------------------------


def test_fixture_put_device_registers_an_fcm_endpoint(world: World) -> None:
    answer = call(fixture_event("put_device"))

    assert answer.status == 200
    [endpoint] = endpoints(world.applications["fcm"])
    assert endpoint["Attributes"]["Token"] == FCM_TOKEN
    assert endpoint["Attributes"]["Enabled"] == "true"
    assert answer.body == {
        "user_id": SUB,
        "device_key": f"fcm#{FCM_TOKEN}",
        "platform": "fcm",
        "token": FCM_TOKEN,
        "endpoint_arn": endpoint["EndpointArn"],
        "updated_at": "2026-11-24T10:00:00Z",
    }
    assert devices() == {(SUB, f"fcm#{FCM_TOKEN}"): answer.body}
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["cache-control"] == "no-store"


def test_fixture_delete_device_removes_item_and_endpoint(world: World) -> None:
    assert put_device("apns", APNS_TOKEN).status == 200
    assert len(endpoints(world.applications["apns"])) == 1

    response = registration_api.handler(fixture_event("delete_device"), None)

    assert response["statusCode"] == 204
    assert response["body"] == ""
    assert "content-type" not in response["headers"]
    assert devices() == {}
    assert endpoints(world.applications["apns"]) == []


def test_fixture_put_email_subscription_mails_a_code_to_the_normalised_address(world: World) -> None:
    answer = call(fixture_event("put_email_subscription"))  # path: Ana.Lopez@Example.com

    assert answer.status == 200
    assert answer.body == {
        "address": "ana.lopez@example.com",
        "status": "pending",
        "code_expires_at": "2026-11-25T10:00:00Z",
    }
    [(to, subject, body)] = mail()
    assert to == ["ana.lopez@example.com"]
    assert subject == "Your verification code"
    code = last_code("ana.lopez@example.com")
    assert f"Your verification code is {code}." in body
    entry = subscription()["addresses"]["ana.lopez@example.com"]  # type: ignore[index]
    assert entry["status"] == "pending"
    canonical = code.replace("-", "")  # the hash is of the canonical code, salted with user and address
    assert (
        entry["code_hash"]
        == hashlib.sha256(f"{SUB}\nana.lopez@example.com\n{canonical}".encode()).hexdigest()
    )
    assert canonical not in json.dumps(entry, default=str), "only the hash of the code is stored"
    assert entry["code_expires_at"] == 1795514400 + 24 * 3600
    assert entry["verify_attempts"] == 0
    assert len(entry["unsubscribe_token"]) >= 40


def test_fixture_verify_email_subscription_base64_body(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(email_subscriptions, "new_code", lambda: "7KQ2M9XD")  # the fixture's "7kq2-m9xd"
    assert subscribe("ana.lopez@example.com").status == 200
    event = fixture_event("verify_email_subscription")
    assert event["isBase64Encoded"] is True

    answer = call(event)

    assert answer.status == 200
    assert answer.body == {
        "address": "ana.lopez@example.com",
        "status": "verified",
        "verified_at": "2026-11-24T10:00:00Z",
    }
    entry = subscription()["addresses"]["ana.lopez@example.com"]  # type: ignore[index]
    assert set(entry) == {"status", "unsubscribe_token", "verified_at"}, "code fields are removed"


def test_fixture_delete_email_subscription(world: World) -> None:
    subscribe("ana.lopez@example.com")
    subscribe("bob@example.org")

    answer = call(fixture_event("delete_email_subscription"))

    assert answer.status == 204
    assert set(subscription()["addresses"]) == {"bob@example.org"}  # type: ignore[index]


def test_fixture_preferences_put_then_get(world: World) -> None:
    assert call(fixture_event("get_preferences")).body == {"muted": False, "opt_outs": {}}

    put = call(fixture_event("put_preferences"))

    assert put.status == 200
    assert put.body == {
        "muted": False,
        "opt_outs": {"order_shipped": ["email"]},
        "updated_at": "2026-11-24T10:00:00Z",
    }
    assert call(fixture_event("get_preferences")).body == put.body


def test_fixture_get_deliveries(world: World) -> None:
    log_rows(
        (FIXTURE_ID, SUB, "email", "ana@example.com"),
        (FIXTURE_ID, OTHER, "email", "x@y.z"),
    )

    answer = call(fixture_event("get_deliveries"))

    assert answer.status == 200
    assert answer.body == {
        "notification_id": FIXTURE_ID,
        "deliveries": [
            {
                "channel": "email",
                "target": "ana@example.com",
                "status": "sent",
                "notification_type": "order_shipped",
                "updated_at": "2026-11-24T10:00:00Z",
            }
        ],
    }


# --- authorisation ------------------------------------------------------------------------------------


def test_fixture_without_authorizer_is_403_and_touches_nothing(world: World) -> None:
    dynamodb = record_calls("dynamodb")
    sns = record_calls("sns")

    answer = call(fixture_event("no_authorizer"))

    assert answer.status == 403
    assert answer.error_code == "forbidden"
    assert "sub" in answer.body["error"]["message"]
    assert dynamodb.attempts == [] and sns.attempts == []
    assert devices() == {} and endpoints(world.applications["fcm"]) == []


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"sub": ""},
        {"sub": None},
        {"sub": 42},
        {"sub": "u-1#email"},  # "#" would widen begins_with to another user's rows
        {"sub": "auth0|abc"},  # outside the event contract's user id pattern: never notifiable
        {"sub": "x" * 129},
    ],
)
def test_missing_or_invalid_sub_is_403(world: World, claims: dict[str, Any]) -> None:
    event = fixture_event("get_preferences")
    event["requestContext"]["authorizer"]["jwt"]["claims"] = claims
    answer = call(event)
    assert (answer.status, answer.error_code) == (403, "forbidden")


def test_user_id_never_comes_from_path_query_or_headers(world: World) -> None:
    event = request("PUT /preferences", body={"muted": True}, query={"user_id": OTHER})
    event["pathParameters"] = {"user_id": OTHER}
    event["headers"]["x-user-id"] = OTHER

    assert call(event).status == 200
    assert [item["user_id"] for item in scan("preferences")] == [SUB]


def test_body_user_id_field_is_refused_and_preferences_stay_the_callers(world: World) -> None:
    answer = put_preferences({"muted": True, "user_id": OTHER})
    assert (answer.status, answer.error_code) == (400, "invalid_body")
    assert "user_id" in answer.body["error"]["message"]

    assert put_preferences({"muted": True}).status == 200
    assert [item["user_id"] for item in scan("preferences")] == [SUB]


@pytest.mark.parametrize("route_key", ["$default", "GET /devices", "PATCH /preferences", None])
def test_unknown_route_is_404(world: World, route_key: str | None) -> None:
    event = fixture_event("get_preferences")
    event["routeKey"] = route_key
    answer = call(event)
    assert (answer.status, answer.error_code) == (404, "route_not_found")


def test_unauthenticated_unknown_route_is_403_not_404(world: World) -> None:
    event = fixture_event("no_authorizer")
    event["routeKey"] = "GET /nothing"
    assert call(event).status == 403


# --- devices ------------------------------------------------------------------------------------------


def test_put_device_is_idempotent(world: World) -> None:
    first = put_device("fcm", FCM_TOKEN)
    world.advance(hours=1)
    second = put_device("fcm", FCM_TOKEN)

    assert second.status == 200
    assert {k: v for k, v in second.body.items() if k != "updated_at"} == {
        k: v for k, v in first.body.items() if k != "updated_at"
    }
    assert second.body["updated_at"] == "2026-11-24T11:00:00Z"
    assert len(endpoints(world.applications["fcm"])) == 1
    assert len(devices()) == 1


def test_put_device_re_enables_a_disabled_endpoint(world: World) -> None:
    arn = put_device("fcm", FCM_TOKEN).body["endpoint_arn"]
    sns = boto3.client("sns", region_name=REGION)
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})

    again = put_device("fcm", FCM_TOKEN)

    assert again.body["endpoint_arn"] == arn
    assert sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"]["Enabled"] == "true"


def test_put_device_recreates_an_endpoint_deleted_behind_its_back(world: World) -> None:
    arn = put_device("fcm", FCM_TOKEN).body["endpoint_arn"]
    boto3.client("sns", region_name=REGION).delete_endpoint(EndpointArn=arn)

    again = put_device("fcm", FCM_TOKEN)

    assert again.status == 200
    [endpoint] = endpoints(world.applications["fcm"])
    assert again.body["endpoint_arn"] == endpoint["EndpointArn"] != arn
    assert devices()[(SUB, f"fcm#{FCM_TOKEN}")]["endpoint_arn"] == endpoint["EndpointArn"]


def test_apns_token_is_lower_cased_into_one_device_key(world: World) -> None:
    assert put_device("apns", APNS_TOKEN.upper()).status == 200
    assert put_device("apns", APNS_TOKEN).status == 200
    assert list(devices()) == [(SUB, f"apns#{APNS_TOKEN}")]
    assert len(endpoints(world.applications["apns"])) == 1


@pytest.mark.parametrize(
    ("platform", "token", "code"),
    [
        ("gcm", FCM_TOKEN, "invalid_platform"),
        ("APNS", APNS_TOKEN, "invalid_platform"),
        ("apns", APNS_TOKEN[:-1], "invalid_token"),
        ("apns", APNS_TOKEN + "0", "invalid_token"),
        ("apns", "g" * 64, "invalid_token"),
        ("apns_sandbox", "x", "invalid_token"),
        ("fcm", "a/b", "invalid_token"),
        ("fcm", "a b", "invalid_token"),
        ("fcm", "a" * 1021, "invalid_token"),
        ("apns_sandbox", APNS_TOKEN, "platform_not_configured"),  # the world configures apns and fcm only
    ],
)
def test_put_device_validation_is_422_and_stores_nothing(
    world: World, platform: str, token: str, code: str
) -> None:
    answer = put_device(platform, token)
    assert (answer.status, answer.error_code) == (422, code)
    assert devices() == {}
    assert endpoints(world.applications["fcm"]) == endpoints(world.applications["apns"]) == []


def test_fcm_token_of_1020_characters_is_accepted(world: World) -> None:
    # device_key "fcm#" + 1020 characters = 1024 bytes: DynamoDB's sort key limit
    answer = put_device("fcm", "a:b-_" * 204)
    assert answer.status == 200
    assert len(answer.body["device_key"].encode()) == 1024


def test_push_not_configured_at_all_is_422(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLATFORM_APPLICATION_ARNS")
    answer = put_device("fcm", FCM_TOKEN)
    assert (answer.status, answer.error_code) == (422, "platform_not_configured")


def test_delete_device_is_idempotent_and_scoped_to_the_caller(world: World) -> None:
    put_device("fcm", FCM_TOKEN)
    assert delete_device("fcm", FCM_TOKEN, sub=OTHER).status == 204
    assert list(devices()) == [(SUB, f"fcm#{FCM_TOKEN}")], "another user cannot remove my device"
    assert len(endpoints(world.applications["fcm"])) == 1

    assert delete_device("fcm", FCM_TOKEN).status == 204
    assert delete_device("fcm", FCM_TOKEN).status == 204
    assert devices() == {}
    assert endpoints(world.applications["fcm"]) == []


def test_delete_device_validates_the_path(world: World) -> None:
    answer = delete_device("fcm", "no/slashes")
    assert (answer.status, answer.error_code) == (422, "invalid_token")


# --- email subscriptions ------------------------------------------------------------------------------


def test_verification_flow_produces_what_the_email_worker_sends_to(world: World) -> None:
    subscribe("ana@example.com")
    assert email_worker.verified_recipients(subscription()) == [], "pending addresses get nothing"

    assert verify("ana@example.com", last_code("ana@example.com")).status == 200

    [recipient] = email_worker.verified_recipients(subscription())
    assert recipient.key == "ana@example.com"
    assert recipient.unsubscribe_token == subscription()["addresses"]["ana@example.com"]["unsubscribe_token"]  # type: ignore[index]


def test_ses_request_carries_sender_configuration_set_and_identity(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity = "arn:aws:ses:us-east-1:123456789012:identity/example.com"
    monkeypatch.setenv("SES_CONFIGURATION_SET", "notifications")
    monkeypatch.setenv("SES_IDENTITY_ARN", identity)
    sesv2 = record_calls("sesv2")
    # moto checks that the configuration set exists
    boto3.client("sesv2", region_name=REGION).create_configuration_set(ConfigurationSetName="notifications")

    assert subscribe("ana@example.com").status == 200

    [params] = sesv2.params("SendEmail")
    assert params["FromEmailAddress"] == "verify@example.com"
    assert params["ConfigurationSetName"] == "notifications"
    assert params["FromEmailAddressIdentityArn"] == identity
    assert params["Destination"] == {"ToAddresses": ["ana@example.com"]}


def test_repeat_put_of_a_verified_address_is_a_no_op(world: World) -> None:
    subscribe("ana@example.com")
    verify("ana@example.com", last_code("ana@example.com"))
    before = subscription()
    world.advance(days=3)

    answer = subscribe("ANA@example.com")

    assert answer.status == 200
    assert answer.body == {
        "address": "ana@example.com",
        "status": "verified",
        "verified_at": "2026-11-24T10:00:00Z",
    }
    assert subscription() == before
    assert len(mail()) == 1, "no second mail"


def test_wrong_codes_use_up_five_attempts_then_409_until_a_new_put(world: World) -> None:
    subscribe("ana@example.com")
    code = last_code("ana@example.com")
    for left in (4, 3, 2, 1, 0):
        answer = verify("ana@example.com", wrong(code))
        assert (answer.status, answer.error_code) == (422, "invalid_code")
        assert f"{left} attempt(s) left" in answer.body["error"]["message"]

    blocked = verify("ana@example.com", code)
    assert (blocked.status, blocked.error_code) == (409, "too_many_attempts")
    assert subscription()["addresses"]["ana@example.com"]["status"] == "pending"  # type: ignore[index]

    world.advance(seconds=61)
    assert subscribe("ana@example.com").status == 200
    new_code = last_code("ana@example.com")
    assert verify("ana@example.com", new_code).status == 200


def test_expired_code_is_409(world: World) -> None:
    subscribe("ana@example.com")
    world.advance(hours=24)
    answer = verify("ana@example.com", last_code("ana@example.com"))
    assert (answer.status, answer.error_code) == (409, "code_expired")


def test_code_just_before_expiry_is_accepted(world: World) -> None:
    subscribe("ana@example.com")
    world.advance(hours=24, seconds=-1)
    assert verify("ana@example.com", last_code("ana@example.com")).status == 200


def test_new_put_replaces_the_code_and_keeps_the_unsubscribe_token(world: World) -> None:
    subscribe("ana@example.com")
    first_code = last_code("ana@example.com")
    token = subscription()["addresses"]["ana@example.com"]["unsubscribe_token"]  # type: ignore[index]
    world.advance(seconds=60)

    assert subscribe("ana@example.com").status == 200

    second_code = last_code("ana@example.com")
    entry = subscription()["addresses"]["ana@example.com"]  # type: ignore[index]
    assert entry["unsubscribe_token"] == token
    if first_code != second_code:
        assert verify("ana@example.com", first_code).error_code == "invalid_code"
    assert verify("ana@example.com", second_code).status == 200


def test_code_requested_again_within_the_cooldown_is_429(world: World) -> None:
    subscribe("ana@example.com")
    world.advance(seconds=20)

    answer = subscribe("ana@example.com")

    assert (answer.status, answer.error_code) == (429, "too_many_requests")
    assert answer.headers["retry-after"] == "40"
    assert len(mail()) == 1


def test_a_code_of_one_user_does_not_verify_another_users_address(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = iter(["11111111", "22222222"])
    monkeypatch.setattr(email_subscriptions, "new_code", lambda: next(codes))
    subscribe("shared@example.com")
    world.advance(seconds=60)  # the resend cooldown is per address, whoever asks
    subscribe("shared@example.com", sub=OTHER)

    assert verify("shared@example.com", "11111111", sub=OTHER).error_code == "invalid_code"
    assert verify("shared@example.com", "22222222").error_code == "invalid_code"
    assert verify("shared@example.com", "11111111").status == 200
    assert subscription(OTHER)["addresses"]["shared@example.com"]["status"] == "pending"  # type: ignore[index]


def test_at_most_ten_addresses_per_user(world: World) -> None:
    for index in range(10):
        assert subscribe(f"a{index}@example.com").status == 200
    answer = subscribe("a10@example.com")
    assert (answer.status, answer.error_code) == (422, "too_many_addresses")
    assert subscribe("a3@example.com").status == 429, "an existing address is not counted twice"


@pytest.mark.parametrize(
    "address",
    [
        "no-at-sign",
        "a@b",
        "a@@example.com",
        "@example.com",
        "a b@example.com",
        "a@example.com.",
        "a" * 250 + "@ex.com",
    ],
)
def test_implausible_address_is_422(world: World, address: str) -> None:
    answer = subscribe(address)
    assert (answer.status, answer.error_code) == (422, "invalid_address")
    assert address not in answer.body["error"]["message"]
    assert mail() == [] and subscription() is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"code": 42917}, "invalid_body"),
        ({"code": "042917"}, "invalid_body"),
        ({"code": "7KQ2-M9XDA"}, "invalid_body"),
        ({"code": "7KQ2-M9XU"}, "invalid_body"),
        ({"code": "7KQ2-M9X!"}, "invalid_body"),
        ({"code": "7KQ2M9XD" * 3}, "invalid_body"),
        ({"code": "7KQ2M9XD", "extra": 1}, "invalid_body"),
        ({}, "invalid_body"),
        (["7KQ2M9XD"], "invalid_body"),
    ],
)
def test_malformed_verify_body_is_400(world: World, body: Any, code: str) -> None:
    subscribe("ana@example.com")
    event = request("POST /email-subscriptions/{address}/verify", {"address": "ana@example.com"}, body=body)
    answer = call(event)
    assert (answer.status, answer.error_code) == (400, code)
    assert subscription()["addresses"]["ana@example.com"]["verify_attempts"] == 0, "no attempt used"  # type: ignore[index]


@pytest.mark.parametrize(
    ("raw", "base64_body", "code"),
    [
        (None, False, "malformed_body"),
        ("", False, "malformed_body"),
        ("{not json", False, "malformed_body"),
        ('{"code": "1", "code": "042917"}', False, "malformed_body"),
        ('{"code": NaN}', False, "malformed_body"),
        ("[" * 5000 + "]" * 5000, False, "malformed_body"),
        ("!!not base64!!", True, "malformed_body"),
        ("x" * (64 * 1024 + 1), False, "body_too_large"),
    ],
)
def test_unparseable_body_is_400(world: World, raw: str | None, base64_body: bool, code: str) -> None:
    subscribe("ana@example.com")
    event = request("POST /email-subscriptions/{address}/verify", {"address": "ana@example.com"})
    if raw is not None:
        event["body"] = raw
        event["isBase64Encoded"] = base64_body
    answer = call(event)
    assert (answer.status, answer.error_code) == (400, code)


def test_body_that_is_not_utf8_is_400(world: World) -> None:
    event = request("PUT /preferences")
    event["body"] = base64.b64encode(b'{"muted": "\xff"}').decode()
    event["isBase64Encoded"] = True
    answer = call(event)
    assert (answer.status, answer.error_code) == (400, "malformed_body")


def test_verify_unknown_address_is_404(world: World) -> None:
    subscribe("ana@example.com")
    answer = verify("bob@example.org", "7KQ2-M9XD")
    assert (answer.status, answer.error_code) == (404, "not_found")
    assert verify("ana@example.com", "7KQ2-M9XD", sub=OTHER).status == 404, "someone else's address"


def test_verify_of_a_verified_address_is_200_again(world: World) -> None:
    subscribe("ana@example.com")
    code = last_code("ana@example.com")
    verify("ana@example.com", code)
    world.advance(days=2)
    again = verify("ana@example.com", wrong(code))
    assert again.status == 200
    assert again.body["verified_at"] == "2026-11-24T10:00:00Z"


def test_delete_email_subscription_is_idempotent_and_creates_nothing(world: World) -> None:
    assert unsubscribe("ana@example.com").status == 204
    assert subscription() is None, "no empty item created"

    subscribe("ana@example.com")
    verify("ana@example.com", last_code("ana@example.com"))
    assert unsubscribe("Ana@Example.com").status == 204
    assert subscription()["addresses"] == {}  # type: ignore[index]
    assert unsubscribe("ana@example.com").status == 204


def test_deleted_then_re_added_address_must_be_verified_again(world: World) -> None:
    subscribe("ana@example.com")
    verify("ana@example.com", last_code("ana@example.com"))
    unsubscribe("ana@example.com")
    world.advance(seconds=60)  # the resend cooldown outlives the entry

    answer = subscribe("ana@example.com")

    assert answer.body["status"] == "pending"
    assert len(mail()) == 2


# --- preferences --------------------------------------------------------------------------------------


def test_put_preferences_is_a_full_replace(world: World) -> None:
    put_preferences({"muted": True, "opt_outs": {"order_shipped": ["push", "email", "push"]}})
    assert get_preferences().body["opt_outs"] == {"order_shipped": ["email", "push"]}, "sorted, de-duplicated"

    world.advance(minutes=5)
    answer = put_preferences({"opt_outs": {"order_shipped": []}})

    assert answer.body == {"muted": False, "opt_outs": {}, "updated_at": "2026-11-24T10:05:00Z"}
    assert get_preferences().body == answer.body


def test_stored_preferences_are_what_the_router_applies(world: World) -> None:
    put_preferences({"opt_outs": {"order_shipped": ["push"]}})
    [item] = scan("preferences")
    definition = parse_catalog(
        [{"notification_type": "order_shipped", "definition": json.dumps(ORDER_SHIPPED)}]
    ).types["order_shipped"]

    assert preferences.channels_for(definition, item) == (["email"], [("push", "opted_out")])


@pytest.mark.parametrize(
    ("body", "status", "code", "named"),
    [
        ({"opt_outs": {"nope": ["email"]}}, 422, "unknown_notification_type", "nope"),
        ({"opt_outs": {"order_shipped": ["sms"]}}, 422, "unknown_channel", "sms"),
        ({"opt_outs": {"order_shipped": ["websocket"]}}, 422, "unknown_channel", "websocket"),
        ({"opt_outs": {"security_alert": ["email"]}}, 422, "critical_type", "security_alert"),
        ({"muted": "yes"}, 400, "invalid_body", "muted"),
        ({"muted": 1}, 400, "invalid_body", "muted"),
        ({"opt_outs": []}, 400, "invalid_body", "opt_outs"),
        ({"opt_outs": {"order_shipped": "email"}}, 400, "invalid_body", "opt_outs.order_shipped"),
        ({"opt_outs": {"order_shipped": [1]}}, 400, "invalid_body", "opt_outs.order_shipped"),
        ({"mute": True}, 400, "invalid_body", "mute"),
        ("muted", 400, "invalid_body", "object"),
    ],
)
def test_invalid_preferences_name_the_field(
    world: World, body: Any, status: int, code: str, named: str
) -> None:
    answer = put_preferences(body)
    assert (answer.status, answer.error_code) == (status, code)
    assert named in answer.body["error"]["message"]
    assert scan("preferences") == []


def test_quiet_hours_are_stored_returned_and_replaced(world: World) -> None:
    answer = put_preferences({"quiet_hours": {"start": "22:00", "end": "07:00"}})
    assert answer.status == 200
    assert answer.body["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    [item] = scan("preferences")
    assert item["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    assert quiet_hours.window_from_preferences(item) == quiet_hours.Window(time(22, 0), time(7, 0))
    assert get_preferences().body["quiet_hours"] == {"start": "22:00", "end": "07:00"}

    # Full replace: leaving it out (or null) removes the window.
    assert "quiet_hours" not in put_preferences({"muted": False, "quiet_hours": None}).body
    assert "quiet_hours" not in scan("preferences")[0]
    assert "quiet_hours" not in get_preferences().body


@pytest.mark.parametrize(
    ("window", "named"),
    [
        ({"start": "22:00", "end": "22:00"}, "must differ"),
        ({"start": "25:00", "end": "07:00"}, "quiet_hours.start"),
        ({"start": "22:00", "end": "7:00"}, "quiet_hours.end"),
        ({"start": "22:00", "end": "07:00 "}, "quiet_hours.end"),
        ({"start": "22:00"}, "quiet_hours.end"),
        ({"start": "22:00", "end": "07:00", "zone": "UTC"}, "unknown field"),
        ("22:00-07:00", "quiet_hours must be an object"),
    ],
)
def test_a_bad_quiet_hours_window_is_400_with_the_reason(world: World, window: Any, named: str) -> None:
    answer = put_preferences({"quiet_hours": window})
    assert (answer.status, answer.error_code) == (400, "invalid_body")
    assert named in answer.body["error"]["message"]
    assert scan("preferences") == []


def test_get_preferences_hides_a_hand_written_broken_window(world: World) -> None:
    dynamodb_batch.batch_write("preferences", [{"user_id": SUB, "quiet_hours": {"start": "1", "end": "2"}}])
    assert "quiet_hours" not in get_preferences().body


def test_broken_catalog_type_accepts_any_service_channel(world: World) -> None:
    assert put_preferences({"opt_outs": {"broken_type": ["websocket"]}}).status == 200
    assert put_preferences({"opt_outs": {"broken_type": ["fax"]}}).error_code == "unknown_channel"


def test_get_preferences_tolerates_a_hand_written_item(world: World) -> None:
    dynamodb_batch.batch_write(
        "preferences",
        [{"user_id": SUB, "muted": "yes", "opt_outs": {"order_shipped": {"email", "push"}, "x": 3}}],
    )
    assert get_preferences().body == {"muted": False, "opt_outs": {"order_shipped": ["email", "push"]}}


# --- delivery log -------------------------------------------------------------------------------------


def test_deliveries_are_only_the_callers_rows(world: World) -> None:
    log_rows(
        (N1, SUB, "email", "ana@example.com"),
        (N1, SUB, "push", "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/1"),
        (N1, "u-1", "email", "u1@example.com"),
        (N1, "u-10", "email", "u10@example.com"),
        (N2, SUB, "email", "ana@example.com"),
    )

    mine = deliveries(N1)
    theirs = deliveries(N1, sub="u-1")

    assert [row["channel"] for row in mine.body["deliveries"]] == ["email", "push"]
    assert [row["target"] for row in theirs.body["deliveries"]] == ["u1@example.com"], "u-10 is not u-1"
    for row in mine.body["deliveries"] + theirs.body["deliveries"]:
        assert not {"user_id", "delivery_key", "expires_at", "notification_id"} & set(row)
    assert "next_token" not in mine.body


def test_deliveries_of_a_notification_not_sent_to_the_caller_is_404(world: World) -> None:
    log_rows((N1, OTHER, "email", "x@example.com"))
    answer = deliveries(N1)
    assert (answer.status, answer.error_code) == (404, "not_found")
    assert deliveries(N2).status == 404


def test_deliveries_paginate(world: World) -> None:
    log_rows(*[(N1, SUB, "websocket", f"conn-{index}") for index in range(5)], (N1, OTHER, "email", "x@y.z"))
    seen: list[str] = []
    query: dict[str, str] = {"limit": "2"}
    pages = 0
    while True:
        answer = deliveries(N1, **query)
        assert answer.status == 200
        pages += 1
        seen += [row["target"] for row in answer.body["deliveries"]]
        if "next_token" not in answer.body:
            break
        query = {"limit": "2", "next_token": answer.body["next_token"]}
    assert seen == [f"conn-{index}" for index in range(5)]
    assert pages in (3, 4)


def test_page_token_of_another_user_is_refused(world: World) -> None:
    log_rows(
        (N1, SUB, "email", "a@example.com"),
        (N1, SUB, "push", "p"),
        (N1, OTHER, "email", "b@example.com"),
    )
    token = deliveries(N1, limit="1").body["next_token"]

    answer = deliveries(N1, sub=OTHER, next_token=token)
    assert (answer.status, answer.error_code) == (400, "invalid_query")
    forged = base64.urlsafe_b64encode(json.dumps({"k": f"{OTHER}#"}).encode()).decode()
    assert deliveries(N1, next_token=forged).error_code == "invalid_query"
    assert deliveries(N1, next_token="%%%").error_code == "invalid_query"


@pytest.mark.parametrize(
    ("notification_id", "query", "status", "code"),
    [
        ("n 1", {}, 422, "invalid_notification_id"),
        ("-n", {}, 422, "invalid_notification_id"),
        ("n#1", {}, 422, "invalid_notification_id"),
        ("n" * 129, {}, 422, "invalid_notification_id"),
        (N1 + "0", {}, 422, "invalid_notification_id"),
        (N1, {"limit": "0"}, 400, "invalid_query"),
        (N1, {"limit": "101"}, 400, "invalid_query"),
        (N1, {"limit": "ten"}, 400, "invalid_query"),
        (N1, {"user_id": OTHER}, 400, "invalid_query"),
    ],
)
def test_deliveries_validation(
    world: World, notification_id: str, query: dict[str, str], status: int, code: str
) -> None:
    log_rows((N1, SUB, "email", "a@example.com"))
    answer = deliveries(notification_id, **query)
    assert (answer.status, answer.error_code) == (status, code)


def test_a_routed_notification_id_is_a_valid_path_parameter(world: World) -> None:
    routed = contract.notification_id(
        "com.example.shop", "order_shipped", "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
    )
    log_rows((routed, SUB, "email", "a@example.com"))
    assert deliveries(routed).status == 200


@pytest.mark.parametrize("raw", ["order-A-1001-shipped", "6a7e8feb-b491-4cf7-a9f1-bf3703467718", N1.upper()])
def test_producers_are_isolated_a_raw_key_is_not_a_notification_id(world: World, raw: str) -> None:
    # The delivery log is keyed by the namespaced id: a bare idempotencyKey or event id names nothing.
    answer = deliveries(raw)
    assert (answer.status, answer.error_code) == (422, "invalid_notification_id")
    assert "SHA-256" in answer.body["error"]["message"]


# --- logs ---------------------------------------------------------------------------------------------


def test_logs_never_carry_tokens_codes_or_full_addresses(world: World) -> None:
    with capture_logs(logger) as records:
        put_device("fcm", FCM_TOKEN)
        put_device("apns", APNS_TOKEN)
        delete_device("apns", APNS_TOKEN)
        subscribe("ana.lopez@example.com")
        code = last_code("ana.lopez@example.com")
        verify("ana.lopez@example.com", wrong(code))
        verify("ana.lopez@example.com", code)
        unsubscribe("ana.lopez@example.com")
        put_device("apns", "bad-" + APNS_TOKEN)
        lines = records()

    text = json.dumps(lines)
    for secret in (FCM_TOKEN, APNS_TOKEN, FCM_TOKEN[:20], code, "ana.lopez@", "Bearer"):
        assert secret not in text
    assert "a***@example.com" in text
    handled = [line for line in lines if line["message"] == "request handled"]
    assert len(handled) == 6
    assert all(line["user_id"] == SUB and line["request_id"] == "Kx3aBhQ2IAMEbFw=" for line in handled)
    refused = [line for line in lines if line["message"] == "request refused"]
    assert [line["error_code"] for line in refused] == ["invalid_code", "invalid_token"]
