"""Per-user request limiting of the registration API (the stage's throttling was one
bucket shared by all users). The handler runs in-process against moto's ``limits`` table; the clock is
the test world's."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import NoCredentialsError
from conftest import capture_logs, examples
from hypothesis import given
from hypothesis import strategies as st

from notification_handlers import aws_clients
from notification_handlers.service import rate_limit
from notification_handlers.service.log import logger
from tests.unit.registration_api_fakes import (
    SUB,
    World,
    api_world,
    get_preferences,
    put_preferences,
    subscription,
)
from tests.unit.service_fakes import fail_attempts, no_sleep, record_calls, scan

CEILING = 5
OTHER = "a7c1d9e2-0b4f-4e8a-9c3d-5f6e7a8b9c0d"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with api_world(monkeypatch) as api:
        monkeypatch.setenv("REQUESTS_PER_USER_PER_MINUTE", str(CEILING))
        yield api


def test_registration_api_limits_each_user_separately(world: World) -> None:
    world.advance(seconds=20)  # 10:00:20: the window ends at 10:01:00
    assert [get_preferences().status for _ in range(CEILING)] == [200] * CEILING

    refused = get_preferences()

    assert refused.status == 429 and refused.error_code == "too_many_requests"
    assert refused.headers["retry-after"] == "40"
    assert refused.headers["content-type"] == "application/json"
    assert f"more than {CEILING} requests in a minute" in refused.body["error"]["message"]
    assert [get_preferences(sub=OTHER).status for _ in range(CEILING)] == [200] * CEILING, (
        "one user's requests never spend another user's allowance"
    )
    assert get_preferences(sub=OTHER).status == 429

    world.advance(seconds=40)  # the next window
    assert get_preferences().status == 200


def test_a_limited_request_does_no_route_work(world: World) -> None:
    for _ in range(CEILING):
        assert get_preferences().status == 200

    answer = put_preferences({"muted": True, "opt_outs": {}})

    assert answer.status == 429
    assert [item for item in scan("preferences") if item["user_id"] == SUB] == []
    assert subscription() is None


def test_one_conditional_update_per_request_on_a_window_key_that_expires(world: World) -> None:
    dynamodb = record_calls("dynamodb")
    get_preferences()

    [update] = dynamodb.params("UpdateItem")
    assert update["TableName"] == "limits"
    assert "#count < :ceiling" in update["ConditionExpression"]
    assert update["ExpressionAttributeNames"]["#count"] == "count"
    window_start = int(world.clock[0].timestamp()) // 60 * 60
    [item] = scan("limits")
    assert item == {
        "limit_key": f"requests#{SUB}#{window_start}",
        "count": 1,
        "expires_at": window_start + 60 + rate_limit.EXPIRY_GRACE_SECONDS,
    }


def test_a_refused_request_is_not_counted(world: World) -> None:
    for _ in range(CEILING + 3):
        get_preferences()
    [item] = scan("limits")
    assert item["count"] == CEILING


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ProvisionedThroughputExceededException", 400),
        ("InternalServerError", 500),
        # throttles the SDK retries that the limiter once raised as 500s (aws_clients.is_transient)
        ("Throttling", 400),
        ("TooManyRequestsException", 429),
    ],
)
def test_a_throttled_counter_lets_the_request_through(
    world: World, monkeypatch: pytest.MonkeyPatch, code: str, status: int
) -> None:
    with no_sleep(monkeypatch), capture_logs(logger) as logs:
        fail_attempts("dynamodb", "UpdateItem", [(code, status)] * 3, table="limits")  # all SDK attempts
        answer = get_preferences()

    assert answer.status == 200
    [warning] = [line for line in logs() if line["level"] == "WARNING"]
    assert warning["error_code"] == code and "fail open" in warning["message"]


def test_a_broken_limiter_is_an_error_not_an_open_door(world: World) -> None:
    fail_attempts("dynamodb", "UpdateItem", [("AccessDeniedException", 400)], table="limits")
    answer = get_preferences()
    assert answer.status == 500 and answer.error_code == "internal_error"
    assert "AccessDenied" not in json.dumps(answer.body)


def test_missing_credentials_are_an_error_not_an_open_door(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore errors no retry cures are not "unavailable": the limiter does not fail open on them."""

    def no_credentials(**_: object) -> None:
        raise NoCredentialsError()

    monkeypatch.setattr(aws_clients.client("dynamodb"), "update_item", no_credentials)
    answer = get_preferences()
    assert answer.status == 500 and answer.error_code == "internal_error"


def test_a_bad_ceiling_is_a_configuration_error(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_PER_USER_PER_MINUTE", "0")
    assert get_preferences().status == 500


@given(now=st.floats(min_value=0, max_value=4e9, allow_nan=False), user=st.sampled_from([SUB, OTHER]))
@examples(200)
def test_a_window_contains_its_moment_and_names_its_user(now: float, user: str) -> None:
    current = rate_limit.window(user, now)
    start = current.ends_at - rate_limit.WINDOW_SECONDS
    assert start <= now < current.ends_at
    assert current.key == f"requests#{user}#{start}"
    assert 1 <= current.retry_after(now) <= rate_limit.WINDOW_SECONDS
    assert current.expires_at > current.ends_at
    assert rate_limit.window(user, start).key == current.key
    assert rate_limit.window(user, current.ends_at).key != current.key
