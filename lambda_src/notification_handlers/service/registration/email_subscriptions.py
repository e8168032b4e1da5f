"""``PUT`` and ``DELETE /email-subscriptions/{address}``: the caller's email addresses
(docs/notification-service.md, section 7, email verification).

PUT adds the address as ``pending`` with a random 8-character code (``verification.new_code``: 2^40 codes;
only its SHA-256 hash, salted with user and address, is stored, valid 24 h) and an ``unsubscribe_token``,
then mails the code (SES v2, through the verification configuration set). A verified address: no-op, 200.
Over a limit of the limits table (codes per user and per address per day, the per-address resend cooldown;
``verification``): 429 with ``retry-after``, nothing mailed. A suppressed address (suppressions table, or
blocked after feedback on a verification mail) gets the same pending answer, but no mail: whether an
address bounced or complained is not revealed to someone who may not own it.

DELETE removes the address (204, also when absent); the limits table keeps counting, so deleting and
re-adding resets no limit. The code is checked by ``email_verification``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from botocore.exceptions import ClientError

from notification_handlers import aws_clients
from notification_handlers.service import env, verification
from notification_handlers.service.dynamodb_batch import serialize_item
from notification_handlers.service.email_address import mask
from notification_handlers.service.log import logger
from notification_handlers.service.registration import edge
from notification_handlers.service.registration.http_api import ApiError, Response, invalid
from notification_handlers.service.registration.request import Request, parse_address, path_parameter

MAX_ADDRESSES_PER_USER: Final = 10
CODE_TTL: Final = timedelta(hours=24)
PENDING: Final = "pending"
VERIFIED: Final = "verified"


def code_hash(user_id: str, address: str, code: str) -> str:
    """SHA-256 of the code bound to its user and address (a hash copied to another entry never matches)."""
    return hashlib.sha256(f"{user_id}\n{address}\n{code}".encode()).hexdigest()


def new_code() -> str:
    return verification.new_code()


def check_can_subscribe(addresses: Mapping[str, Any], address: str) -> Mapping[str, Any] | None:
    """The existing entry of ``address`` (None when new), after the per-user address limit (422). The
    resend cooldown and the daily caps live in the limits table (``verification.consume_send``)."""
    entry = addresses.get(address)
    if isinstance(entry, Mapping):
        return entry
    if len(addresses) >= MAX_ADDRESSES_PER_USER:
        invalid("too_many_addresses", f"a user can have at most {MAX_ADDRESSES_PER_USER} email addresses")
    return None


def pending_entry(existing: Mapping[str, Any] | None, code_digest: str, now: datetime) -> dict[str, Any]:
    """A pending subscription entry; an existing ``unsubscribe_token`` is kept (links already mailed)."""
    token = (existing or {}).get("unsubscribe_token")
    return {
        "status": PENDING,
        "unsubscribe_token": token if isinstance(token, str) and token else secrets.token_urlsafe(32),
        "code_hash": code_digest,
        "code_expires_at": edge.epoch(now + CODE_TTL),
        "code_sent_at": edge.epoch(now),
        "verify_attempts": 0,
    }


def subscription_view(address: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {"address": address, "status": entry.get("status")}
    if entry.get("status") == VERIFIED and isinstance(entry.get("verified_at"), str):
        view["verified_at"] = entry["verified_at"]
    if entry.get("status") == PENDING and entry.get("code_expires_at") is not None:
        view["code_expires_at"] = edge.iso(datetime.fromtimestamp(int(entry["code_expires_at"]), UTC))
    return view


def verification_email(code: str) -> tuple[str, str]:
    subject = "Your verification code"
    text = (
        f"Your verification code is {verification.display_code(code)}.\n\n"
        f"It expires in {int(CODE_TTL.total_seconds() // 3600)} hours. "
        "If you did not ask to receive notifications at this address, ignore this email."
    )
    return subject, text


def consume_limit(count: Callable[[], None]) -> None:
    """Run a ``verification`` counter; its LimitExceeded is a 429 with ``retry-after``."""
    try:
        count()
    except verification.LimitExceeded as error:
        raise ApiError(
            429, "too_many_requests", error.message, {"retry-after": str(error.retry_after)}
        ) from None


def address_names(address: str, **extra: str) -> dict[str, str]:
    """Expression attribute names for ``addresses.<address>`` (an address has dots and ``@``)."""
    return {"#addresses": "addresses", "#a": address, **extra}


def addresses_of(item: Mapping[str, Any] | None) -> dict[str, Any]:
    addresses = (item or {}).get("addresses")
    return dict(addresses) if isinstance(addresses, Mapping) else {}


def path_address(request: Request) -> str:
    return parse_address(path_parameter(request, "address"))


def put_email_subscription(request: Request) -> Response:
    address = path_address(request)
    table = env.required("EMAIL_SUBSCRIPTIONS_TABLE")
    sender = env.required("SENDER_ADDRESS")
    key = serialize_item({"user_id": request.user_id})
    item = edge.get_item(table, {"user_id": request.user_id})
    addresses = addresses_of(item)
    now = edge.now()
    current = addresses.get(address)
    if isinstance(current, Mapping) and current.get("status") == VERIFIED:
        return Response(200, subscription_view(address, current))  # nothing to do, nothing mailed
    existing = check_can_subscribe(addresses, address)
    withheld = verification.is_suppressed(address, now)
    # Counted like any other code (the same 429s), so a suppressed address cannot be told apart.
    consume_limit(
        lambda: verification.consume_send(request.user_id, address, now, verification.limits_from_env())
    )
    code = new_code()
    entry = pending_entry(existing, code_hash(request.user_id, address, code), now)
    client = edge.dynamodb()
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
            ExpressionAttributeNames=address_names(address, **{"#status": "status"}),
            ExpressionAttributeValues=serialize_item({":entry": entry, ":verified": VERIFIED}),
        )
    except ClientError as error:
        if not edge.condition_failed(error):
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


def delete_email_subscription(request: Request) -> Response:
    address = path_address(request)
    table = env.required("EMAIL_SUBSCRIPTIONS_TABLE")
    try:
        edge.dynamodb().update_item(
            TableName=table,
            Key=serialize_item({"user_id": request.user_id}),
            UpdateExpression="REMOVE #addresses.#a",
            ConditionExpression="attribute_exists(#addresses.#a)",
            ExpressionAttributeNames=address_names(address),
        )
    except ClientError as error:
        if not edge.condition_failed(error):
            raise
        return Response(204)
    logger.info("email address removed", extra={"address": mask(address)})
    return Response(204)
