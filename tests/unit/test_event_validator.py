"""The event contract's validator: fastjsonschema's code generated ahead of time (tools/ci/event_validator).

The committed module is what the tool makes from the committed schema, and it decides every document exactly
as fastjsonschema's run-time compile of the same schema does."""

from __future__ import annotations

import json
from typing import Any

import fastjsonschema  # type: ignore[import-untyped]
import pytest
from conftest import examples, load_event, mutated
from hypothesis import given
from hypothesis import strategies as st

from notification_handlers.service import notification_event_validator
from notification_handlers.service.contract import schema
from tools.ci import event_validator

RUNTIME_COMPILED = fastjsonschema.compile(schema())
# Every event of the ingest batch fixture (some of them malformed on purpose) and the single event fixture.
EVENTS = [
    json.loads(record["body"]) for record in load_event("notification_service_ingest_batch")["Records"]
] + [load_event("notification_service_event")]


def test_the_committed_validator_is_generated_from_the_committed_schema() -> None:
    assert event_validator.GENERATED.read_text(encoding="utf-8") == event_validator.render(), (
        "notification_event_validator.py is stale: run python -m tools.ci.event_validator"
    )
    source = event_validator.GENERATED.read_text(encoding="utf-8")
    assert "import fastjsonschema" not in source and "from fastjsonschema" not in source


def _outcome(validate: Any, document: Any) -> tuple[str, ...]:
    try:
        validate(document)
    except (
        fastjsonschema.JsonSchemaValueException,
        notification_event_validator.JsonSchemaValueException,
    ) as e:
        return ("refused", e.message, e.name, e.rule)
    return ("accepted",)


@pytest.mark.parametrize("document", EVENTS)
def test_a_fixture_event_gets_the_same_verdict_from_both(document: dict[str, Any]) -> None:
    assert _outcome(notification_event_validator.validate, document) == _outcome(RUNTIME_COMPILED, document)


def test_the_event_fixture_is_accepted() -> None:
    assert _outcome(notification_event_validator.validate, load_event("notification_service_event")) == (
        "accepted",
    )


@examples(200)
@given(data=st.data(), original=st.sampled_from(EVENTS))
def test_a_mutated_event_gets_the_same_verdict_and_reason_from_both(
    data: st.DataObject, original: dict[str, Any]
) -> None:
    document, _path = data.draw(mutated(original, skip=lambda path: False))
    generated = _outcome(notification_event_validator.validate, json.loads(json.dumps(document)))
    assert generated == _outcome(RUNTIME_COMPILED, document)
