"""Property tests of the SES feedback parser (pure: no AWS): mutated real events, random JSON and mixed
batches never crash it with anything but a MalformedEventError naming the record, and whatever it
decides to suppress is a permanent bounce or a complaint, for normalised, plausible addresses only."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from conftest import JSON_VALUES, TEXT, examples, load_event, mutated
from hypothesis import given
from hypothesis import strategies as st

from notification_handlers.event_fields import MalformedEventError
from notification_handlers.service.email_address import is_plausible, normalise
from notification_handlers.service.email_feedback import (
    MAX_DETAIL_LENGTH,
    REASON_BOUNCE,
    REASON_COMPLAINT,
    merge,
    parse_event,
    parse_message,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
FIXTURES = (
    "notification_service_ses_bounce_permanent",
    "notification_service_ses_bounce_transient",
    "notification_service_ses_complaint",
    "notification_service_ses_delivery",
    "notification_service_ses_bounce_identity_notification",
)
RECORDS = [load_event(name)["Records"][0] for name in FIXTURES]
MESSAGES = [json.loads(record["Sns"]["Message"]) for record in RECORDS]


def check_decision(message: Any, feedback: Any) -> None:
    """What any accepted message may lead to."""
    kind = message.get("eventType", message.get("notificationType"))
    for suppression in feedback.suppressions:
        assert suppression.address == normalise(suppression.address)
        assert is_plausible(suppression.address)
        assert len(suppression.detail) <= MAX_DETAIL_LENGTH
        assert suppression.suppressed_at.endswith("Z")
        if suppression.reason == REASON_BOUNCE:
            assert kind == "Bounce" and message["bounce"]["bounceType"] == "Permanent"
        else:
            assert suppression.reason == REASON_COMPLAINT and kind == "Complaint"
    if kind == "Complaint" or (kind == "Bounce" and message["bounce"]["bounceType"] == "Permanent"):
        assert feedback.suppressions and feedback.ignored_because is None
    else:
        assert not feedback.suppressions and feedback.ignored_because


@st.composite
def mutated_message(draw: st.DrawFn) -> tuple[Any, tuple[str, ...]]:
    message = draw(st.sampled_from(MESSAGES))
    return draw(mutated(message, skip=lambda path: path[0] == "mail"))


@examples(400)
@given(mutated_message())
def test_a_mutated_ses_event_is_decided_or_rejected_naming_a_field(case: tuple[Any, tuple[str, ...]]) -> None:
    message, path = case
    try:
        feedback = parse_message(json.dumps(message), 0, NOW)
    except MalformedEventError as error:
        assert str(path[-1]) in str(error), f"the error names the changed field {path}: {error}"
        return
    check_decision(message, feedback)


@examples(200)
@given(st.one_of(JSON_VALUES, TEXT))
def test_any_json_or_text_as_the_sns_message_never_crashes(value: Any) -> None:
    text = value if isinstance(value, str) else json.dumps(value)
    try:
        feedback = parse_message(text, 0, NOW)
    except MalformedEventError:
        return
    check_decision(json.loads(text), feedback)


@st.composite
def batches(draw: st.DrawFn) -> list[Any]:
    records: list[Any] = []
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        choice = draw(st.integers(min_value=0, max_value=3))
        base = json.loads(json.dumps(draw(st.sampled_from(RECORDS))))
        if choice == 0:
            records.append(base)
        elif choice == 1:
            message, _ = draw(mutated(draw(st.sampled_from(MESSAGES)), skip=lambda p: p[0] == "mail"))
            base["Sns"]["Message"] = json.dumps(message)
            records.append(base)
        elif choice == 2:
            mutant, _ = draw(mutated(base, skip=lambda p: p[:2] == ("Sns", "Message") and len(p) > 2))
            records.append(mutant)
        else:
            records.append(draw(JSON_VALUES))
    return records


@examples(200)
@given(batches())
def test_records_in_equal_decided_plus_rejected_and_merge_keeps_one_per_address(records: list[Any]) -> None:
    feedback, problems = parse_event({"Records": records}, now=NOW)

    assert len(feedback) + len(problems) == len(records)
    assert sorted([f.index for f in feedback] + [p.index for p in problems]) == list(range(len(records)))
    assert all(str(p).startswith(f"Records[{p.index}]: ") for p in problems)
    merged = merge(feedback)
    addresses = [s.address for s in merged]
    assert len(addresses) == len(set(addresses)), "batch writes refuse duplicate keys"
    wanted = {s.address for f in feedback for s in f.suppressions}
    assert set(addresses) == wanted, "every suppression asked for is written"
    complained = {s.address for f in feedback for s in f.suppressions if s.reason == REASON_COMPLAINT}
    assert {s.address for s in merged if s.reason == REASON_COMPLAINT} == complained, "a complaint wins"
