"""One shape for every counter of the limits table (``limit_counters``): +1 below a ceiling, -1 never below 0,
and the shared rule of what is transient (``aws_clients.is_transient``). Against moto's DynamoDB."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)
from moto import mock_aws

from notification_handlers import aws_clients
from notification_handlers.service import device_ownership, limit_counters
from tests.unit.service_fakes import create_table, scan
from tools.emulator.account import DEFAULT_REGION as REGION

TABLE = "limits"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        aws_clients.reset_clients()
        create_table(TABLE, "limit_key")
        yield boto3.client("dynamodb", region_name=REGION)
    aws_clients.reset_clients()


def _refused(call: Any) -> bool:
    try:
        call()
    except ClientError as error:
        assert aws_clients.error_code(error) == "ConditionalCheckFailedException"
        return True
    return False


def counter(key: str) -> dict[str, Any] | None:
    found = [item for item in scan(TABLE) if item["limit_key"] == key]
    return found[0] if found else None


def test_count_one_adds_up_to_the_ceiling_and_sets_the_expiry(dynamodb: Any) -> None:
    params = limit_counters.count_one(TABLE, "k", 3, expires_at=1_900_000_000)

    outcomes = [_refused(lambda: dynamodb.update_item(**params)) for _ in range(5)]

    assert outcomes == [False, False, False, True, True]
    assert counter("k") == {"limit_key": "k", "count": 3, "expires_at": 1_900_000_000}


def test_count_one_without_ceiling_or_expiry_only_counts() -> None:
    params = limit_counters.count_one(TABLE, "k", None)
    assert params["UpdateExpression"] == "ADD #count :one"
    assert "ConditionExpression" not in params
    assert params["ExpressionAttributeValues"] == {":one": {"N": "1"}}


def test_give_back_takes_one_off_and_never_goes_below_zero(dynamodb: Any) -> None:
    dynamodb.update_item(**limit_counters.count_one(TABLE, "k", 5))
    give_back = limit_counters.give_back_one(TABLE, "k")

    assert not _refused(lambda: dynamodb.update_item(**give_back))
    assert _refused(lambda: dynamodb.update_item(**give_back)), "the floor: a counter at 0 stays at 0"
    assert _refused(lambda: dynamodb.update_item(**limit_counters.give_back_one(TABLE, "never-counted")))

    assert counter("k") == {"limit_key": "k", "count": 0}
    assert counter("never-counted") is None, "a give-back creates no counter (it would be -1)"


def test_a_transaction_element_is_the_update_and_a_give_back_is_recognised() -> None:
    count = limit_counters.in_transaction(limit_counters.count_one(TABLE, "k", 2))
    give_back = limit_counters.in_transaction(limit_counters.give_back_one(TABLE, "k"))
    assert count == {"Update": limit_counters.count_one(TABLE, "k", 2)}
    assert limit_counters.is_give_back(give_back) and not limit_counters.is_give_back(count)
    assert not limit_counters.is_give_back({"Delete": {"TableName": TABLE}})


def test_a_device_counter_at_zero_is_floored_and_the_release_still_commits(dynamodb: Any) -> None:
    """A -1 refused only by the floor is dropped; the rest of the transaction (the release) commits."""
    create_table("device-owners", "device_key")
    create_table("device-tokens", "user_id", "device_key")
    dynamodb.put_item(TableName="device-owners", Item={"device_key": {"S": "fcm#t"}, "user_id": {"S": "u-1"}})
    dynamodb.put_item(TableName="device-tokens", Item={"user_id": {"S": "u-1"}, "device_key": {"S": "fcm#t"}})
    dynamodb.put_item(TableName=TABLE, Item={"limit_key": {"S": "devices#u-1"}, "count": {"N": "0"}})

    device_ownership.transact(
        device_ownership.release_items("device-tokens", "device-owners", TABLE, "u-1", "fcm#t")
    )

    assert scan("device-owners") == [] and scan("device-tokens") == []
    assert counter("devices#u-1") == {"limit_key": "devices#u-1", "count": 0}


def test_a_transaction_refused_by_another_condition_is_not_retried(dynamodb: Any) -> None:
    create_table("device-owners", "device_key")
    create_table("device-tokens", "user_id", "device_key")
    dynamodb.put_item(TableName="device-owners", Item={"device_key": {"S": "fcm#t"}, "user_id": {"S": "u-2"}})
    dynamodb.put_item(TableName=TABLE, Item={"limit_key": {"S": "devices#u-1"}, "count": {"N": "0"}})

    with pytest.raises(ClientError) as raised:
        device_ownership.transact(
            device_ownership.release_items("device-tokens", "device-owners", TABLE, "u-1", "fcm#t")
        )

    assert device_ownership.failed_at(device_ownership.cancellation_reasons(raised.value) or [], 0)
    assert scan("device-owners") == [{"device_key": "fcm#t", "user_id": "u-2"}]


def _client_error(code: str, status: int = 400, reasons: list[str] | None = None) -> ClientError:
    response: dict[str, Any] = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": reason} for reason in reasons]
    return ClientError(response, "Operation")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (_client_error("Throttling"), True),
        (_client_error("ThrottlingException"), True),
        (_client_error("TooManyRequestsException", 429), True),
        (_client_error("ProvisionedThroughputExceededException"), True),
        (_client_error("RequestLimitExceeded"), True),
        (_client_error("LimitExceededException"), True),
        (_client_error("TransactionConflictException"), True),
        (_client_error("RequestTimeout"), True),
        (_client_error("InternalError", 500), True),
        (_client_error("Unknown", 503), True),
        (_client_error("TransactionCanceledException", 400, ["None", "TransactionConflict"]), True),
        (_client_error("TransactionCanceledException", 400, ["ThrottlingError", "None"]), True),
        (ReadTimeoutError(endpoint_url="https://dynamodb"), True),
        (ConnectTimeoutError(endpoint_url="https://dynamodb"), True),
        (EndpointConnectionError(endpoint_url="https://dynamodb"), True),
        (_client_error("ConditionalCheckFailedException"), False),
        (_client_error("TransactionCanceledException", 400, ["ConditionalCheckFailed", "None"]), False),
        (_client_error("AccessDeniedException"), False),
        (_client_error("ResourceNotFoundException"), False),
        (_client_error("ValidationException"), False),
        (NoCredentialsError(), False),
        (ParamValidationError(report="bad"), False),
        (ValueError("not an AWS error"), False),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, bool) else str(value),
)
def test_one_rule_of_what_is_transient(error: Exception, transient: bool) -> None:
    assert aws_clients.is_transient(error) is transient
