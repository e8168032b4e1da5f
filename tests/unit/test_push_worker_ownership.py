"""The push worker publishes only to devices the recipient owns, against moto
in-process: the ownership items of a batch's devices are read with one strongly consistent BatchGetItem per
100 devices; a row whose token another user owns now is never published to, is removed (only if unchanged
since it was read) and gets a failed delivery row; rows registered before ownership items existed are
checked against their endpoint's CustomUserData (the last user the API registered it for)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import FakeLambdaContext

from notification_handlers.service import dynamodb_batch, push_worker
from notification_handlers.service.push_worker import Device, handler
from tests.unit.realtime_fakes import (
    TABLES,
    channel_message,
    device_count,
    device_keys,
    device_owners,
    disable_endpoint,
    endpoint_exists,
    endpoint_messages,
    platform_application,
    realtime_world,
    record_params,
    register_device,
    sqs_event,
    statuses,
)
from tests.unit.service_fakes import record_calls

QUEUE = "notification-service-push"
TOKEN = "fcm-registration-token-1"
KEY = f"fcm#{TOKEN}"


@pytest.fixture
def fcm(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with realtime_world(monkeypatch, "notification-service-push-worker"):
        yield platform_application("GCM", "android")


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext(function_name="notification-service-push-worker")


def target(token: str = TOKEN) -> str:
    return Device("fcm", token, f"fcm#{token}", None, None).target


def message(user_id: str, notification_id: str = "n-1") -> dict[str, object]:
    return channel_message(
        notification_id, user_id, "push", {"title": "Order shipped", "body": "On its way."}
    )


def stale_row(user_id: str, endpoint_arn: str, token: str = TOKEN) -> None:
    """A row of ``user_id`` left from before ownership items for a token someone else registered since."""
    dynamodb_batch.batch_write(
        TABLES["DEVICE_TOKENS_TABLE"],
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


def test_push_device_takeover_the_worker_never_publishes_to_another_owners_endpoint(
    fcm: str, context: FakeLambdaContext
) -> None:
    endpoint = register_device("u-2", "fcm", TOKEN, fcm)  # u-2 owns the token now
    stale_row("u-1", endpoint)  # u-1's row from before
    sns = record_params("sns")

    assert handler(sqs_event(QUEUE, message("u-1")), context) == {"batchItemFailures": []}

    assert [name for name, _ in sns if name == "Publish"] == []
    assert endpoint_messages(endpoint) == []
    assert statuses() == {("n-1", f"u-1#push#{target()}"): ("failed", "device_owned_by_another_user")}
    assert device_keys() == {("u-2", KEY)}, "the stale row goes, the owner's stays"
    assert endpoint_exists(endpoint) and device_owners() == {KEY: "u-2"} and device_count("u-2") == 1

    assert handler(sqs_event(QUEUE, message("u-2", "n-2")), context) == {"batchItemFailures": []}
    assert len(endpoint_messages(endpoint)) == 1


def test_push_device_takeover_ownership_is_one_consistent_batch_get_per_100_devices(
    fcm: str, context: FakeLambdaContext
) -> None:
    for n in range(60):
        register_device(f"u-{n % 2}", "fcm", f"token-{n:03d}", fcm)
    dynamodb = record_calls("dynamodb")
    sns = record_params("sns")

    handler(sqs_event(QUEUE, message("u-0"), message("u-1", "n-2"), message("u-0", "n-3")), context)

    # 60 distinct devices in the batch: one BatchGetItem; the claimed ones need no endpoint read
    [read] = dynamodb.params("BatchGetItem")
    assert read["RequestItems"][TABLES["DEVICE_OWNERS_TABLE"]]["ConsistentRead"] is True
    assert len(read["RequestItems"][TABLES["DEVICE_OWNERS_TABLE"]]["Keys"]) == 60
    assert [name for name, _ in sns if name == "GetEndpointAttributes"] == []
    assert sum(1 for name, _ in sns if name == "Publish") == 90


def test_push_device_takeover_unclaimed_rows_follow_the_endpoints_custom_user_data(
    fcm: str, context: FakeLambdaContext
) -> None:
    """Rows registered before ownership items: the endpoint names the user the API last registered it for.
    That user's row keeps working after the upgrade; an earlier registrant's row is stale."""
    endpoint = register_device("u-2", "fcm", TOKEN, fcm, owned=False)
    stale_row("u-1", endpoint)

    handler(sqs_event(QUEUE, message("u-1"), message("u-2", "n-2")), context)

    assert len(endpoint_messages(endpoint)) == 1
    assert statuses()[("n-1", f"u-1#push#{target()}")] == ("failed", "device_owned_by_another_user")
    assert statuses()[("n-2", f"u-2#push#{target()}")] == ("sent", None)
    assert device_keys() == {("u-2", KEY)} and device_owners() == {}


def test_push_device_takeover_a_stale_row_registered_again_meanwhile_is_kept(fcm: str) -> None:
    endpoint = register_device("u-2", "fcm", TOKEN, fcm)
    stale_row("u-1", endpoint)
    batch = push_worker.Batch(
        TABLES["DEVICE_TOKENS_TABLE"], TABLES["DEVICE_OWNERS_TABLE"], TABLES["LIMITS_TABLE"]
    )
    read_earlier = Device("fcm", TOKEN, KEY, endpoint, "2026-11-19T10:00:00Z")

    assert push_worker.remove_row(batch, "u-1", read_earlier) is False
    assert device_keys() == {("u-1", KEY), ("u-2", KEY)}


def test_push_device_takeover_a_dead_owned_device_goes_with_its_ownership_and_count(
    fcm: str, context: FakeLambdaContext
) -> None:
    endpoint = register_device("u-1", "fcm", TOKEN, fcm)
    register_device("u-1", "fcm", "token-2", fcm)
    disable_endpoint(endpoint)

    handler(sqs_event(QUEUE, message("u-1")), context)

    assert device_keys() == {("u-1", "fcm#token-2")}
    assert device_owners() == {"fcm#token-2": "u-1"} and device_count("u-1") == 1
    assert not endpoint_exists(endpoint)


def test_push_device_takeover_worker_without_the_owners_table_is_a_configuration_error(
    fcm: str, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEVICE_OWNERS_TABLE")
    register_device("u-1", "fcm", TOKEN, fcm)
    with pytest.raises(push_worker.ConfigurationError):
        handler(sqs_event(QUEUE, message("u-1")), context)
