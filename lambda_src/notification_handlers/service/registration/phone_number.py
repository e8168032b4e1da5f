"""``GET``/``DELETE /phone-number``, ``PUT /phone-number/{phone_number}`` and
``POST /phone-number/{phone_number}/verify``: the caller's one SMS number (docs/notification-service.md,
section 9). Table layout: ``phone_numbers``.

PUT sends a code by SMS to an E.164 number (422 ``invalid_phone_number`` otherwise; 422
``unsupported_phone_number`` for a premium-rate range or a country outside ``sms.allowed_country_codes``)
and records it as the caller's pending number; the caller's verified number, if any, keeps receiving
notifications until the new one is verified. The code, its hashing, its 24 h validity, its 5 attempts and
every daily counter are the email verification's (``verification``: codes per user per day, counted for
email and SMS together; codes per number per day and the resend cooldown; guesses per number per day):
429 with ``retry-after``. A number on SNS's opt-out list (it replied STOP) gets the same pending answer but
no SMS: the API does not tell someone who may not hold the number that its holder opted out.

POST verify checks the code (an attempt and one of the number's guesses are used before the comparison,
so concurrent guesses cannot exceed either cap), then, in ONE transaction: the number's ownership item
names the caller (on the condition that its owner is still the one read), the caller's item becomes
``verified``, the previous owner's item loses the number (on the condition that it still names it) and the
caller's previous number's ownership item is deleted. One owner per number: whoever last proved they
receive it. Someone registering another person's number gets no further than ``pending`` without the code,
and the number's holder gets at most ``codes_per_address_per_day`` codes a day, whoever asks.

DELETE removes the caller's number (and its ownership item, if the caller owns it): 204, also when absent.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from botocore.exceptions import ClientError

from notification_handlers import aws_clients
from notification_handlers.service import env, phone_numbers, sms, verification
from notification_handlers.service.dynamodb_batch import serialize_item
from notification_handlers.service.log import logger
from notification_handlers.service.phone_numbers import KEY, PENDING, VERIFIED, number_key, user_key
from notification_handlers.service.registration import edge
from notification_handlers.service.registration.email_subscriptions import (
    CODE_TTL,
    code_hash,
    consume_limit,
)
from notification_handlers.service.registration.email_verification import MAX_VERIFY_ATTEMPTS
from notification_handlers.service.registration.http_api import (
    ApiError,
    Response,
    invalid,
    parse_json_object,
)
from notification_handlers.service.registration.request import Request, parse_code, path_parameter

PENDING_FIELDS: Final = ("pending_number", "code_hash", "code_expires_at", "code_sent_at", "verify_attempts")


def parse_phone_number(value: str, settings: sms.Settings) -> str:
    """The path's number; 422 unless E.164 and a number the service sends to."""
    number = value.strip()
    if not phone_numbers.is_e164(number):
        invalid(
            "invalid_phone_number",
            "phone_number must be in E.164 format: + and 8-15 digits, the country code first (+14155550123)",
        )
    refused = sms.refusal(number, settings)
    if refused is not None:
        invalid(
            "unsupported_phone_number",
            "this service does not send SMS to premium-rate numbers or to this country",
        )
    return number


def verification_sms(code: str) -> str:
    hours = int(CODE_TTL.total_seconds() // 3600)
    return f"Your verification code is {verification.display_code(code)}. It expires in {hours} hours."


def view(item: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the caller sees: the verified number and the pending one (never the code or its hash)."""
    item = item or {}
    shown: dict[str, Any] = {}
    verified = phone_numbers.verified_number(item)
    if verified is not None:
        shown.update(phone_number=verified, status=VERIFIED, verified_at=item.get("verified_at"))
    pending = item.get("pending_number")
    if isinstance(pending, str):
        shown["pending"] = {
            "phone_number": pending,
            "status": PENDING,
            "code_expires_at": edge.iso(datetime.fromtimestamp(int(item.get("code_expires_at", 0)), UTC)),
        }
    return shown


def _table() -> str:
    return env.required(phone_numbers.TABLE_ENV)


def _user_item(table: str, user_id: str) -> dict[str, Any] | None:
    return edge.get_item(table, {KEY: user_key(user_id)})


def get_phone_number(request: Request) -> Response:
    shown = view(_user_item(_table(), request.user_id))
    if not shown:
        raise ApiError(404, "not_found", "no phone number: PUT one first")
    return Response(200, shown)


def put_phone_number(request: Request) -> Response:
    settings = sms.settings_from_env()
    number = parse_phone_number(path_parameter(request, "phone_number"), settings)
    table = _table()
    item = _user_item(table, request.user_id)
    if phone_numbers.verified_number(item) == number:
        return Response(200, view(item))  # nothing to do, nothing sent
    now = edge.now()
    # The email verification's counters: per user (email and SMS together), per number, the cooldown.
    consume_limit(
        lambda: verification.consume_send(request.user_id, number, now, verification.limits_from_env())
    )
    withheld = sms.is_opted_out(number)
    code = verification.new_code()
    pending = {
        "pending_number": number,
        "code_hash": code_hash(request.user_id, number, code),
        "code_expires_at": edge.epoch(now + CODE_TTL),
        "code_sent_at": edge.epoch(now),
        "verify_attempts": 0,
    }
    names = {f"#{i}": name for i, name in enumerate(PENDING_FIELDS)}
    edge.dynamodb().update_item(
        TableName=table,
        Key=serialize_item({KEY: user_key(request.user_id)}),
        UpdateExpression="SET " + ", ".join(f"#{i} = :{i}" for i in range(len(PENDING_FIELDS))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=serialize_item({f":{i}": pending[n] for i, n in enumerate(PENDING_FIELDS)}),
    )
    shown = view({**(item or {}), **pending})
    if withheld:
        masked = phone_numbers.mask(number)
        logger.info("verification SMS withheld: number opted out", extra={"phone_number": masked})
        return Response(200, shown)
    # Codes are transactional whatever the notifications' type (SNS routes them for delivery, not price).
    sms.publish(number, verification_sms(code), settings._replace(sms_type="Transactional"))
    logger.info("verification SMS sent", extra={"phone_number": phone_numbers.mask(number)})
    return Response(200, shown)


def check_can_verify(item: Mapping[str, Any] | None, number: str, now: datetime) -> tuple[str, int]:
    """(stored code hash, attempts used) of the pending number that may still be guessed; else 404/409."""
    if not item or item.get("pending_number") != number:
        raise ApiError(404, "not_found", "no verification is pending for this number: PUT it first")
    stored = item.get("code_hash")
    if not isinstance(stored, str) or not stored:
        raise ApiError(409, "no_pending_code", "no verification code is pending: PUT the number again")
    attempts = int(item.get("verify_attempts", 0))
    if attempts >= MAX_VERIFY_ATTEMPTS:
        raise ApiError(
            409, "too_many_attempts", "too many wrong codes: PUT the number again to get a new code"
        )
    if int(item.get("code_expires_at", 0)) <= edge.epoch(now):
        raise ApiError(409, "code_expired", "the code has expired: PUT the number again to get a new code")
    return stored, attempts


def _conflict() -> ApiError:
    return ApiError(409, "conflict", "the phone number changed while verifying: try again or PUT it again")


def use_attempt(table: str, user_id: str, stored: str) -> None:
    """One of the code's attempts, used before the comparison (conditional: concurrent guesses cannot
    exceed the cap)."""
    try:
        edge.dynamodb().update_item(
            TableName=table,
            Key=serialize_item({KEY: user_key(user_id)}),
            UpdateExpression="SET #attempts = #attempts + :one",
            ConditionExpression="#hash = :hash AND #attempts < :max",
            ExpressionAttributeNames={"#attempts": "verify_attempts", "#hash": "code_hash"},
            ExpressionAttributeValues=serialize_item(
                {":one": 1, ":hash": stored, ":max": MAX_VERIFY_ATTEMPTS}
            ),
        )
    except ClientError as error:
        if not edge.condition_failed(error):
            raise
        raise _conflict() from None


def verification_transaction(
    table: str,
    user_id: str,
    number: str,
    *,
    stored: str,
    owner: str | None,
    previous: str | None,
    verified_at: str,
) -> list[dict[str, Any]]:
    """The writes that make ``number`` the verified number of ``user_id`` (pure; see the module docstring).

    ``owner``: the number's owner as read (None: no owner); ``previous``: the caller's verified number
    before (None: none)."""
    owner_item: dict[str, Any] = {
        "Put": {
            "TableName": table,
            "Item": serialize_item({KEY: number_key(number), "user_id": user_id, "verified_at": verified_at}),
        }
    }
    if owner is None:
        owner_item["Put"]["ConditionExpression"] = "attribute_not_exists(#key)"
        owner_item["Put"]["ExpressionAttributeNames"] = {"#key": KEY}
    else:
        owner_item["Put"]["ConditionExpression"] = "#user = :owner"
        owner_item["Put"]["ExpressionAttributeNames"] = {"#user": "user_id"}
        owner_item["Put"]["ExpressionAttributeValues"] = serialize_item({":owner": owner})
    removed = {f"#r{i}": name for i, name in enumerate(PENDING_FIELDS)}
    items: list[dict[str, Any]] = [
        owner_item,
        {
            "Update": {
                "TableName": table,
                "Key": serialize_item({KEY: user_key(user_id)}),
                "UpdateExpression": "SET #number = :number, #status = :verified, #at = :at REMOVE "
                + ", ".join(removed),
                "ConditionExpression": "#pending = :number AND #hash = :hash",
                "ExpressionAttributeNames": {
                    "#number": "phone_number",
                    "#status": "status",
                    "#at": "verified_at",
                    "#pending": "pending_number",
                    "#hash": "code_hash",
                    **removed,
                },
                "ExpressionAttributeValues": serialize_item(
                    {":number": number, ":verified": VERIFIED, ":at": verified_at, ":hash": stored}
                ),
            }
        },
    ]
    if owner is not None and owner != user_id:
        items.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": serialize_item({KEY: user_key(owner)}),
                    "UpdateExpression": "REMOVE #number, #status, #at",
                    "ConditionExpression": "#number = :number",
                    "ExpressionAttributeNames": {
                        "#number": "phone_number",
                        "#status": "status",
                        "#at": "verified_at",
                    },
                    "ExpressionAttributeValues": serialize_item({":number": number}),
                }
            }
        )
    if previous is not None and previous != number:
        items.append(
            {
                "Delete": {
                    "TableName": table,
                    "Key": serialize_item({KEY: number_key(previous)}),
                    "ConditionExpression": "attribute_not_exists(#key) OR #user = :me",
                    "ExpressionAttributeNames": {"#key": KEY, "#user": "user_id"},
                    "ExpressionAttributeValues": serialize_item({":me": user_id}),
                }
            }
        )
    return items


def verify_phone_number(request: Request) -> Response:
    settings = sms.settings_from_env()
    number = parse_phone_number(path_parameter(request, "phone_number"), settings)
    code = parse_code(parse_json_object(request.body))
    table = _table()
    item = _user_item(table, request.user_id)
    if phone_numbers.verified_number(item) == number and not (item or {}).get("pending_number"):
        return Response(200, view(item))
    now = edge.now()
    stored, attempts = check_can_verify(item, number, now)
    use_attempt(table, request.user_id, stored)
    # ... and one of the number's guesses of the day, which outlive the item (delete and re-add).
    consume_limit(lambda: verification.consume_guess(number, now, verification.limits_from_env()))
    if not hmac.compare_digest(stored, code_hash(request.user_id, number, code)):
        left = MAX_VERIFY_ATTEMPTS - attempts - 1
        masked = phone_numbers.mask(number)
        logger.info("wrong verification code", extra={"phone_number": masked, "attempts_left": left})
        invalid("invalid_code", f"the code is wrong; {left} attempt(s) left")
    owner_item = edge.get_item(table, {KEY: number_key(number)})
    owner = owner_item.get("user_id") if owner_item else None
    verified_at = edge.iso(now)
    transaction = verification_transaction(
        table,
        request.user_id,
        number,
        stored=stored,
        owner=owner if isinstance(owner, str) else None,
        previous=phone_numbers.verified_number(item),
        verified_at=verified_at,
    )
    try:
        edge.dynamodb().transact_write_items(TransactItems=transaction)
    except ClientError as error:
        if aws_clients.error_code(error) != "TransactionCanceledException" or aws_clients.is_transient(error):
            raise
        raise _conflict() from None
    masked = phone_numbers.mask(number)
    if isinstance(owner, str) and owner != request.user_id:
        logger.info("phone number moved to its new verified holder", extra={"phone_number": masked})
    logger.info("phone number verified", extra={"phone_number": masked})
    return Response(200, {"phone_number": number, "status": VERIFIED, "verified_at": verified_at})


def delete_phone_number(request: Request) -> Response:
    table = _table()
    item = _user_item(table, request.user_id)
    if item is None:
        return Response(204, None)
    number = phone_numbers.verified_number(item)
    client = edge.dynamodb()
    if number is None:
        client.delete_item(TableName=table, Key=serialize_item({KEY: user_key(request.user_id)}))
        return Response(204, None)
    try:
        client.transact_write_items(
            TransactItems=[
                {
                    "Delete": {
                        "TableName": table,
                        "Key": serialize_item({KEY: user_key(request.user_id)}),
                        "ConditionExpression": "#number = :number",
                        "ExpressionAttributeNames": {"#number": "phone_number"},
                        "ExpressionAttributeValues": serialize_item({":number": number}),
                    }
                },
                {
                    "Delete": {
                        "TableName": table,
                        "Key": serialize_item({KEY: number_key(number)}),
                        "ConditionExpression": "attribute_not_exists(#key) OR #user = :me",
                        "ExpressionAttributeNames": {"#key": KEY, "#user": "user_id"},
                        "ExpressionAttributeValues": serialize_item({":me": request.user_id}),
                    }
                },
            ]
        )
    except ClientError as error:
        if aws_clients.error_code(error) != "TransactionCanceledException" or aws_clients.is_transient(error):
            raise
        raise _conflict() from None
    logger.info("phone number removed", extra={"phone_number": phone_numbers.mask(number)})
    return Response(204, None)
