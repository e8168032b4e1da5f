"""The local AWS emulator used by the Terraform tests and `make demo`.

A thin launcher around moto's ``ThreadedMotoServer``. It runs in this process (on 127.0.0.1, on a port
the OS picks, so a busy port can never hang ``start()``) and patches the few moto gaps that Terraform with
the AWS provider 5.x runs into. Each patch is listed in ``_PATCHES`` with the symptom it removes; none of
this leaks into ``modules/`` — the modules are written for real AWS.

Measured with moto 5.2.5, Terraform 1.11 and the AWS provider 5.100:

* EventBridge -> Lambda / Step Functions / SNS delivery is missing (PutEvents answers HTTP 500). We let
  moto deliver the targets it knows and deliver the rest ourselves, applying the target's input
  transformer as EventBridge does. Lambda deliveries are recorded for the in-process Lambda service
  (``tools.emulator.lambda_service``), because moto cannot run functions without Docker.
* Events EventBridge hands to SQS targets lack ``account``.
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
* SES v2 configuration sets: ``SendingOptions`` comes back double-nested (the provider cannot decode it)
  and option groups never set come back as ``{}`` (a perpetual diff); event destinations are missing
  (HTTP 404/500), so they are kept and echoed here (no events are generated from them).
* SES v2 SendEmail keeps only the subject and one body part, dropping the text part when there is HTML,
  the headers (``List-Unsubscribe``), the configuration set and the tags, and accepts an unknown
  configuration set: all are kept on the sent message; an unknown set answers NotFound.
* SQS queues with an event source mapping make moto invoke the function through Docker on every send (the
  message is received, so its receive count grows, then fails): queues forget their mappings, and
  ``tools.emulator.event_source_poller`` plays Lambda's poller. ListEventSourceMappings by function name
  finds nothing when the mapping was created with the function's ARN (as Terraform does).
* SNS -> Lambda deliveries go through Docker with a canned sample event: they are recorded for the
  in-process Lambda service, in the shape SNS sends.
* Lambda ``Invoke`` (``RequestResponse``, what Terraform's ``aws_lambda_invocation`` makes at create, update
  and delete) needs Docker (HTTP 500): with an invoker installed (``Emulator.install_invoker``, the in-process
  Lambda service) the deployed handler runs here; its answer is the payload, an exception a function error.
* API Gateway v2 has no deployments (CreateDeployment answers 404) and stages drop ``deploymentId`` and have
  no UpdateStage: both are kept here. A WebSocket API's endpoint is ``wss://``, not ``https://``.
* The WebSocket management API: the stage endpoint ``https://<api-id>.execute-api.<region>.amazonaws.com``
  a worker gets from Terraform cannot be reached offline (requests to it go to the emulator); moto's server
  routes ``/<stage>/@connections/<id>`` to IoT; and moto treats every connection id as connected and never
  answers 410. ``Emulator.connections`` (``LiveConnections``) decides what is connected, keeps what was posted
  and makes unknown or closed connections answer 410 GoneException.
* SNS Publish with ``MessageStructure=json`` to a platform endpoint needs no ``default`` in moto and keeps
  only the whole document: a missing ``default`` is rejected, as SNS does, and the entry of the endpoint's
  platform (``APNS``, ``GCM``...), what the device receives, is recorded (``endpoint_deliveries``).
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Protocol
from urllib.parse import quote_plus, unquote

import boto3
from botocore.config import Config
from botocore.endpoint import Endpoint
from jsonpath_ng.ext import parse as jsonpath
from moto.apigatewaymanagementapi import urls as management_urls
from moto.apigatewaymanagementapi.models import ApiGatewayManagementApiBackend
from moto.apigatewayv2 import urls as apigatewayv2_urls
from moto.apigatewayv2.models import Api as ApiGatewayV2Api
from moto.apigatewayv2.models import Stage as ApiGatewayV2Stage
from moto.apigatewayv2.responses import ApiGatewayV2Response
from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.core.config import default_user_config
from moto.core.exceptions import JsonRESTError
from moto.core.utils import (
    iso_8601_datetime_with_milliseconds,
    iso_8601_datetime_without_milliseconds,
    utcfromtimestamp,
    utcnow,
)
from moto.events.models import Rule
from moto.events.utils import EventTemplateParser
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.kms.responses import KmsResponse
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.s3 import notifications as s3_notifications
from moto.s3.models import FakeBucket, FakeDeleteMarker, S3Backend
from moto.ses.exceptions import NotFoundException
from moto.ses.models import ConfigurationSet
from moto.sesv2 import urls as sesv2_urls
from moto.sesv2.models import SESV2Backend
from moto.sesv2.responses import SESV2Response
from moto.sns.exceptions import SNSInvalidParameter
from moto.sns.models import SNSBackend, Subscription, sns_backends
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
    "cognitoidp",
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


def _patch_eventbridge_default_event_shape() -> None:
    """moto builds the event it hands to SQS (and CloudWatch Logs) targets without an input transformer from
    a template that leaves out ``account``: every field EventBridge sends is there, in its order."""

    EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = (
        '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
        '"account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, '
        '"detail": <detail>}'
    )


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


def _patch_sesv2_configuration_set_options() -> None:
    """moto stores ``SendingOptions`` whole and answers ``{"SendingOptions": {"SendingEnabled":
    {"SendingEnabled": true}}}``: the provider cannot decode GetConfigurationSet (apply and destroy fail). It
    also answers ``{}`` for option groups never set, where SES omits them: a perpetual diff (empty
    ``tracking_options``/``vdm_options`` blocks) on re-plan."""

    original = ConfigurationSet.to_dict_v2

    def to_dict_v2(self: Any) -> dict[str, Any]:
        answer: dict[str, Any] = {key: value for key, value in original(self).items() if value != {}}
        enabled = self.enabled.get("SendingEnabled", True) if isinstance(self.enabled, dict) else self.enabled
        answer["SendingOptions"] = {"SendingEnabled": bool(enabled)}
        return answer

    ConfigurationSet.to_dict_v2 = to_dict_v2


def _patch_sesv2_event_destinations() -> None:
    """moto's SES v2 has no configuration set event destinations (HTTP 500 on Create): kept per
    configuration set, echoed back as given, with SES's NotFound/AlreadyExists answers. Events are not
    generated from them: a test publishes SES's event JSON to the destination topic itself."""

    def destinations(response: Any) -> dict[str, dict[str, Any]]:
        name = response._get_param("ConfigurationSetName")
        if name not in response.sesv2_backend.core_backend.config_sets:
            raise NotFoundException(f"Configuration set <{name}> does not exist.")
        config_set = response.sesv2_backend.core_backend.config_sets[name]
        found: dict[str, dict[str, Any]] = config_set.__dict__.setdefault("event_destinations_v2", {})
        return found

    def existing(response: Any) -> tuple[dict[str, dict[str, Any]], str]:
        known, name = destinations(response), response._get_param("EventDestinationName")
        if name not in known:
            raise NotFoundException(f"Event destination {name} does not exist.")
        return known, name

    def create_configuration_set_event_destination(self: Any) -> str:
        known, params = destinations(self), json.loads(self.body)
        name = params["EventDestinationName"]
        if name in known:
            raise JsonRESTError("AlreadyExistsException", f"Event destination {name} already exists.")
        known[name] = params["EventDestination"]
        return "{}"

    def get_configuration_set_event_destinations(self: Any) -> str:
        found = [{"Name": name, **spec} for name, spec in destinations(self).items()]
        return json.dumps({"EventDestinations": found})

    def update_configuration_set_event_destination(self: Any) -> str:
        known, name = existing(self)
        known[name] = json.loads(self.body)["EventDestination"]
        return "{}"

    def delete_configuration_set_event_destination(self: Any) -> str:
        known, name = existing(self)
        del known[name]
        return "{}"

    # The Flask server only routes paths listed in the service's urls module (read when the app is built).
    base = "{0}/v2/email/configuration-sets/(?P<ConfigurationSetName>[^/]+)/event-destinations"
    sesv2_urls.url_paths[f"{base}$"] = SESV2Response.dispatch
    sesv2_urls.url_paths[f"{base}/(?P<EventDestinationName>[^/]+)$"] = SESV2Response.dispatch
    for handler in (
        create_configuration_set_event_destination,
        get_configuration_set_event_destinations,
        update_configuration_set_event_destination,
        delete_configuration_set_event_destination,
    ):
        setattr(SESV2Response, handler.__name__, handler)


def _patch_sesv2_send_email_fields() -> None:
    """moto's SES v2 SendEmail keeps only the subject and one body part (HTML when both are given) and drops
    ``Content.Simple.Headers``, ``ConfigurationSetName`` and ``EmailTags``; an unknown configuration set is
    accepted. The sent message also keeps ``text``, ``html``, ``headers`` (as sent: a list of Name/Value),
    ``configuration_set_name`` and ``email_tags``, and an unknown configuration set answers NotFound as SES
    does."""

    original = SESV2Response.send_email

    def send_email(self: Any) -> str:
        params = json.loads(self.body)
        core = self.sesv2_backend.core_backend
        config_set = params.get("ConfigurationSetName")
        if config_set and config_set not in core.config_sets:
            raise NotFoundException(f"Configuration set <{config_set}> does not exist.")
        answer: str = original(self)
        message_id = json.loads(answer)["MessageId"]
        message = next(m for m in reversed(core.sent_messages) if m.id == message_id)
        simple = params["Content"].get("Simple", {})
        body = simple.get("Body", {})
        message.text = body.get("Text", {}).get("Data")
        message.html = body.get("Html", {}).get("Data")
        message.headers = simple.get("Headers", [])
        message.configuration_set_name = config_set
        message.email_tags = params.get("EmailTags", [])
        return answer

    SESV2Response.send_email = send_email


# --- SQS and SNS -> Lambda ---------------------------------------------------------------------------


def _patch_sqs_event_source_mappings() -> None:
    """moto invokes a function itself (through Docker) whenever a message lands on a queue that has an event
    source mapping: the message is received (its receive count grows), the invocation fails, and it becomes
    visible again. Here ``tools.emulator.event_source_poller`` plays Lambda's poller, so queues forget their
    mappings; the mappings themselves (create/get/list/update/delete) stay in the Lambda backend."""

    Queue.lambda_event_source_mappings = property(  # type: ignore[assignment]
        lambda self: {}, lambda self, value: None
    )


def _patch_lambda_event_source_mapping_filter() -> None:
    """ListEventSourceMappings ``FunctionName`` matches only the exact string the mapping was created with
    (Terraform passes the ARN), so listing by name finds nothing; Lambda accepts a name or an ARN."""

    original = LambdaBackend.list_event_source_mappings

    def list_event_source_mappings(self: Any, event_source_arn: str, function_name: str) -> list[Any]:
        mappings = list(original(self, event_source_arn, None))
        if not function_name:
            return mappings
        try:
            function_arn = self.get_function(function_name).function_arn
        except UnknownFunctionException:
            return []
        return [m for m in mappings if m.function_arn == function_arn]

    LambdaBackend.list_event_source_mappings = list_event_source_mappings


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


# --- Lambda: synchronous invocations ------------------------------------------------------------------


class SyncInvocation(Protocol):
    """What a synchronous invoker reports (``tools.emulator.lambda_service.InvocationResult`` fits)."""

    @property
    def result(self) -> Any: ...

    @property
    def error(self) -> BaseException | None: ...


SyncInvoker = Callable[[str, Any], SyncInvocation]


@dataclass
class _InvokerSlot:
    """The process-wide synchronous invoker (installed by whoever plays the Lambda service)."""

    invoker: SyncInvoker | None = None


SYNC_INVOKER = _InvokerSlot()


def lambda_error_payload(error: BaseException, request_id: str) -> dict[str, Any]:
    """The payload Lambda's Python runtime answers for an unhandled exception."""
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": request_id,
        "stackTrace": [line.rstrip("\n") for line in traceback.format_tb(error.__traceback__)],
    }


def _patch_lambda_sync_invoke() -> None:
    """moto runs an ``Invoke`` through Docker (HTTP 500 "error running docker"), so Terraform's
    ``aws_lambda_invocation`` (a ``RequestResponse`` invoke at create, update and delete) cannot run. With an
    invoker installed (``Emulator.install_invoker``: the in-process Lambda service's ``invoke_sync``), a
    ``RequestResponse`` invoke runs the deployed handler in this process: the handler's answer is the
    ``Payload`` (JSON), an exception answers ``X-Amz-Function-Error: Unhandled`` with Lambda's error JSON.
    Other invocation types, and every invoke without an invoker, are left to moto."""

    original = LambdaBackend.invoke

    def invoke(  # noqa: PLR0917 - moto's LambdaBackend.invoke signature
        self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> Any:
        invoker = SYNC_INVOKER.invoker
        invocation_type = headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        if invoker is None or invocation_type != "RequestResponse":
            return original(self, function_name, qualifier, body, headers, response_headers)
        function = self.get_function(function_name, qualifier)
        text = body.decode() if isinstance(body, bytes) else body
        outcome = invoker(function.function_arn, json.loads(text) if text else {})
        if outcome.error is None:
            answer = json.dumps(outcome.result)
        else:
            response_headers["x-amz-function-error"] = "Unhandled"
            answer = json.dumps(lambda_error_payload(outcome.error, str(uuid.uuid4())))
        payload = answer.encode()
        response_headers["Content-Length"] = str(len(payload))
        return payload

    LambdaBackend.invoke = invoke


# --- API Gateway v2 ------------------------------------------------------------------------------------


def _apigatewayv2_route(pattern: str) -> None:
    """Route a path to ApiGatewayV2Response (the Flask server only routes paths of the urls module)."""
    apigatewayv2_urls.url_paths["{0}/v2/apis/(?P<api_id>[^/]+)" + pattern] = ApiGatewayV2Response.dispatch


def _patch_apigatewayv2_deployments() -> None:
    """moto has no API Gateway v2 deployments (CreateDeployment answers HTTP 404 HTML): a WebSocket stage,
    which cannot auto-deploy, can never be created. Deployments are kept per API (id, description, status
    ``DEPLOYED``, created date) with Create/Get/GetAll/Update/Delete; deleting one a stage still points to
    answers BadRequest, as AWS does (Terraform's ``create_before_destroy`` moves the stage first)."""

    def deployments(response: Any) -> tuple[Any, dict[str, dict[str, Any]]]:
        api = response.apigatewayv2_backend.get_api(response.path.split("/")[3])
        found: dict[str, dict[str, Any]] = api.__dict__.setdefault("emulator_deployments", {})
        return api, found

    def existing(response: Any) -> tuple[Any, dict[str, dict[str, Any]], str]:
        api, found = deployments(response)
        deployment_id = response.path.split("/")[5]
        if deployment_id not in found:
            raise JsonRESTError(
                "NotFoundException", f"Invalid Deployment identifier specified {deployment_id}"
            )
        return api, found, deployment_id

    def create_deployment(self: Any) -> tuple[int, dict[str, str], str]:
        api, found = deployments(self)
        params = json.loads(self.body or "{}")
        deployment = {
            "deploymentId": uuid.uuid4().hex[:6],
            "deploymentStatus": "DEPLOYED",
            "createdDate": iso_8601_datetime_without_milliseconds(utcnow()),
            "autoDeployed": False,
        }
        if params.get("description"):
            deployment["description"] = params["description"]
        found[deployment["deploymentId"]] = deployment
        if params.get("stageName"):
            api.get_stage(params["stageName"]).config["deploymentId"] = deployment["deploymentId"]
        return 201, {}, json.dumps(deployment)

    def get_deployment(self: Any) -> tuple[int, dict[str, str], str]:
        _, found, deployment_id = existing(self)
        return 200, {}, json.dumps(found[deployment_id])

    def get_deployments(self: Any) -> tuple[int, dict[str, str], str]:
        _, found = deployments(self)
        return 200, {}, json.dumps({"items": list(found.values())})

    def update_deployment(self: Any) -> tuple[int, dict[str, str], str]:
        _, found, deployment_id = existing(self)
        description = json.loads(self.body or "{}").get("description")
        if description is not None:
            found[deployment_id]["description"] = description
        return 200, {}, json.dumps(found[deployment_id])

    def delete_deployment(self: Any) -> tuple[int, dict[str, str], str]:
        api, found, deployment_id = existing(self)
        if any(stage.config.get("deploymentId") == deployment_id for stage in api.stages.values()):
            raise JsonRESTError(
                "BadRequestException", "Active stages pointing to this deployment must be moved or deleted"
            )
        del found[deployment_id]
        return 204, {}, ""

    _apigatewayv2_route("/deployments$")
    _apigatewayv2_route("/deployments/(?P<deployment_id>[^/]+)$")
    for handler in (create_deployment, get_deployment, get_deployments, update_deployment, delete_deployment):
        setattr(ApiGatewayV2Response, handler.__name__, handler)


def _patch_apigatewayv2_stage_updates() -> None:
    """moto's API Gateway v2 stages drop ``deploymentId`` (a perpetual diff on a stage's ``deployment_id``)
    and have no UpdateStage (HTTP 500): a new deployment, changed throttling or access logs can never be
    applied. The stage keeps and echoes ``deploymentId``, and UpdateStage changes the fields given."""

    fields = {
        "accessLogSettings": "access_log_settings",
        "autoDeploy": "auto_deploy",
        "clientCertificateId": "client_certificate_id",
        "defaultRouteSettings": "default_route_settings",
        "description": "description",
        "routeSettings": "route_settings",
        "stageVariables": "stage_variables",
    }
    original_to_json = ApiGatewayV2Stage.to_json

    def to_json(self: Any) -> dict[str, Any]:
        answer: dict[str, Any] = original_to_json(self)
        if self.config.get("deploymentId"):
            answer["deploymentId"] = self.config["deploymentId"]
        return answer

    def update_stage(self: Any) -> tuple[int, dict[str, str], str]:
        api_id, stage_name = self.path.split("/")[3], unquote(self.path.split("/")[5])
        stage = self.apigatewayv2_backend.get_stage(api_id, stage_name)
        params = json.loads(self.body or "{}")
        for key, attribute in fields.items():
            if key in params:
                setattr(stage, attribute, params[key])
                stage.config[key] = params[key]
        if "deploymentId" in params:
            stage.config["deploymentId"] = params["deploymentId"]
        stage.updated = utcnow()
        return 200, {}, json.dumps(stage.to_json())

    ApiGatewayV2Stage.to_json = to_json
    ApiGatewayV2Response.update_stage = update_stage


def _patch_apigatewayv2_websocket_endpoint() -> None:
    """moto gives every API an ``https://`` endpoint; a WebSocket API's is ``wss://<api-id>.execute-api.
    <region>.amazonaws.com`` in AWS (what clients connect to, and what a module derives the management
    endpoint from)."""

    original_init = ApiGatewayV2Api.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if self.protocol_type == "WEBSOCKET":
            self.api_endpoint = self.api_endpoint.replace("https://", "wss://", 1)

    ApiGatewayV2Api.__init__ = __init__


# --- API Gateway management API (WebSocket @connections) ------------------------------------------------

_EXECUTE_API_HOST = re.compile(r"^https://[a-z0-9]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?=/|$)")


@dataclass
class _ExecuteApiTarget:
    """Where this process's requests to execute-api hosts go (the running emulator), or None."""

    endpoint_url: str | None = None


EXECUTE_API_TARGET = _ExecuteApiTarget()


def _patch_execute_api_hosts() -> None:
    """A WebSocket worker gets its management endpoint from Terraform,
    ``https://<api-id>.execute-api.<region>.amazonaws.com/<stage>``, and passes it to boto3 as
    ``endpoint_url``, which overrides ``AWS_ENDPOINT_URL``: offline that host cannot be reached. While an
    emulator runs, requests boto3 makes in this process to an execute-api host go to the emulator instead
    (same path, headers and signature), so handlers run with their deployed endpoint unchanged."""

    original = Endpoint._send

    def _send(self: Any, request: Any) -> Any:
        target = EXECUTE_API_TARGET.endpoint_url
        if target is not None and _EXECUTE_API_HOST.match(request.url):
            request.url = _EXECUTE_API_HOST.sub(target, request.url, count=1)
        return original(self, request)

    Endpoint._send = _send


def _patch_management_api_routing() -> None:
    """moto's server routes a management API request (signed for ``execute-api``) to its API Gateway
    management backend only when the path starts with ``/@connections``; with the stage in the path (what a
    client of the stage endpoint sends: ``/<stage>/@connections/<id>``) it routes it to IoT, and the
    backend's own staged path does not survive the conversion to a Flask rule (HTTP 404 either way)."""

    # The id is matched to the end: it reaches the server percent-decoded, and base64 may hold a "/".
    management_urls.url_paths["{0}/(?P<stage_name>[^/]+)/@connections/(?P<connection_id>.+)$"] = (
        management_urls.response.connect_to_apigateway
    )
    original = DomainDispatcherApplication.infer_service_region_host

    def infer_service_region_host(self: Any, environ: dict[str, Any], path: str) -> str | None:
        auth = environ.get("HTTP_AUTHORIZATION") or ""
        scope = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/execute-api/", auth)
        if scope and "/@connections/" in environ.get("PATH_INFO", ""):
            return f"execute-api.{scope.group(1)}.amazonaws.com"
        return original(self, environ, path)  # type: ignore[no-any-return]

    DomainDispatcherApplication.infer_service_region_host = infer_service_region_host


MAX_WEBSOCKET_FRAME_BYTES = 128 * 1024  # API Gateway's WebSocket message limit


@dataclass
class LiveConnections:
    """WebSocket clients currently connected to the emulator's APIs (a test opens and closes them), and what
    the management API posted to each (thread-safe). A connection id is unique across APIs, as in AWS.
    ``active`` while an emulator runs: moto in-process mocks (``mock_aws``) keep moto's own behaviour."""

    active: bool = False
    _live: dict[str, dict[str, Any]] = field(default_factory=dict)
    _posted: dict[str, list[bytes]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def open(
        self, connection_id: str, source_ip: str = "203.0.113.10", user_agent: str = "Mozilla/5.0"
    ) -> None:
        with self._lock:
            self._live[connection_id] = {
                "connectedAt": iso_8601_datetime_with_milliseconds(),
                "identity": {"sourceIp": source_ip, "userAgent": user_agent},
            }
            self._posted.setdefault(connection_id, [])

    def close(self, connection_id: str) -> None:
        """The client went away (API Gateway then answers 410 for it)."""
        with self._lock:
            self._live.pop(connection_id, None)

    def is_live(self, connection_id: str) -> bool:
        with self._lock:
            return connection_id in self._live

    def describe(self, connection_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._live.get(connection_id)
            return None if found is None else {**found, "lastActiveAt": iso_8601_datetime_with_milliseconds()}

    def deliver(self, connection_id: str, data: bytes) -> bool:
        """Store a frame for a live connection; False (nothing stored) when it is not live."""
        with self._lock:
            if connection_id not in self._live:
                return False
            self._posted.setdefault(connection_id, []).append(bytes(data))
            return True

    def frames(self, connection_id: str) -> list[bytes]:
        """Every frame posted to the connection, in order."""
        with self._lock:
            return list(self._posted.get(connection_id, []))

    def messages(self, connection_id: str) -> list[Any]:
        """The frames posted to the connection, decoded as JSON."""
        return [json.loads(frame) for frame in self.frames(connection_id)]


CONNECTIONS = LiveConnections()


class GoneException(JsonRESTError):
    code = 410

    def __init__(self) -> None:
        super().__init__("GoneException", "")


class PayloadTooLargeException(JsonRESTError):
    code = 413

    def __init__(self) -> None:
        super().__init__("PayloadTooLargeException", "Message too long")


def _patch_management_api_connections() -> None:
    """moto's management API treats every connection id as connected (a ``defaultdict``), concatenates what
    is posted and never answers 410: a worker's stale-connection handling cannot be exercised. Here
    ``CONNECTIONS`` (opened and closed by tests) decides: PostToConnection to a live connection stores the
    frame (read back with ``CONNECTIONS.messages(id)``), over 128 KiB answers 413 PayloadTooLargeException;
    Post/Get/DeleteConnection of an unknown or closed connection answer 410 GoneException, as AWS does.
    DeleteConnection closes it (the $disconnect AWS then sends is not emulated). Only while an emulator
    runs (``CONNECTIONS.active``): ``mock_aws`` tests keep moto's behaviour."""

    original_post = ApiGatewayManagementApiBackend.post_to_connection
    original_get = ApiGatewayManagementApiBackend.get_connection
    original_delete = ApiGatewayManagementApiBackend.delete_connection

    def post_to_connection(self: Any, data: bytes, connection_id: str) -> None:
        if not CONNECTIONS.active:
            return original_post(self, data, connection_id)
        if len(data) > MAX_WEBSOCKET_FRAME_BYTES:
            raise PayloadTooLargeException()
        if not CONNECTIONS.deliver(unquote(connection_id), data):
            raise GoneException()
        return None

    def get_connection(self: Any, connection_id: str) -> Any:
        if not CONNECTIONS.active:
            return original_get(self, connection_id)
        found = CONNECTIONS.describe(unquote(connection_id))
        if found is None:
            raise GoneException()
        return SimpleNamespace(to_dict=lambda: found)

    def delete_connection(self: Any, connection_id: str) -> None:
        if not CONNECTIONS.active:
            return original_delete(self, connection_id)
        if not CONNECTIONS.is_live(unquote(connection_id)):
            raise GoneException()
        CONNECTIONS.close(unquote(connection_id))
        return None

    ApiGatewayManagementApiBackend.post_to_connection = post_to_connection
    ApiGatewayManagementApiBackend.get_connection = get_connection
    ApiGatewayManagementApiBackend.delete_connection = delete_connection


# --- SNS mobile push ----------------------------------------------------------------------------------


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


_PATCHES: tuple[Callable[[], None], ...] = (
    _patch_eventbridge_targets,
    _patch_eventbridge_default_event_shape,
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
    _patch_sesv2_configuration_set_options,
    _patch_sesv2_event_destinations,
    _patch_sesv2_send_email_fields,
    _patch_sqs_event_source_mappings,
    _patch_lambda_event_source_mapping_filter,
    _patch_sns_lambda_subscriptions,
    _patch_lambda_sync_invoke,
    _patch_apigatewayv2_deployments,
    _patch_apigatewayv2_stage_updates,
    _patch_apigatewayv2_websocket_endpoint,
    _patch_execute_api_hosts,
    _patch_management_api_routing,
    _patch_management_api_connections,
    _patch_sns_endpoint_message_structure,
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
        self.connections = CONNECTIONS

    def start(self) -> Emulator:
        apply_patches()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        # Real ASL execution lives in moto's "parser" backend: switch before anything is created,
        # or state machines made earlier are invisible to StartExecution.
        default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
        # Port 0: the OS picks a free port, so start() cannot hang on a busy one.
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        EXECUTE_API_TARGET.endpoint_url = self.endpoint_url
        CONNECTIONS.active = True
        return self

    def stop(self) -> None:
        if self._server is not None:
            if EXECUTE_API_TARGET.endpoint_url == self.endpoint_url:
                EXECUTE_API_TARGET.endpoint_url = None
                CONNECTIONS.active = False
            self._server.stop()
            self._server = None

    def install_invoker(self, invoker: SyncInvoker | None) -> None:
        """Run ``RequestResponse`` invokes of deployed functions with ``invoker`` (function ARN, payload),
        e.g. ``InProcessLambdaService.invoke_sync``; None uninstalls it (moto's Docker path again)."""
        SYNC_INVOKER.invoker = invoker

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
        return f"""# Generated by tools/emulator/server.py: points the example at the local emulator.
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
