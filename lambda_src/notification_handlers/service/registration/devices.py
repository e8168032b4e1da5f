"""``PUT`` and ``DELETE /devices/{platform}/{token}``: push devices (docs/notification-service.md, section 7).

PUT creates (or re-enables) the SNS platform endpoint for the token (``push_platforms.ensure_device_endpoint``
with ``PLATFORM_APPLICATION_ARNS[platform]``, ``CustomUserData`` = the caller) and, in ONE
``TransactWriteItems``, puts the ``device_owners`` item (only if it still names the owner read), the caller's
``device_tokens`` item and, for a device new to the caller, +1 on their counter in ``limits`` (only while
below ``MAX_DEVICES_PER_USER``); a token another user owned moves: their row goes and their counter gets -1
in the same transaction (``device_ownership``). 200 with the item; a repeat gives the same item
(``updated_at`` refreshed). At the cap: 409 ``device_limit_reached``, checked before the endpoint is created.

DELETE, by the owner: deletes the endpoint, then the item, the ownership item and -1 (one transaction).
Anyone else only loses their own item; the endpoint stays. 204, also when absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from botocore.exceptions import ClientError

from notification_handlers import aws_clients
from notification_handlers.service import device_ownership, env, push_platforms
from notification_handlers.service.dynamodb_batch import serialize_item
from notification_handlers.service.log import logger
from notification_handlers.service.registration import edge
from notification_handlers.service.registration.http_api import ApiError, Response, invalid
from notification_handlers.service.registration.request import Device, Request, parse_device, path_parameter

# Devices one user may own (env MAX_DEVICES_PER_USER, Terraform registration_api.max_devices_per_user): the
# push worker publishes to every device of the recipient within one invocation.
DEFAULT_MAX_DEVICES_PER_USER: Final = 10
# Reads and the ownership transaction are repeated when a concurrent registration of the token wins.
DEVICE_REGISTRATION_ATTEMPTS: Final = 3


def _device(request: Request) -> Device:
    return parse_device(path_parameter(request, "platform"), path_parameter(request, "token"))


def _device_key(request: Request, device: Device) -> dict[str, str]:
    return {"user_id": request.user_id, "device_key": device.device_key}


class DeviceRegistration(NamedTuple):
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


class DeviceTables(NamedTuple):
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
        invalid("platform_not_configured", f"push platform {device.platform} is not configured")
    tables = _device_tables()
    cap = env.positive_int("MAX_DEVICES_PER_USER", DEFAULT_MAX_DEVICES_PER_USER)
    for _attempt in range(DEVICE_REGISTRATION_ATTEMPTS):
        owner_item = edge.get_item(tables.owners, {"device_key": device.device_key})
        row = edge.get_item(tables.tokens, _device_key(request, device))
        plan = plan_device_registration(request.user_id, owner_item, row)
        if plan.counts_new_device:  # before any endpoint exists: a refused registration creates nothing
            check_device_cap(
                edge.get_item(tables.limits, {"limit_key": device_ownership.limit_key(request.user_id)}), cap
            )
        try:
            endpoint = push_platforms.ensure_device_endpoint(
                application_arn, device.token, request.user_id, plan.existing_endpoint_arn
            )
        except ClientError as error:
            if aws_clients.error_code(error) != "InvalidParameter":
                raise
            invalid("invalid_token", f"the {device.platform} push service refused the device token")
        item = {
            **_device_key(request, device),
            "platform": device.platform,
            "token": device.token,
            "endpoint_arn": endpoint.arn,
            "updated_at": edge.iso(edge.now()),
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
    owner_item = edge.get_item(tables.owners, {"device_key": device.device_key})
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
                raise  # a conflict with a concurrent write is 503 (retry later), see aws_clients.is_transient
            # another user took the token over meanwhile: their transaction removed the caller's row
        logger.info("device removed", extra={"platform": device.platform, "owner": True})
        return Response(204)
    key = _device_key(request, device)
    row = edge.get_item(tables.tokens, key)
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
        edge.dynamodb().delete_item(
            TableName=tables.tokens,
            Key=request_key,
            ConditionExpression="attribute_not_exists(updated_at) OR updated_at = :read",
            ExpressionAttributeValues=serialize_item({":read": row.get("updated_at", "")}),
        )
    except ClientError as error:
        if not edge.condition_failed(error):
            raise
        raise ApiError(409, "conflict", "the device was registered again meanwhile: retry") from None
    logger.info("device removed", extra={"platform": device.platform, "owner": False})
    return Response(204)
