"""The delivery row a channel worker stores in a completed idempotency claim, and reads back on a redelivery
(rows were lost when the batch's final write failed and the retry found the claims
complete). Pure round trip, and what a claim written by anything else gives back (nothing)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import examples
from hypothesis import given
from hypothesis import strategies as st

from notification_handlers.service import delivery_log
from notification_handlers.service.delivery_log import Delivery

TEXT = st.text(min_size=1, max_size=40)
DELIVERIES = st.builds(
    Delivery,
    notification_id=TEXT,
    notification_type=TEXT,
    user_id=TEXT,
    channel=st.sampled_from(["email", "websocket", "push"]),
    status=st.sampled_from(sorted(delivery_log.STATUSES)),
    target=TEXT,
    reason=st.none() | st.text(max_size=200),
)


@given(delivery=DELIVERIES)
@examples(200)
def test_a_row_survives_the_claim_as_json(delivery: Delivery) -> None:
    stored = json.loads(json.dumps(delivery_log.as_claim_result(delivery), sort_keys=True))
    assert delivery_log.from_claim_result(stored) == delivery


@pytest.mark.parametrize(
    "result",
    [
        None,
        {},  # a claim completed before rows were stored in claims
        {"delivery": "sent"},
        {"delivery": {"notification_id": "n-1"}},  # fields missing
        {
            "delivery": {
                **delivery_log.as_claim_result(Delivery("n", "t", "u", "email", "sent"))["delivery"],
                "status": "lost",
            }
        },
        {
            "delivery": {
                **delivery_log.as_claim_result(Delivery("n", "t", "u", "email", "sent"))["delivery"],
                "user_id": 7,
            }
        },
        {
            "delivery": {
                **delivery_log.as_claim_result(Delivery("n", "t", "u", "email", "sent"))["delivery"],
                "reason": 7,
            }
        },
    ],
)
def test_anything_else_in_a_claim_gives_no_row(result: Any) -> None:
    assert delivery_log.from_claim_result(result) is None
