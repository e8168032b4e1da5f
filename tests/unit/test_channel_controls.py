"""Channel fallback and the channel kill switch (docs/notification-service.md, "Channel fallback and the
channel kill switch"): the pure decisions with properties over generated input, the switch items and their
cache, the catalog's ``fallback``, and the router and a channel worker against moto."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from notification_handlers import aws_clients
from notification_handlers.service import (
    catalog,
    channel_switches,
    dynamodb_batch,
    email_worker,
    fallback,
    idempotency,
    reachability,
    router,
)
from notification_handlers.service.catalog import parse_definition
from notification_handlers.service.channel_switches import SwitchCache, Switches, parse_switches
from notification_handlers.service.log import logger
from tests.unit.conftest import FakeLambdaContext, capture_logs, examples
from tests.unit.email_service_fakes import channel_message, email_world, sent_mail, sqs_event, statuses
from tests.unit.email_service_fakes import subscribe as email_subscribe
from tests.unit.email_service_fakes import suppress as email_suppress
from tests.unit.email_service_fakes import verified as email_verified
from tests.unit.service_fakes import (
    create_queue,
    create_table,
    fail_attempts,
    no_sleep,
    receive_all,
    record_calls,
    scan,
)
from tests.unit.test_service_router import ORDER_SHIPPED, batch, event

CHANNELS = ("email", "push", "websocket", "sms")

# --- the pure decision ----------------------------------------------------------------------------------


def _decide(
    channels: Sequence[str],
    fallback_list: Sequence[str],
    opted: dict[str, str],
    disabled: dict[str, str],
    reachable: set[str],
) -> fallback.Decision:
    return fallback.decide(channels, fallback_list, opted.get, disabled.get, reachable.__contains__)


def test_fallback_from_push_without_device_to_email_is_logged_fallback_used() -> None:
    decision = _decide([], ["push", "email"], {}, {}, {"email"})
    assert decision.send == ("email",)
    assert decision.rows == (("email", "fallback_used", "skipped push: unreachable"),)


def test_a_disabled_channel_is_skipped_to_the_next_or_suppressed_without_fallback() -> None:
    assert _decide([], ["email", "push"], {}, {"email": "disabled globally"}, {"email", "push"}) == (
        fallback.Decision(
            ("push",),
            (
                ("email", "suppressed_channel_disabled", "disabled globally"),
                ("push", "fallback_used", "skipped email: disabled globally"),
            ),
            True,
            (("email", "disabled globally"),),
        )
    )
    decision = _decide(["email"], [], {}, {"email": "disabled for this type"}, {"email"})
    assert decision.send == ()
    assert decision.rows == (("email", "suppressed_channel_disabled", "disabled for this type"),)


def test_nothing_reachable_is_one_no_reachable_channel_row() -> None:
    decision = _decide([], ["push", "email"], {}, {}, set())
    assert decision.send == ()
    assert decision.rows == (
        (
            "push",
            "no_reachable_channel",
            "no channel can reach the user: push: unreachable; email: unreachable",
        ),
    )


SUBSETS = st.sets(st.sampled_from(CHANNELS))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[str], list[str], dict[str, str], dict[str, str], set[str]]:
    order = draw(st.permutations(CHANNELS))
    split = draw(st.integers(0, len(order)))
    channels, fallback_list = list(order[:split]), list(order[split:])
    opted = {c: "opted_out" for c in draw(SUBSETS)}
    disabled = {c: "disabled globally" for c in draw(SUBSETS)}
    return channels, fallback_list, opted, disabled, draw(SUBSETS)


@examples(300)
@given(scenarios())
def test_decision_properties(
    scenario: tuple[list[str], list[str], dict[str, str], dict[str, str], set[str]],
) -> None:
    channels, fallback_list, opted, disabled, reachable = scenario
    decision = _decide(channels, fallback_list, opted, disabled, reachable)
    allowed = [c for c in fallback_list if c not in opted and c not in disabled]
    first = next((c for c in allowed if c in reachable), None)
    # channels: every one that preferences and switches leave, whatever its reachability (the worker logs it)
    expected = [c for c in channels if c not in opted and c not in disabled] + ([first] if first else [])
    assert list(decision.send) == expected
    # never a disabled or opted-out channel, never two fallback channels
    assert not set(decision.send) & (set(opted) | set(disabled))
    assert len(set(decision.send) & set(fallback_list)) <= 1
    statuses_by_channel = {(c, s) for c, s, _ in decision.rows}
    for c in channels + fallback_list[: fallback_list.index(first) + 1 if first else len(fallback_list)]:
        if c in opted:
            assert (c, "suppressed_preference") in statuses_by_channel
        elif c in disabled:
            assert (c, "suppressed_channel_disabled") in statuses_by_channel
    # fallback_used exactly when the chosen channel is not the first of the list
    assert decision.fallback_used == (first is not None and first != fallback_list[0])
    assert any(s == "fallback_used" for _, s, _ in decision.rows) == decision.fallback_used
    unreachable_skipped = any(c not in reachable for c in allowed)
    assert any(s == "no_reachable_channel" for _, s, _ in decision.rows) == (
        first is None and unreachable_skipped
    )


@examples(200)
@given(
    requests=st.dictionaries(
        st.integers(0, 30),
        st.tuples(st.sampled_from(["u1", "u2", "u3", "u4"]), st.permutations(CHANNELS[:3]).map(list)),
        max_size=12,
    ),
    reachable=st.sets(st.tuples(st.sampled_from(CHANNELS[:3]), st.sampled_from(["u1", "u2", "u3", "u4"]))),
)
def test_first_reachable_probes_each_channel_and_user_once_and_stops_at_the_first_hit(
    requests: dict[int, tuple[str, list[str]]], reachable: set[tuple[str, str]]
) -> None:
    calls: list[tuple[str, tuple[str, ...]]] = []

    def probe(channel: str, users: Sequence[str]) -> set[str]:
        calls.append((channel, tuple(users)))
        return {u for u in users if (channel, u) in reachable}

    known = fallback.first_reachable(requests, probe)
    probed = [(channel, user) for channel, users in calls for user in users]
    assert len(probed) == len(set(probed))  # each (channel, user) at most once
    assert len({c for c, _ in calls}) * len(CHANNELS) >= len(calls)  # per channel: at most one call a round
    for user, candidates in requests.values():
        first = next((c for c in candidates if (c, user) in reachable), None)
        walked = candidates[: candidates.index(first) + 1] if first else candidates
        for channel in walked:
            assert known[(channel, user)] == ((channel, user) in reachable)
        chosen = next((c for c in candidates if known.get((c, user), False)), None)
        assert chosen == first


# --- switch items -----------------------------------------------------------------------------------------


def test_switch_items_parse_globally_and_per_type_and_malformed_ones_are_ignored() -> None:
    parsed = parse_switches(
        [
            {"catalog_id": "channel-switches", "notification_type": "email", "disabled": True},
            {"catalog_id": "channel-switches", "notification_type": "push#order_shipped", "disabled": True},
            {"catalog_id": "channel-switches", "notification_type": "websocket", "disabled": False},
            {"catalog_id": "channel-switches", "notification_type": "sms", "disabled": "true"},
            {"catalog_id": "channel-switches", "notification_type": "Email!", "disabled": True},
        ]
    )
    assert parsed.switches == Switches(frozenset({"email"}), frozenset({("push", "order_shipped")}))
    assert parsed.switches.disabled("email", "anything") == "disabled globally"
    assert parsed.switches.disabled("push", "order_shipped") == "disabled for this type"
    assert parsed.switches.disabled("push", "security_alert") is None
    assert parsed.switches.disabled("websocket", "order_shipped") is None
    assert parsed.switches.disabled("sms", "order_shipped") is None  # fail open: a typo stops nothing
    assert len(parsed.errors) == 2
    assert "'sms' ignored: disabled must be a boolean" in parsed.errors[0]
    assert "'Email!' ignored" in parsed.errors[1]


@pytest.fixture
def switch_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with mock_aws(), no_sleep(monkeypatch):
        aws_clients.reset_clients()
        create_table("catalog", "catalog_id", "notification_type")
        yield "catalog"


def put_switch(scope: str, disabled: Any = True, table: str = "catalog") -> None:
    dynamodb_batch.batch_write(
        table, [{"catalog_id": "channel-switches", "notification_type": scope, "disabled": disabled}]
    )


def delete_switch(scope: str, table: str = "catalog") -> None:
    aws_clients.client("dynamodb").delete_item(
        TableName=table,
        Key={"catalog_id": {"S": "channel-switches"}, "notification_type": {"S": scope}},
    )


def test_a_switch_takes_effect_after_the_refresh_window_and_reenabling_restores(switch_table: str) -> None:
    now = [100.0]
    cache = SwitchCache(clock=lambda: now[0])
    assert cache.get(switch_table, 10) == channel_switches.NONE
    put_switch("email")
    now[0] += 9.9
    assert cache.get(switch_table, 10) == channel_switches.NONE  # still cached
    now[0] += 0.2
    assert cache.get(switch_table, 10).disabled("email", "t") == "disabled globally"
    delete_switch("email")
    now[0] += 10
    assert cache.get(switch_table, 10) == channel_switches.NONE


def test_an_unreadable_switch_partition_keeps_the_last_switches_and_logs(switch_table: str) -> None:
    now = [0.0]
    cache = SwitchCache(clock=lambda: now[0])
    put_switch("email")
    assert cache.get(switch_table, 10).globally == {"email"}
    now[0] += 11
    fail_attempts("dynamodb", "Query", [("InternalServerError", 500)] * 3)
    with capture_logs(logger) as logs:
        assert cache.get(switch_table, 10).globally == {"email"}
    assert any(line["message"].startswith("channel switches unreadable") for line in logs())


def test_a_malformed_switch_is_logged_at_error_and_stops_nothing(switch_table: str) -> None:
    cache = SwitchCache(clock=lambda: 0.0)
    put_switch("email", disabled="yes")
    with capture_logs(logger) as logs:
        assert cache.get(switch_table, 10) == channel_switches.NONE
    errors = [line for line in logs() if line["level"] == "ERROR"]
    assert errors and "disabled must be a boolean" in errors[0]["reason"]


# --- the catalog's fallback -----------------------------------------------------------------------------

EN = {"email": {"subject": "s", "text": "t"}, "push": {"title": "t", "body": "b"}}


def definition(**overrides: Any) -> dict[str, Any]:
    return {
        "channels": [],
        "fallback": ["push", "email"],
        "fallback_locale": "en",
        "templates": {"en": EN},
        **overrides,
    }


def test_catalog_parses_fallback() -> None:
    parsed = parse_definition("t", definition())
    assert parsed.channels == () and parsed.fallback == ("push", "email")
    assert parsed.delivery_channels == ("push", "email")


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"fallback": ["push", "push"]}, "fallback must not repeat"),
        ({"fallback": ["pigeon"]}, "fallback: channel 'pigeon' is not one of"),
        ({"fallback": []}, "fallback must not be empty"),
        (
            {"channels": ["email"], "fallback": ["push", "email"]},
            "fallback repeats channel(s) of channels: email",
        ),
        ({"fallback": None}, "channels must be a non-empty list"),
        ({"templates": {"en": {"push": EN["push"]}}}, "templates.en.email is missing"),
        (
            {"fallback": ["chat"], "templates": {"en": {"chat": {"text": "Shipped."}}}},
            "fallback cannot hold a type-level channel: chat",
        ),
    ],
)
def test_catalog_refuses_a_broken_fallback(overrides: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=None) as error:
        parse_definition("t", definition(**overrides))
    assert problem in str(error.value)


# --- the router against moto ---------------------------------------------------------------------------

ACCOUNT_UPDATE = {
    "channels": ["websocket"],
    "fallback": ["push", "email"],
    "fallback_locale": "en",
    "templates": {
        "en": {
            "websocket": {"body": "Account {{ order_id }}"},
            "push": {"title": "Account", "body": "{{ order_id }}"},
            "email": {"subject": "Account {{ order_id }}", "text": "Hi {{ user.display_name }}"},
        }
    },
}


class World:
    """The router's tables and queues in moto with every channel of this change on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for table, keys in {
            "catalog": ("catalog_id", "notification_type"),
            "users": ("user_id", None),
            "preferences": ("user_id", None),
            "delivery-log": ("notification_id", "delivery_key"),
            "idempotency": ("id", None),
            "email-subscriptions": ("user_id", None),
            "email-suppressions": ("address", None),
            "device-tokens": ("user_id", "device_key"),
        }.items():
            create_table(table, *keys)
        self.queues = {channel: create_queue(channel) for channel in ("email", "push", "websocket")}
        env = {
            "CATALOG_TABLE": "catalog",
            "USERS_TABLE": "users",
            "PREFERENCES_TABLE": "preferences",
            "DELIVERY_LOG_TABLE": "delivery-log",
            "IDEMPOTENCY_TABLE": "idempotency",
            "EMAIL_SUBSCRIPTIONS_TABLE": "email-subscriptions",
            "EMAIL_SUPPRESSIONS_TABLE": "email-suppressions",
            "DEVICE_TOKENS_TABLE": "device-tokens",
            "AWS_LAMBDA_FUNCTION_NAME": "svc-router",
            "CHANNEL_QUEUE_URLS": json.dumps(self.queues),
            "REJECTED_EVENTS_QUEUE_URL": create_queue("ingest-dlq"),
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        for name, document in {"order_shipped": ORDER_SHIPPED, "account_update": ACCOUNT_UPDATE}.items():
            dynamodb_batch.batch_write(
                "catalog",
                [
                    {
                        "catalog_id": "notification-types",
                        "notification_type": name,
                        "definition": json.dumps(document),
                    }
                ],
            )

    def user(self, user_id: str, *, address: str | None = None, device: bool = False) -> None:
        dynamodb_batch.batch_write("users", [{"user_id": user_id, "display_name": user_id.upper()}])
        if address:
            email_subscribe(user_id, {address: email_verified()})
        if device:
            dynamodb_batch.batch_write(
                "device-tokens", [{"user_id": user_id, "device_key": "apns#tok", "endpoint_arn": "arn:x"}]
            )

    def sent(self, channel: str) -> list[str]:
        return [json.loads(m["Body"])["user_id"] for m in receive_all(self.queues[channel])]

    def rows(self, notification_type: str | None = None) -> dict[str, tuple[str, str]]:
        return {
            row["delivery_key"]: (row["status"], row.get("reason", ""))
            for row in scan("delivery-log")
            if notification_type in (None, row["notification_type"])
        }


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with mock_aws(), no_sleep(monkeypatch):
        aws_clients.reset_clients()
        idempotency.deduplicator_from_env.cache_clear()
        catalog._CACHE.clear()
        channel_switches._CACHE.clear()
        yield World(monkeypatch)
        idempotency.deduplicator_from_env.cache_clear()
        catalog._CACHE.clear()
        channel_switches._CACHE.clear()


def account_update(key: str, recipients: list[str]) -> dict[str, Any]:
    document = event(key, recipients)
    document["detail-type"] = "account_update"
    return document


def test_router_falls_back_from_push_without_device_to_email_with_batched_probes(world: World) -> None:
    world.user("u-dev", address="dev@example.com", device=True)
    world.user("u-mail", address="mail@example.com")
    world.user("u-bounced", address="bounced@example.com")
    email_suppress("bounced@example.com")
    world.user("u-none")
    dynamodb = record_calls("dynamodb")
    with capture_logs(logger) as logs:
        response = router.handler(
            batch(account_update("k1", ["u-dev", "u-mail", "u-bounced", "u-none"])), FakeLambdaContext()
        )
    assert response == {"batchItemFailures": []}
    assert world.sent("push") == ["u-dev"]
    assert world.sent("email") == ["u-mail"]
    assert sorted(world.sent("websocket")) == ["u-bounced", "u-dev", "u-mail", "u-none"]
    rows = world.rows()
    assert rows["u-mail#email#-"] == ("fallback_used", "skipped push: unreachable")
    assert rows["u-bounced#push#-"][0] == "no_reachable_channel"
    assert rows["u-none#push#-"][0] == "no_reachable_channel"
    assert "u-dev#push#-" not in rows
    # push: one Query per user (no batched read exists); email: one BatchGetItem each for the 3 users left
    queries = [p for p in dynamodb.params("Query") if p["TableName"] == "device-tokens"]
    assert len(queries) == 4 and all(p["Limit"] == 1 for p in queries)
    gets = dynamodb.params("BatchGetItem")
    assert sum("email-subscriptions" in p["RequestItems"] for p in gets) == 1
    assert sum("email-suppressions" in p["RequestItems"] for p in gets) == 1
    subscriptions = next(p for p in gets if "email-subscriptions" in p["RequestItems"])
    assert len(subscriptions["RequestItems"]["email-subscriptions"]["Keys"]) == 3  # u-dev never asked
    assert any(line.get("outcome") == "fallback_used" and line["recipients"] == 1 for line in logs())


def test_router_kill_switch_per_type_suppresses_and_global_falls_back(world: World) -> None:
    world.user("u-1", address="one@example.com", device=True)
    put_switch("email#order_shipped")
    response = router.handler(batch(event("k-order", ["u-1"])), FakeLambdaContext())
    assert response == {"batchItemFailures": []}
    assert world.sent("email") == []
    assert world.rows()["u-1#email#-"] == ("suppressed_channel_disabled", "disabled for this type")
    # the switch is per type: account_update still falls back to email once push is off everywhere
    put_switch("push")
    channel_switches._CACHE.clear()  # the refresh window, elapsed (timing: SwitchCache's own test)
    response = router.handler(batch(account_update("k-account", ["u-1"])), FakeLambdaContext())
    assert response == {"batchItemFailures": []}
    assert world.sent("push") == []
    assert world.sent("email") == ["u-1"]
    rows = world.rows("account_update")
    assert rows["u-1#push#-"] == ("suppressed_channel_disabled", "disabled globally")
    assert rows["u-1#email#-"] == ("fallback_used", "skipped push: disabled globally")


def test_router_probes_no_channel_that_is_switched_off_or_opted_out(world: World) -> None:
    world.user("u-1", address="one@example.com", device=True)
    put_switch("push")
    dynamodb = record_calls("dynamodb")
    router.handler(batch(account_update("k", ["u-1"])), FakeLambdaContext())
    assert not [p for p in dynamodb.params("Query") if p["TableName"] == "device-tokens"]
    assert world.sent("email") == ["u-1"]


def test_router_a_malformed_switch_stops_nothing(world: World) -> None:
    world.user("u-1", address="one@example.com")
    put_switch("email", disabled={"really": True})
    with capture_logs(logger) as logs:
        router.handler(batch(event("k", ["u-1"])), FakeLambdaContext())
    assert world.sent("email") == ["u-1"]
    assert any(line["level"] == "ERROR" and "disabled must be a boolean" in line["reason"] for line in logs())


def test_a_channel_without_a_probe_is_reachable_for_everyone() -> None:
    assert reachability.reachable("inbox", ["a", "b"]) == {"a", "b"}
    assert set(reachability.PROBES) == {"email", "push", "sms", "websocket"}


def test_sms_reaches_the_users_with_a_verified_number_only_in_one_batched_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with mock_aws():
        aws_clients.reset_clients()
        create_table("phone-numbers", "phone_key")
        monkeypatch.setenv("PHONE_NUMBERS_TABLE", "phone-numbers")
        dynamodb = aws_clients.client("dynamodb")
        for user, status in (("u-verified", "verified"), ("u-pending", "pending")):
            dynamodb.put_item(
                TableName="phone-numbers",
                Item={
                    "phone_key": {"S": f"user#{user}"},
                    "phone_number": {"S": "+14155550101"},
                    "status": {"S": status},
                },
            )
        calls = record_calls("dynamodb")
        reached = reachability.reachable("sms", ["u-verified", "u-pending", "u-none", "u-verified"])
        assert reached == {"u-verified"}
        assert [name for name, _ in calls.attempts] == ["BatchGetItem"]


# --- a channel worker ---------------------------------------------------------------------------------


@pytest.fixture
def email_world_with_switches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with email_world(monkeypatch):
        create_table("catalog", "catalog_id", "notification_type")
        monkeypatch.setenv("CATALOG_TABLE", "catalog")
        channel_switches._CACHE.clear()
        yield
        channel_switches._CACHE.clear()


def test_the_email_worker_stops_queued_messages_of_a_switched_off_type_and_reenabling_restores(
    email_world_with_switches: None,
) -> None:
    email_subscribe("u-1", {"one@example.com": email_verified()})
    put_switch("email#order_shipped")
    response = email_worker.handler(
        sqs_event(
            channel_message("n-1"), channel_message("n-2", notification_type="security_alert", critical=True)
        ),
        FakeLambdaContext(),
    )
    assert response == {"batchItemFailures": []}
    assert [m.to for m in sent_mail()] == [["one@example.com"]]  # only the other type's
    assert statuses()[("n-1", "u-1#email#-")] == "suppressed_channel_disabled"
    delete_switch("email#order_shipped")
    channel_switches._CACHE.clear()
    email_worker.handler(sqs_event(channel_message("n-3")), FakeLambdaContext())
    assert statuses()[("n-3", "u-1#email#one@example.com")] == "sent"


def test_without_catalog_table_a_worker_reads_no_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CATALOG_TABLE", raising=False)
    assert channel_switches.load() == channel_switches.NONE


def test_the_switch_is_read_once_per_refresh_window_not_per_batch(switch_table: str) -> None:
    cache = SwitchCache(clock=lambda: 5.0)
    dynamodb = record_calls("dynamodb")
    for _ in range(5):
        cache.get(switch_table, 10)
    assert dynamodb.count("Query") == 1
