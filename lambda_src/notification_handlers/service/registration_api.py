"""Registration API: an API Gateway HTTP API (payload format 2.0) behind a JWT authorizer.

Users register devices for push, add and verify email addresses, set their preferences and read the
delivery log of a notification sent to them (docs/notification-service.md, section 7).

Who the caller is comes only from the authorizer: ``requestContext.authorizer.jwt.claims.sub``, never a
body, path or query field. A request without it (or with a ``sub`` that is not a user id of the event
contract) is refused with 403 and touches nothing: defence in depth behind the authorizer.

Routes (``ROUTES``, keyed by the ``routeKey`` the HTTP API sets):

* ``PUT /devices/{platform}/{token}``: create (or re-enable) the SNS platform endpoint for the token
  (``push_platforms.ensure_device_endpoint`` with ``PLATFORM_APPLICATION_ARNS[platform]``, ``CustomUserData``
  = the caller) and, in ONE ``TransactWriteItems``, put the ``device_owners`` item (only if it still names
  the owner read), the caller's ``device_tokens`` item and, for a device new to the caller, +1 on their
  counter in ``limits`` (only while below ``MAX_DEVICES_PER_USER``); a token another user owned moves: their
  row goes and their counter gets -1 in the same transaction (``device_ownership``). 200 with the item; a
  repeat gives the same item (``updated_at`` refreshed). At the cap: 409 ``device_limit_reached``, checked
  before the endpoint is created.
* ``DELETE /devices/{platform}/{token}``: the owner: delete the endpoint, then the item, the ownership item
  and -1 (one transaction). Anyone else only loses their own item; the endpoint stays. 204, also when
  absent.
* ``PUT /email-subscriptions/{address}``: add the address as ``pending`` with a random 8-character code
  (``verification.new_code``: 2^40 codes; only its SHA-256 hash, salted with user and address, is
  stored, valid 24 h) and an ``unsubscribe_token``, then mail the code (SES v2, through the verification
  configuration set). A verified address: no-op, 200. Over a limit of the limits table (codes per user
  and per address per day, the per-address resend cooldown; ``verification``): 429 with ``retry-after``,
  nothing mailed. A suppressed address (suppressions table, or blocked after feedback on a verification
  mail) gets the same pending answer, but no mail: whether an address bounced or complained is not
  revealed to someone who may not own it.
* ``POST /email-subscriptions/{address}/verify`` ``{"code": "7KQ2-M9XD"}``: each guess first consumes one
  of ``MAX_VERIFY_ATTEMPTS`` attempts of the code (a conditional update, so concurrent guesses cannot
  exceed it) and one of the address's guesses of the day (limits table: 429 beyond), then is compared in
  constant time. Right: ``verified``. Wrong: 422. Attempts used up or code expired: 409 until a new PUT.
* ``DELETE /email-subscriptions/{address}``: remove the address (204, also when absent); the limits table
  keeps counting, so deleting and re-adding resets no limit.
* ``GET /preferences`` (the item, or the defaults) and ``PUT /preferences`` (full replace, validated
  against the catalog: unknown type or channel, or an opt-out of a critical type, is 422 naming it).
* ``GET /notifications/{notification_id}/deliveries``: the caller's rows only (``Query`` with
  ``begins_with(delivery_key, "<sub>#")``; the id is the namespaced one, 64 hex digits), paginated
  with ``limit`` and an opaque ``next_token``; 404 when the caller has no row for that notification.

Errors are ``{"error": {"code": ..., "message": ...}}``: 400 the request cannot be parsed (body not
strict JSON, wrong field types, unknown fields, bad query parameters), 403 no user id, 404 unknown route
or nothing found, 409 a state conflict, 422 well-formed but invalid values, 429 a verification limit
reached (``retry-after`` says when), 503 an AWS throttle/5xx/timeout after the SDK's retries (retry later),
500 anything else. No body ever carries a traceback or an AWS error message (those can quote ARNs and
addresses).

Logs: one line per request (route, status, error code); tokens, codes and full addresses are never
logged (addresses masked: ``a***@example.com``).

Environment (docs/notification-service.md, section 7): ``DEVICE_TOKENS_TABLE``, ``DEVICE_OWNERS_TABLE``,
``LIMITS_TABLE``, ``MAX_DEVICES_PER_USER`` (default 10),
``PLATFORM_APPLICATION_ARNS`` (JSON platform -> ARN; absent or ``{}``: push not configured, device PUTs
answer 422), ``EMAIL_SUBSCRIPTIONS_TABLE``, ``PREFERENCES_TABLE``, ``DELIVERY_LOG_TABLE``,
``CATALOG_TABLE`` (+ ``CATALOG_REFRESH_SECONDS``), ``SENDER_ADDRESS``, ``SES_CONFIGURATION_SET``
(optional; the verification configuration set), ``SES_IDENTITY_ARN`` (optional), ``LIMITS_TABLE``,
``EMAIL_SUPPRESSIONS_TABLE``, ``VERIFY_CODES_PER_ADDRESS_PER_DAY``, ``VERIFY_CODES_PER_USER_PER_DAY``,
``VERIFY_GUESSES_PER_ADDRESS_PER_DAY``, ``VERIFY_RESEND_COOLDOWN_SECONDS`` (``verification``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NoReturn

from botocore.exceptions import BotoCoreError, ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import ConfigurationError, type_name
from notification_handlers.service import (
    catalog,
    device_ownership,
    env,
    push_platforms,
    rate_limit,
    verification,
)
from notification_handlers.service.catalog import Catalog
from notification_handlers.service.dynamodb_batch import deserialize_item, serialize_item
from notification_handlers.service.email_address import is_plausible, mask, normalise
from notification_handlers.service.identity import USER_ID_PATTERN  # the contract's recipient pattern
from notification_handlers.service.log import logger

# --- limits and patterns --------------------------------------------------------------------------

MAX_BODY_BYTES: Final = 64 * 1024
MAX_ADDRESS_LENGTH: Final = 254  # RFC 5321 path limit (the 320 of email_address is the sum of parts)
MAX_ADDRESSES_PER_USER: Final = 10
# Devices one user may own (env MAX_DEVICES_PER_USER, Terraform registration_api.max_devices_per_user): the
# push worker publishes to every device of the recipient within one invocation.
DEFAULT_MAX_DEVICES_PER_USER: Final = 10
# Reads and the ownership transaction are repeated when a concurrent registration of the token wins.
DEVICE_REGISTRATION_ATTEMPTS: Final = 3
CODE_TTL: Final = timedelta(hours=24)
MAX_VERIFY_ATTEMPTS: Final = 5
DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 100

PLATFORMS: Final = ("apns", "apns_sandbox", "fcm")
# contract.NOTIFICATION_ID_PATTERN (not imported: it would load the JSON Schema validator here): the
# SHA-256 of (source, detail-type, key), docs/notification-service.md section 1.
NOTIFICATION_ID_PATTERN: Final = re.compile(r"[0-9a-f]{64}")
APNS_TOKEN_PATTERN: Final = re.compile(r"[0-9A-Fa-f]{64}")
# FCM tokens are ~160 characters today; the cap keeps device_key ("fcm#<token>") within DynamoDB's
# 1,024-byte limit on a sort key value (a longer key is a ValidationException).
MAX_FCM_TOKEN_LENGTH: Final = 1020
FCM_TOKEN_PATTERN: Final = re.compile(rf"[A-Za-z0-9_:-]{{1,{MAX_FCM_TOKEN_LENGTH}}}")

PENDING: Final = "pending"
VERIFIED: Final = "verified"

# Error codes that mean "try again later" (also 5xx and transport errors without a response).
TRANSIENT_ERROR_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "TransactionConflictException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)

JSON_HEADERS: Final = {
    "content-type": "application/json",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
}


# --- requests, responses, errors ------------------------------------------------------------------


class ApiError(Exception):
    """A 4xx answer: ``status``, a machine-readable ``code`` and a message for the caller."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def _bad_request(message: str, code: str = "invalid_body") -> NoReturn:
    raise ApiError(400, code, message)


def _invalid(code: str, message: str) -> NoReturn:
    raise ApiError(422, code, message)


@dataclass(frozen=True)
class Request:
    route_key: str
    user_id: str
    path: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None  # decoded text (base64 undone), not yet parsed


@dataclass(frozen=True)
class Response:
    status: int
    body: Any = None  # JSON-serialisable; None: no body (204)
    headers: Mapping[str, str] = field(default_factory=dict)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def to_http(response: Response) -> dict[str, Any]:
    """The payload format 2.0 response object."""
    headers = {**JSON_HEADERS, **response.headers}
    if response.body is None:
        headers.pop("content-type")
    return {
        "statusCode": response.status,
        "headers": headers,
        "body": "" if response.body is None else json.dumps(response.body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


# --- pure parsing and validation ------------------------------------------------------------------


def user_id_from(event: Mapping[str, Any]) -> str:
    """The JWT ``sub`` claim the authorizer put in the request context; 403 without a valid one."""
    node: Any = event
    for key in ("requestContext", "authorizer", "jwt", "claims", "sub"):
        node = node.get(key) if isinstance(node, Mapping) else None
    if not isinstance(node, str) or not node:
        raise ApiError(403, "forbidden", "no authenticated user: the request has no JWT sub claim")
    if not USER_ID_PATTERN.fullmatch(node):
        raise ApiError(403, "forbidden", "the JWT sub claim is not a valid user id")
    return node


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key[:40]!r}")
        result[key] = value
    return result


def body_text(body: Any, is_base64: Any) -> str | None:
    """The request body as text (base64 undone, UTF-8 strictly), size-limited; None when empty."""
    if body is None or body == "":
        return None
    if not isinstance(body, str):
        _bad_request(f"body must be a string, got {type_name(body)}", "malformed_body")
    if is_base64 is True:
        if len(body) > (MAX_BODY_BYTES * 4) // 3 + 4:
            _bad_request(f"body is larger than {MAX_BODY_BYTES} bytes", "body_too_large")
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            _bad_request("body is not valid base64", "malformed_body")
    else:
        raw = body.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BODY_BYTES:
        _bad_request(f"body is larger than {MAX_BODY_BYTES} bytes", "body_too_large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        _bad_request("body is not UTF-8", "malformed_body")
    return text or None


def parse_json_object(text: str | None) -> dict[str, Any]:
    """Strict JSON: an object, no duplicate keys, no NaN/Infinity; 400 naming the problem."""
    if text is None:
        _bad_request("a JSON object body is required", "malformed_body")
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_reject_constant)
    except RecursionError:
        _bad_request("body is nested too deeply", "malformed_body")
    except ValueError as error:
        reason = str(error) if str(error).startswith("duplicate key") else "body is not valid JSON"
        _bad_request(reason, "malformed_body")
    if not isinstance(value, dict):
        _bad_request(f"body must be a JSON object, got {type_name(value)}")
    return value


def _known_keys(
    document: Mapping[str, Any], allowed: frozenset[str], where: str = "body", code: str = "invalid_body"
) -> None:
    unknown = sorted(set(document) - allowed)
    if unknown:
        _bad_request(f"{where} has unknown field(s): {', '.join(k[:40] for k in unknown[:5])}", code)


def path_parameter(request: Request, name: str) -> str:
    value = request.path.get(name)
    if not isinstance(value, str) or not value:
        _bad_request(f"path parameter {name} is missing", "invalid_path")
    return value


@dataclass(frozen=True)
class Device:
    platform: str
    token: str

    @property
    def device_key(self) -> str:
        return f"{self.platform}#{self.token}"


def parse_device(platform: str, token: str) -> Device:
    """Platform and token from the path; APNs tokens are lower-cased (one key per device)."""
    if platform not in PLATFORMS:
        _invalid("invalid_platform", f"platform must be one of {', '.join(PLATFORMS)}")
    if platform.startswith("apns"):
        if not APNS_TOKEN_PATTERN.fullmatch(token):
            _invalid("invalid_token", "an APNs device token is 64 hexadecimal characters")
        return Device(platform, token.lower())
    if not FCM_TOKEN_PATTERN.fullmatch(token):
        _invalid(
            "invalid_token",
            f"an FCM registration token is 1-{MAX_FCM_TOKEN_LENGTH} characters of A-Z a-z 0-9 _ : -",
        )
    return Device(platform, token)


def parse_address(value: str) -> str:
    """The normalised address (stripped, lower-case); 422 unless plausible and at most 254 characters."""
    address = normalise(value)
    if len(address) > MAX_ADDRESS_LENGTH or not is_plausible(address):
        _invalid(
            "invalid_address",
            f"address is not a plausible email address of at most {MAX_ADDRESS_LENGTH} characters",
        )
    return address


def parse_notification_id(value: str) -> str:
    if not NOTIFICATION_ID_PATTERN.fullmatch(value):
        _invalid(
            "invalid_notification_id",
            "notification_id must be 64 lowercase hex digits: the SHA-256 of the event's source, "
            "detail-type and idempotencyKey (docs/notification-service.md, section 1)",
        )
    return value


def parse_code(document: Mapping[str, Any]) -> str:
    """The canonical code (``verification.canonical_code``: case, hyphen and look-alikes forgiven)."""
    _known_keys(document, frozenset({"code"}))
    code = document.get("code")
    canonical = verification.canonical_code(code) if isinstance(code, str) else None
    if canonical is None:
        _bad_request(
            f"code must be the {verification.CODE_LENGTH} letters and digits from the email, e.g. "
            f"{verification.display_code('7KQ2M9XD')}"
        )
    return canonical


def parse_preferences(document: Mapping[str, Any], known: Catalog) -> dict[str, Any]:
    """``{"muted": bool, "opt_outs": {type: [channels]}}`` checked against the catalog (full replace:
    a missing field takes its default). Channel lists come back de-duplicated and sorted; empty lists are
    dropped."""
    _known_keys(document, frozenset({"muted", "opt_outs"}))
    muted = document.get("muted", False)
    if not isinstance(muted, bool):
        _bad_request(f"muted must be a boolean, got {type_name(muted)}")
    opt_outs = document.get("opt_outs", {})
    if not isinstance(opt_outs, dict):
        _bad_request(
            f"opt_outs must be an object of notification type -> channels, got {type_name(opt_outs)}"
        )
    parsed: dict[str, list[str]] = {}
    for name, channels in opt_outs.items():
        shown = name[:64]
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            _bad_request(f"opt_outs.{shown} must be a list of channel names")
        if name in known.types:
            definition = known.types[name]
            if definition.critical:
                _invalid(
                    "critical_type", f"notification type {shown!r} is critical and cannot be opted out of"
                )
            allowed = frozenset(definition.channels)
        elif name in known.broken:
            allowed = frozenset(catalog.CHANNEL_FIELDS)  # its definition is broken: any service channel
        else:
            _invalid("unknown_notification_type", f"{shown!r} is not a notification type in the catalog")
        for channel in channels:
            if channel not in allowed:
                _invalid(
                    "unknown_channel",
                    f"opt_outs.{shown}: {channel[:40]!r} is not a channel of that type "
                    f"({', '.join(sorted(allowed))})",
                )
        if channels:
            parsed[name] = sorted(set(channels))
    return {"muted": muted, "opt_outs": parsed}


def preferences_view(item: Mapping[str, Any] | None) -> dict[str, Any]:
    """What GET /preferences answers: the stored item, or the defaults when there is none."""
    if not item:
        return {"muted": False, "opt_outs": {}}
    muted = item.get("muted")
    raw = item.get("opt_outs")
    opt_outs: dict[str, list[str]] = {}
    if isinstance(raw, Mapping):
        for name, channels in raw.items():
            if isinstance(channels, list | set | tuple):
                opt_outs[str(name)] = sorted({c for c in channels if isinstance(c, str)})
    view: dict[str, Any] = {"muted": muted is True, "opt_outs": opt_outs}
    if isinstance(item.get("updated_at"), str):
        view["updated_at"] = item["updated_at"]
    return view


def parse_page_size(query: Mapping[str, str]) -> int:
    raw = query.get("limit")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not raw.isdecimal() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        _bad_request(f"limit must be an integer from 1 to {MAX_PAGE_SIZE}", "invalid_query")
    return int(raw)


def encode_page_token(last_key: Mapping[str, Any]) -> str:
    delivery_key = deserialize_item(last_key)["delivery_key"]
    return base64.urlsafe_b64encode(json.dumps({"k": delivery_key}).encode()).decode().rstrip("=")


def decode_page_token(token: str, user_id: str) -> str:
    """The delivery key to continue after; 400 unless it is one of the caller's own keys."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError):
        value = None
    key = value.get("k") if isinstance(value, dict) else None
    if not isinstance(key, str) or not key.startswith(f"{user_id}#") or len(key) > 2048:
        _bad_request("next_token is not a token this API returned", "invalid_query")
    return key


DELIVERY_FIELDS: Final = ("channel", "target", "status", "reason", "notification_type", "updated_at")


def delivery_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """A delivery-log row as the caller sees it (no key attributes, no TTL)."""
    return {name: item[name] for name in DELIVERY_FIELDS if name in item}


def code_hash(user_id: str, address: str, code: str) -> str:
    """SHA-256 of the code bound to its user and address (a hash copied to another entry never matches)."""
    return hashlib.sha256(f"{user_id}\n{address}\n{code}".encode()).hexdigest()


def new_code() -> str:
    return verification.new_code()


def _epoch(now: datetime) -> int:
    return int(now.timestamp())


def iso(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_can_subscribe(addresses: Mapping[str, Any], address: str) -> Mapping[str, Any] | None:
    """The existing entry of ``address`` (None when new), after the per-user address limit (422). The
    resend cooldown and the daily caps live in the limits table (``verification.consume_send``)."""
    entry = addresses.get(address)
    if isinstance(entry, Mapping):
        return entry
    if len(addresses) >= MAX_ADDRESSES_PER_USER:
        _invalid("too_many_addresses", f"a user can have at most {MAX_ADDRESSES_PER_USER} email addresses")
    return None


def pending_entry(existing: Mapping[str, Any] | None, code_digest: str, now: datetime) -> dict[str, Any]:
    """A pending subscription entry; an existing ``unsubscribe_token`` is kept (links already mailed)."""
    token = (existing or {}).get("unsubscribe_token")
    return {
        "status": PENDING,
        "unsubscribe_token": token if isinstance(token, str) and token else secrets.token_urlsafe(32),
        "code_hash": code_digest,
        "code_expires_at": _epoch(now + CODE_TTL),
        "code_sent_at": _epoch(now),
        "verify_attempts": 0,
    }


def check_can_verify(entry: Any, now: datetime) -> tuple[str, int]:
    """(stored code hash, attempts used) of a pending entry that may still be guessed; 404/409 otherwise."""
    if not isinstance(entry, Mapping):
        raise ApiError(404, "not_found", "no subscription for this address: PUT it first")
    stored = entry.get("code_hash")
    if not isinstance(stored, str) or not stored:
        raise ApiError(409, "no_pending_code", "no verification code is pending: PUT the address again")
    attempts = int(entry.get("verify_attempts", 0))
    if attempts >= MAX_VERIFY_ATTEMPTS:
        raise ApiError(
            409, "too_many_attempts", "too many wrong codes: PUT the address again to get a new code"
        )
    if int(entry.get("code_expires_at", 0)) <= _epoch(now):
        raise ApiError(409, "code_expired", "the code has expired: PUT the address again to get a new code")
    return stored, attempts


def subscription_view(address: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {"address": address, "status": entry.get("status")}
    if entry.get("status") == VERIFIED and isinstance(entry.get("verified_at"), str):
        view["verified_at"] = entry["verified_at"]
    if entry.get("status") == PENDING and entry.get("code_expires_at") is not None:
        view["code_expires_at"] = iso(datetime.fromtimestamp(int(entry["code_expires_at"]), UTC))
    return view


def verification_email(code: str) -> tuple[str, str]:
    subject = "Your verification code"
    text = (
        f"Your verification code is {verification.display_code(code)}.\n\n"
        f"It expires in {int(CODE_TTL.total_seconds() // 3600)} hours. "
        "If you did not ask to receive notifications at this address, ignore this email."
    )
    return subject, text


# --- AWS edge -------------------------------------------------------------------------------------


def _now() -> datetime:
    """The current time (a function so tests can move the clock)."""
    return datetime.now(UTC)


def _dynamodb() -> Any:
    return aws_clients.client("dynamodb")


def _get_item(table: str, key: Mapping[str, str]) -> dict[str, Any] | None:
    response = _dynamodb().get_item(TableName=table, Key=serialize_item(key), ConsistentRead=True)
    item = response.get("Item")
    return deserialize_item(item) if item else None


def _condition_failed(error: ClientError) -> bool:
    return aws_clients.error_code(error) == "ConditionalCheckFailedException"


# Devices


def _device(request: Request) -> Device:
    return parse_device(path_parameter(request, "platform"), path_parameter(request, "token"))


def _device_key(request: Request, device: Device) -> dict[str, str]:
    return {"user_id": request.user_id, "device_key": device.device_key}


@dataclass(frozen=True)
class DeviceRegistration:
    """What a PUT of a device must do, decided from the ownership item and the caller's row as read."""

    read_owner: str | None  # the owner the ownership item named (the transaction's condition)
    previous_owner: str | None  # another user whose ownership (row and count) moves to the caller
    counts_new_device: bool  # +1 on the caller's counter, refused at the cap
    existing_endpoint_arn: str | None


def plan_device_registration(
    user_id: str, owner_item: Mapping[str, Any] | None, row: Mapping[str, Any] | None
) -> DeviceRegistration:
    read_owner = device_ownership.owner_of(owner_item)
    owned_endpoint = (owner_item or {}).get("endpoint_arn")
    row_endpoint = (row or {}).get("endpoint_arn")
    endpoint = next((e for e in (owned_endpoint, row_endpoint) if isinstance(e, str) and e), None)
    if read_owner == user_id:
        return DeviceRegistration(read_owner, None, False, endpoint)
    return DeviceRegistration(read_owner, read_owner, True, endpoint)


def device_limit_reached(cap: int) -> ApiError:
    return ApiError(
        409,
        "device_limit_reached",
        f"a user can register at most {cap} devices: DELETE one you no longer use first",
    )


def check_device_cap(counter: Mapping[str, Any] | None, cap: int) -> None:
    """409 ``device_limit_reached`` when the caller already owns ``cap`` devices."""
    if int((counter or {}).get(device_ownership.COUNT, 0)) >= cap:
        raise device_limit_reached(cap)


def registration_items(
    tables: DeviceTables, plan: DeviceRegistration, item: Mapping[str, Any], cap: int
) -> list[dict[str, Any]]:
    """The transaction of a device PUT: [ownership item, caller's row, (caller +1), (previous owner's row
    and -1)]. The ownership item is written only if its owner is still the one read, so of two concurrent
    registrations of one token exactly one commits."""
    owner = {k: item[k] for k in ("device_key", "user_id", "endpoint_arn", "updated_at")}
    put_owner: dict[str, Any] = {"TableName": tables.owners, "Item": serialize_item(owner)}
    if plan.read_owner is None:
        put_owner["ConditionExpression"] = "attribute_not_exists(device_key)"
    else:
        put_owner["ConditionExpression"] = "user_id = :read_owner"
        put_owner["ExpressionAttributeValues"] = serialize_item({":read_owner": plan.read_owner})
    items: list[dict[str, Any]] = [
        {"Put": put_owner},
        {"Put": {"TableName": tables.tokens, "Item": serialize_item(item)}},
    ]
    if plan.counts_new_device:
        items.append(device_ownership.count_change(tables.limits, str(item["user_id"]), 1, cap))
    if plan.previous_owner is not None:
        items.append(
            {
                "Delete": {
                    "TableName": tables.tokens,
                    "Key": serialize_item({"user_id": plan.previous_owner, "device_key": item["device_key"]}),
                }
            }
        )
        items.append(device_ownership.count_change(tables.limits, plan.previous_owner, -1))
    return items


@dataclass(frozen=True)
class DeviceTables:
    tokens: str
    owners: str
    limits: str


def _device_tables() -> DeviceTables:
    return DeviceTables(
        env.required("DEVICE_TOKENS_TABLE"),
        env.required(device_ownership.OWNERS_TABLE_ENV),
        env.required(device_ownership.LIMITS_TABLE_ENV),
    )


def _delete_endpoint(endpoint_arn: str) -> None:
    try:
        aws_clients.client("sns").delete_endpoint(EndpointArn=endpoint_arn)
    except ClientError as error:
        if aws_clients.error_code(error) != "NotFound":
            raise


def _ownership_lost(error: ClientError) -> bool:
    """True when a device transaction was cancelled because another request changed the token first."""
    reasons = device_ownership.cancellation_reasons(error)
    return reasons is not None and (
        device_ownership.failed_at(reasons, 0) or "TransactionConflict" in reasons
    )


def put_device(request: Request) -> Response:
    device = _device(request)
    raw = env.optional("PLATFORM_APPLICATION_ARNS")
    applications = env.string_map("PLATFORM_APPLICATION_ARNS") if raw else {}
    application_arn = applications.get(device.platform)
    if not application_arn:
        _invalid("platform_not_configured", f"push platform {device.platform} is not configured")
    tables = _device_tables()
    cap = env.positive_int("MAX_DEVICES_PER_USER", DEFAULT_MAX_DEVICES_PER_USER)
    for _attempt in range(DEVICE_REGISTRATION_ATTEMPTS):
        owner_item = _get_item(tables.owners, {"device_key": device.device_key})
        row = _get_item(tables.tokens, _device_key(request, device))
        plan = plan_device_registration(request.user_id, owner_item, row)
        if plan.counts_new_device:  # before any endpoint exists: a refused registration creates nothing
            check_device_cap(
                _get_item(tables.limits, {"limit_key": device_ownership.limit_key(request.user_id)}), cap
            )
        try:
            endpoint = push_platforms.ensure_device_endpoint(
                application_arn, device.token, request.user_id, plan.existing_endpoint_arn
            )
        except ClientError as error:
            if aws_clients.error_code(error) != "InvalidParameter":
                raise
            _invalid("invalid_token", f"the {device.platform} push service refused the device token")
        item = {
            **_device_key(request, device),
            "platform": device.platform,
            "token": device.token,
            "endpoint_arn": endpoint.arn,
            "updated_at": iso(_now()),
        }
        try:
            device_ownership.transact(registration_items(tables, plan, item, cap))
        except ClientError as error:
            if _ownership_lost(error):
                continue  # read again: the token now has another owner (or the caller's own request won)
            reasons = device_ownership.cancellation_reasons(error)
            if reasons is not None and plan.counts_new_device and device_ownership.failed_at(reasons, 2):
                # The caller's own concurrent registrations filled the cap since it was checked: remove the
                # endpoint this request created (never one that existed before it, which may be another's).
                if plan.read_owner is None and row is None and not endpoint.preexisting:
                    _delete_endpoint(endpoint.arn)
                raise device_limit_reached(cap) from None
            raise
        logger.info(
            "device registered",
            extra={
                "platform": device.platform,
                "new_device": plan.counts_new_device,
                "ownership_moved": plan.previous_owner is not None,
            },
        )
        return Response(200, item)
    raise ApiError(409, "conflict", "the device was registered concurrently by another request: retry")


def delete_device(request: Request) -> Response:
    """Removes the caller's row; the endpoint only when the caller owns the token (the ownership item
    names them, or, for a row older than ownership items, the endpoint's CustomUserData does)."""
    device = _device(request)
    tables = _device_tables()
    owner_item = _get_item(tables.owners, {"device_key": device.device_key})
    owner = device_ownership.owner_of(owner_item)
    if owner == request.user_id:
        endpoint_arn = (owner_item or {}).get("endpoint_arn")
        if isinstance(endpoint_arn, str) and endpoint_arn:
            _delete_endpoint(endpoint_arn)  # first: if the transaction then fails, a retry finishes it
        try:
            device_ownership.transact(
                device_ownership.release_items(
                    tables.tokens, tables.owners, tables.limits, request.user_id, device.device_key
                )
            )
        except ClientError as error:
            reasons = device_ownership.cancellation_reasons(error)
            if reasons is None or not device_ownership.failed_at(reasons, 0):
                raise  # a conflict with a concurrent write is 503 (retry later), see _is_transient
            # another user took the token over meanwhile: their transaction removed the caller's row
        logger.info("device removed", extra={"platform": device.platform, "owner": True})
        return Response(204)
    key = _device_key(request, device)
    row = _get_item(tables.tokens, key)
    if row is None:
        return Response(204)
    endpoint_arn = row.get("endpoint_arn")
    if owner is None and isinstance(endpoint_arn, str) and endpoint_arn:
        try:  # a row older than ownership items: the endpoint is the caller's if it names nobody else
            named = push_platforms.endpoint_user(endpoint_arn)
        except ClientError as error:
            if aws_clients.error_code(error) not in ("NotFound", "NotFoundException"):
                raise
            named = request.user_id  # gone already: nothing to delete
        if named in (None, request.user_id):
            _delete_endpoint(endpoint_arn)
    request_key = serialize_item(key)
    try:
        _dynamodb().delete_item(
            TableName=tables.tokens,
            Key=request_key,
            ConditionExpression="attribute_not_exists(updated_at) OR updated_at = :read",
            ExpressionAttributeValues=serialize_item({":read": row.get("updated_at", "")}),
        )
    except ClientError as error:
        if not _condition_failed(error):
            raise
        raise ApiError(409, "conflict", "the device was registered again meanwhile: retry") from None
    logger.info("device removed", extra={"platform": device.platform, "owner": False})
    return Response(204)


# Email subscriptions


def _consume(count: Callable[[], None]) -> None:
    """Run a ``verification`` counter; its LimitExceeded is a 429 with ``retry-after``."""
    try:
        count()
    except verification.LimitExceeded as error:
        raise ApiError(
            429, "too_many_requests", error.message, {"retry-after": str(error.retry_after)}
        ) from None


def _address_names(address: str, **extra: str) -> dict[str, str]:
    """Expression attribute names for ``addresses.<address>`` (an address has dots and ``@``)."""
    return {"#addresses": "addresses", "#a": address, **extra}


def _addresses(item: Mapping[str, Any] | None) -> dict[str, Any]:
    addresses = (item or {}).get("addresses")
    return dict(addresses) if isinstance(addresses, Mapping) else {}


def _address(request: Request) -> str:
    return parse_address(path_parameter(request, "address"))


def put_email_subscription(request: Request) -> Response:
    address = _address(request)
    table = env.required("EMAIL_SUBSCRIPTIONS_TABLE")
    sender = env.required("SENDER_ADDRESS")
    key = serialize_item({"user_id": request.user_id})
    item = _get_item(table, {"user_id": request.user_id})
    addresses = _addresses(item)
    now = _now()
    current = addresses.get(address)
    if isinstance(current, Mapping) and current.get("status") == VERIFIED:
        return Response(200, subscription_view(address, current))  # nothing to do, nothing mailed
    existing = check_can_subscribe(addresses, address)
    withheld = verification.is_suppressed(address, now)
    # Counted like any other code (the same 429s), so a suppressed address cannot be told apart.
    _consume(lambda: verification.consume_send(request.user_id, address, now, verification.limits_from_env()))
    code = new_code()
    entry = pending_entry(existing, code_hash(request.user_id, address, code), now)
    client = _dynamodb()
    if item is None or not isinstance((item or {}).get("addresses"), Mapping):
        client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #addresses = if_not_exists(#addresses, :empty)",
            ExpressionAttributeNames={"#addresses": "addresses"},
            ExpressionAttributeValues={":empty": {"M": {}}},
        )
    try:
        client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #addresses.#a = :entry",
            # never turn an address verified in the meantime back into a pending one
            ConditionExpression="attribute_not_exists(#addresses.#a) OR #addresses.#a.#status <> :verified",
            ExpressionAttributeNames=_address_names(address, **{"#status": "status"}),
            ExpressionAttributeValues=serialize_item({":entry": entry, ":verified": VERIFIED}),
        )
    except ClientError as error:
        if not _condition_failed(error):
            raise
        return Response(200, {"address": address, "status": VERIFIED})
    if withheld:
        logger.info("verification code withheld: address suppressed", extra={"address": mask(address)})
        return Response(200, subscription_view(address, entry))
    subject, text = verification_email(code)
    email: dict[str, Any] = {
        "FromEmailAddress": sender,
        "Destination": {"ToAddresses": [address]},
        "Content": {
            "Simple": {
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
            }
        },
        "EmailTags": [{"Name": "purpose", "Value": "email_verification"}],
    }
    identity_arn = env.optional("SES_IDENTITY_ARN")
    if identity_arn:
        email["FromEmailAddressIdentityArn"] = identity_arn
    configuration_set = env.optional("SES_CONFIGURATION_SET")
    if configuration_set:
        email["ConfigurationSetName"] = configuration_set
    aws_clients.sesv2().send_email(**email)
    logger.info("verification code sent", extra={"address": mask(address)})
    return Response(200, subscription_view(address, entry))


def verify_email_subscription(request: Request) -> Response:
    address = _address(request)
    code = parse_code(parse_json_object(request.body))
    table = env.required("EMAIL_SUBSCRIPTIONS_TABLE")
    key = serialize_item({"user_id": request.user_id})
    entry = _addresses(_get_item(table, {"user_id": request.user_id})).get(address)
    if isinstance(entry, Mapping) and entry.get("status") == VERIFIED:
        return Response(200, subscription_view(address, entry))
    now = _now()
    stored, attempts = check_can_verify(entry, now)
    client = _dynamodb()
    names = _address_names(
        address, **{"#status": "status", "#hash": "code_hash", "#attempts": "verify_attempts"}
    )
    try:  # the guess consumes an attempt before it is compared: concurrent guesses cannot exceed the cap
        client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #addresses.#a.#attempts = #addresses.#a.#attempts + :one",
            ConditionExpression=(
                "#addresses.#a.#status = :pending AND #addresses.#a.#hash = :hash "
                "AND #addresses.#a.#attempts < :max"
            ),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialize_item(
                {":one": 1, ":pending": PENDING, ":hash": stored, ":max": MAX_VERIFY_ATTEMPTS}
            ),
        )
    except ClientError as error:
        if not _condition_failed(error):
            raise
        raise ApiError(
            409, "conflict", "the subscription changed while verifying: try again or PUT the address again"
        ) from None
    # ... and one of the address's guesses of the day, which outlive the entry (delete and re-add).
    _consume(lambda: verification.consume_guess(address, now, verification.limits_from_env()))
    if not hmac.compare_digest(stored, code_hash(request.user_id, address, code)):
        left = MAX_VERIFY_ATTEMPTS - attempts - 1
        logger.info("wrong verification code", extra={"address": mask(address), "attempts_left": left})
        _invalid("invalid_code", f"the code is wrong; {left} attempt(s) left")
    verified_at = iso(now)
    try:
        client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression=(
                "SET #addresses.#a.#status = :verified, #addresses.#a.#verified_at = :now "
                "REMOVE #addresses.#a.#hash, #addresses.#a.#expires, #addresses.#a.#sent, "
                "#addresses.#a.#attempts"
            ),
            ConditionExpression="#addresses.#a.#hash = :hash",
            ExpressionAttributeNames={
                **names,
                "#verified_at": "verified_at",
                "#expires": "code_expires_at",
                "#sent": "code_sent_at",
            },
            ExpressionAttributeValues=serialize_item(
                {":verified": VERIFIED, ":now": verified_at, ":hash": stored}
            ),
        )
    except ClientError as error:
        if not _condition_failed(error):
            raise
        raise ApiError(
            409, "conflict", "the subscription changed while verifying: try again or PUT the address again"
        ) from None
    logger.info("email address verified", extra={"address": mask(address)})
    return Response(200, {"address": address, "status": VERIFIED, "verified_at": verified_at})


def delete_email_subscription(request: Request) -> Response:
    address = _address(request)
    table = env.required("EMAIL_SUBSCRIPTIONS_TABLE")
    try:
        _dynamodb().update_item(
            TableName=table,
            Key=serialize_item({"user_id": request.user_id}),
            UpdateExpression="REMOVE #addresses.#a",
            ConditionExpression="attribute_exists(#addresses.#a)",
            ExpressionAttributeNames=_address_names(address),
        )
    except ClientError as error:
        if not _condition_failed(error):
            raise
        return Response(204)
    logger.info("email address removed", extra={"address": mask(address)})
    return Response(204)


# Preferences


def get_preferences(request: Request) -> Response:
    item = _get_item(env.required("PREFERENCES_TABLE"), {"user_id": request.user_id})
    return Response(200, preferences_view(item))


def put_preferences(request: Request) -> Response:
    document = parse_json_object(request.body)
    preferences = parse_preferences(document, catalog.load())
    item = {"user_id": request.user_id, **preferences, "updated_at": iso(_now())}
    _dynamodb().put_item(TableName=env.required("PREFERENCES_TABLE"), Item=serialize_item(item))
    logger.info(
        "preferences replaced", extra={"muted": preferences["muted"], "types": len(preferences["opt_outs"])}
    )
    return Response(200, preferences_view(item))


# Delivery log


def get_deliveries(request: Request) -> Response:
    notification_id = parse_notification_id(path_parameter(request, "notification_id"))
    _known_keys(request.query, frozenset({"limit", "next_token"}), "query string", "invalid_query")
    limit = parse_page_size(request.query)
    token = request.query.get("next_token")
    query: dict[str, Any] = {
        "TableName": env.required("DELIVERY_LOG_TABLE"),
        "KeyConditionExpression": "notification_id = :id AND begins_with(delivery_key, :prefix)",
        "ExpressionAttributeValues": serialize_item(
            {":id": notification_id, ":prefix": f"{request.user_id}#"}
        ),
        "Limit": limit,
    }
    if token is not None:
        start = decode_page_token(token, request.user_id)
        query["ExclusiveStartKey"] = serialize_item(
            {"notification_id": notification_id, "delivery_key": start}
        )
    response = _dynamodb().query(**query)
    rows = [delivery_view(deserialize_item(item)) for item in response.get("Items", [])]
    if not rows and token is None:
        raise ApiError(404, "not_found", "no delivery of this notification to you")
    body: dict[str, Any] = {"notification_id": notification_id, "deliveries": rows}
    last_key = response.get("LastEvaluatedKey")
    if last_key:
        body["next_token"] = encode_page_token(last_key)
    return Response(200, body)


ROUTES: Final[Mapping[str, Callable[[Request], Response]]] = {
    "PUT /devices/{platform}/{token}": put_device,
    "DELETE /devices/{platform}/{token}": delete_device,
    "PUT /email-subscriptions/{address}": put_email_subscription,
    "POST /email-subscriptions/{address}/verify": verify_email_subscription,
    "DELETE /email-subscriptions/{address}": delete_email_subscription,
    "GET /preferences": get_preferences,
    "PUT /preferences": put_preferences,
    "GET /notifications/{notification_id}/deliveries": get_deliveries,
}


def _string_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def parse_request(event: Any) -> Request:
    """The request the route functions see: authorised user first (403), then the route (404)."""
    if not isinstance(event, Mapping):
        _bad_request("the event is not an API Gateway HTTP API request", "malformed_request")
    user_id = user_id_from(event)
    route_key = event.get("routeKey")
    if not isinstance(route_key, str) or route_key not in ROUTES:
        raise ApiError(404, "route_not_found", "no such route")
    return Request(
        route_key=route_key,
        user_id=user_id,
        path=_string_map(event.get("pathParameters")),
        query=_string_map(event.get("queryStringParameters")),
        body=body_text(event.get("body"), event.get("isBase64Encoded")),
    )


# Reasons of a cancelled transaction that say "try again later".
TRANSIENT_CANCELLATION_REASONS: Final = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)


def _is_transient(error: Exception) -> bool:
    if isinstance(error, BotoCoreError):
        return True  # timeouts and connection errors: no response at all
    if isinstance(error, ClientError) and TRANSIENT_CANCELLATION_REASONS.intersection(
        device_ownership.cancellation_reasons(error) or ()
    ):
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return aws_clients.error_code(error) in TRANSIENT_ERROR_CODES or int(status or 0) >= 500
    return False


def dispatch(event: Any) -> Response:
    """Route one request; every failure becomes a JSON error response (never a traceback)."""
    route = event.get("routeKey") if isinstance(event, Mapping) else None
    try:
        request = parse_request(event)
        logger.append_keys(route=request.route_key, user_id=request.user_id)
        rate_limit.admit(request.user_id, ApiError)  # per-user ceiling: 429 before any route work
        response = ROUTES[request.route_key](request)
    except ApiError as error:
        logger.info(
            "request refused", extra={"route": route, "status": error.status, "error_code": error.code}
        )
        return Response(error.status, error_body(error.code, error.message), error.headers)
    except (ClientError, BotoCoreError) as error:
        transient = _is_transient(error)
        logger.error(
            "AWS call failed",
            extra={"route": route, "error_code": aws_clients.error_code(error), "transient": transient},
        )
        if transient:
            return Response(
                503,
                error_body("service_unavailable", "a backing service is busy or unavailable: retry later"),
                {"retry-after": "1"},
            )
        return Response(500, error_body("internal_error", "the request failed: see the function's logs"))
    except ConfigurationError as error:
        logger.error("configuration error", extra={"route": route, "reason": str(error)})
        return Response(500, error_body("internal_error", "the service is misconfigured: see its logs"))
    except Exception:
        logger.exception("unexpected error", extra={"route": route})
        return Response(500, error_body("internal_error", "the request failed: see the function's logs"))
    logger.info("request handled", extra={"status": response.status})
    return response


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Lambda entry point (HTTP API, payload format 2.0)."""
    logger.remove_keys(["route", "user_id"])
    request_id = (event.get("requestContext") or {}).get("requestId") if isinstance(event, Mapping) else None
    logger.append_keys(request_id=request_id if isinstance(request_id, str) else None)
    try:
        return to_http(dispatch(event))
    finally:
        logger.remove_keys(["route", "user_id", "request_id"])
