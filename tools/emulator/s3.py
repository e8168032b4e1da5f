"""S3 gaps of moto, patched.

* S3 -> Lambda event notifications go through Docker (silently dropped here): the delivery is recorded for
  the in-process Lambda service instead. moto's S3 records also lack userIdentity, requestParameters,
  responseElements, versionId and sequencer, escape "/" in keys and give deletions a size; and a plain
  delete in a versioned bucket sends no ``ObjectRemoved:DeleteMarkerCreated``. Each is made real-shaped.
  Emptying a bucket with delete markers after versioning is suspended (``force_destroy``) answers 500.
* moto ignores ``Bool`` conditions in bucket policies, so a TLS-only bucket policy answers 403 to every
  object request: ``aws:SecureTransport`` is evaluated as true (clients reach real S3 over TLS).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3 import notifications as s3_notifications
from moto.s3.models import FakeBucket, FakeDeleteMarker, S3Backend

from tools.emulator.account import ACCOUNT_ID
from tools.emulator.awslambda import DELIVERIES, LambdaDelivery


def _patch_s3_lambda_notifications() -> None:
    """moto invokes the function through Docker (and swallows the failure): record the delivery instead.

    S3 invokes Lambda asynchronously, so the in-process Lambda service runs it from ``DELIVERIES`` like an
    EventBridge delivery; ``rule_arn`` holds the bucket ARN and ``target_id`` the configuration id.
    """

    def invoke_awslambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        s3 = event_body["Records"][0]["s3"]
        DELIVERIES.record(
            LambdaDelivery(
                function_arn=fn_arn,
                payload=copy.deepcopy(event_body),
                rule_arn=s3["bucket"]["arn"],
                target_id=s3["configurationId"],
            )
        )

    s3_notifications._invoke_awslambda = invoke_awslambda


def _patch_s3_event_records() -> None:
    """moto's S3 event records lack fields real S3 sends and report a size for deletions.

    moto also escapes "/" in keys, which S3 does not. Real records carry userIdentity,
    requestParameters, responseElements, the object's versionId (versioned buckets) and a sequencer, and
    removals carry no size or eTag. The requester is the emulator's caller (the fake credentials act as
    the account root, so principalId is the account id; the client is local).
    """

    original = s3_notifications._get_s3_event
    sequence = iter(range(1, 1 << 62))

    def get_s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
        if isinstance(key, FakeDeleteMarker):
            event = original(event_name, bucket, key.key, notification_id)
        else:
            event = original(event_name, bucket, key, notification_id)
        [record] = event["Records"]
        record["userIdentity"] = {"principalId": ACCOUNT_ID}
        record["requestParameters"] = {"sourceIPAddress": "127.0.0.1"}
        record["responseElements"] = {
            "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
            "x-amz-id-2": "emulator",
        }
        record["s3"]["bucket"]["ownerIdentity"] = {"principalId": ACCOUNT_ID}
        obj = record["s3"]["object"]
        obj["key"] = quote_plus(key.name, safe="/")  # S3 escapes like a form, but leaves "/" as is
        if "ObjectRemoved" in event_name:
            obj.pop("size", None)
            obj.pop("eTag", None)
        if bucket.is_versioned:
            obj["versionId"] = key.version_id
        obj["sequencer"] = f"{next(sequence):018X}"
        return event

    s3_notifications._get_s3_event = get_s3_event


def _patch_s3_delete_marker_event() -> None:
    """Deleting an object of a versioned bucket without a version id sends no event in moto.

    Real S3 creates a delete marker and sends ``s3:ObjectRemoved:DeleteMarkerCreated``.
    """

    original = S3Backend.delete_object

    def delete_object(self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        version_id = args[0] if args else kwargs.get("version_id")
        deleted, meta = original(self, bucket_name, key_name, *args, **kwargs)
        bucket = self.get_bucket(bucket_name)
        marker = bucket.keys.get(key_name) if bucket.is_versioned and version_id is None else None
        if isinstance(marker, FakeDeleteMarker) and meta.get("delete-marker") == "true":
            s3_notifications.send_event(
                self.account_id,
                s3_notifications.S3NotificationEvent.OBJECT_REMOVED_DELETE_MARKER_CREATED_EVENT,
                bucket,
                marker,
            )
        return deleted, meta

    S3Backend.delete_object = delete_object


def _patch_s3_delete_marker_dispose() -> None:
    """Emptying a bucket whose versioning was suspended (what ``force_destroy`` does after the versioning
    resource is destroyed) pops delete markers, and moto calls ``dispose()`` on them, which only real
    object versions have: DeleteObjects answers HTTP 500. A delete marker holds no data to dispose of."""

    FakeDeleteMarker.dispose = lambda self, garbage=False: None  # type: ignore[attr-defined]


def _patch_s3_bucket_policy_conditions() -> None:
    """moto ignores condition operators other than StringEquals, so the standard TLS-only bucket policy
    statement (Deny if ``Bool aws:SecureTransport`` is false) denies every object request (HTTP 403). Clients
    reach real S3 over TLS: ``Bool`` conditions on ``aws:SecureTransport`` are evaluated as true, and a
    statement whose such condition does not match is skipped; the rest is left to moto."""

    context = {"aws:securetransport": "true"}

    def applies(statement: dict[str, Any]) -> bool:
        for operator, pairs in statement.get("Condition", {}).items():
            if operator not in {"Bool", "BoolIfExists"}:
                continue
            for key, expected in pairs.items():
                values = expected if isinstance(expected, list) else [expected]
                if key.lower() in context and context[key.lower()] not in {str(v).lower() for v in values}:
                    return False
        return True

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy.decode())
        statements = document.get("Statement", [])
        statements = [statements] if isinstance(statements, dict) else statements
        policy = IAMPolicy(json.dumps({**document, "Statement": [s for s in statements if applies(s)]}))
        return policy.is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission


# Applied by ``tools.emulator.server.apply_patches``, in this order.
PATCHES: tuple[Callable[[], None], ...] = (
    _patch_s3_lambda_notifications,
    _patch_s3_event_records,
    _patch_s3_delete_marker_event,
    _patch_s3_delete_marker_dispose,
    _patch_s3_bucket_policy_conditions,
)
