"""HTTP plumbing of the registration API (API Gateway HTTP API, payload format 2.0): the error a route
raises (``ApiError``), the response it returns (``Response``) and its wire form (``to_http``: JSON with
``no-store`` and ``nosniff`` headers), and the request body as strict JSON (size-limited, UTF-8, no
duplicate keys, no NaN). CORS is not handled here: the HTTP API's ``cors_configuration`` answers preflights
and adds the headers (registration_api.tf).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, Final, NamedTuple, NoReturn

from notification_handlers.event_fields import type_name
from notification_handlers.records import EMPTY_MAPPING

MAX_BODY_BYTES: Final = 64 * 1024

JSON_HEADERS: Final = {
    "content-type": "application/json",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
}


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


def bad_request(message: str, code: str = "invalid_body") -> NoReturn:
    raise ApiError(400, code, message)


def invalid(code: str, message: str) -> NoReturn:
    raise ApiError(422, code, message)


class Response(NamedTuple):
    status: int
    body: Any = None  # JSON-serialisable; None: no body (204)
    headers: Mapping[str, str] = EMPTY_MAPPING


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
        bad_request(f"body must be a string, got {type_name(body)}", "malformed_body")
    if is_base64 is True:
        if len(body) > (MAX_BODY_BYTES * 4) // 3 + 4:
            bad_request(f"body is larger than {MAX_BODY_BYTES} bytes", "body_too_large")
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            bad_request("body is not valid base64", "malformed_body")
    else:
        raw = body.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BODY_BYTES:
        bad_request(f"body is larger than {MAX_BODY_BYTES} bytes", "body_too_large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        bad_request("body is not UTF-8", "malformed_body")
    return text or None


def parse_json_object(text: str | None) -> dict[str, Any]:
    """Strict JSON: an object, no duplicate keys, no NaN/Infinity; 400 naming the problem."""
    if text is None:
        bad_request("a JSON object body is required", "malformed_body")
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_reject_constant)
    except RecursionError:
        bad_request("body is nested too deeply", "malformed_body")
    except ValueError as error:
        reason = str(error) if str(error).startswith("duplicate key") else "body is not valid JSON"
        bad_request(reason, "malformed_body")
    if not isinstance(value, dict):
        bad_request(f"body must be a JSON object, got {type_name(value)}")
    return value


def known_keys(
    document: Mapping[str, Any], allowed: frozenset[str], where: str = "body", code: str = "invalid_body"
) -> None:
    unknown = sorted(set(document) - allowed)
    if unknown:
        bad_request(f"{where} has unknown field(s): {', '.join(k[:40] for k in unknown[:5])}", code)
