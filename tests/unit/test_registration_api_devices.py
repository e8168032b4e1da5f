"""Device ownership and the per-user device cap of the registration API, against
moto in-process: a token has exactly one owner (ownership item in device_owners, moved in one transaction with
the rows and counters), DELETE removes the endpoint only for the owner, and a user owns at most
MAX_DEVICES_PER_USER devices (a refused registration leaves nothing behind, no endpoint either)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from notification_handlers import aws_clients
from notification_handlers.service import dynamodb_batch, push_platforms
from notification_handlers.service.registration import devices
from tests.unit.realtime_fakes import record_params
from tests.unit.registration_api_fakes import (
    APNS_TOKEN,
    FCM_TOKEN,
    SUB,
    World,
    api_world,
    delete_device,
    endpoints,
    put_device,
)
from tests.unit.service_fakes import record_calls, scan
from tools.emulator.account import DEFAULT_REGION as REGION

OTHER = "u-2"
KEY = f"fcm#{FCM_TOKEN}"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with api_world(monkeypatch) as created:
        yield created


def rows() -> set[tuple[str, str]]:
    return {(str(i["user_id"]), str(i["device_key"])) for i in scan("device-tokens")}


def owners() -> dict[str, str]:
    return {str(i["device_key"]): str(i["user_id"]) for i in scan("device-owners")}


def count(user_id: str) -> int:
    items = [i for i in scan("limits") if i["limit_key"] == f"devices#{user_id}"]
    return int(items[0]["count"]) if items else 0


def custom_user_data(endpoint_arn: str) -> str:
    sns = boto3.client("sns", region_name=REGION)
    return str(sns.get_endpoint_attributes(EndpointArn=endpoint_arn)["Attributes"]["CustomUserData"])


def endpoint_named(world: World, user_id: str, token: str = FCM_TOKEN) -> str:
    """An endpoint registered for ``user_id`` (CustomUserData) by the API before ownership items existed."""
    sns = boto3.client("sns", region_name=REGION)
    arn = str(
        sns.create_platform_endpoint(
            PlatformApplicationArn=world.applications["fcm"], Token=token, CustomUserData=user_id
        )["EndpointArn"]
    )
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"CustomUserData": user_id})  # moto hides it else
    return arn


def legacy_row(user_id: str, endpoint_arn: str, token: str = FCM_TOKEN) -> None:
    """A device_tokens row as the API wrote it before ownership items existed."""
    dynamodb_batch.batch_write(
        "device-tokens",
        [
            {
                "user_id": user_id,
                "device_key": f"fcm#{token}",
                "platform": "fcm",
                "token": token,
                "endpoint_arn": endpoint_arn,
                "updated_at": "2026-11-20T10:00:00Z",
            }
        ],
    )


# --- finding 1: one owner per token -------------------------------------------------------------------


def test_push_device_takeover_moves_ownership_and_removes_the_previous_owners_row(world: World) -> None:
    mine = put_device("fcm", FCM_TOKEN)
    assert mine.status == 200

    theirs = put_device("fcm", FCM_TOKEN, sub=OTHER)

    assert theirs.status == 200
    assert rows() == {(OTHER, KEY)}, "the previous owner's row goes in the same transaction"
    assert owners() == {KEY: OTHER}
    assert (count(SUB), count(OTHER)) == (0, 1)
    [endpoint] = endpoints(world.applications["fcm"])
    assert theirs.body["endpoint_arn"] == endpoint["EndpointArn"] == mine.body["endpoint_arn"]
    assert custom_user_data(endpoint["EndpointArn"]) == OTHER


def test_push_device_takeover_the_previous_owners_delete_keeps_the_new_owners_endpoint(world: World) -> None:
    put_device("fcm", FCM_TOKEN)
    arn = put_device("fcm", FCM_TOKEN, sub=OTHER).body["endpoint_arn"]

    assert delete_device("fcm", FCM_TOKEN).status == 204

    assert rows() == {(OTHER, KEY)} and owners() == {KEY: OTHER}
    assert [e["EndpointArn"] for e in endpoints(world.applications["fcm"])] == [arn]
    assert count(OTHER) == 1


def test_push_device_takeover_a_stale_row_delete_removes_only_that_row(world: World) -> None:
    """A row left from before ownership items while another user owns the token: 204, only that row goes."""
    arn = put_device("fcm", FCM_TOKEN, sub=OTHER).body["endpoint_arn"]
    legacy_row(SUB, arn)

    assert delete_device("fcm", FCM_TOKEN).status == 204

    assert rows() == {(OTHER, KEY)} and owners() == {KEY: OTHER}
    assert len(endpoints(world.applications["fcm"])) == 1 and count(OTHER) == 1


def test_push_device_takeover_the_owners_delete_removes_endpoint_row_ownership_and_count(
    world: World,
) -> None:
    put_device("fcm", FCM_TOKEN)
    put_device("fcm", FCM_TOKEN, sub=OTHER)

    assert delete_device("fcm", FCM_TOKEN, sub=OTHER).status == 204

    assert rows() == set() and owners() == {} and endpoints(world.applications["fcm"]) == []
    assert (count(SUB), count(OTHER)) == (0, 0)


def test_push_device_takeover_an_unclaimed_row_is_deleted_with_its_endpoint_only_if_it_names_the_caller(
    world: World,
) -> None:
    arn = endpoint_named(world, OTHER)
    legacy_row(SUB, arn)
    legacy_row(OTHER, arn)

    assert delete_device("fcm", FCM_TOKEN).status == 204
    assert rows() == {(OTHER, KEY)} and len(endpoints(world.applications["fcm"])) == 1

    assert delete_device("fcm", FCM_TOKEN, sub=OTHER).status == 204
    assert rows() == set() and endpoints(world.applications["fcm"]) == []


def test_push_device_takeover_an_unclaimed_row_is_claimed_by_its_users_next_put(world: World) -> None:
    arn = endpoint_named(world, SUB)
    legacy_row(SUB, arn)

    answer = put_device("fcm", FCM_TOKEN)

    assert answer.status == 200 and answer.body["endpoint_arn"] == arn
    assert owners() == {KEY: SUB} and count(SUB) == 1 and rows() == {(SUB, KEY)}


def test_push_device_takeover_race_has_exactly_one_owner_and_consistent_counts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two users register one token at once: the other user's whole registration runs between this
    request's reads and its transaction. The transaction's condition on the ownership item refuses the
    stale plan; the request reads again and moves ownership from the winner, in one transaction."""
    real = push_platforms.ensure_device_endpoint
    interleaved: list[int] = []

    def racing(application: str, token: str, user_id: str, existing: str | None = None) -> Any:
        if user_id == SUB and not interleaved:
            interleaved.append(put_device("fcm", FCM_TOKEN, sub=OTHER).status)
        return real(application, token, user_id, existing)

    monkeypatch.setattr(push_platforms, "ensure_device_endpoint", racing)
    calls = record_calls("dynamodb")

    answer = put_device("fcm", FCM_TOKEN)

    assert interleaved == [200] and answer.status == 200
    assert calls.count("TransactWriteItems") == 3, "the other's, this one's refused, this one's retry"
    assert owners() == {KEY: SUB} and rows() == {(SUB, KEY)}
    assert (count(SUB), count(OTHER)) == (1, 0)
    [endpoint] = endpoints(world.applications["fcm"])
    assert custom_user_data(endpoint["EndpointArn"]) == SUB


def test_push_device_takeover_a_repeat_by_the_owner_does_not_count_again(world: World) -> None:
    for _ in range(3):
        assert put_device("fcm", FCM_TOKEN).status == 200
    assert count(SUB) == 1 and owners() == {KEY: SUB}


# --- finding 3: devices per user are capped -----------------------------------------------------------


def fcm_token(n: int) -> str:
    return f"token-{n:04d}:APA91b"


def test_devices_per_user_are_capped_with_a_409_that_creates_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_DEVICES_PER_USER", "3")
    for n in range(3):
        assert put_device("fcm", fcm_token(n)).status == 200
    sns = record_params("sns")

    refused = put_device("fcm", fcm_token(3))

    assert (refused.status, refused.error_code) == (409, "device_limit_reached")
    assert "at most 3 devices" in refused.body["error"]["message"]
    assert sns == [], "refused before any endpoint is created"
    assert len(endpoints(world.applications["fcm"])) == 3 and len(rows()) == 3 and count(SUB) == 3
    assert put_device("fcm", fcm_token(0)).status == 200, "re-registering an owned device is not a new one"

    assert delete_device("fcm", fcm_token(0)).status == 204
    assert count(SUB) == 2
    assert put_device("fcm", fcm_token(3)).status == 200


def test_devices_per_user_are_capped_default_ten(world: World) -> None:
    for n in range(devices.DEFAULT_MAX_DEVICES_PER_USER):
        assert put_device("fcm", fcm_token(n)).status == 200
    assert put_device("apns", APNS_TOKEN).error_code == "device_limit_reached"
    assert count(SUB) == 10


def test_devices_per_user_are_capped_also_when_taking_over(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_DEVICES_PER_USER", "1")
    put_device("fcm", FCM_TOKEN)
    put_device("apns", APNS_TOKEN, sub=OTHER)

    refused = put_device("fcm", FCM_TOKEN, sub=OTHER)

    assert refused.error_code == "device_limit_reached"
    assert owners() == {KEY: SUB, f"apns#{APNS_TOKEN}": OTHER}
    assert custom_user_data(owners_endpoint(KEY)) == SUB, "a refused takeover does not touch the endpoint"


def owners_endpoint(device_key: str) -> str:
    [item] = [i for i in scan("device-owners") if i["device_key"] == device_key]
    return str(item["endpoint_arn"])


def test_devices_per_user_are_capped_under_a_race_and_the_loser_leaves_no_endpoint(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One slot left, two registrations of different tokens at once: both pass the read of the counter, the
    transaction's condition lets one in; the other is 409 and deletes the endpoint it created."""
    monkeypatch.setenv("MAX_DEVICES_PER_USER", "1")
    real = push_platforms.ensure_device_endpoint
    interleaved: list[int] = []

    def racing(application: str, token: str, user_id: str, existing: str | None = None) -> Any:
        endpoint = real(application, token, user_id, existing)
        if token == FCM_TOKEN and not interleaved:
            interleaved.append(put_device("fcm", fcm_token(1)).status)
        return endpoint

    monkeypatch.setattr(push_platforms, "ensure_device_endpoint", racing)

    refused = put_device("fcm", FCM_TOKEN)

    assert interleaved == [200]
    assert refused.error_code == "device_limit_reached"
    assert rows() == {(SUB, f"fcm#{fcm_token(1)}")} and count(SUB) == 1
    assert [e["Attributes"]["Token"] for e in endpoints(world.applications["fcm"])] == [fcm_token(1)]


def test_a_device_counter_at_zero_stays_at_zero_when_the_device_is_deleted(world: World) -> None:
    """The floor: a counter already at 0 (edited by hand) is not driven negative, which would let the user
    own one device more than the cap; the device is still deleted."""
    put_device("fcm", FCM_TOKEN)
    boto3.client("dynamodb", region_name=REGION).put_item(
        TableName="limits", Item={"limit_key": {"S": f"devices#{SUB}"}, "count": {"N": "0"}}
    )

    assert delete_device("fcm", FCM_TOKEN).status == 204

    assert rows() == set() and owners() == {}
    assert count(SUB) == 0


def test_push_device_takeover_a_delete_conflicting_with_a_concurrent_write_is_503_and_keeps_the_row(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction cancelled by a conflict did not happen: the caller must retry, not be told 204."""
    put_device("fcm", FCM_TOKEN)
    client = aws_clients.client("dynamodb")
    error = client.exceptions.TransactionCanceledException(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
            "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}, {"Code": "None"}],
        },
        "TransactWriteItems",
    )

    def conflict(**_: Any) -> None:
        raise error

    monkeypatch.setattr(client, "transact_write_items", conflict)

    answer = delete_device("fcm", FCM_TOKEN)

    assert (answer.status, answer.error_code) == (503, "service_unavailable")
    assert rows() == {(SUB, KEY)} and owners() == {KEY: SUB}
