"""The notification service's shared modules against moto: batched DynamoDB and SQS calls with their
retries (throttling, 5xx, UnprocessedKeys/UnprocessedItems, partial SendMessageBatch failures), the
Powertools-backed de-duplicator, the delivery log and the channel message."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest

# Not in the Lambda zip any more: here only to prove the handlers read and write the same records.
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyItemAlreadyExistsError
from moto import mock_aws

from notification_handlers import aws_clients
from notification_handlers.event_fields import ConfigurationError, MalformedEventError
from notification_handlers.service import (
    channel_message,
    delivery_log,
    dynamodb_batch,
    idempotency,
    sqs_batch,
)
from notification_handlers.service.channel_message import ChannelMessage, parse_channel_message
from notification_handlers.service.delivery_log import Delivery
from notification_handlers.service.idempotency import Claim, Deduplicator
from notification_handlers.service.sqs_batch import OutgoingMessage
from tests.unit.service_fakes import (
    create_queue,
    create_table,
    fail_attempts,
    no_sleep,
    receive_all,
    record_calls,
    scan,
    withhold,
)
from tools.emulator.account import DEFAULT_REGION as REGION

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    with no_sleep(monkeypatch) as recorded:
        yield recorded


def put_users(table: str, count: int) -> None:
    dynamodb_batch.batch_write(table, [{"user_id": f"u-{n}", "n": n} for n in range(count)])


# --- dynamodb_batch ------------------------------------------------------------------------------


def test_batch_write_then_get_round_trips_plain_values_in_chunks(aws: None, sleeps: list[float]) -> None:
    create_table("users", "user_id")
    calls = record_calls("dynamodb")
    items = [
        {"user_id": f"u-{n}", "score": 1.5, "tags": ["a", {"deep": 0.1}], "flag": True, "none": None}
        for n in range(260)
    ]
    dynamodb_batch.batch_write("users", items)
    assert calls.count("BatchWriteItem") == 11  # ceil(260 / 25)
    keys = [{"user_id": f"u-{n}"} for n in range(260)] + [{"user_id": "u-0"}, {"user_id": "missing"}]
    got = dynamodb_batch.batch_get("users", keys)
    assert calls.count("BatchGetItem") == 3  # 261 unique keys, 100 per call
    assert all(len(p["RequestItems"]["users"]["Keys"]) <= 100 for p in calls.params("BatchGetItem"))
    by_id = {item["user_id"]: item for item in got}
    assert len(got) == 260 and "missing" not in by_id
    assert by_id["u-7"] == {
        "user_id": "u-7",
        "score": Decimal("1.5"),
        "tags": ["a", {"deep": Decimal("0.1")}],
        "flag": True,
        "none": None,
    }
    assert sleeps == []


def test_batch_get_projection_always_includes_the_key(aws: None) -> None:
    create_table("users", "user_id")
    dynamodb_batch.batch_write("users", [{"user_id": "u-1", "email": "a@example.com", "secret": "x"}])
    got = dynamodb_batch.batch_get("users", [{"user_id": "u-1"}], attributes=["email"])
    assert got == [{"user_id": "u-1", "email": "a@example.com"}]


def test_batch_get_without_keys_makes_no_call(aws: None) -> None:
    calls = record_calls("dynamodb")
    assert dynamodb_batch.batch_get("users", []) == []
    assert calls.attempts == []


def _withhold_keys(count: int) -> tuple[Any, Any]:
    """Withhold the last ``count`` keys of a call (always sending at least one); count 0: send every key
    and still report every key unprocessed."""

    def split(params: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        (table, request), *_ = params["RequestItems"].items()
        keys = request["Keys"]
        cut = max(1, len(keys) - count) if count else len(keys)
        kept, held = keys[:cut], (keys[cut:] if count else keys)
        return {**params, "RequestItems": {table: {**request, "Keys": kept}}}, (table, request, held)

    def merge(parsed: dict[str, Any], withheld: Any) -> None:
        table, request, held = withheld
        parsed["UnprocessedKeys"] = {table: {**request, "Keys": held}}

    return split, merge


def test_batch_get_retries_unprocessed_keys_with_backoff(aws: None, sleeps: list[float]) -> None:
    create_table("users", "user_id")
    put_users("users", 30)
    withhold("dynamodb", "BatchGetItem", *_withhold_keys(7), times=2)
    calls = record_calls("dynamodb")
    got = dynamodb_batch.batch_get("users", [{"user_id": f"u-{n}"} for n in range(30)])
    assert sorted(item["n"] for item in got) == list(range(30))
    sizes = [len(p["RequestItems"]["users"]["Keys"]) for p in calls.params("BatchGetItem")]
    assert sizes == [23, 1, 6]  # 7 withheld, then 6 of those 7, then the last 6 go through
    assert len(sleeps) == 2 and all(0 <= s <= dynamodb_batch._backoff.CAP_SECONDS for s in sleeps)


def test_batch_get_gives_up_after_max_rounds(aws: None, sleeps: list[float]) -> None:
    create_table("users", "user_id")
    put_users("users", 5)
    withhold("dynamodb", "BatchGetItem", *_withhold_keys(0), times=100)
    with pytest.raises(dynamodb_batch.UnprocessedItemsError, match="5 item"):
        dynamodb_batch.batch_get("users", [{"user_id": f"u-{n}"} for n in range(5)])
    assert len(sleeps) == dynamodb_batch.MAX_ROUNDS - 1


def test_batch_write_retries_unprocessed_items(aws: None, sleeps: list[float]) -> None:
    create_table("log", "notification_id", "delivery_key")

    def split(params: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        (table, requests), *_ = params["RequestItems"].items()
        return {**params, "RequestItems": {table: requests[:-3]}}, (table, requests[-3:])

    def merge(parsed: dict[str, Any], withheld: Any) -> None:
        parsed["UnprocessedItems"] = {withheld[0]: withheld[1]}

    withhold("dynamodb", "BatchWriteItem", split, merge, times=1)
    dynamodb_batch.batch_write(
        "log", [{"notification_id": "n-1", "delivery_key": f"u-{n}#email#-"} for n in range(10)]
    )
    assert len(scan("log")) == 10
    assert len(sleeps) == 1


@pytest.mark.parametrize(("code", "status"), [("ThrottlingException", 400), ("InternalServerError", 500)])
def test_transient_call_failures_are_retried_by_the_sdk(
    aws: None, sleeps: list[float], code: str, status: int
) -> None:
    create_table("users", "user_id")
    put_users("users", 3)
    fail_attempts("dynamodb", "BatchGetItem", [(code, status), (code, status)])
    calls = record_calls("dynamodb")
    got = dynamodb_batch.batch_get("users", [{"user_id": "u-1"}])
    assert [item["user_id"] for item in got] == ["u-1"]
    assert calls.count("BatchGetItem") == 3  # 2 injected failures + the attempt moto answered


def test_persistent_throttling_raises(aws: None, sleeps: list[float]) -> None:
    create_table("users", "user_id")
    fail_attempts("dynamodb", "BatchWriteItem", [("ProvisionedThroughputExceededException", 400)] * 3)
    with pytest.raises(Exception, match="ProvisionedThroughputExceeded"):
        dynamodb_batch.batch_write("users", [{"user_id": "u-1"}])


# --- sqs_batch -----------------------------------------------------------------------------------


def messages(count: int, size: int = 10) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(f"m{n}", json.dumps({"n": n, "pad": "x" * size}), {"kind": "t"}) for n in range(count)
    ]


def test_send_batch_sends_ten_per_call_with_string_attributes(aws: None, sleeps: list[float]) -> None:
    url = create_queue("email")
    calls = record_calls("sqs")
    assert sqs_batch.send_batch(url, messages(23)) == set()
    assert [len(p["Entries"]) for p in calls.params("SendMessageBatch")] == [10, 10, 3]
    received = receive_all(url)
    assert sorted(json.loads(m["Body"])["n"] for m in received) == list(range(23))
    assert received[0]["MessageAttributes"] == {"kind": {"StringValue": "t", "DataType": "String"}}
    assert sleeps == []


def test_pack_respects_the_payload_limit() -> None:
    big = messages(10, size=60 * 1024)  # ~60 KiB each: 4 fit in 256 KiB
    groups = sqs_batch.pack(big)
    assert [len(group) for group in groups] == [4, 4, 2]
    assert all(sum(m.payload_bytes() for m in g) <= sqs_batch.MAX_PAYLOAD_BYTES for g in groups)
    huge = [OutgoingMessage("h", "x" * (300 * 1024)), *messages(2)]
    assert [len(group) for group in sqs_batch.pack(huge)] == [1, 2]


def test_payload_bytes_counts_utf8_and_attributes() -> None:
    assert OutgoingMessage("a", "é", {"ab": "c"}).payload_bytes() == 2 + 2 + len("String") + 1


def _fail_entries(ids: set[str], *, sender_fault: bool, code: str) -> tuple[Any, Any]:
    def split(params: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        kept = [entry for entry in params["Entries"] if entry["Id"] not in ids]
        held = [entry["Id"] for entry in params["Entries"] if entry["Id"] in ids]
        return {**params, "Entries": kept}, held

    def merge(parsed: dict[str, Any], held: Any) -> None:
        parsed.setdefault("Failed", []).extend(
            {"Id": entry_id, "SenderFault": sender_fault, "Code": code, "Message": "injected"}
            for entry_id in held
        )

    return split, merge


def test_service_side_entry_failures_are_resent(aws: None, sleeps: list[float]) -> None:
    url = create_queue("email")
    withhold(
        "sqs",
        "SendMessageBatch",
        *_fail_entries({"m1", "m4"}, sender_fault=False, code="InternalError"),
        times=1,
    )
    calls = record_calls("sqs")
    assert sqs_batch.send_batch(url, messages(5)) == set()
    assert [sorted(e["Id"] for e in p["Entries"]) for p in calls.params("SendMessageBatch")] == [
        ["m0", "m2", "m3"],  # what reached SQS; m1 and m4 came back Failed (SenderFault false)
        ["m1", "m4"],
    ]
    assert sorted(json.loads(m["Body"])["n"] for m in receive_all(url)) == [0, 1, 2, 3, 4]
    assert len(sleeps) == 1


def test_sender_fault_entries_are_not_resent_and_are_returned(aws: None, sleeps: list[float]) -> None:
    url = create_queue("email")
    withhold(
        "sqs",
        "SendMessageBatch",
        *_fail_entries({"m2"}, sender_fault=True, code="InvalidMessageContents"),
        times=5,
    )
    calls = record_calls("sqs")
    assert sqs_batch.send_batch(url, messages(3)) == {"m2"}
    assert calls.count("SendMessageBatch") == 1
    assert sorted(json.loads(m["Body"])["n"] for m in receive_all(url)) == [0, 1]


def test_entries_failing_every_round_are_returned(aws: None, sleeps: list[float]) -> None:
    url = create_queue("email")
    withhold(
        "sqs", "SendMessageBatch", *_fail_entries({"m0"}, sender_fault=False, code="InternalError"), times=99
    )
    assert sqs_batch.send_batch(url, messages(2)) == {"m0"}
    assert len(sleeps) == sqs_batch.MAX_ROUNDS - 1


def test_a_call_failing_after_sdk_retries_fails_only_its_entries(aws: None, sleeps: list[float]) -> None:
    url = create_queue("email")
    # The first call (m0-m9) is throttled on all 3 SDK attempts of every round; the second call goes out.
    throttles = [("ThrottlingException", 400)] * 3
    fail_attempts("sqs", "SendMessageBatch", throttles)
    failed = sqs_batch.send_batch(url, messages(12))
    assert failed == set()  # round 2 re-sent m0-m9
    fail_attempts("sqs", "SendMessageBatch", throttles * sqs_batch.MAX_ROUNDS)
    url2 = create_queue("email2")
    assert sqs_batch.send_batch(url2, messages(3)) == {"m0", "m1", "m2"}
    assert receive_all(url2) == []


def test_send_batch_refuses_duplicate_or_invalid_ids() -> None:
    with pytest.raises(ValueError, match="used twice"):
        sqs_batch.send_batch("https://q", [OutgoingMessage("a", "1"), OutgoingMessage("a", "2")])
    with pytest.raises(ValueError, match="not 1-80"):
        sqs_batch.send_batch("https://q", [OutgoingMessage("a#b", "1")])


# --- idempotency ---------------------------------------------------------------------------------


@pytest.fixture
def dedup_table(aws: None) -> str:
    create_table("idempotency", "id")
    return "idempotency"


def test_claim_complete_release_cycle(dedup_table: str) -> None:
    dedup = Deduplicator(dedup_table, 3600, "router")
    assert dedup.claim("n-1", remaining_time_in_millis=60_000) is Claim.CLAIMED
    assert dedup.claim("n-1") is Claim.IN_PROGRESS
    dedup.complete("n-1")
    assert dedup.claim("n-1") is Claim.ALREADY_DONE
    assert dedup.claim("n-2") is Claim.CLAIMED
    dedup.release("n-2")
    assert dedup.claim("n-2") is Claim.CLAIMED
    items = {item["status"]: item for item in scan(dedup_table)}
    assert set(items) == {"COMPLETED", "INPROGRESS"}
    assert all(item["id"].startswith("router#") for item in items.values())
    now = datetime.now(UTC).timestamp()
    assert 3500 < int(items["COMPLETED"]["expiration"]) - now <= 3600
    assert "in_progress_expiration" in items["INPROGRESS"]


def test_an_expired_in_progress_claim_can_be_taken_over(dedup_table: str) -> None:
    dedup = Deduplicator(dedup_table, 3600, "router")
    assert dedup.claim("n-1", remaining_time_in_millis=0) is Claim.CLAIMED  # the invocation died at once
    assert dedup.claim("n-1", remaining_time_in_millis=60_000) is Claim.CLAIMED


def test_functions_do_not_share_records(dedup_table: str) -> None:
    Deduplicator(dedup_table, 3600, "router").claim("k")
    assert Deduplicator(dedup_table, 3600, "email-worker").claim("k") is Claim.CLAIMED


def test_deduplicator_from_env(dedup_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    idempotency.deduplicator_from_env.cache_clear()
    monkeypatch.setenv("IDEMPOTENCY_TABLE", dedup_table)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "svc-router")
    try:
        assert idempotency.deduplicator_from_env().claim("n-9") is Claim.CLAIMED
        assert idempotency.deduplicator_from_env() is idempotency.deduplicator_from_env()
        (item,) = scan(dedup_table)
        assert item["id"].startswith("svc-router#")
        assert int(item["expiration"]) - datetime.now(UTC).timestamp() > 86_000  # default TTL 86400
    finally:
        idempotency.deduplicator_from_env.cache_clear()


def test_deduplicator_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    idempotency.deduplicator_from_env.cache_clear()
    monkeypatch.delenv("IDEMPOTENCY_TABLE", raising=False)
    with pytest.raises(ConfigurationError, match="IDEMPOTENCY_TABLE"):
        idempotency.deduplicator_from_env()
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "t")
    monkeypatch.setenv("IDEMPOTENCY_TTL_SECONDS", "soon")
    with pytest.raises(ConfigurationError, match="IDEMPOTENCY_TTL_SECONDS"):
        idempotency.deduplicator_from_env()
    idempotency.deduplicator_from_env.cache_clear()


def test_claim_raises_on_aws_failure(dedup_table: str, sleeps: list[float]) -> None:
    dedup = Deduplicator(dedup_table, 3600, "router")
    fail_attempts("dynamodb", "PutItem", [("InternalServerError", 500)] * 3)
    with pytest.raises(Exception, match="InternalServerError"):
        dedup.claim("n-1")


def _powertools_store(table: str, function_name: str) -> Any:
    """The Powertools idempotency store as the service configured it before it wrote records itself."""
    layer = DynamoDBPersistenceLayer(
        table_name=table, boto3_client=boto3.client("dynamodb", region_name=REGION)
    )
    config = IdempotencyConfig(
        event_key_jmespath="key", raise_on_no_idempotency_key=True, expires_after_seconds=3600
    )
    layer.configure(config, key_prefix=function_name)
    return layer


def test_records_of_the_previous_powertools_store_are_honoured_both_ways(dedup_table: str) -> None:
    """An upgrade replaces a running version: claims and results it wrote must hold for the new code, and
    the new code's for a version still running the old one (the same table, ids and attributes)."""
    old = _powertools_store(dedup_table, "router")
    new = Deduplicator(dedup_table, 3600, "router")
    old.save_inprogress({"key": "n-1"}, remaining_time_in_millis=60_000)
    assert new.claim("n-1") is Claim.IN_PROGRESS
    old.save_inprogress({"key": "n-2"}, remaining_time_in_millis=60_000)
    old.save_success({"key": "n-2"}, result={"status": "sent"})
    assert new.claim_with_result("n-2") == (Claim.ALREADY_DONE, {"status": "sent"})

    assert new.claim("n-3", remaining_time_in_millis=60_000) is Claim.CLAIMED
    with pytest.raises(IdempotencyItemAlreadyExistsError):
        old.save_inprogress({"key": "n-3"}, remaining_time_in_millis=60_000)
    new.complete("n-3", {"status": "sent"})
    with pytest.raises(IdempotencyItemAlreadyExistsError) as refused:
        old.save_inprogress({"key": "n-3"}, remaining_time_in_millis=60_000)
    assert refused.value.old_data_record is not None
    assert refused.value.old_data_record.status == "COMPLETED"
    assert refused.value.old_data_record.response_json_as_dict() == {"status": "sent"}
    assert idempotency.record_id("router", "n-3") == old._get_hashed_idempotency_key({"key": "n-3"})


def test_the_functions_are_granted_exactly_the_calls_the_deduplicator_makes(dedup_table: str) -> None:
    """iam.tf's idempotency actions, both ways: nothing the code calls is missing, nothing granted unused."""
    granted = re.search(
        r"idempotency_actions\s*=\s*\[([^\]]*)\]", (REPO_ROOT / "iam.tf").read_text(encoding="utf-8")
    )
    assert granted is not None
    called: set[str] = set()

    def record(model: Any, **_: Any) -> None:
        called.add(f"dynamodb:{model.name}")

    events = aws_clients.client("dynamodb").meta.events
    events.register("before-call.dynamodb", record)
    try:
        dedup = Deduplicator(dedup_table, 3600, "router")
        dedup.claim("n-1")
        dedup.claim("n-1")  # refused: in progress
        dedup.complete("n-1", {"status": "sent"})
        dedup.claim_with_result("n-1")  # refused: done, with its result
        dedup.claim("n-2")
        dedup.release("n-2")
    finally:
        events.unregister("before-call.dynamodb", record)
    assert called == set(re.findall(r'"([^"]+)"', granted[1]))


def test_an_expired_record_can_be_claimed_again(dedup_table: str) -> None:
    # TTL deletion runs up to days late: the claim's condition, not the deletion, ends a record's life.
    record = idempotency.record_id("router", "n-1")
    past = int(datetime.now(UTC).timestamp()) - 1
    for status in ("COMPLETED", "INPROGRESS"):
        boto3.client("dynamodb", region_name=REGION).put_item(
            TableName=dedup_table,
            Item={"id": {"S": record}, "status": {"S": status}, "expiration": {"N": str(past)}},
        )
        assert Deduplicator(dedup_table, 3600, "router").claim("n-1") is Claim.CLAIMED


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        idempotency.record_id("router", "")


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        (None, (Claim.IN_PROGRESS, None)),  # the table returned no record with the refusal
        ({"status": {"S": "INPROGRESS"}}, (Claim.IN_PROGRESS, None)),
        ({"status": {"S": "COMPLETED"}}, (Claim.ALREADY_DONE, None)),
        (
            {"status": {"S": "COMPLETED"}, "data": {"S": '{"status": "sent"}'}},
            (Claim.ALREADY_DONE, {"status": "sent"}),
        ),
        ({"status": {"S": "COMPLETED"}, "data": {"S": "not json"}}, (Claim.ALREADY_DONE, None)),
        ({"status": {"S": "COMPLETED"}, "data": {"S": "[1]"}}, (Claim.ALREADY_DONE, None)),
    ],
)
def test_a_refused_claim_reads_the_record_that_refused_it(
    existing: dict[str, Any] | None, expected: tuple[Claim, dict[str, Any] | None]
) -> None:
    assert idempotency.refusal(existing) == expected


# --- delivery_log --------------------------------------------------------------------------------


def test_delivery_item_shape() -> None:
    delivery = Delivery(
        "n-1", "order_shipped", "u-1", "email", delivery_log.FAILED, "a@example.com", "r" * 5000
    )
    item = delivery_log.delivery_item(delivery, now=datetime(2026, 11, 24, 10, 0, tzinfo=UTC), ttl_days=90)
    assert item == {
        "notification_id": "n-1",
        "delivery_key": "u-1#email#a@example.com",
        "user_id": "u-1",
        "channel": "email",
        "target": "a@example.com",
        "status": "failed",
        "notification_type": "order_shipped",
        "updated_at": "2026-11-24T10:00:00Z",
        "expires_at": int(datetime(2027, 2, 22, 10, 0, tzinfo=UTC).timestamp()),
        "reason": "r" * 1000,
    }
    plain = Delivery("n-1", "t", "u-1", "email", delivery_log.SUPPRESSED_PREFERENCE)
    assert "reason" not in delivery_log.delivery_item(plain, now=datetime(2026, 1, 1, tzinfo=UTC), ttl_days=1)
    assert (
        delivery_log.delivery_item(plain, now=datetime(2026, 1, 1, tzinfo=UTC), ttl_days=1)["target"] == "-"
    )
    with pytest.raises(ValueError, match="unknown delivery status"):
        delivery_log.delivery_item(
            Delivery("n", "t", "u", "email", "delivered"), now=datetime(2026, 1, 1, tzinfo=UTC), ttl_days=1
        )


def test_record_writes_rows_and_keeps_the_last_per_key(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    create_table("log", "notification_id", "delivery_key")
    monkeypatch.setenv("DELIVERY_LOG_TABLE", "log")
    monkeypatch.setenv("DELIVERY_LOG_TTL_DAYS", "7")
    delivery_log.record(
        [
            Delivery("n-1", "t", "u-1", "email", delivery_log.FAILED, reason="first"),
            Delivery("n-1", "t", "u-1", "email", delivery_log.SENT),
            *(Delivery("n-2", "t", f"u-{n}", "email", delivery_log.SUPPRESSED_PREFERENCE) for n in range(30)),
        ]
    )
    rows = scan("log")
    assert len(rows) == 31
    (row,) = [r for r in rows if r["notification_id"] == "n-1"]
    assert row["status"] == "sent" and "reason" not in row
    assert 6.9 * 86400 < int(row["expires_at"]) - datetime.now(UTC).timestamp() <= 7 * 86400


def test_record_needs_its_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DELIVERY_LOG_TABLE", raising=False)
    delivery_log.record([])  # nothing to write: no configuration needed
    with pytest.raises(ConfigurationError, match="DELIVERY_LOG_TABLE"):
        delivery_log.record([Delivery("n", "t", "u", "email", delivery_log.SENT)])


# --- channel_message -----------------------------------------------------------------------------

CHANNEL_MESSAGE = ChannelMessage(
    notification_id="n-1",
    notification_type="order_shipped",
    critical=False,
    user_id="u-1",
    channel="email",
    locale="de",
    content={"subject": "Bestellung 42 versandt", "text": "Hallo Ana", "html": "<p>Hallo Ana</p>"},
    created_at="2026-11-24T10:00:00Z",
)


def test_channel_message_json_matches_the_contract() -> None:
    assert json.loads(CHANNEL_MESSAGE.to_json()) == {
        "version": 1,
        "notification_id": "n-1",
        "notification_type": "order_shipped",
        "critical": False,
        "user_id": "u-1",
        "channel": "email",
        "locale": "de",
        "content": {"subject": "Bestellung 42 versandt", "text": "Hallo Ana", "html": "<p>Hallo Ana</p>"},
        "created_at": "2026-11-24T10:00:00Z",
    }
    assert parse_channel_message(CHANNEL_MESSAGE.to_json()) == CHANNEL_MESSAGE


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 2}, "version must be 1"),
        ({"version": True}, "version must be 1"),
        ({"critical": "no"}, "critical must be a boolean"),
        ({"content": []}, "content must be an object"),
        ({"content": {"subject": 1}}, "content.subject must be a string"),
        ({"user_id": None}, "user_id is missing"),
        ({"channel": ""}, "channel is empty"),
        ({"locale": 5}, "locale must be a string"),
        ({"created_at": "yesterday"}, "created_at is not an ISO 8601"),
    ],
)
def test_parse_channel_message_names_the_bad_field(change: dict[str, Any], message: str) -> None:
    document = {**json.loads(CHANNEL_MESSAGE.to_json()), **change}
    document = {key: value for key, value in document.items() if value is not None}
    with pytest.raises(MalformedEventError, match=message):
        parse_channel_message(json.dumps(document))


@pytest.mark.parametrize(("body", "message"), [("{", "not JSON"), ("[]", "must be a JSON object")])
def test_parse_channel_message_rejects_non_objects(body: str, message: str) -> None:
    with pytest.raises(MalformedEventError, match=message):
        parse_channel_message(body)


def test_channel_message_module_version() -> None:
    assert channel_message.VERSION == 1
    assert boto3.session.Session().region_name in (REGION, None)
