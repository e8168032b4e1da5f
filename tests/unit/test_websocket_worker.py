"""WebSocket worker against moto in-process: connections found with one GSI Query per user (never a Scan),
posted concurrently through the management API, 410 Gone connections deleted (only those), payloads over
128 KiB recorded as failed without a call, one delivery row per connection."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from conftest import FakeLambdaContext, capture_logs, examples, load_event
from hypothesis import given
from hypothesis import strategies as st

from notification_handlers.event_fields import ConfigurationError, MalformedEventError
from notification_handlers.service import dynamodb_batch, websocket_worker
from notification_handlers.service.log import logger
from notification_handlers.service.websocket_worker import (
    MAX_PAYLOAD_BYTES,
    fan_out,
    handler,
    load_settings,
    parse_websocket_message,
)
from tests.unit.realtime_fakes import (
    ENDPOINT,
    TABLES,
    channel_message,
    connect,
    connection_ids,
    failed_ids,
    management_api,
    posted_connections,
    realtime_world,
    received,
    sqs_event,
    statuses,
)
from tests.unit.service_fakes import fail_attempts, no_sleep, record_calls

QUEUE = "notification-service-websocket"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with realtime_world(monkeypatch, "notification-service-websocket-worker"):
        yield


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext(function_name="notification-service-websocket-worker")


def message(notification_id: str = "n-1", user_id: str = "u-1", body: str = "Order 1234 shipped") -> Any:
    return channel_message(notification_id, user_id, "websocket", {"body": body})


def test_fixture_batch_reaches_every_tab_of_each_recipient_and_no_one_else(
    world: None, context: FakeLambdaContext
) -> None:
    connect("tab-a", "u-1", "2026-11-24T09:00:00.000Z")
    connect("tab-b", "u-1", "2026-11-24T09:30:00.000Z")
    connect("tab-c", "u-2")
    connect("tab-x", "u-3")  # another user
    api = management_api()
    dynamodb = record_calls("dynamodb")

    response = handler(load_event("notification_service_websocket_queue_batch"), context)

    assert response == {"batchItemFailures": []}
    assert (
        received("tab-a")
        == received("tab-b")
        == [{"notification_id": "n-1", "type": "order_shipped", "body": "Bestellung 1234 versandt"}]
    )
    assert received("tab-c") == [
        {"notification_id": "n-1", "type": "order_shipped", "body": "Order 1234 shipped"}
    ]
    assert "tab-x" not in posted_connections()
    assert sorted(api.posts) == ["tab-a", "tab-b", "tab-c"]
    assert statuses() == {
        ("n-1", "u-1#websocket#tab-a"): ("sent", None),
        ("n-1", "u-1#websocket#tab-b"): ("sent", None),
        ("n-1", "u-2#websocket#tab-c"): ("sent", None),
    }
    queries = dynamodb.params("Query")
    assert [(q["IndexName"], q["ExpressionAttributeValues"][":u"]["S"]) for q in queries] == [
        ("by_user", "u-1"),
        ("by_user", "u-2"),
    ], "one Query on the GSI per user"
    assert dynamodb.count("Scan") == 0
    assert dynamodb.count("BatchWriteItem") == 1, "one delivery-log write, no deletes"


def test_two_messages_for_one_user_query_once(world: None, context: FakeLambdaContext) -> None:
    connect("tab-a", "u-1")
    management_api()
    dynamodb = record_calls("dynamodb")
    handler(sqs_event(QUEUE, message("n-1"), message("n-2")), context)
    assert dynamodb.count("Query") == 1
    assert [d["notification_id"] for d in received("tab-a")] == ["n-1", "n-2"]


def test_gone_connections_are_deleted_and_only_those(world: None, context: FakeLambdaContext) -> None:
    connect("live", "u-1")
    connect("stale", "u-1")
    connect("other-user", "u-2")
    api = management_api()
    api.always["stale"] = ("GoneException", 410)
    dynamodb = record_calls("dynamodb")

    response = handler(sqs_event(QUEUE, message()), context)

    assert failed_ids(response) == []
    assert connection_ids() == {"live", "other-user"}
    assert statuses() == {
        ("n-1", "u-1#websocket#live"): ("sent", None),
        ("n-1", "u-1#websocket#stale"): ("failed", "connection_gone"),
    }
    deletes = [
        request["DeleteRequest"]["Key"]
        for call in dynamodb.params("BatchWriteItem")
        for request in call["RequestItems"].get(TABLES["CONNECTIONS_TABLE"], [])
    ]
    assert deletes == [{"connection_id": {"S": "stale"}}]


def test_stale_connections_are_deleted_25_per_call(world: None, context: FakeLambdaContext) -> None:
    connect("live", "u-1")
    api = management_api()
    for n in range(30):
        connect(f"stale-{n:02}", "u-1")
        api.always[f"stale-{n:02}"] = ("GoneException", 410)
    dynamodb = record_calls("dynamodb")

    handler(sqs_event(QUEUE, message()), context)

    assert connection_ids() == {"live"}
    sizes = [
        len(call["RequestItems"][TABLES["CONNECTIONS_TABLE"]])
        for call in dynamodb.params("BatchWriteItem")
        if TABLES["CONNECTIONS_TABLE"] in call["RequestItems"]
    ]
    assert sizes == [25, 5]


def test_a_payload_over_128_kib_is_a_failed_row_and_no_call(world: None, context: FakeLambdaContext) -> None:
    connect("tab-a", "u-1")
    api = management_api()
    dynamodb = record_calls("dynamodb")

    response = handler(sqs_event(QUEUE, message(body="x" * MAX_PAYLOAD_BYTES)), context)

    assert failed_ids(response) == []
    assert api.posts == []
    assert dynamodb.count("Query") == 0
    assert statuses() == {("n-1", "u-1#websocket#-"): ("failed", "payload_too_large")}


def test_the_size_limit_is_on_the_posted_bytes() -> None:
    parsed, body = parse_websocket_message(json.dumps(message(body="é" * 100)))
    payload = websocket_worker.render_payload(parsed, body)
    assert len(payload) == len(body.encode()) + len(
        '{"notification_id":"n-1","type":"order_shipped","body":""}'
    )
    assert not websocket_worker.too_large(b"x" * MAX_PAYLOAD_BYTES)
    assert websocket_worker.too_large(b"x" * (MAX_PAYLOAD_BYTES + 1))


def test_a_user_without_connections_gets_a_no_connection_row(world: None, context: FakeLambdaContext) -> None:
    api = management_api()
    assert handler(sqs_event(QUEUE, message(user_id="u-9")), context) == {"batchItemFailures": []}
    assert api.posts == []
    assert statuses() == {("n-1", "u-9#websocket#-"): ("no_connection", None)}


def test_a_duplicate_message_posts_once(world: None, context: FakeLambdaContext) -> None:
    connect("tab-a", "u-1")
    api = management_api()
    handler(sqs_event(QUEUE, message(), message()), context)
    handler(sqs_event(QUEUE, message()), context)
    assert api.posts == ["tab-a"]
    assert len(received("tab-a")) == 1


def test_a_throttled_post_is_retried_without_posting_twice(
    world: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect("tab-a", "u-1")
    connect("tab-b", "u-1")
    api = management_api()
    api.faults["tab-b"] = [("LimitExceededException", 429)] * 3  # every attempt of the SDK

    with no_sleep(monkeypatch):
        first = handler(sqs_event(QUEUE, message()), context)
        second = handler(sqs_event(QUEUE, message()), context)

    assert failed_ids(first) == ["m-0"]
    assert failed_ids(second) == []
    assert len(received("tab-a")) == 1, "the connection already posted to is not posted to again"
    assert len(received("tab-b")) == 1
    assert api.posts.count("tab-b") == 4
    assert statuses()[("n-1", "u-1#websocket#tab-b")] == ("sent", None)


def test_delivery_log_rows_lost_when_the_final_write_fails_are_written_by_the_retry(
    world: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry found the claims complete, posted nothing and wrote no row (nor
    deleted the gone connection, whose delete shares the write's failure scope)."""
    connect("live", "u-1")
    connect("stale", "u-1")
    api = management_api()
    api.always["stale"] = ("GoneException", 410)
    batch = sqs_event(QUEUE, message(), message(user_id="u-9"))
    with no_sleep(monkeypatch):
        fail_attempts("dynamodb", "BatchWriteItem", [("InternalServerError", 500)] * 3)
        with pytest.raises(ClientError, match="InternalServerError"):
            handler(batch, context)
    assert statuses() == {} and connection_ids() == {"live", "stale"}

    assert failed_ids(handler(batch, context)) == []  # SQS redelivers the whole batch

    assert api.posts.count("live") == 1 and len(received("live")) == 1, "nothing is posted twice"
    assert api.posts.count("stale") == 1
    assert connection_ids() == {"live"}
    assert statuses() == {
        ("n-1", "u-1#websocket#live"): ("sent", None),
        ("n-1", "u-1#websocket#stale"): ("failed", "connection_gone"),
        ("n-1", "u-9#websocket#-"): ("no_connection", None),
    }


def test_payload_too_large_from_api_gateway_is_failed_not_retried(
    world: None, context: FakeLambdaContext
) -> None:
    connect("tab-a", "u-1")
    management_api().always["tab-a"] = ("PayloadTooLargeException", 413)
    assert handler(sqs_event(QUEUE, message()), context) == {"batchItemFailures": []}
    assert statuses() == {("n-1", "u-1#websocket#tab-a"): ("failed", "PayloadTooLargeException")}
    assert connection_ids() == {"tab-a"}


def test_connections_are_read_page_by_page(world: None, context: FakeLambdaContext) -> None:
    for n in range(5):
        connect(f"tab-{n}", "u-1", f"2026-11-24T09:0{n}:00.000Z")
    management_api()
    dynamodb = record_calls("dynamodb")
    client = websocket_worker.aws_clients.client("dynamodb")

    def small_pages(params: dict[str, Any], **_: Any) -> None:
        params["Limit"] = 2

    client.meta.events.register("provide-client-params.dynamodb.Query", small_pages)
    handler(sqs_event(QUEUE, message()), context)

    assert dynamodb.count("Query") == 3
    assert posted_connections() == {f"tab-{n}" for n in range(5)}


def test_a_malformed_body_fails_only_its_record(world: None, context: FakeLambdaContext) -> None:
    connect("tab-a", "u-1")
    management_api()
    with capture_logs(logger) as logs:
        response = handler(
            sqs_event(QUEUE, "not json", message(), {**message(), "channel": "email"}), context
        )
    assert failed_ids(response) == ["m-0", "m-2"]
    assert len(received("tab-a")) == 1
    problems = [line.get("problem") for line in logs() if line.get("decision") == "rejected"]
    assert problems == ["body is not JSON", "channel must be 'websocket', got 'email'"]


def test_a_failed_connections_query_fails_the_batch(
    world: None, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect("tab-a", "u-1")
    api = management_api()
    fail_attempts("dynamodb", "Query", [("ProvisionedThroughputExceededException", 400)] * 3)
    with no_sleep(monkeypatch), pytest.raises(ClientError):
        handler(sqs_event(QUEUE, message()), context)
    assert api.posts == []


def test_logs_never_contain_the_body(world: None, context: FakeLambdaContext) -> None:
    connect("tab-a", "u-1")
    management_api()
    with capture_logs(logger) as logs:
        handler(sqs_event(QUEUE, message(body="secret-body-text")), context)
    lines = logs()
    assert "secret-body-text" not in json.dumps(lines)
    assert any(line.get("notification_id") == "n-1" and line.get("sent") == 1 for line in lines)


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({}, "WEBSOCKET_MANAGEMENT_ENDPOINT is not set"),
        ({"WEBSOCKET_MANAGEMENT_ENDPOINT": "ftp://x"}, "must be https://"),
        ({"WEBSOCKET_MANAGEMENT_ENDPOINT": ENDPOINT, "MAX_CONCURRENT_POSTS": "0"}, "MAX_CONCURRENT_POSTS"),
        ({"WEBSOCKET_MANAGEMENT_ENDPOINT": ENDPOINT, "MAX_CONCURRENT_POSTS": "x"}, "must be an integer"),
        ({"WEBSOCKET_MANAGEMENT_ENDPOINT": ENDPOINT}, "CONNECTIONS_TABLE is not set"),
    ],
)
def test_settings_name_the_bad_variable(environ: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        load_settings(environ)


def test_settings_defaults() -> None:
    settings = load_settings({"WEBSOCKET_MANAGEMENT_ENDPOINT": ENDPOINT + "/", "CONNECTIONS_TABLE": "c"})
    assert (settings.endpoint, settings.user_index, settings.max_concurrent_posts) == (
        ENDPOINT,
        "by_user",
        16,
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"content": {}}, "content.body is missing or empty"),
        ({"content": {"body": ""}}, "content.body is missing or empty"),
        ({"channel": "push"}, "channel must be 'websocket'"),
        ({"version": 2}, "version must be 1"),
    ],
)
def test_parse_names_the_bad_field(change: dict[str, Any], problem: str) -> None:
    with pytest.raises(MalformedEventError, match=problem):
        parse_websocket_message(json.dumps({**message(), **change}))


# --- the fan-out core ----------------------------------------------------------------------------


def _error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "PostToConnection",
    )


def test_fan_out_classifies_each_outcome_and_posts_each_id_once() -> None:
    outcomes: dict[str, Exception | None] = {
        "ok": None,
        "gone": _error("GoneException", 410),
        "big": _error("PayloadTooLargeException", 413),
        "slow": _error("LimitExceededException", 429),
        "timeout": ReadTimeoutError(endpoint_url="https://x"),
    }
    calls: list[str] = []

    def post(connection_id: str, data: bytes) -> None:
        calls.append(connection_id)
        assert data == b"payload"
        error = outcomes[connection_id]
        if error is not None:
            raise error

    result = fan_out([*outcomes, "ok"], b"payload", post, max_workers=4)

    assert sorted(calls) == sorted(outcomes)
    assert result.sent == ["ok"]
    assert result.gone == ["gone"]
    assert result.failed == {"big": "PayloadTooLargeException"}
    assert result.retry == {"slow": "LimitExceededException", "timeout": "ReadTimeoutError"}
    assert result.calls == 5


def test_fan_out_is_concurrent_and_bounded() -> None:
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    def post(connection_id: str, data: bytes) -> None:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.02)
        with lock:
            state["now"] -= 1

    ids = [f"c-{n}" for n in range(40)]
    concurrent = fan_out(ids, b"x", post, max_workers=8)
    assert state["max"] == 8
    state["max"] = 0
    sequential = fan_out(ids, b"x", post, max_workers=1)
    assert state["max"] == 1
    assert concurrent.seconds * 3 < sequential.seconds
    with pytest.raises(ValueError, match="max_workers"):
        fan_out(ids, b"x", post, max_workers=0)


@examples(60)
@given(
    plan=st.dictionaries(
        st.text(alphabet="abcdef0123456789", min_size=1, max_size=6),
        st.sampled_from([None, ("GoneException", 410), ("PayloadTooLargeException", 413), ("Boom", 500)]),
        max_size=30,
    ),
    workers=st.integers(1, 8),
)
def test_fan_out_partitions_the_connections(plan: dict[str, tuple[str, int] | None], workers: int) -> None:
    def post(connection_id: str, data: bytes) -> None:
        fault = plan[connection_id]
        if fault is not None:
            raise _error(*fault)

    result = fan_out(list(plan) * 2, b"x", post, workers)

    groups = [set(result.sent), set(result.gone), set(result.failed), set(result.retry)]
    assert sum(len(group) for group in groups) == len(plan) == result.calls
    assert set().union(*groups) == set(plan)
    assert set(result.gone) == {c for c, f in plan.items() if f and f[1] == 410}
    assert set(result.sent) == {c for c, f in plan.items() if f is None}


def test_batch_delete_makes_ceil_n_over_25_calls_and_deduplicates(world: None) -> None:
    for n in range(51):
        connect(f"c-{n}", "u-1")
    keys = [{"connection_id": f"c-{n}"} for n in range(51)]
    calls = dynamodb_batch.batch_delete(TABLES["CONNECTIONS_TABLE"], [*keys, keys[0]])
    assert calls == 3
    assert connection_ids() == set()
    assert dynamodb_batch.batch_delete(TABLES["CONNECTIONS_TABLE"], []) == 0
