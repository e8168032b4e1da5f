"""Push channel worker: publish the router's push channel messages to every registered device of the
recipient through SNS mobile push (APNs, APNs sandbox, FCM HTTP v1).

Trigger: the push queue's event source mapping with ``ReportBatchItemFailures`` (partial batch
responses, ``partial_batch``). One invocation handles one batch:

1. Parse every body as a channel message with content ``{"title": "...", "body": "..."}``.
2. Read each recipient's devices with ONE paginated ``Query`` on ``device_tokens`` per user and batch
   (items ``user_id``, ``device_key`` = ``<platform>#<token>``, ``platform``, ``token``, ``endpoint_arn``,
   ``updated_at``). No device -> a ``no_device`` row (not an error).
   Then who owns each device (``device_ownership``): ONE strongly consistent ``BatchGetItem`` of
   ``device_owners`` per 100 devices of the batch. A device another user owns now is never published to:
   its row is deleted (only if unchanged since read; the endpoint is the owner's and stays) and it gets a
   ``failed`` row (``device_owned_by_another_user``). A row without an ownership item (registered before
   they existed) is the recipient's unless its endpoint's ``CustomUserData`` (one ``GetEndpointAttributes``)
   names another user: every registration set it to the registering user, so it names the last one.
3. Per device: claim ``<notification_id>#<user_id>#push#<target>``, then SNS ``Publish`` to the endpoint
   ARN with ``MessageStructure=json`` and the platform's payload (``platform_message``): APNs
   ``{"aps": {"alert": {"title", "body"}, "badge": 1, "sound": "default"}, "notification_id"}``; FCM
   ``{"fcmV1Message": {"message": {"notification": {"title", "body"}, "data": {"notification_id",
   "notification_type"}}}}``. A payload over the platform's 4 KB limit is a ``failed`` row
   (``payload_too_large``) without a call.
4. ``EndpointDisabled`` (APNs/FCM told SNS the token is dead), ``NotFound`` (the endpoint is gone) or
   ``InvalidParameter`` naming the token, endpoint or target -> the row is ``failed``
   (``endpoint_disabled``), not retried; once the batch's rows are written, the token's item is deleted
   (conditionally on the ``updated_at`` read, so a registration that happened meanwhile is kept; an owned
   device's with its ownership item and one off the owner's device counter, in one transaction), then its
   endpoint. Other SNS client errors (``InvalidParameter``
   about the message, ``KMSAccessDenied``...) are ``failed`` with their code. Throttling, 5xx, timeouts,
   ``AuthorizationError`` and unlisted codes release the claim and retry the record.
5. One delivery row per device (``target`` = ``<platform>#<sha256(token)[:16]>``: the delivery log never
   stores tokens), written with ONE ``delivery_log.record`` per batch. Each completed claim holds its
   device's row, so a redelivery after a failed write finds the claim done and writes the row again.

Logs never contain a token, body or title: devices are named by their target.

Environment: ``DEVICE_TOKENS_TABLE`` and ``DEVICE_OWNERS_TABLE`` (required), ``LIMITS_TABLE`` (optional: the
device counters the registration API keeps), delivery log and idempotency variables.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import ConfigurationError, MalformedEventError, type_name
from notification_handlers.service import (
    delivery_log,
    device_ownership,
    dynamodb_batch,
    env,
    partial_batch,
    push_platforms,
)
from notification_handlers.service.channel_message import ChannelMessage, parse_channel_message
from notification_handlers.service.channel_worker import (
    AWS_ERRORS,
    WorkerBatch,
    bound_message,
    finish_batch,
    remaining_ms,
    rewrite_completed_row,
)
from notification_handlers.service.delivery_log import Delivery
from notification_handlers.service.idempotency import Claim, deduplicator_from_env
from notification_handlers.service.log import logger
from notification_handlers.service.partial_batch import Records

if TYPE_CHECKING:
    from notification_handlers.lambda_context import LambdaContext

CHANNEL: Final = "push"
# platform (device_tokens) -> the key of that platform's message in an SNS MessageStructure=json message
SNS_MESSAGE_KEYS: Final = {"apns": "APNS", "apns_sandbox": "APNS_SANDBOX", "fcm": "GCM"}
MAX_PLATFORM_PAYLOAD_BYTES: Final = 4096  # APNs and FCM both refuse larger notification payloads
REASON_DISABLED: Final = "endpoint_disabled"
REASON_TOO_LARGE: Final = "payload_too_large"
REASON_NO_ENDPOINT: Final = "no_endpoint"
REASON_NOT_OWNER: Final = "device_owned_by_another_user"
OWNED: Final = "owned"
STALE: Final = "stale"
UNCLAIMED: Final = "unclaimed"
DEAD_ENDPOINT_ERRORS: Final = frozenset({"EndpointDisabled", "EndpointDisabledException", "NotFound"})
# SNS client errors that fail again on every retry: recorded as failed, not retried
PERMANENT_ERRORS: Final = frozenset(
    {
        "InvalidParameter",
        "InvalidParameterValue",
        "KMSAccessDenied",
        "KMSDisabled",
        "KMSInvalidState",
        "KMSNotFound",
        "KMSOptInRequired",
        "PlatformApplicationDisabled",
        "ValidationException",
    }
)
_DEAD_ENDPOINT_WORDS: Final = ("token", "targetarn", "endpoint")


class DeliveryRetryError(RuntimeError):
    """Some devices of this message must be published to again later."""


# --- parse, decide, render -----------------------------------------------------------


class PushContent(NamedTuple):
    title: str
    body: str


def parse_push_message(body: object) -> tuple[ChannelMessage, PushContent]:
    """A push channel message and its content; ``MalformedEventError`` names the field."""
    if not isinstance(body, str):
        raise MalformedEventError(f"body must be a string, got {type_name(body)}")
    try:
        message = parse_channel_message(body)
    except RecursionError:
        raise MalformedEventError("body is not JSON (nested too deeply)") from None
    if message.channel != CHANNEL:
        raise MalformedEventError(f"channel must be {CHANNEL!r}, got {message.channel[:40]!r}")
    title = message.content.get("title")
    text = message.content.get("body")
    if not title or not title.strip():
        raise MalformedEventError("content.title is missing or empty")
    if not text:
        raise MalformedEventError("content.body is missing or empty")
    return message, PushContent(title, text)


class Device(NamedTuple):
    platform: str
    token: str
    device_key: str
    endpoint_arn: str | None
    updated_at: str | None
    owned: bool = False  # the ownership item names the recipient (its removal is a transaction)

    @property
    def target(self) -> str:
        """The device as named in the delivery log and logs (no token)."""
        return f"{self.platform}#{hashlib.sha256(self.token.encode('utf-8')).hexdigest()[:16]}"


def device_from_item(item: Mapping[str, Any]) -> Device | None:
    """A ``device_tokens`` item as a Device; None when it is not a usable one (unknown platform, no token)."""
    platform = item.get("platform")
    token = item.get("token")
    device_key = item.get("device_key")
    if platform not in SNS_MESSAGE_KEYS or not isinstance(token, str) or not token:
        return None
    if not isinstance(device_key, str):
        return None
    endpoint = item.get("endpoint_arn")
    updated = item.get("updated_at")
    return Device(
        str(platform),
        token,
        device_key,
        endpoint if isinstance(endpoint, str) and endpoint else None,
        updated if isinstance(updated, str) else None,
    )


def platform_payload(platform: str, message: ChannelMessage, content: PushContent) -> dict[str, Any]:
    """The notification in the platform's format (APNs ``aps``; FCM HTTP v1 ``fcmV1Message``)."""
    if platform in ("apns", "apns_sandbox"):
        return {
            "aps": {"alert": {"title": content.title, "body": content.body}, "badge": 1, "sound": "default"},
            "notification_id": message.notification_id,
        }
    if platform == "fcm":
        return {
            "fcmV1Message": {
                "message": {
                    "notification": {"title": content.title, "body": content.body},
                    "data": {
                        "notification_id": message.notification_id,
                        "notification_type": message.notification_type,
                    },
                }
            }
        }
    raise ValueError(f"unknown platform {platform[:40]!r}")


def _compact(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def platform_message(platform: str, message: ChannelMessage, content: PushContent) -> tuple[str, int]:
    """(SNS ``Message`` for ``MessageStructure=json``, size in bytes of the platform's payload)."""
    payload = _compact(platform_payload(platform, message, content))
    document = {"default": content.body, SNS_MESSAGE_KEYS[platform]: payload}
    return _compact(document), len(payload.encode("utf-8"))


def is_dead_endpoint(error: Exception) -> bool:
    """True when SNS says the endpoint (its token) will never take a notification again."""
    if not isinstance(error, ClientError):
        return False
    code = aws_clients.error_code(error)
    if code in DEAD_ENDPOINT_ERRORS:
        return True
    if code in ("InvalidParameter", "InvalidParameterValue"):
        detail = str(error.response.get("Error", {}).get("Message") or "").lower()
        return any(word in detail for word in _DEAD_ENDPOINT_WORDS)
    return False


def ownership(user_id: str, owner_item: Mapping[str, Any] | None) -> str:
    """``owned`` when the token's ownership item names the recipient, ``stale`` when it names another user
    (never published to), ``unclaimed`` without an item (a row registered before ownership items)."""
    owner = device_ownership.owner_of(owner_item)
    if owner is None:
        return UNCLAIMED
    return OWNED if owner == user_id else STALE


def unclaimed_is_recipients(user_id: str, endpoint_user: str | None) -> bool:
    """An unclaimed row is the recipient's unless its endpoint's CustomUserData names another user: every
    registration has set it to the registering user, so it names the last one, the phone's holder."""
    return endpoint_user is None or endpoint_user == user_id


# --- edge ----------------------------------------------------------------------------


@dataclass(eq=False, repr=False)  # mutable per-batch state: identity is its equality
class Batch(WorkerBatch[PushContent]):
    table: str
    owners_table: str = ""
    limits_table: str | None = None
    devices: dict[str, list[Device]] = field(default_factory=dict)
    stale: dict[str, list[Device]] = field(default_factory=dict)
    # (user id, device) whose endpoint is dead: removed once the delivery log is written, so a
    # redelivery after a failed write still finds the device, its completed claim and its row.
    dead: dict[str, tuple[str, Device]] = field(default_factory=dict)


def _parse_batch(records: Records, batch: Batch) -> None:
    for record in records:
        try:
            batch.messages[record["messageId"]] = parse_push_message(record.get("body"))
        except MalformedEventError as error:
            batch.problems[record["messageId"]] = str(error)


def query_devices(table: str, user_id: str) -> list[Device]:
    """The user's devices: one paginated ``Query`` on the table's hash key."""
    client = aws_clients.client("dynamodb")
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "#u = :u",
        "ExpressionAttributeNames": {"#u": "user_id"},
        "ExpressionAttributeValues": {":u": {"S": user_id}},
    }
    devices: list[Device] = []
    while True:
        page = client.query(**request)
        for item in page.get("Items", []):
            device = device_from_item(dynamodb_batch.deserialize_item(item))
            if device is not None:
                devices.append(device)
        last = page.get("LastEvaluatedKey")
        if not last:
            return devices
        request["ExclusiveStartKey"] = last


def _delete_row(request: Mapping[str, Any] | None, transaction: list[dict[str, Any]] | None) -> bool:
    """One conditional delete (or transaction); False when its condition failed (kept)."""
    try:
        if transaction is not None:
            device_ownership.transact(transaction)  # with the device counter's floor
        else:
            aws_clients.client("dynamodb").delete_item(**(request or {}))
    except ClientError as error:
        reasons = device_ownership.cancellation_reasons(error)
        if aws_clients.error_code(error) == "ConditionalCheckFailedException" or (
            reasons is not None and device_ownership.CONDITION_FAILED in reasons
        ):
            return False
        raise
    return True


def remove_row(batch: Batch, user_id: str, device: Device) -> bool:
    """Delete the user's row of the token unless it changed since it was read (an owned device: with its
    ownership item and one off the user's counter, in one transaction). True when removed; failures are
    logged, not raised (the next notification meets the device again)."""
    where = {"device": device.target}
    request: dict[str, Any] = {
        "TableName": batch.table,
        "Key": {"user_id": {"S": user_id}, "device_key": {"S": device.device_key}},
    }
    if device.updated_at is not None:
        request["ConditionExpression"] = "attribute_not_exists(updated_at) OR updated_at = :read"
        request["ExpressionAttributeValues"] = {":read": {"S": device.updated_at}}
    transaction = (
        device_ownership.release_items(
            batch.table,
            batch.owners_table,
            batch.limits_table,
            user_id,
            device.device_key,
            row_updated_at=device.updated_at,
        )
        if device.owned
        else None
    )
    try:
        removed = _delete_row(request, transaction)
    except (ClientError, BotoCoreError) as error:
        logger.error(
            "Deleting the device token failed", extra={"error_code": aws_clients.error_code(error), **where}
        )
        return False
    if not removed:
        logger.info("The device was registered again meanwhile; kept", extra=where)
    return removed


def remove_device(batch: Batch, user_id: str, device: Device) -> bool:
    """Delete the dead token's row (``remove_row``), then its endpoint. True when removed."""
    if not remove_row(batch, user_id, device):
        return False
    if device.endpoint_arn is not None:
        try:
            aws_clients.client("sns").delete_endpoint(EndpointArn=device.endpoint_arn)
        except (ClientError, BotoCoreError) as error:
            logger.error(
                "Deleting the dead platform endpoint failed",
                extra={"error_code": aws_clients.error_code(error), "device": device.target},
            )
    return True


def _endpoint_user(device: Device) -> str | None:
    """The CustomUserData of an unclaimed device's endpoint; None when it has none or is gone (then the
    publish meets NotFound and removes the row as dead)."""
    if device.endpoint_arn is None:
        return None
    try:
        return push_platforms.endpoint_user(device.endpoint_arn)
    except ClientError as error:
        if aws_clients.error_code(error) in ("NotFound", "NotFoundException"):
            return None
        raise


def check_ownership(batch: Batch) -> None:
    """Keep, per recipient, only the devices that are theirs: ONE strongly consistent ``BatchGetItem`` of the
    ownership items per 100 devices of the batch; an unclaimed device costs one ``GetEndpointAttributes``.
    Stale rows are removed (only if unchanged since read) and kept in ``batch.stale`` for the log."""
    keys = sorted({d.device_key for devices in batch.devices.values() for d in devices})
    owners = {
        str(item["device_key"]): item
        for item in dynamodb_batch.batch_get(
            batch.owners_table, [{"device_key": k} for k in keys], consistent=True
        )
    }
    for user_id, devices in batch.devices.items():
        kept: list[Device] = []
        for device in devices:
            decision = ownership(user_id, owners.get(device.device_key))
            if decision == UNCLAIMED and not unclaimed_is_recipients(user_id, _endpoint_user(device)):
                decision = STALE
            if decision == STALE:
                removed = remove_row(batch, user_id, device)
                logger.warning(
                    "The device is registered to another user now; not published to, row removed",
                    extra={"decision": "skipped", "device": device.target, "removed": removed},
                )
                batch.stale.setdefault(user_id, []).append(device)
                continue
            kept.append(device._replace(owned=decision == OWNED))
        batch.devices[user_id] = kept


Row = Callable[..., Delivery]


def _deliver(
    message: ChannelMessage, content: PushContent, device: Device, batch: Batch, remaining_ms: int | None
) -> str | None:
    """Claim, publish, settle one device. Returns why the record must be retried, or None."""

    def row(status: str, reason: str | None = None) -> Delivery:
        delivery = Delivery(
            message.notification_id,
            message.notification_type,
            message.user_id,
            CHANNEL,
            status,
            device.target,
            reason,
        )
        batch.rows.append(delivery)
        batch.count(status if reason is None else f"{status}:{reason}")
        return delivery

    where = {"device": device.target}
    sns_message = _sendable(message, content, device, row)
    if sns_message is None or device.endpoint_arn is None:
        return None
    dedup = deduplicator_from_env()
    key = f"{message.notification_id}#{message.user_id}#{CHANNEL}#{device.target}"
    try:
        claim, done = dedup.claim_with_result(key, remaining_time_in_millis=remaining_ms)
    except AWS_ERRORS as error:
        batch.count("retried")
        return f"claim failed ({aws_clients.error_code(error)})"
    if claim is Claim.ALREADY_DONE:
        batch.count("duplicate")
        rewrite_completed_row(batch, done)
        stored = delivery_log.from_claim_result(done)
        if stored is not None and stored.reason == REASON_DISABLED:
            batch.dead[device.target] = (message.user_id, device)  # its removal may not have happened
        logger.info(
            "Skipped a device already delivered (duplicate message)", extra={"decision": "duplicate", **where}
        )
        return None
    if claim is Claim.IN_PROGRESS:
        batch.count("in_progress")
        return "delivery in progress elsewhere"
    try:
        response = aws_clients.client("sns").publish(
            TargetArn=device.endpoint_arn, Message=sns_message, MessageStructure="json"
        )
    except (ClientError, BotoCoreError) as error:
        return _publish_failed(error, message.user_id, device, batch, key=key, row=row)
    sent = row(delivery_log.SENT)
    logger.info(
        "Published push notification",
        extra={"decision": "sent", "message_id": str(response.get("MessageId", "")), **where},
    )
    _settle(key, sent)
    return None


def _sendable(message: ChannelMessage, content: PushContent, device: Device, row: Row) -> str | None:
    """The SNS message for the device, or None (and a failed row) when it cannot be published."""
    where = {"device": device.target}
    if device.endpoint_arn is None:
        row(delivery_log.FAILED, REASON_NO_ENDPOINT)
        logger.error("Device token without an endpoint ARN", extra={"decision": "failed", **where})
        return None
    sns_message, size = platform_message(device.platform, message, content)
    if size > MAX_PLATFORM_PAYLOAD_BYTES:
        row(delivery_log.FAILED, REASON_TOO_LARGE)
        logger.error(
            "Push payload over the platform's 4 KB limit; recorded as failed, nothing published",
            extra={"decision": "failed", "payload_bytes": size, **where},
        )
        return None
    return sns_message


def _publish_failed(
    error: ClientError | BotoCoreError, user_id: str, device: Device, batch: Batch, *, key: str, row: Row
) -> str | None:
    """Record and settle a failed publish; why the record must be retried, or None."""
    where = {"device": device.target}
    code = aws_clients.error_code(error)
    if is_dead_endpoint(error):
        disabled = row(delivery_log.FAILED, REASON_DISABLED)
        batch.dead[device.target] = (user_id, device)
        logger.warning(
            "The endpoint is disabled or gone; its device token is removed after the batch",
            extra={"decision": "failed", "error_code": code, **where},
        )
        _settle(key, disabled)
        return None
    if isinstance(error, ClientError) and code in PERMANENT_ERRORS:
        refused = row(delivery_log.FAILED, code)
        logger.error(
            "SNS refused the notification permanently; recorded as failed",
            extra={"decision": "failed", "error_code": code, **where},
        )
        _settle(key, refused)
        return None
    batch.count("retried")
    logger.warning(
        "SNS Publish failed after the SDK's retries; the record will be retried",
        extra={"decision": "retry", "error_code": code, **where},
    )
    _settle(key, error)
    return f"SNS {code}"


def _settle(key: str, outcome: Delivery | Exception) -> None:
    """Complete the claim with the device's row (re-written by a redelivery that finds it done), or
    release it on an error."""
    dedup = deduplicator_from_env()
    try:
        if isinstance(outcome, Delivery):
            dedup.complete(key, delivery_log.as_claim_result(outcome))
        else:
            dedup.release(key)
    except AWS_ERRORS as settle_error:
        logger.error(
            "Settling the claim failed; it expires with this invocation",
            extra={"error_code": aws_clients.error_code(settle_error)},
        )


def _record_handler(batch: Batch, context: object) -> Any:
    def handle(message_id: str) -> None:
        with bound_message(batch, message_id) as (message, content):
            for device in batch.stale.get(message.user_id, []):
                batch.rows.append(
                    Delivery(
                        message.notification_id,
                        message.notification_type,
                        message.user_id,
                        CHANNEL,
                        delivery_log.FAILED,
                        device.target,
                        REASON_NOT_OWNER,
                    )
                )
                batch.count(f"{delivery_log.FAILED}:{REASON_NOT_OWNER}")
            devices = batch.devices.get(message.user_id, [])
            if not devices and not batch.stale.get(message.user_id):
                batch.rows.append(
                    Delivery(
                        message.notification_id,
                        message.notification_type,
                        message.user_id,
                        CHANNEL,
                        delivery_log.NO_DEVICE,
                    )
                )
                batch.count(delivery_log.NO_DEVICE)
                logger.info("The user has no registered device", extra={"decision": delivery_log.NO_DEVICE})
                return
            remaining = remaining_ms(context)
            retry = [
                why for d in devices if (why := _deliver(message, content, d, batch, remaining)) is not None
            ]
            if retry:
                raise DeliveryRetryError(f"{len(retry)} device(s) to retry: {'; '.join(sorted(set(retry)))}")

    return handle


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        table = env.required("DEVICE_TOKENS_TABLE")
        owners_table = env.required(device_ownership.OWNERS_TABLE_ENV)
        deduplicator_from_env()
    except ConfigurationError as error:
        logger.error("Invalid configuration", extra={"decision": "rejected", "problem": str(error)})
        raise
    batch = Batch(table, owners_table, env.optional(device_ownership.LIMITS_TABLE_ENV) or None)
    records = partial_batch.sqs_records(event)
    _parse_batch(records, batch)
    try:
        for user_id in sorted({message.user_id for message, _ in batch.messages.values()}):
            batch.devices[user_id] = query_devices(table, user_id)
        check_ownership(batch)
    except AWS_ERRORS as error:
        logger.error(
            "Reading the users' devices failed; failing the whole batch",
            extra={"decision": "retry", "error_code": aws_clients.error_code(error)},
        )
        raise

    def remove_dead() -> dict[str, int]:
        removed = sum(remove_device(batch, user_id, device) for user_id, device in batch.dead.values())
        return {"devices_removed": removed} if batch.dead else {}

    return finish_batch(records, batch, _record_handler(batch, context), CHANNEL, after_write=remove_dead)
