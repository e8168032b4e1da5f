"""Chat channel worker: post the router's chat messages to each target's webhook (Slack, Microsoft Teams,
Amazon Chime or any HTTPS endpoint), whose URL is read from Secrets Manager.

Trigger: the chat queue's event source mapping with ``ReportBatchItemFailures``. Chat is about the
notification, not a person: the router sends ONE message per notification and target (``target`` set,
``user_id`` = ``"-"``, content ``{"text", "title"?}`` rendered in the type's fallback locale), whatever the
number of recipients.

Per record:

1. Parse (``channel`` = ``chat``, a ``target``, a non-empty ``text``). The target's platform and secret
   ARN come from ``CHAT_TARGETS`` (JSON, Terraform's ``chat.targets``); a target no longer configured is a
   ``failed`` row (``unknown_target``).
2. Claim ``<notification_id>#chat#<target>`` (a redelivered message posts once; a completed claim holds the
   row, written again by the redelivery).
3. The webhook URL: ``GetSecretValue`` of the target's secret (its ``SecretString`` is the URL or
   ``{"url": "..."}``), kept ``CHAT_SECRET_CACHE_SECONDS`` (default 300) per execution environment: one
   call per target and five minutes, not per message. The URL must pass ``chat_render.url_problem``
   (https; the platform's own hosts) or the row is ``failed`` (``url_refused:<why>``) and nothing is sent.
4. One HTTPS ``POST`` of the platform's payload (``chat_render.payload``), certificate verified, redirects
   never followed, ``CHAT_TIMEOUT_SECONDS`` (default 5) per connect and read, at most 1 KiB of the answer
   read. 2xx -> ``sent``. 4xx (not 408/429) -> ``failed`` (``http_<status>[:<word>]``), not retried.
   429, 408, 5xx, timeouts and connection errors -> the claim is released and the record retried (SQS
   redelivers it after the visibility timeout, 6 x the function timeout: longer than the Retry-After
   Slack and Teams send; after ``max_receive_count`` it reaches the chat DLQ). Once a target has answered
   429 or 5xx, its other messages in the batch are retried without a request.

Logs never contain the URL, the secret or the rendered text: targets are named by their key.

Environment: ``CHAT_TARGETS`` (required), ``CHAT_SECRET_CACHE_SECONDS``, ``CHAT_TIMEOUT_SECONDS``, delivery
log and idempotency variables. TLS trust is the runtime's CA bundle (OpenSSL's default paths).
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Final, NamedTuple
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import ConfigurationError, MalformedEventError, type_name
from notification_handlers.service import chat_render, delivery_log, env, partial_batch
from notification_handlers.service.channel_message import ChannelMessage, parse_channel_message
from notification_handlers.service.channel_worker import (
    AWS_ERRORS,
    WorkerBatch,
    bound_message,
    finish_batch,
    remaining_ms,
    rewrite_completed_row,
)
from notification_handlers.service.chat_render import ChatContent
from notification_handlers.service.delivery_log import Delivery
from notification_handlers.service.idempotency import Claim, deduplicator_from_env
from notification_handlers.service.log import logger
from notification_handlers.service.partial_batch import Records

if TYPE_CHECKING:
    from notification_handlers.lambda_context import LambdaContext

CHANNEL: Final = "chat"
NO_USER: Final = (
    "-"  # chat rows are about the notification: "-" is never a user id (identity.USER_ID_PATTERN)
)
TARGET_PATTERN: Final = re.compile(r"[a-z][a-z0-9_-]{0,63}")
SECRET_ARN_PATTERN: Final = re.compile(
    r"arn:aws[a-zA-Z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+"
)
DEFAULT_SECRET_CACHE_SECONDS: Final = 300
DEFAULT_TIMEOUT_SECONDS: Final = 5
MAX_ANSWER_BYTES: Final = 1024  # read of an answer; the rest is never read
USER_AGENT: Final = "notification-service-chat/1"
REASON_UNKNOWN_TARGET: Final = "unknown_target"
REASON_URL_REFUSED: Final = "url_refused"


class DeliveryRetryError(RuntimeError):
    """The message must be posted again later."""


# --- parse ---------------------------------------------------------------------------------------


class Target(NamedTuple):
    platform: str
    secret_arn: str


def parse_targets(raw: str) -> dict[str, Target]:
    """``CHAT_TARGETS``: a JSON object, target name -> its platform and the ARN of its webhook's secret."""
    try:
        document = json.loads(raw)
    except ValueError:
        raise ConfigurationError("CHAT_TARGETS is not JSON") from None
    if not isinstance(document, dict) or not document:
        raise ConfigurationError("CHAT_TARGETS must be a non-empty JSON object")
    targets: dict[str, Target] = {}
    for name, value in document.items():
        if not TARGET_PATTERN.fullmatch(name) or not isinstance(value, dict):
            raise ConfigurationError(f"CHAT_TARGETS: invalid target {name[:40]!r}")
        platform, arn = value.get("platform"), value.get("secret_arn")
        if (
            platform not in chat_render.PLATFORMS
            or not isinstance(arn, str)
            or not SECRET_ARN_PATTERN.fullmatch(arn)
        ):
            raise ConfigurationError(f"CHAT_TARGETS.{name}: platform or secret_arn is invalid")
        targets[name] = Target(str(platform), arn)
    return targets


def parse_chat_message(body: object) -> tuple[ChannelMessage, ChatContent]:
    """A chat channel message and its content; ``MalformedEventError`` names the field."""
    if not isinstance(body, str):
        raise MalformedEventError(f"body must be a string, got {type_name(body)}")
    try:
        message = parse_channel_message(body)
    except RecursionError:
        raise MalformedEventError("body is not JSON (nested too deeply)") from None
    if message.channel != CHANNEL:
        raise MalformedEventError(f"channel must be {CHANNEL!r}, got {message.channel[:40]!r}")
    if message.target is None or not TARGET_PATTERN.fullmatch(message.target):
        raise MalformedEventError("target is missing or not a target name")
    text = message.content.get("text")
    if not text or not text.strip():
        raise MalformedEventError("content.text is missing or empty")
    unknown = sorted(set(message.content) - {"text", "title"})
    if unknown:
        raise MalformedEventError(f"content has unknown field(s) {', '.join(unknown)[:80]}")
    title = message.content.get("title")
    return message, ChatContent(text, title if title and title.strip() else None)


def url_from_secret(secret_string: object) -> str | None:
    """The webhook URL in a secret: the string itself or its JSON ``url``; None when neither."""
    if not isinstance(secret_string, str):
        return None
    value = secret_string.strip()
    if value.startswith("{"):
        try:
            document = json.loads(value)
        except ValueError:
            return None
        url = document.get("url") if isinstance(document, dict) else None
        return url.strip() if isinstance(url, str) else None
    return value


# --- edge ----------------------------------------------------------------------------------------


class SecretCache:
    """Webhook URLs by secret ARN, each kept ``max_age`` seconds (``clock``: monotonic)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._values: dict[str, tuple[float, str | None]] = {}

    def url(self, secret_arn: str, max_age: int) -> str | None:
        now = self._clock()
        cached = self._values.get(secret_arn)
        if cached is not None and now - cached[0] < max_age:
            return cached[1]
        answer = aws_clients.client("secretsmanager").get_secret_value(SecretId=secret_arn)
        url = url_from_secret(answer.get("SecretString"))
        self._values[secret_arn] = (now, url)
        return url

    def clear(self) -> None:
        self._values.clear()


SECRETS: Final = SecretCache()


@cache
def tls_context() -> ssl.SSLContext:
    """Certificate and host name verified against the runtime's CA bundle (OpenSSL's default paths)."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class Answer(NamedTuple):
    status: int
    retry_after: str | None
    body_start: bytes


def post(url: str, body: bytes, timeout: float) -> Answer:
    """One HTTPS POST; never follows a redirect, reads at most ``MAX_ANSWER_BYTES`` of the answer.

    Transport failures (timeouts, refused connections, TLS errors) raise ``OSError`` or
    ``http.client.HTTPException``.
    """
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPSConnection(
        parts.hostname or "", parts.port, timeout=timeout, context=tls_context()
    )
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT},
        )
        response = connection.getresponse()
        return Answer(response.status, response.getheader("Retry-After"), response.read(MAX_ANSWER_BYTES))
    finally:
        connection.close()


@dataclass(eq=False, repr=False)  # mutable per-batch state: identity is its equality
class Batch(WorkerBatch[ChatContent]):
    targets: dict[str, Target]
    cache_seconds: int = DEFAULT_SECRET_CACHE_SECONDS
    timeout: int = DEFAULT_TIMEOUT_SECONDS
    # Targets that answered 429/5xx in this batch: their other messages are retried without a request.
    backing_off: set[str] = field(default_factory=set)


def _parse_batch(records: Records, batch: Batch) -> None:
    for record in records:
        try:
            batch.messages[record["messageId"]] = parse_chat_message(record.get("body"))
        except MalformedEventError as error:
            batch.problems[record["messageId"]] = str(error)


def _settle(key: str, outcome: Delivery | Exception) -> None:
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


Row = Callable[..., Delivery]


def _deliver(message: ChannelMessage, content: ChatContent, batch: Batch, remaining: int | None) -> None:
    """Claim, post, settle one message; ``DeliveryRetryError`` when the record must be retried."""
    name = str(message.target)

    def row(status: str, reason: str | None = None) -> Delivery:
        delivery = Delivery(
            message.notification_id, message.notification_type, NO_USER, CHANNEL, status, name, reason
        )
        batch.rows.append(delivery)
        batch.count(status if reason is None else f"{status}:{reason.split(':')[0]}")
        return delivery

    target = batch.targets.get(name)
    if target is None:
        row(delivery_log.FAILED, REASON_UNKNOWN_TARGET)
        logger.error(
            "The message names a target chat.targets does not hold",
            extra={"decision": "failed", "target": name},
        )
        return
    if name in batch.backing_off:
        batch.count("retried")
        raise DeliveryRetryError(f"target {name} is backing off")
    key = f"{message.notification_id}#{CHANNEL}#{name}"
    try:
        claim, done = deduplicator_from_env().claim_with_result(key, remaining_time_in_millis=remaining)
    except AWS_ERRORS as error:
        batch.count("retried")
        raise DeliveryRetryError(f"claim failed ({aws_clients.error_code(error)})") from error
    if claim is Claim.ALREADY_DONE:
        batch.count("duplicate")
        rewrite_completed_row(batch, done)
        logger.info(
            "Skipped a message already posted (duplicate)", extra={"decision": "duplicate", "target": name}
        )
        return
    if claim is Claim.IN_PROGRESS:
        batch.count("in_progress")
        raise DeliveryRetryError("delivery in progress elsewhere")
    try:
        _post_claimed(message, content, name, target, batch, row=row)
    except DeliveryRetryError as error:
        batch.count("retried")
        _settle(key, error)
        raise
    except Exception as error:  # released, so a retry can post it
        _settle(key, error)
        raise
    _settle(key, batch.rows[-1])


def _webhook_url(name: str, target: Target, batch: Batch, row: Row) -> str | None:
    """The target's URL from its secret (cached), or None (and a failed row) when it is refused."""
    where = {"target": name, "platform": target.platform}
    try:
        url = SECRETS.url(target.secret_arn, batch.cache_seconds)
    except (ClientError, BotoCoreError) as error:
        code = aws_clients.error_code(error)
        logger.error(
            "Reading the webhook secret failed; retried",
            extra={"decision": "retry", "error_code": code, **where},
        )
        raise DeliveryRetryError(f"secret unreadable ({code})") from error
    problem = chat_render.url_problem(target.platform, url or "")
    if problem is not None:
        row(delivery_log.FAILED, f"{REASON_URL_REFUSED}:{problem}")
        logger.error(
            "The webhook secret holds a URL this target may not post to; nothing sent",
            extra={"decision": "failed", "problem": problem, **where},
        )
        return None
    return url


def _post_claimed(
    message: ChannelMessage, content: ChatContent, name: str, target: Target, batch: Batch, *, row: Row
) -> None:
    """Post a claimed message; its row is the batch's last row, or ``DeliveryRetryError``."""
    where = {"target": name, "platform": target.platform}
    url = _webhook_url(name, target, batch, row)
    if url is None:
        return
    body = chat_render.payload(
        target.platform,
        content,
        notification_id=message.notification_id,
        notification_type=message.notification_type,
        target=name,
        created_at=message.created_at,
    )
    try:
        answer = post(url, body, batch.timeout)
    except (OSError, http.client.HTTPException) as error:
        batch.backing_off.add(name)
        logger.warning(
            "The webhook did not answer; retried",
            extra={"decision": "retry", "error_type": type(error).__name__, **where},
        )
        raise DeliveryRetryError(f"no answer ({type(error).__name__})") from error
    decision, reason = chat_render.outcome(answer.status, answer.body_start)
    if decision == chat_render.RETRY:
        batch.backing_off.add(name)
        logger.warning(
            "The webhook asked to retry later",
            extra={
                "decision": "retry",
                "status": answer.status,
                "retry_after": chat_render.retry_after_seconds(answer.retry_after),
                **where,
            },
        )
        raise DeliveryRetryError(str(reason))
    if decision == chat_render.SENT:
        row(delivery_log.SENT)
        logger.info("Posted chat message", extra={"decision": "sent", "status": answer.status, **where})
        return
    row(delivery_log.FAILED, reason)
    logger.error(
        "The webhook refused the message; recorded as failed, not retried",
        extra={"decision": "failed", "status": answer.status, "reason": reason, **where},
    )


def _record_handler(batch: Batch, context: object) -> Callable[[str], None]:
    def handle(message_id: str) -> None:
        with bound_message(batch, message_id) as (message, content):
            _deliver(message, content, batch, remaining_ms(context))

    return handle


def settings_from_env() -> tuple[dict[str, Target], int, int]:
    targets = _targets(env.required("CHAT_TARGETS"))
    cache_seconds = env.positive_int("CHAT_SECRET_CACHE_SECONDS", DEFAULT_SECRET_CACHE_SECONDS)
    timeout = env.positive_int("CHAT_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
    return targets, cache_seconds, timeout


@cache
def _targets(raw: str) -> dict[str, Target]:
    return parse_targets(raw)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        targets, cache_seconds, timeout = settings_from_env()
        deduplicator_from_env()
    except ConfigurationError as error:
        logger.error("Invalid configuration", extra={"decision": "rejected", "problem": str(error)})
        raise
    batch = Batch(targets, cache_seconds, timeout)
    records = partial_batch.sqs_records(event)
    _parse_batch(records, batch)
    return finish_batch(records, batch, _record_handler(batch, context), CHANNEL)
