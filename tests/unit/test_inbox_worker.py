"""Inbox worker against moto in-process: one item per recipient and notification (a redelivery or a second
routing writes and counts nothing twice), the unread counter, the delivery row, malformed records rejected
while valid ones proceed, and the live push to the recipient's WebSocket connections (410 ones deleted)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from conftest import FakeLambdaContext, load_event

from notification_handlers.event_fields import MalformedEventError
from notification_handlers.service import inbox_store, inbox_worker
from notification_handlers.service.inbox_worker import handler, parse_inbox_message
from tests.unit.inbox_fakes import NID, create_inbox, deliver, inbox_message, items, set_unread, unread
from tests.unit.realtime_fakes import (
    connect,
    connection_ids,
    failed_ids,
    management_api,
    realtime_world,
    received,
    statuses,
)
from tests.unit.service_fakes import fail_attempts, no_sleep, record_calls

SUB = "3f8e2b6c-5d1a-4c7e-9b20-8a6f4e1d2c39"
ITEM_ID = f"20261124T100000Z.{NID}"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with realtime_world(monkeypatch, "notification-service-inbox-worker"):
        create_inbox(monkeypatch, ttl_days=30)
        yield


def test_fixture_batch_writes_one_item_per_recipient_counts_it_and_pushes_it_live(world: None) -> None:
    connect("tab-a", SUB)
    connect("tab-x", "u-3")  # another user: never posted to
    management_api()

    response = handler(
        load_event("notification_service_inbox_queue_batch"),
        FakeLambdaContext(function_name="notification-service-inbox-worker"),
    )

    assert response == {"batchItemFailures": []}
    [mine] = items(SUB)
    assert mine["item_key"] == f"item#{ITEM_ID}"
    assert (
        mine["title"] == "Bestellung 1234 versandt" and mine["url"] == "https://shop.example.com/orders/1234"
    )
    assert int(mine["expires_at"]) == 1795514400 + 30 * 86400
    assert [i["title"] for i in items("u-2")] == ["Order 1234 shipped"] and "url" not in items("u-2")[0]
    assert unread(SUB) == 1 and unread("u-2") == 1
    assert statuses()[(NID, f"{SUB}#inbox#{ITEM_ID}")] == ("sent", None)
    [frame] = received("tab-a")
    assert frame["notification_id"] == NID and frame["type"] == "order_shipped"
    assert frame["inbox_item"]["item_id"] == ITEM_ID and frame["inbox_item"]["read"] is False
    assert received("tab-x") == []


def test_a_redelivered_message_creates_no_second_item_and_counts_once(world: None) -> None:
    management_api()
    message = inbox_message()
    deliver(message)
    deliver(message)  # SQS redelivery (the batch's delivery-log write failed, visibility timeout, ...)
    deliver(inbox_message(created_at="2026-11-24T10:05:00Z"))  # the router routed it again later

    assert [i["item_id"] for i in items("u-1")] == [ITEM_ID]
    assert unread("u-1") == 1


def test_a_redelivery_is_not_pushed_live_again(world: None) -> None:
    connect("tab-a", "u-1")
    management_api()
    deliver(inbox_message())
    deliver(inbox_message())
    assert len(received("tab-a")) == 1


def test_one_transaction_per_item_and_one_delivery_log_write_per_batch(world: None) -> None:
    management_api()
    dynamodb = record_calls("dynamodb")
    messages = [inbox_message(f"u-{n}") for n in range(5)]

    assert deliver(*messages) == {"batchItemFailures": []}

    assert dynamodb.count("TransactWriteItems") == 5
    assert dynamodb.count("BatchWriteItem") == 1  # the delivery log, 25 rows per call
    assert dynamodb.count("Query") == 5  # the live push: one by_user Query per user
    assert {op for op, _ in dynamodb.attempts} == {"TransactWriteItems", "BatchWriteItem", "Query"}


def test_malformed_records_fail_alone_and_valid_ones_proceed(world: None) -> None:
    management_api()
    response = deliver(
        inbox_message("u-1"),
        inbox_message("u-2", url="javascript:alert(1)"),
        inbox_message("u-3", title=" "),
        inbox_message("u-4", channel="push"),
        "not json",
        inbox_message("u-5", created_at="2026-11-24T10:00:00.123Z"),
    )
    assert failed_ids(response) == ["m-1", "m-2", "m-3", "m-4", "m-5"]
    assert len(items("u-1")) == 1
    assert all(items(f"u-{n}") == [] for n in range(2, 6))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ({"title": "t", "body": "b", "url": "http://shop.example.com/"}, "https"),
        ({"title": "t", "body": "b", "url": "https://shop.example.com/a b"}, "https"),
        ({"title": "t", "body": "b", "extra": "x"}, "unknown field"),
        ({"title": "t"}, "content.body"),
    ],
)
def test_parse_refuses_unsafe_or_incomplete_content(content: dict[str, str], problem: str) -> None:
    body = json.dumps(
        {
            "version": 1,
            "notification_id": "n-1",
            "notification_type": "t",
            "critical": False,
            "user_id": "u-1",
            "channel": "inbox",
            "locale": "en",
            "content": content,
            "created_at": "2026-11-24T10:00:00Z",
        }
    )
    with pytest.raises(MalformedEventError, match=problem):
        parse_inbox_message(body)


def test_a_throttled_transaction_fails_only_its_record_and_the_retry_counts_once(
    world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    management_api()
    fail_attempts("dynamodb", "TransactWriteItems", [("ProvisionedThroughputExceededException", 400)] * 3)
    with no_sleep(monkeypatch):
        response = deliver(inbox_message("u-1"), inbox_message("u-2"))
    assert failed_ids(response) == ["m-0"]  # the SDK's retries used up on the first record
    assert items("u-1") == [] and len(items("u-2")) == 1

    assert deliver(inbox_message("u-1"), inbox_message("u-2")) == {"batchItemFailures": []}
    assert unread("u-1") == 1 and unread("u-2") == 1


def test_a_connection_that_answers_410_is_deleted_and_the_others_still_get_the_item(world: None) -> None:
    connect("tab-live", "u-1")
    connect("tab-gone", "u-1", "2026-11-24T09:00:00.000Z")
    api = management_api()
    api.always["tab-gone"] = ("GoneException", 410)

    assert deliver(inbox_message()) == {"batchItemFailures": []}

    assert len(received("tab-live")) == 1
    assert connection_ids() == {"tab-live"}
    assert len(items("u-1")) == 1


def test_a_failed_live_post_does_not_fail_the_record(world: None) -> None:
    connect("tab-a", "u-1")
    api = management_api()
    api.always["tab-a"] = ("InternalServerError", 500)
    assert deliver(inbox_message()) == {"batchItemFailures": []}
    assert len(items("u-1")) == 1 and unread("u-1") == 1


def test_without_the_websocket_channel_nothing_is_posted(
    world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEBSOCKET_MANAGEMENT_ENDPOINT")
    connect("tab-a", "u-1")
    api = management_api()
    dynamodb = record_calls("dynamodb")
    assert deliver(inbox_message()) == {"batchItemFailures": []}
    assert api.posts == [] and dynamodb.count("Query") == 0
    assert len(items("u-1")) == 1


def test_an_item_older_than_the_last_read_all_is_stored_as_read_and_not_counted(world: None) -> None:
    management_api()
    deliver(inbox_message(notification_id="n-new", created_at="2026-11-24T11:00:00Z"))
    # mark-all-read moved the watermark to the newest item
    boto3.client("dynamodb", region_name="us-east-1").update_item(
        TableName="inbox",
        Key={"user_id": {"S": "u-1"}, "item_key": {"S": "counter"}},
        UpdateExpression="SET unread = :z, read_before = :w",
        ExpressionAttributeValues={":z": {"N": "0"}, ":w": {"S": "item#20261124T110000Z.n-new"}},
    )
    deliver(inbox_message(notification_id="n-late", created_at="2026-11-24T10:30:00Z"))  # arrives late

    assert unread("u-1") == 0
    assert [i["notification_id"] for i in items("u-1")] == ["n-new", "n-late"]
    assert inbox_store.is_read(items("u-1")[1], "item#20261124T110000Z.n-new")


def test_the_counter_is_never_written_below_zero_by_the_worker(world: None) -> None:
    management_api()
    set_unread("u-1", 0)
    deliver(inbox_message())
    assert unread("u-1") == 1


def test_ttl_days_over_the_limit_is_a_configuration_error(
    world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INBOX_ITEM_TTL_DAYS", "3651")
    with pytest.raises(Exception, match="INBOX_ITEM_TTL_DAYS"):
        deliver(inbox_message())


def test_write_item_reports_duplicates_without_raising(world: None) -> None:
    message, content = parse_inbox_message(json.dumps(inbox_message()))
    item = inbox_worker.inbox_item(message, content, ttl_days=1)
    assert inbox_worker.write_item("inbox", item) == inbox_worker.WRITTEN
    assert inbox_worker.write_item("inbox", item) == inbox_worker.DUPLICATE
    assert unread("u-1") == 1
