"""The local AWS emulator used by the Terraform tests and `make demo`.

A thin launcher around moto's ``ThreadedMotoServer``. It runs in this process (on 127.0.0.1, on a port
the OS picks, so a busy port can never hang ``start()``) and patches the few moto gaps that Terraform with
the AWS provider 5.x runs into. Each patch is listed in ``_PATCHES`` with the symptom it removes; none of
this leaks into ``modules/`` — the modules are written for real AWS.

Measured with moto 5.2.5, Terraform 1.11 and the AWS provider 5.100:

* EventBridge -> Lambda / Step Functions / SNS delivery is missing (PutEvents answers HTTP 500). We let
  moto deliver the targets it knows and deliver the rest ourselves, applying the target's input
  transformer as EventBridge does. Lambda deliveries are recorded for the in-process Lambda service
  (``tests.support.lambda_service``), because moto cannot run functions without Docker.
* Step Functions ``ValidateStateMachineDefinition`` (called at plan time) and ``ListStateMachineVersions``
  are not routed by the default responses (HTTP 500).
* Lambda ``DeadLetterConfig`` and KMS ``RotationPeriodInDays`` are accepted but not echoed back, and SQS
  ``RedrivePolicy`` comes back with whitespace: each is a perpetual diff on re-plan.
* S3 -> Lambda event notifications go through Docker (silently dropped here): the delivery is recorded for
  the in-process Lambda service instead. moto's S3 records also lack userIdentity, requestParameters,
  responseElements, versionId and sequencer, escape "/" in keys and give deletions a size; and a plain
  delete in a versioned bucket sends no ``ObjectRemoved:DeleteMarkerCreated``. Each is made real-shaped.
  Emptying a bucket with delete markers after versioning is suspended (``force_destroy``) answers 500.
* moto ignores ``Bool`` conditions in bucket policies, so a TLS-only bucket policy answers 403 to every
  object request: ``aws:SecureTransport`` is evaluated as true (clients reach real S3 over TLS).
* SES v2 email identity tags are filed under a made-up ARN and read back empty: a perpetual diff.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import boto3
from botocore.config import Config
from jsonpath_ng.ext import parse as jsonpath
from moto.awslambda.models import LambdaFunction
from moto.core.config import default_user_config
from moto.core.utils import iso_8601_datetime_without_milliseconds, utcfromtimestamp
from moto.events.models import Rule
from moto.events.utils import EventTemplateParser
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.kms.responses import KmsResponse
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.s3 import notifications as s3_notifications
from moto.s3.models import FakeBucket, FakeDeleteMarker, S3Backend
from moto.sesv2.models import SESV2Backend
from moto.sns.models import sns_backends
from moto.sqs.models import Queue
from moto.stepfunctions.responses import StepFunctionResponse
from moto.stepfunctions.responses import get_backend as stepfunctions_backend
from moto.utilities.arns import parse_arn

ACCOUNT_ID = "123456789012"  # moto's default account
DEFAULT_REGION = "us-east-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# The environment every in-process test and measurement runs AWS code in: fake credentials, one region,
# and never a developer's real profile or config.
FAKE_AWS_ENV = {
    **FAKE_CREDENTIALS,
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": DEFAULT_REGION,
    "AWS_REGION": DEFAULT_REGION,
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}

# Services whose endpoints the Terraform provider override points at the emulator.
TERRAFORM_SERVICES = (
    "apigateway",
    "apigatewayv2",
    "cloudwatch",
    "cloudwatchlogs",
    "dynamodb",
    "events",
    "iam",
    "kms",
    "lambda",
    "pipes",
    "s3",
    "secretsmanager",
    "ses",
    "sesv2",
    "sns",
    "sqs",
    "sfn",
    "sts",
)


@dataclass(frozen=True)
class LambdaDelivery:
    """One asynchronous invocation EventBridge made of a Lambda function."""

    function_arn: str
    payload: dict[str, Any]
    rule_arn: str
    target_id: str


@dataclass
class Deliveries:
    """Deliveries the launcher made on moto's behalf, in order (thread-safe)."""

    lambda_invocations: list[LambdaDelivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, delivery: LambdaDelivery) -> None:
        with self._lock:
            self.lambda_invocations.append(delivery)

    def take_lambda_invocations(self) -> list[LambdaDelivery]:
        with self._lock:
            taken, self.lambda_invocations = self.lambda_invocations, []
        return taken


# One process-wide record: moto's backends are process-wide too.
DELIVERIES = Deliveries()


# --- EventBridge targets moto does not deliver -------------------------------------------------------

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


# --- Step Functions ----------------------------------------------------------------------------------


def _patch_stepfunctions() -> None:

    def validate_state_machine_definition(self: Any) -> str:
        definition = self._get_param("definition")
        try:
            json.loads(definition)
        except (TypeError, ValueError) as exc:
            return json.dumps(
                {
                    "result": "FAIL",
                    "diagnostics": [
                        {"severity": "ERROR", "code": "INVALID_JSON_DESCRIPTION", "message": str(exc)}
                    ],
                }
            )
        return json.dumps({"result": "OK", "diagnostics": [], "truncated": False})

    def list_state_machine_versions(self: Any) -> str:
        return json.dumps({"stateMachineVersions": []})

    StepFunctionResponse.validate_state_machine_definition = validate_state_machine_definition
    StepFunctionResponse.list_state_machine_versions = list_state_machine_versions


# --- Values moto accepts but does not echo back -------------------------------------------------------


def _patch_lambda_dead_letter_config() -> None:

    original_init = LambdaFunction.__init__
    original_update = LambdaFunction.update_configuration
    original_get = LambdaFunction.get_configuration

    def __init__(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original_init(self, account_id, spec, *args, **kwargs)
        self.dead_letter_config = spec.get("DeadLetterConfig")

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in config_updates:
            self.dead_letter_config = config_updates["DeadLetterConfig"]
        return original_update(self, config_updates)  # type: ignore[no-any-return]

    def get_configuration(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config: dict[str, Any] = original_get(self, *args, **kwargs)
        if getattr(self, "dead_letter_config", None) and self.dead_letter_config.get("TargetArn"):
            config["DeadLetterConfig"] = self.dead_letter_config
        return config

    LambdaFunction.__init__ = __init__
    LambdaFunction.update_configuration = update_configuration
    LambdaFunction.get_configuration = get_configuration


def _patch_kms_rotation_period() -> None:

    original_status = KmsResponse.get_key_rotation_status
    original_enable = KmsResponse.enable_key_rotation
    periods: dict[str, int] = {}

    def enable_key_rotation(self: Any) -> str:
        periods[self._get_param("KeyId")] = int(self._get_param("RotationPeriodInDays") or 365)
        return original_enable(self)  # type: ignore[no-any-return]

    def get_key_rotation_status(self: Any) -> str:
        answer = json.loads(original_status(self))
        if answer.get("KeyRotationEnabled"):
            answer["RotationPeriodInDays"] = periods.get(self._get_param("KeyId"), 365)
        return json.dumps(answer)

    KmsResponse.enable_key_rotation = enable_key_rotation
    KmsResponse.get_key_rotation_status = get_key_rotation_status


def _patch_sqs_redrive_policy() -> None:

    original_attributes = Queue.attributes

    def attributes(self: Any) -> dict[str, Any]:
        result: dict[str, Any] = original_attributes.fget(self)  # type: ignore[attr-defined]
        if self.redrive_policy:
            # The provider compares the JSON text: AWS answers without whitespace.
            result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        return result

    Queue.attributes = property(attributes)  # type: ignore[assignment]


# --- S3 event notifications to Lambda ----------------------------------------------------------------


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


# --- SES v2 ------------------------------------------------------------------------------------------


def _patch_sesv2_identity_tags() -> None:
    """moto files an email identity's tags under ``...:email-identity/<name>``; the real ARN (the one the
    provider lists and tags) is ``...:identity/<name>``, so tags read back empty: a perpetual diff."""

    def moto_arn(arn: str) -> str:
        return re.sub(r"^(arn:[^:]+:ses:[^:]*:[^:]*:)identity/", r"\1email-identity/", arn)

    for method in ("list_tags_for_resource", "tag_resource", "untag_resource"):
        original = getattr(SESV2Backend, method)

        def translated(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            if "resource_arn" in kwargs:  # list_tags_for_resource is called by keyword
                kwargs["resource_arn"] = moto_arn(kwargs["resource_arn"])
            else:
                args = (moto_arn(args[0]), *args[1:])
            return _original(self, *args, **kwargs)

        setattr(SESV2Backend, method, translated)


_PATCHES: tuple[Callable[[], None], ...] = (
    _patch_eventbridge_targets,
    _patch_stepfunctions,
    _patch_lambda_dead_letter_config,
    _patch_kms_rotation_period,
    _patch_sqs_redrive_policy,
    _patch_s3_lambda_notifications,
    _patch_s3_event_records,
    _patch_s3_delete_marker_event,
    _patch_s3_delete_marker_dispose,
    _patch_s3_bucket_policy_conditions,
    _patch_sesv2_identity_tags,
)
_patched = False
_patch_lock = threading.Lock()


def apply_patches() -> None:
    """Patch moto once per process (idempotent)."""
    global _patched  # noqa: PLW0603
    with _patch_lock:
        if _patched:
            return
        for patch in _PATCHES:
            patch()
        _patched = True


class Emulator:
    """A patched moto server on 127.0.0.1 and boto3 clients that talk to it."""

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
        self._server: ThreadedMotoServer | None = None
        self.deliveries = DELIVERIES

    def start(self) -> Emulator:
        apply_patches()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        # Real ASL execution lives in moto's "parser" backend: switch before anything is created,
        # or state machines made earlier are invisible to StartExecution.
        default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
        # Port 0: the OS picks a free port, so start() cannot hang on a busy one.
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running: call start() first")
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(retries={"max_attempts": 2, "mode": "standard"}),
        )

    def put_event(self, event: dict[str, Any], bus: str = "default") -> None:
        """Put an event given in EventBridge's envelope shape (a fixture) on ``bus``, as its source would."""
        answer = self.client("events").put_events(
            Entries=[
                {
                    "EventBusName": bus,
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"]),
                    "Resources": event.get("resources", []),
                }
            ]
        )
        if answer["FailedEntryCount"]:
            raise RuntimeError(f"emulator: PutEvents rejected the event: {answer['Entries']}")

    def environment(self) -> dict[str, str]:
        """Environment variables that point the AWS CLI, boto3 and handlers at the emulator."""
        return {
            **FAKE_CREDENTIALS,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
        }

    def provider_override(self) -> str:
        """A Terraform ``*_override.tf`` body that points the aws provider at the emulator."""
        endpoints = "\n".join(f'    {service} = "{self.endpoint_url}"' for service in TERRAFORM_SERVICES)
        return f"""# Generated by tests/support/emulator.py: points the example at the local emulator.
provider "aws" {{
  region                      = "{self.region}"
  access_key                  = "{FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]}"
  secret_key                  = "{FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = false
  s3_use_path_style           = true
  # Few retries: an emulator gap (HTTP 500) fails in seconds instead of minutes, while a connection
  # dropped on a loaded 2-core machine ("use of closed network connection", seen once) is retried.
  max_retries                 = 3

  endpoints {{
{endpoints}
  }}
}}
"""
