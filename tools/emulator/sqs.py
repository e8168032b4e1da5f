"""SQS gaps of moto, patched.

* ``RedrivePolicy`` comes back with whitespace: a perpetual diff on re-plan.
* Queues with an event source mapping make moto invoke the function through Docker on every send (the
  message is received, so its receive count grows, then fails): queues forget their mappings, and
  ``tools.emulator.event_source_poller`` plays Lambda's poller.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.sqs.models import Queue


def _patch_sqs_redrive_policy() -> None:

    original_attributes = Queue.attributes

    def attributes(self: Any) -> dict[str, Any]:
        result: dict[str, Any] = original_attributes.fget(self)  # type: ignore[attr-defined]
        if self.redrive_policy:
            # The provider compares the JSON text: AWS answers without whitespace.
            result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        return result

    Queue.attributes = property(attributes)  # type: ignore[assignment]


def _patch_sqs_event_source_mappings() -> None:
    """moto invokes a function itself (through Docker) whenever a message lands on a queue that has an event
    source mapping: the message is received (its receive count grows), the invocation fails, and it becomes
    visible again. Here ``tools.emulator.event_source_poller`` plays Lambda's poller, so queues forget their
    mappings; the mappings themselves (create/get/list/update/delete) stay in the Lambda backend."""

    Queue.lambda_event_source_mappings = property(  # type: ignore[assignment]
        lambda self: {}, lambda self, value: None
    )


# Applied by ``tools.emulator.server.apply_patches``, in this order.
PATCHES: tuple[Callable[[], None], ...] = (
    _patch_sqs_redrive_policy,
    _patch_sqs_event_source_mappings,
)
