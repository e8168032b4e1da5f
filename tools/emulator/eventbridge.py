"""EventBridge gaps of moto, patched.

* EventBridge -> Lambda / Step Functions / SNS delivery is missing (PutEvents answers HTTP 500). We let
  moto deliver the targets it knows and deliver the rest ourselves, applying the target's input
  transformer as EventBridge does. Lambda deliveries are recorded (``awslambda.DELIVERIES``) for the
  in-process Lambda service (``tools.emulator.lambda_service``), because moto cannot run functions without
  Docker.
* Events EventBridge hands to SQS targets lack ``account``.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

from jsonpath_ng.ext import parse as jsonpath
from moto.core.utils import (
    iso_8601_datetime_without_milliseconds,
    utcfromtimestamp,
)
from moto.events.models import Rule
from moto.events.utils import EventTemplateParser
from moto.sns.models import sns_backends
from moto.stepfunctions.responses import get_backend as stepfunctions_backend
from moto.utilities.arns import parse_arn

from tools.emulator.awslambda import DELIVERIES, LambdaDelivery

_NATIVE_TARGET_SERVICES = {"sqs", "logs", "events"}


def _event_as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    """The event in the shape EventBridge hands to a target: ISO time, no internal keys."""

    delivered = copy.deepcopy(event)
    delivered.pop("ingestion-time", None)
    if isinstance(delivered.get("time"), int | float):
        delivered["time"] = iso_8601_datetime_without_milliseconds(utcfromtimestamp(delivered["time"]))
    return delivered


def render_target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """What EventBridge sends to ``target`` for ``event``: Input, InputPath, InputTransformer or the event."""

    delivered = _event_as_delivered(event)
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        matches = jsonpath(target["InputPath"]).find(delivered)
        return matches[0].value if matches else None
    transformer = target.get("InputTransformer")
    if transformer:
        rendered = EventTemplateParser.parse(
            input_template=transformer["InputTemplate"],
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=delivered,
        )
        return rendered
    return delivered


def _deliver_foreign_target(rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:

    arn = parse_arn(target["Arn"])
    payload = render_target_input(target, event)
    body = payload if isinstance(payload, str) else json.dumps(payload)
    if arn.service == "lambda":
        DELIVERIES.record(
            LambdaDelivery(
                function_arn=target["Arn"], payload=payload, rule_arn=rule.arn, target_id=target["Id"]
            )
        )
    elif arn.service == "states":
        stepfunctions_backend(arn.account, arn.region).start_execution(
            target["Arn"], name=f"eventbridge-{uuid.uuid4()}", execution_input=body
        )
    elif arn.service == "sns":
        sns_backends[arn.account][arn.region].publish(message=body, arn=target["Arn"])
    else:
        raise NotImplementedError(f"emulator: EventBridge target {target['Arn']} is not emulated")


def _patch_eventbridge_targets() -> None:

    original_send = Rule.send_to_targets
    lock = threading.Lock()

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        if not self.event_pattern.matches_event(original_event):
            return
        native = [t for t in self.targets if t["Arn"].split(":")[2] in _NATIVE_TARGET_SERVICES]
        foreign = [t for t in self.targets if t not in native]
        with lock:  # moto iterates self.targets: hand it only the targets it can deliver
            all_targets, self.targets = self.targets, native
            try:
                original_send(self, original_event, transform_input)
            finally:
                self.targets = all_targets
        for target in foreign:
            _deliver_foreign_target(self, target, original_event)

    Rule.send_to_targets = send_to_targets


def _patch_eventbridge_default_event_shape() -> None:
    """moto builds the event it hands to SQS (and CloudWatch Logs) targets without an input transformer from
    a template that leaves out ``account``: every field EventBridge sends is there, in its order."""

    EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = (
        '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
        '"account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, '
        '"detail": <detail>}'
    )


# Applied by ``tools.emulator.server.apply_patches``, in this order.
PATCHES: tuple[Callable[[], None], ...] = (
    _patch_eventbridge_targets,
    _patch_eventbridge_default_event_shape,
)
