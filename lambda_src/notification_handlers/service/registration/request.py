"""Request parsing of the registration API: from the HTTP API event to a ``Request`` (the authorised user,
then the route), and from its path, query and body to validated values (a device, an address, a code,
preferences, a notification id, a page). Pure: every refusal is an ``ApiError`` (400 unparsable, 403 no
user, 404 no route, 422 invalid value) naming the problem, never echoing more than a short prefix of it.

Who the caller is comes only from the authorizer: ``requestContext.authorizer.jwt.claims.sub``, never a
body, path or query field; a ``sub`` that is not a user id of the event contract is 403.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Collection, Mapping
from typing import Any, Final, NamedTuple

from notification_handlers.event_fields import type_name
from notification_handlers.records import EMPTY_MAPPING
from notification_handlers.service import catalog, quiet_hours, verification
from notification_handlers.service.catalog import Catalog
from notification_handlers.service.dynamodb_batch import deserialize_item
from notification_handlers.service.email_address import is_plausible, normalise
from notification_handlers.service.identity import USER_ID_PATTERN  # the contract's recipient pattern
from notification_handlers.service.registration.http_api import (
    ApiError,
    bad_request,
    body_text,
    invalid,
    known_keys,
)

MAX_ADDRESS_LENGTH: Final = 254  # RFC 5321 path limit (the 320 of email_address is the sum of parts)
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


class Request(NamedTuple):
    route_key: str
    user_id: str
    path: Mapping[str, str] = EMPTY_MAPPING
    query: Mapping[str, str] = EMPTY_MAPPING
    body: str | None = None  # decoded text (base64 undone), not yet parsed


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


def _string_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def parse_request(event: Any, route_keys: Collection[str]) -> Request:
    """The request the route functions see: authorised user first (403), then the route (404: a
    ``routeKey`` not in ``route_keys``)."""
    if not isinstance(event, Mapping):
        bad_request("the event is not an API Gateway HTTP API request", "malformed_request")
    user_id = user_id_from(event)
    route_key = event.get("routeKey")
    if not isinstance(route_key, str) or route_key not in route_keys:
        raise ApiError(404, "route_not_found", "no such route")
    return Request(
        route_key=route_key,
        user_id=user_id,
        path=_string_map(event.get("pathParameters")),
        query=_string_map(event.get("queryStringParameters")),
        body=body_text(event.get("body"), event.get("isBase64Encoded")),
    )


def path_parameter(request: Request, name: str) -> str:
    value = request.path.get(name)
    if not isinstance(value, str) or not value:
        bad_request(f"path parameter {name} is missing", "invalid_path")
    return value


class Device(NamedTuple):
    platform: str
    token: str

    @property
    def device_key(self) -> str:
        return f"{self.platform}#{self.token}"


def parse_device(platform: str, token: str) -> Device:
    """Platform and token from the path; APNs tokens are lower-cased (one key per device)."""
    if platform not in PLATFORMS:
        invalid("invalid_platform", f"platform must be one of {', '.join(PLATFORMS)}")
    if platform.startswith("apns"):
        if not APNS_TOKEN_PATTERN.fullmatch(token):
            invalid("invalid_token", "an APNs device token is 64 hexadecimal characters")
        return Device(platform, token.lower())
    if not FCM_TOKEN_PATTERN.fullmatch(token):
        invalid(
            "invalid_token",
            f"an FCM registration token is 1-{MAX_FCM_TOKEN_LENGTH} characters of A-Z a-z 0-9 _ : -",
        )
    return Device(platform, token)


def parse_address(value: str) -> str:
    """The normalised address (stripped, lower-case); 422 unless plausible and at most 254 characters."""
    address = normalise(value)
    if len(address) > MAX_ADDRESS_LENGTH or not is_plausible(address):
        invalid(
            "invalid_address",
            f"address is not a plausible email address of at most {MAX_ADDRESS_LENGTH} characters",
        )
    return address


def parse_notification_id(value: str) -> str:
    if not NOTIFICATION_ID_PATTERN.fullmatch(value):
        invalid(
            "invalid_notification_id",
            "notification_id must be 64 lowercase hex digits: the SHA-256 of the event's source, "
            "detail-type and idempotencyKey (docs/notification-service.md, section 1)",
        )
    return value


def parse_code(document: Mapping[str, Any]) -> str:
    """The canonical code (``verification.canonical_code``: case, hyphen and look-alikes forgiven)."""
    known_keys(document, frozenset({"code"}))
    code = document.get("code")
    canonical = verification.canonical_code(code) if isinstance(code, str) else None
    if canonical is None:
        bad_request(
            f"code must be the {verification.CODE_LENGTH} letters and digits from the email, e.g. "
            f"{verification.display_code('7KQ2M9XD')}"
        )
    return canonical


def parse_preferences(document: Mapping[str, Any], known: Catalog) -> dict[str, Any]:
    """``{"muted": bool, "opt_outs": {type: [channels]}, "quiet_hours": {"start": "HH:MM", "end": "HH:MM"}}``
    checked against the catalog (full replace: a missing field takes its default, no quiet hours). Channel
    lists come back de-duplicated and sorted; empty lists are dropped. A quiet-hours window that is not two
    distinct HH:MM times is 400 saying which."""
    known_keys(document, frozenset({"muted", "opt_outs", "quiet_hours"}))
    muted = document.get("muted", False)
    if not isinstance(muted, bool):
        bad_request(f"muted must be a boolean, got {type_name(muted)}")
    opt_outs = document.get("opt_outs", {})
    if not isinstance(opt_outs, dict):
        bad_request(f"opt_outs must be an object of notification type -> channels, got {type_name(opt_outs)}")
    parsed: dict[str, list[str]] = {}
    for name, channels in opt_outs.items():
        shown = name[:64]
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            bad_request(f"opt_outs.{shown} must be a list of channel names")
        if name in known.types:
            definition = known.types[name]
            if definition.critical:
                invalid(
                    "critical_type", f"notification type {shown!r} is critical and cannot be opted out of"
                )
            allowed = frozenset(definition.channels)
        elif name in known.broken:
            allowed = frozenset(catalog.CHANNEL_FIELDS)  # its definition is broken: any service channel
        else:
            invalid("unknown_notification_type", f"{shown!r} is not a notification type in the catalog")
        for channel in channels:
            if channel not in allowed:
                invalid(
                    "unknown_channel",
                    f"opt_outs.{shown}: {channel[:40]!r} is not a channel of that type "
                    f"({', '.join(sorted(allowed))})",
                )
        if channels:
            parsed[name] = sorted(set(channels))
    result: dict[str, Any] = {"muted": muted, "opt_outs": parsed}
    window = parse_quiet_hours(document.get("quiet_hours"))
    if window is not None:
        result["quiet_hours"] = window
    return result


def parse_quiet_hours(value: Any) -> dict[str, str] | None:
    """The ``quiet_hours`` window as stored (``{"start", "end"}``), None when absent or null; 400 saying why
    it is not two distinct HH:MM times."""
    if value is None:
        return None
    try:
        return quiet_hours.parse_window(value).as_item()
    except quiet_hours.WindowError as error:
        bad_request(str(error))


def parse_page_size(query: Mapping[str, str]) -> int:
    raw = query.get("limit")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not raw.isdecimal() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        bad_request(f"limit must be an integer from 1 to {MAX_PAGE_SIZE}", "invalid_query")
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
        bad_request("next_token is not a token this API returned", "invalid_query")
    return key
