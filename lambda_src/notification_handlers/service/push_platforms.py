"""SNS mobile push platform applications from credentials in Secrets Manager, and device endpoints.

``handler`` is a provisioner for Terraform's ``aws_lambda_invocation`` with ``lifecycle_scope = "CRUD"``
(so credentials never pass through Terraform variables or state: Terraform only holds the secret's ARN).
Input (the provider adds ``tf``)::

    {"name": "orders-apns", "platform": "apns" | "apns_sandbox" | "fcm",
     "credentials_secret_arn": "arn:aws:secretsmanager:...",  # pragma: allowlist secret
     "tf": {"action": "create" | "update" | "delete", "prev_input": {...} | null}}

The secret's ``SecretString`` is JSON: APNs token auth ``{"signing_key", "key_id", "team_id",
"bundle_id"}`` or APNs certificate ``{"certificate", "private_key"}``; FCM HTTP v1
``{"service_account_json"}`` (the service account key file, as a string or an object).
Attributes (SNS ``CreatePlatformApplication``):
APNs token -> ``PlatformCredential`` = signing key, ``PlatformPrincipal`` = signing key id,
``ApplePlatformTeamID``, ``ApplePlatformBundleID``; APNs certificate -> ``PlatformPrincipal`` = certificate,
``PlatformCredential`` = private key; FCM token credentials -> ``PlatformCredential`` = the JSON key file,
no ``PlatformPrincipal`` (SNS platform ``GCM``).

* create: creates the application (or, if one of that name and platform exists, sets its attributes);
* update: same name and platform -> ``SetPlatformApplicationAttributes`` (re-reads the secret: put the
  secret's version id in the input to rotate); renamed or other platform -> delete the old one, create;
* delete: deletes it (absent: nothing to do).

It returns only ``{"platform_application_arn": ...}``; a bad input or secret raises ``ValueError`` naming the
field, never a value. The application's ARN is derived from the invoked function's account and region
(``arn:<partition>:sns:<region>:<account>:app/<PLATFORM>/<name>``), so delete needs no stored state.

``ensure_endpoint`` is the registration API's "create or re-enable" of a device's platform endpoint
(AWS's documented pseudo-code for SNS mobile token management).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from botocore.exceptions import ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import MalformedEventError, type_name
from notification_handlers.service.log import logger

if TYPE_CHECKING:
    from notification_handlers.lambda_context import LambdaContext

SNS_PLATFORMS: Final = {"apns": "APNS", "apns_sandbox": "APNS_SANDBOX", "fcm": "GCM"}
ACTIONS: Final = frozenset({"create", "update", "delete"})
TERRAFORM_KEY: Final = "tf"
_NAME: Final = re.compile(r"[A-Za-z0-9_.-]{1,256}")  # fullmatch: "$" would admit a trailing newline
_SECRET_ARN: Final = re.compile(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+")
_FUNCTION_ARN: Final = re.compile(r"^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:")
_EXISTING_ENDPOINT: Final = re.compile(r"Endpoint (arn:aws[a-z-]*:sns:\S+) already exists")
APNS_TOKEN_FIELDS: Final = ("signing_key", "key_id", "team_id", "bundle_id")
APNS_CERTIFICATE_FIELDS: Final = ("certificate", "private_key")
FCM_KEY_FIELDS: Final = ("project_id", "private_key", "client_email")


class CredentialsError(ValueError):
    """The secret does not hold usable credentials for the platform (the message names fields only)."""


class PlatformRequest(NamedTuple):
    name: str
    platform: str  # apns | apns_sandbox | fcm
    secret_arn: str

    @property
    def sns_platform(self) -> str:
        return SNS_PLATFORMS[self.platform]


def _field(document: Mapping[str, Any], key: str, path: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value.strip():
        raise MalformedEventError(f"{path} must be a non-empty string, got {type_name(value)}")
    return value.strip()


def parse_request(document: object, path: str = "input") -> PlatformRequest:
    """The provisioner's input; ``MalformedEventError`` names the field."""
    if not isinstance(document, Mapping):
        raise MalformedEventError(f"{path} must be an object, got {type_name(document)}")
    name = _field(document, "name", f"{path}.name")
    if not _NAME.fullmatch(name):
        raise MalformedEventError(f"{path}.name must be 1-256 of A-Z a-z 0-9 _ . -")
    platform = _field(document, "platform", f"{path}.platform")
    if platform not in SNS_PLATFORMS:
        raise MalformedEventError(
            f"{path}.platform must be one of {sorted(SNS_PLATFORMS)}, got {platform[:40]!r}"
        )
    secret_arn = _field(document, "credentials_secret_arn", f"{path}.credentials_secret_arn")
    if not _SECRET_ARN.fullmatch(secret_arn):
        raise MalformedEventError(f"{path}.credentials_secret_arn is not a Secrets Manager secret ARN")
    return PlatformRequest(name, platform, secret_arn)


def lifecycle(event: Mapping[str, Any]) -> tuple[str, Mapping[str, Any] | None]:
    """(action, previous input) from the ``tf`` key ``aws_lambda_invocation`` adds in CRUD scope."""
    tf = event.get(TERRAFORM_KEY)
    if tf is None:  # CREATE_ONLY scope, or invoked by hand
        return "create", None
    if not isinstance(tf, Mapping):
        raise MalformedEventError(f"{TERRAFORM_KEY} must be an object, got {type_name(tf)}")
    action = tf.get("action")
    if action not in ACTIONS:
        raise MalformedEventError(
            f"{TERRAFORM_KEY}.action must be one of {sorted(ACTIONS)}, got {str(action)[:20]!r}"
        )
    previous = tf.get("prev_input")
    if previous is not None and not isinstance(previous, Mapping):
        raise MalformedEventError(f"{TERRAFORM_KEY}.prev_input must be an object or null")
    return str(action), previous


def _secret_text(document: Mapping[str, Any], key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CredentialsError(f"the secret's {key} must be a non-empty string")
    return value


def platform_attributes(platform: str, secret: Mapping[str, Any]) -> dict[str, str]:
    """The SNS platform application attributes for ``platform`` from the secret's JSON."""
    if platform in ("apns", "apns_sandbox"):
        if all(secret.get(name) for name in APNS_TOKEN_FIELDS):
            return {
                "PlatformCredential": _secret_text(secret, "signing_key"),
                "PlatformPrincipal": _secret_text(secret, "key_id"),
                "ApplePlatformTeamID": _secret_text(secret, "team_id"),
                "ApplePlatformBundleID": _secret_text(secret, "bundle_id"),
            }
        if all(secret.get(name) for name in APNS_CERTIFICATE_FIELDS):
            return {
                "PlatformPrincipal": _secret_text(secret, "certificate"),
                "PlatformCredential": _secret_text(secret, "private_key"),
            }
        raise CredentialsError(
            "an APNs secret needs signing_key, key_id, team_id and bundle_id (token) "
            "or certificate and private_key (certificate)"
        )
    if platform == "fcm":
        raw = secret.get("service_account_json")
        if isinstance(raw, str):
            try:
                key_file = json.loads(raw)
            except ValueError:
                raise CredentialsError("the secret's service_account_json is not JSON") from None
        elif isinstance(raw, Mapping):
            key_file = dict(raw)
        else:
            raise CredentialsError("an FCM secret needs service_account_json (the service account key file)")
        if not isinstance(key_file, dict):
            raise CredentialsError("the secret's service_account_json must be a JSON object")
        missing = [
            name for name in FCM_KEY_FIELDS if not isinstance(key_file.get(name), str) or not key_file[name]
        ]
        if missing:
            raise CredentialsError(f"the secret's service_account_json lacks {', '.join(missing)}")
        return {"PlatformCredential": json.dumps(key_file, separators=(",", ":"))}
    raise CredentialsError(f"unknown platform {platform[:40]!r}")


def read_secret(secret_arn: str) -> dict[str, Any]:
    """The secret's JSON (AWS errors are re-raised; the value is never logged or echoed)."""
    response = aws_clients.client("secretsmanager").get_secret_value(SecretId=secret_arn)
    text = response.get("SecretString")
    if not isinstance(text, str):
        raise CredentialsError("the secret has no SecretString (binary secrets are not supported)")
    try:
        document = json.loads(text)
    except ValueError:
        raise CredentialsError("the secret's SecretString is not JSON") from None
    if not isinstance(document, dict):
        raise CredentialsError("the secret's SecretString must be a JSON object")
    return document


def application_arn(function_arn: str, request: PlatformRequest) -> str:
    """The ARN SNS gives the application: same partition, region and account as the invoked function."""
    match = _FUNCTION_ARN.match(function_arn)
    if match is None:
        raise MalformedEventError("the invoked function ARN is not a Lambda function ARN")
    partition, region, account = match.groups()
    return f"arn:{partition}:sns:{region}:{account}:app/{request.sns_platform}/{request.name}"


def _exists(arn: str) -> bool:
    try:
        aws_clients.client("sns").get_platform_application_attributes(PlatformApplicationArn=arn)
    except ClientError as error:
        if aws_clients.error_code(error) in ("NotFound", "NotFoundException"):
            return False
        raise
    return True


def _put(request: PlatformRequest, arn: str) -> str:
    attributes = platform_attributes(request.platform, read_secret(request.secret_arn))
    sns = aws_clients.client("sns")
    if _exists(arn):
        sns.set_platform_application_attributes(PlatformApplicationArn=arn, Attributes=attributes)
        logger.info(
            "Updated the platform application",
            extra={"platform": request.platform, "application_name": request.name},
        )
        return arn
    created = str(
        sns.create_platform_application(
            Name=request.name, Platform=request.sns_platform, Attributes=attributes
        )["PlatformApplicationArn"]
    )
    logger.info(
        "Created the platform application",
        extra={"platform": request.platform, "application_name": request.name},
    )
    return created


def _delete(arn: str) -> None:
    if _exists(arn):
        aws_clients.client("sns").delete_platform_application(PlatformApplicationArn=arn)
        logger.info("Deleted the platform application", extra={"application": arn})


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    if not isinstance(event, Mapping):
        raise MalformedEventError(f"input must be an object, got {type_name(event)}")
    action, previous = lifecycle(event)
    request = parse_request(event)
    arn = application_arn(context.invoked_function_arn, request)
    logger.append_keys(action=action, platform=request.platform)
    if action == "delete":
        _delete(arn)
        return {"platform_application_arn": arn}
    if action == "update" and previous is not None:
        old = parse_request(previous, f"{TERRAFORM_KEY}.prev_input")
        old_arn = application_arn(context.invoked_function_arn, old)
        if old_arn != arn:
            _delete(old_arn)
    try:
        return {"platform_application_arn": _put(request, arn)}
    except CredentialsError as error:
        logger.error("Unusable credentials secret", extra={"problem": str(error)})
        raise


# --- device endpoints (registration API) ------------------------------------------------


def _is_enabled(attributes: Mapping[str, Any]) -> bool:
    return str(attributes.get("Enabled", "true")).lower() == "true"


class DeviceEndpoint(NamedTuple):
    arn: str
    # True when SNS answered "already exists with different attributes": the endpoint predates this call
    # (another user's, or an old registration), so a refused registration must not delete it.
    preexisting: bool


def ensure_endpoint(
    platform_application_arn: str, token: str, user_id: str, existing_endpoint_arn: str | None = None
) -> str:
    """The ARN of the enabled platform endpoint of ``token`` (``ensure_device_endpoint``)."""
    return ensure_device_endpoint(platform_application_arn, token, user_id, existing_endpoint_arn).arn


def ensure_device_endpoint(
    platform_application_arn: str, token: str, user_id: str, existing_endpoint_arn: str | None = None
) -> DeviceEndpoint:
    """The enabled platform endpoint of ``token`` (created, re-created or re-enabled as needed).

    AWS's token-management pseudo-code: without a stored endpoint, ``CreatePlatformEndpoint`` (idempotent
    for the same token and attributes; "already exists with the same Token, but different attributes"
    names the existing endpoint, which is reused); then ``GetEndpointAttributes``: not found -> create
    again; a different token or ``Enabled`` false -> ``SetEndpointAttributes`` (``Token``, ``Enabled=true``).
    ``CustomUserData`` carries the user id (the device's current owner; the registration API's ownership
    item in ``device_owners`` is the authority, this attribute only mirrors it).
    """
    if not token or not user_id:
        raise ValueError("token and user_id must not be empty")
    sns = aws_clients.client("sns")

    def create() -> DeviceEndpoint:
        try:
            return DeviceEndpoint(
                str(
                    sns.create_platform_endpoint(
                        PlatformApplicationArn=platform_application_arn, Token=token, CustomUserData=user_id
                    )["EndpointArn"]
                ),
                preexisting=False,
            )
        except ClientError as error:
            message = str(error.response.get("Error", {}).get("Message") or "")
            match = _EXISTING_ENDPOINT.search(message)
            if aws_clients.error_code(error) == "InvalidParameter" and match is not None:
                return DeviceEndpoint(match.group(1).rstrip("."), preexisting=True)
            raise

    created = existing_endpoint_arn is None
    endpoint = create() if existing_endpoint_arn is None else DeviceEndpoint(existing_endpoint_arn, True)
    try:
        attributes = sns.get_endpoint_attributes(EndpointArn=endpoint.arn).get("Attributes", {})
    except ClientError as error:
        if aws_clients.error_code(error) not in ("NotFound", "NotFoundException") or created:
            raise
        endpoint = create()
        attributes = sns.get_endpoint_attributes(EndpointArn=endpoint.arn).get("Attributes", {})
    if (
        attributes.get("Token") != token
        or not _is_enabled(attributes)
        or attributes.get("CustomUserData") != user_id
    ):
        sns.set_endpoint_attributes(
            EndpointArn=endpoint.arn,
            Attributes={"Token": token, "Enabled": "true", "CustomUserData": user_id},
        )
    return endpoint


def endpoint_user(endpoint_arn: str) -> str | None:
    """The endpoint's ``CustomUserData`` (the user the registration API last registered it for); None when
    it has none. ``ClientError`` ``NotFound`` when the endpoint is gone."""
    attributes = (
        aws_clients.client("sns").get_endpoint_attributes(EndpointArn=endpoint_arn).get("Attributes", {})
    )
    value = attributes.get("CustomUserData")
    return str(value) if value else None
