"""SNS gaps of moto, patched.

* SNS -> Lambda deliveries go through Docker with a canned sample event: they are recorded for the
  in-process Lambda service, in the shape SNS sends.
* Publish with ``MessageStructure=json`` to a platform endpoint needs no ``default`` in moto and keeps only
  the whole document: a missing ``default`` is rejected, as SNS does, and the entry of the endpoint's
  platform (``APNS``, ``GCM``...), what the device receives, is recorded (``endpoint_deliveries``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from moto.core.utils import (
    iso_8601_datetime_with_milliseconds,
)
from moto.sns.exceptions import SNSInvalidParameter
from moto.sns.models import SNSBackend, Subscription, sns_backends
from moto.utilities.arns import parse_arn

from tools.emulator.awslambda import DELIVERIES, LambdaDelivery


def _patch_sns_lambda_subscriptions() -> None:
    """moto hands an SNS -> Lambda delivery to Docker with a fixed sample event (fake topic, message id,
    timestamp and attributes): the delivery is recorded for the in-process Lambda service instead, in the
    shape SNS sends (``rule_arn`` holds the topic ARN and ``target_id`` the subscription ARN)."""

    original = Subscription.publish

    def publish(
        self: Any,
        message: str,
        message_id: str,
        subject: str | None = None,
        message_attributes: dict[str, Any] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        if self.protocol != "lambda":
            return original(self, message, message_id, subject, message_attributes, *args, **kwargs)  # type: ignore[no-any-return]
        if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(
            message_attributes, message
        ):
            return None
        structure = kwargs.get("message_structure", args[2] if len(args) > 2 else None)
        if structure == "json":
            message = self._parse_message_structure(message, self.protocol)
        region = self.topic.arn.split(":")[3]
        record = {
            "EventVersion": "1.0",
            "EventSubscriptionArn": self.arn,
            "EventSource": "aws:sns",
            "Sns": {
                "SignatureVersion": "1",
                "Timestamp": iso_8601_datetime_with_milliseconds(),
                "Signature": "EXAMPLE",
                "SigningCertUrl": f"https://sns.{region}.amazonaws.com/SimpleNotificationService-emulator.pem",
                "MessageId": message_id,
                "Message": message,
                "MessageAttributes": copy.deepcopy(message_attributes or {}),
                "Type": "Notification",
                "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={self.arn}",
                "TopicArn": self.topic.arn,
                "Subject": subject,
            },
        }
        DELIVERIES.record(
            LambdaDelivery(
                function_arn=self.endpoint,
                payload={"Records": [record]},
                rule_arn=self.topic.arn,
                target_id=self.arn,
            )
        )
        return None

    Subscription.publish = publish


def endpoint_deliveries(endpoint_arn: str) -> list[str]:
    """What the device behind a platform endpoint received, in order (see the patch below)."""
    arn = parse_arn(endpoint_arn)
    endpoint = sns_backends[arn.account][arn.region].platform_endpoints[endpoint_arn]
    return list(endpoint.__dict__.get("delivered", {}).values())


def _patch_sns_endpoint_message_structure() -> None:
    """A ``MessageStructure=json`` Publish to a platform endpoint: moto keeps the whole document (every
    platform's message) and accepts one without ``default``. SNS rejects a message that is not a JSON object
    with a ``default`` string (InvalidParameter) and hands the device only the entry of the endpoint's
    platform (``APNS``, ``APNS_SANDBOX``, ``GCM``...), else ``default``: that entry is recorded per endpoint
    (``endpoint_deliveries``); moto's ``messages`` keep the published document."""

    original = SNSBackend.publish

    def publish(self: Any, message: str, arn: str | None = None, *args: Any, **kwargs: Any) -> str:
        if kwargs.get("message_structure") != "json" or arn is None or ":endpoint/" not in arn:
            return original(self, message, arn, *args, **kwargs)  # type: ignore[no-any-return]
        try:
            document = json.loads(message)
        except ValueError:
            document = None
        if not isinstance(document, dict) or not isinstance(document.get("default"), str):
            raise SNSInvalidParameter(
                "Invalid parameter: Message Structure - No default entry in JSON message body"
            )
        endpoint = self.get_endpoint(arn)
        delivered = document.get(endpoint.application.platform, document["default"])
        if not isinstance(delivered, str):
            raise SNSInvalidParameter(
                "Invalid parameter: Message Structure - JSON message body entries must be strings"
            )
        message_id: str = original(self, message, arn, *args, **kwargs)
        endpoint.__dict__.setdefault("delivered", {})[message_id] = delivered
        return message_id

    SNSBackend.publish = publish


# Applied by ``tools.emulator.server.apply_patches``, in this order.
PATCHES: tuple[Callable[[], None], ...] = (
    _patch_sns_lambda_subscriptions,
    _patch_sns_endpoint_message_structure,
)
