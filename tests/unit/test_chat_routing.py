"""The router and catalog side of the chat channel: one message per notification and chat target (not per
recipient), rendered without `user` variables and untouched by recipients' preferences; the catalog refuses a
chat type without targets, targets without chat, and `user` placeholders in a chat template."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from notification_handlers.service import catalog, router
from notification_handlers.service.channel_message import parse_channel_message
from notification_handlers.service.channel_switches import NONE, Switches
from notification_handlers.service.contract import parse_notification
from notification_handlers.service.enrichment import Profile
from tests.unit.conftest import load_event

CHAT_TYPE: dict[str, Any] = {
    "critical": False,
    "channels": ["email", "chat"],
    "chat_targets": ["ops", "release-room"],
    "fallback_locale": "en",
    "templates": {
        "en": {
            "email": {"subject": "S", "text": "Hi {{ user.display_name }}"},
            "chat": {
                "title": "Order {{ order_id }}",
                "text": "{{ order_id }} by {{ carrier }} ({{ notification.type }})",
            },
        },
        "de": {"email": {"subject": "S", "text": "Hallo"}},
    },
}


def notification(recipients: list[str]) -> Any:
    document = load_event("notification_service_event")
    document["detail"]["recipients"] = recipients
    document["detail"]["data"] = {"order_id": "A-1", "carrier": "<!channel> & Co"}
    return parse_notification(json.dumps(document))


def plan(
    recipients: list[str], prefs: dict[str, Any] | None = None, switches: Switches = NONE
) -> router.Plan:
    return router.plan_notification(
        notification(recipients),
        catalog.parse_definition("order_shipped", CHAT_TYPE),
        {u: Profile(u, locale="de") for u in recipients},
        prefs or {},
        created_at=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        switches=switches,
    )


def test_one_chat_message_per_target_whatever_the_number_of_recipients() -> None:
    result = plan(["u-1", "u-2", "u-3"])
    chat = [m for m in result.messages if m.channel == "chat"]
    assert [(m.target, m.user_id, m.locale) for m in chat] == [
        ("ops", "-", "en"),
        ("release-room", "-", "en"),
    ]
    assert dict(chat[0].content) == {"title": "Order A-1", "text": "A-1 by <!channel> & Co (order_shipped)"}
    assert len([m for m in result.messages if m.channel == "email"]) == 3
    # The message survives the queue: the worker reads the target back.
    assert parse_channel_message(chat[0].to_json()).target == "ops"


def test_a_recipients_mute_or_opt_out_does_not_stop_the_chat_message() -> None:
    result = plan(
        ["u-1", "u-2"], {"u-1": {"muted": True}, "u-2": {"opt_outs": {"order_shipped": ["chat", "email"]}}}
    )
    assert [m.target for m in result.messages if m.channel == "chat"] == ["ops", "release-room"]
    assert all(d.channel == "email" for d in result.suppressed)


@pytest.mark.parametrize(
    "switches",
    [Switches(globally=frozenset({"chat"})), Switches(by_type=frozenset({("chat", "order_shipped")}))],
)
def test_chat_switched_off_posts_nothing_and_logs_one_row_per_target(switches: Switches) -> None:
    result = plan(["u-1", "u-2"], switches=switches)
    assert [m.channel for m in result.messages] == ["email", "email"]
    rows = [(d.user_id, d.channel, d.target, d.status) for d in result.suppressed]
    assert rows == [
        ("-", "chat", "ops", "suppressed_channel_disabled"),
        ("-", "chat", "release-room", "suppressed_channel_disabled"),
    ]
    assert result.counts == {"suppressed_channel_disabled": 2}


def test_other_channels_messages_carry_no_target() -> None:
    email = next(m for m in plan(["u-1"]).messages if m.channel == "email")
    assert email.target is None and "target" not in json.loads(email.to_json())


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"chat_targets": None}, "chat_targets must be a non-empty list"),
        ({"chat_targets": []}, "chat_targets must be a non-empty list"),
        ({"chat_targets": ["Ops"]}, "chat target names"),
        ({"chat_targets": ["ops", "ops"]}, "must not repeat"),
        (
            {"channels": ["email"], "templates": {"en": {"email": {"subject": "S", "text": "T"}}}},
            "chat is not in channels",
        ),
        (
            {
                "templates": {
                    "en": {
                        "email": {"subject": "S", "text": "T"},
                        "chat": {"text": "Hi {{ user.display_name }}"},
                    }
                }
            },
            "no user variables",
        ),
        (
            {"templates": {"en": {"email": {"subject": "S", "text": "T"}, "chat": {"title": "x"}}}},
            "missing text",
        ),
    ],
)
def test_the_catalog_refuses_a_broken_chat_definition(change: dict[str, Any], reason: str) -> None:
    definition = {k: v for k, v in {**CHAT_TYPE, **change}.items() if v is not None}
    with pytest.raises(ValueError, match=reason):
        catalog.parse_definition("order_shipped", definition)
