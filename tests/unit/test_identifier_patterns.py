"""Patterns that guard identifiers end at the end of the text: a trailing newline is refused.

Python's ``re`` (and Java's and .NET's) ``$`` also matches before a final newline, so ``^id$`` admits
``"id\n"`` in ``re.search`` (what Python's ``jsonschema`` does with a schema ``pattern``) and ``re.match``.
The router's fastjsonschema rewrites ``$`` to ``\\Z`` on its own, but producers validate with other
libraries: the published schema must refuse it whatever the validator."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from notification_handlers.event_fields import MalformedEventError
from notification_handlers.service import contract, sqs_batch
from tests.unit.test_service_logic import body

# A valid value of every patterned field of the event contract (path of the field in the schema -> value).
VALID = {
    "properties.detail-type": "order_shipped",
    "properties.account": "123456789012",
    "properties.time": "2026-11-24T10:00:00Z",
    "properties.region": "us-east-1",
    "properties.detail.properties.recipients.items": "u-1",
    "properties.detail.properties.idempotencyKey": "order-A-1001",
    "properties.detail.properties.sendAt": "2027-01-02T09:00:00.5+01:00",
}


def schema_patterns(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield path, node["pattern"]
        for key, value in node.items():
            yield from schema_patterns(value, f"{path}.{key}" if path else key)


def test_every_pattern_of_the_event_contract_refuses_a_trailing_newline() -> None:
    patterns = dict(schema_patterns(contract.schema()))
    assert set(patterns) == set(VALID), "give every new pattern a valid value here"
    for path, pattern in patterns.items():
        assert re.search(pattern, VALID[path]), path
        assert not re.search(pattern, VALID[path] + "\n"), f"{path}: {pattern} admits a trailing newline"
        assert not re.search(pattern, VALID[path] + "\nmore"), path


@pytest.mark.parametrize(
    "detail", [{"recipients": ["u-1\n"]}, {"recipients": ["u-1"], "idempotencyKey": "order-1\n"}]
)
def test_the_router_refuses_an_identifier_with_a_trailing_newline(detail: dict[str, Any]) -> None:
    with pytest.raises(MalformedEventError):
        contract.parse_notification(body(detail=detail))


def test_an_sqs_batch_entry_id_with_a_trailing_newline_is_refused() -> None:
    message = sqs_batch.OutgoingMessage(entry_id="m-1\n", body="{}")
    with pytest.raises(ValueError, match="entry id"):
        sqs_batch._check_ids([message])
