"""Frequency caps (``max_per_user``): the catalog field, the pure bucket/key/request, and the router against
moto: deliveries beyond the cap are logged ``suppressed_frequency_cap``, a burst of racing deliveries passes
exactly ``count``, and a retried batch is not counted twice."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from notification_handlers.service import catalog, frequency_caps, router, sqs_batch
from notification_handlers.service.log import logger
from notification_handlers.service.partial_batch import EntireBatchFailedError
from notification_handlers.service.type_options import FrequencyCap
from tests.unit import test_service_router
from tests.unit.conftest import FakeLambdaContext, capture_logs
from tests.unit.service_fakes import create_table, fail_attempts, record_calls, scan
from tests.unit.test_service_router import ORDER_SHIPPED, SECURITY_ALERT, Service, batch, event
from tests.unit.test_service_router import nid as key_nid

service = test_service_router.service  # the router's tables and queues in moto (a fixture)


def nid(name: str) -> str:
    """The notification id of ``event(name, ...)`` (no idempotencyKey: the event id ``evt-<name>``)."""
    return key_nid(f"evt-{name}")


CAPPED = {**ORDER_SHIPPED, "max_per_user": {"count": 2, "period_seconds": 3600}}


# --- the catalog field and the pure parts ------------------------------------------------------------


def test_cap_is_parsed_with_drop_as_the_default_overflow() -> None:
    definition = catalog.parse_definition("order_shipped", CAPPED)
    assert definition.max_per_user == FrequencyCap(2, 3600, "drop")


@pytest.mark.parametrize(
    ("cap", "extra", "reason"),
    [
        ({"count": 0, "period_seconds": 3600}, {}, "max_per_user.count must be 1-1000"),
        ({"count": 1001, "period_seconds": 3600}, {}, "max_per_user.count must be 1-1000"),
        ({"count": 1.5, "period_seconds": 3600}, {}, "count must be a whole number"),
        ({"count": True, "period_seconds": 3600}, {}, "count must be a whole number"),
        ({"count": 1, "period_seconds": 59}, {}, "period_seconds must be 60-2592000"),
        ({"count": 1}, {}, "period_seconds must be a whole number"),
        ({"count": 1, "period_seconds": 60, "overflow": "queue"}, {}, "overflow must be one of drop, digest"),
        ({"count": 1, "period_seconds": 60, "overflow": "digest"}, {}, "needs the type to declare digest"),
        ({"count": 1, "period_seconds": 60, "burst": 2}, {}, "unknown key"),
        ({"count": 1, "period_seconds": 60}, {"critical": True}, "not allowed on a critical type"),
        (
            {"count": 1, "period_seconds": 60},
            {
                "digest": {"window_seconds": 3600, "max_items": 5},
                "templates": {"en": {"email": {"subject": "{{ digest.count }} orders", "text": "Shipped."}}},
            },
            'may only use max_per_user.overflow = "digest"',
        ),
        ("3/h", {}, "max_per_user must be an object"),
    ],
)
def test_bad_caps_break_the_type_with_a_reason(cap: Any, extra: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("(", r"\(")):
        catalog.parse_definition("order_shipped", {**ORDER_SHIPPED, **extra, "max_per_user": cap})


def test_bucket_is_the_fixed_period_since_the_epoch() -> None:
    assert frequency_caps.bucket(0, 3600) == 0
    assert frequency_caps.bucket(3599.999, 3600) == 0
    assert frequency_caps.bucket(3600, 3600) == 1
    assert frequency_caps.bucket(1_764_925_200.5, 86_400) == 20427


def test_counter_key_puts_the_user_last_so_a_hash_in_it_is_unambiguous() -> None:
    assert frequency_caps.counter_key("order_shipped", "u#1", 3600, 7) == "cap#order_shipped#3600#7#u#1"


def test_admit_request_is_one_conditional_update_with_ttl_at_the_bucket_end() -> None:
    params = frequency_caps.admit_request(
        "limits",
        FrequencyCap(3, 60),
        notification_type="t",
        user_id="u-1",
        notification_id="a" * 64,
        now_epoch=125,
    )
    assert params["Key"] == {"limit_key": {"S": "cap#t#60#2#u-1"}}
    assert params["UpdateExpression"] == "ADD #count :one, #ids :id SET #expires = :expires"
    assert params["ConditionExpression"] == (
        "(attribute_not_exists(#count) OR #count < :ceiling) AND NOT contains(#ids, :short)"
    )
    values = params["ExpressionAttributeValues"]
    assert values[":ceiling"] == {"N": "3"} and values[":expires"] == {"N": "180"}
    assert values[":id"] == {"SS": ["a" * 32]} and values[":short"] == {"S": "a" * 32}


# --- the router --------------------------------------------------------------------------------------


@pytest.fixture
def capped(service: Service, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    create_table("limits", "limit_key")
    monkeypatch.setenv("LIMITS_TABLE", "limits")
    service.put_type("order_shipped", CAPPED)
    yield service


def route(*bodies: dict[str, Any]) -> dict[str, Any]:
    return router.handler(batch(*bodies), FakeLambdaContext(function_name="svc-router"))


def test_deliveries_beyond_the_cap_are_logged_not_sent(capped: Service) -> None:
    with capture_logs(logger) as logs:
        assert route(*(event(f"c-{n}", ["u-2"]) for n in range(3))) == {"batchItemFailures": []}
        assert route(event("c-3", ["u-2", "u-1"])) == {"batchItemFailures": []}
    assert sorted(m["notification_id"] for m in capped.emails()) == sorted([nid("c-0"), nid("c-1")])
    rows = {
        (row["notification_id"], row["user_id"], row["channel"], row["status"])
        for row in scan("delivery-log")
    }
    assert (nid("c-2"), "u-2", "email", "suppressed_frequency_cap") in rows
    assert (nid("c-3"), "u-2", "email", "suppressed_frequency_cap") in rows
    # u-1 is muted: nothing to deliver, so nothing counted.
    assert (nid("c-3"), "u-1", "email", "suppressed_preference") in rows
    assert not any(row["limit_key"].endswith("#u-1") for row in scan("limits"))
    capped_lines = [line for line in logs() if line.get("outcome") == "suppressed_frequency_cap"]
    assert [(line["recipients"], line["overflow"]) for line in capped_lines] == [(1, "drop"), (1, "drop")]
    assert all("u-2" not in json.dumps(line) for line in capped_lines)  # no recipients in logs


def test_other_types_and_other_users_have_their_own_counters(capped: Service) -> None:
    route(*(event(f"c-{n}", ["u-2"]) for n in range(2)))
    route(event("c-9", ["u-3"]))  # u-3 opted out of order_shipped email: nothing counted
    alert = json.loads(json.dumps(event("x", ["u-2"])))
    alert["detail-type"] = "security_alert"
    alert["detail"]["data"] = {"ip": "198.51.100.7"}
    route(alert)
    assert len(capped.emails()) == 3
    assert SECURITY_ALERT["critical"] is True


def test_a_retried_batch_is_not_counted_twice(capped: Service) -> None:
    first, second = event("r-1", ["u-2"]), event("r-2", ["u-2"])
    # Counted, then the fan-out fails: the whole batch is retried.
    fail_attempts("sqs", "SendMessageBatch", [("AccessDenied", 400)] * sqs_batch.MAX_ROUNDS)
    with pytest.raises(EntireBatchFailedError):
        route(first, second)
    assert capped.emails() == []
    assert route(first, second) == {"batchItemFailures": []}
    assert len(capped.emails()) == 2  # both still fit the cap of 2: the first attempt's counts are reused
    [counter] = scan("limits")
    assert counter["count"] == 2
    assert route(event("r-3", ["u-2"])) == {"batchItemFailures": []}
    assert capped.emails() == []


def test_a_failed_count_fails_the_record_and_sends_nothing(capped: Service) -> None:
    fail_attempts("dynamodb", "UpdateItem", [("AccessDeniedException", 400)], table="limits")
    response = route(event("f-1", ["u-2"]), event("f-2", ["u-2"]))
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == ["m-0"]
    assert [m["notification_id"] for m in capped.emails()] == [nid("f-2")]
    assert route(event("f-1", ["u-2"])) == {"batchItemFailures": []}
    assert [m["notification_id"] for m in capped.emails()] == [nid("f-1")]


def test_one_call_per_recipient_even_over_the_cap(capped: Service) -> None:
    calls = record_calls("dynamodb")
    route(*(event(f"k-{n}", ["u-2"]) for n in range(3)))
    on_limits = [params for params in calls.params("UpdateItem") if params["TableName"] == "limits"]
    assert len(on_limits) == 3
    # The third is refused: over the cap, or a retry? The counter the refusal returns says over; no read.
    assert {params["ReturnValuesOnConditionCheckFailure"] for params in on_limits} == {"ALL_OLD"}
    assert calls.count("GetItem") == 0


def test_the_cap_holds_under_a_burst_of_racing_deliveries(capped: Service, atomic_dynamodb: None) -> None:
    cap = FrequencyCap(5, 3600)
    admitted: list[bool] = []
    barrier = threading.Barrier(16)

    def deliver(n: int) -> None:
        barrier.wait()
        admitted.append(frequency_caps.admit(cap, "order_shipped", "u-2", f"{n:032x}{0:032x}", 1_764_925_200))

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 5
    [counter] = scan("limits")
    assert counter["count"] == 5 and len(counter["ids"]) == 5
    # Each admitted notification, delivered again (a retry), is admitted again; the others stay refused.
    again = [
        frequency_caps.admit(cap, "order_shipped", "u-2", f"{n:032x}{0:032x}", 1_764_925_200)
        for n in range(16)
    ]
    assert again.count(True) == 5
