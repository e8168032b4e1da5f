"""``POST /email-subscriptions/{address}/verify`` ``{"code": "7KQ2-M9XD"}``: proving an address is the
caller's (docs/notification-service.md, section 7, email verification).

Each guess first consumes one of ``MAX_VERIFY_ATTEMPTS`` attempts of the code (a conditional update, so
concurrent guesses cannot exceed it) and one of the address's guesses of the day (limits table: 429 beyond),
then is compared in constant time. Right: ``verified``. Wrong: 422. Attempts used up or code expired: 409
until a new PUT (``email_subscriptions``).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from botocore.exceptions import ClientError

from notification_handlers.service import env, verification
from notification_handlers.service.dynamodb_batch import serialize_item
from notification_handlers.service.email_address import mask
from notification_handlers.service.log import logger
from notification_handlers.service.registration import edge
from notification_handlers.service.registration.email_subscriptions import (
    PENDING,
    VERIFIED,
    address_names,
    addresses_of,
    code_hash,
    consume_limit,
    path_address,
    subscription_view,
)
from notification_handlers.service.registration.http_api import ApiError, Response, invalid, parse_json_object
from notification_handlers.service.registration.request import Request, parse_code

MAX_VERIFY_ATTEMPTS: Final = 5


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
    if int(entry.get("code_expires_at", 0)) <= edge.epoch(now):
        raise ApiError(409, "code_expired", "the code has expired: PUT the address again to get a new code")
    return stored, attempts


def verify_email_subscription(request: Request) -> Response:
    address = path_address(request)
    code = parse_code(parse_json_object(request.body))
    table = env.required("EMAIL_SUBSCRIPTIONS_TABLE")
    key = serialize_item({"user_id": request.user_id})
    entry = addresses_of(edge.get_item(table, {"user_id": request.user_id})).get(address)
    if isinstance(entry, Mapping) and entry.get("status") == VERIFIED:
        return Response(200, subscription_view(address, entry))
    now = edge.now()
    stored, attempts = check_can_verify(entry, now)
    client = edge.dynamodb()
    names = address_names(
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
        if not edge.condition_failed(error):
            raise
        raise ApiError(
            409, "conflict", "the subscription changed while verifying: try again or PUT the address again"
        ) from None
    # ... and one of the address's guesses of the day, which outlive the entry (delete and re-add).
    consume_limit(lambda: verification.consume_guess(address, now, verification.limits_from_env()))
    if not hmac.compare_digest(stored, code_hash(request.user_id, address, code)):
        left = MAX_VERIFY_ATTEMPTS - attempts - 1
        logger.info("wrong verification code", extra={"address": mask(address), "attempts_left": left})
        invalid("invalid_code", f"the code is wrong; {left} attempt(s) left")
    verified_at = edge.iso(now)
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
        if not edge.condition_failed(error):
            raise
        raise ApiError(
            409, "conflict", "the subscription changed while verifying: try again or PUT the address again"
        ) from None
    logger.info("email address verified", extra={"address": mask(address)})
    return Response(200, {"address": address, "status": VERIFIED, "verified_at": verified_at})
