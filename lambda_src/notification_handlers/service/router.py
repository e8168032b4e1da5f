"""The router: ingest queue batch -> validated, de-duplicated, enriched, personalised channel messages.

Flow for one SQS batch (docs/notification-service.md); the pure steps live in ``contract``,
``catalog``, ``preferences``, ``templates`` and ``plan_notification`` below, the AWS edge is thin:

1. Parse every record (``contract.parse_notification``; the notification id is namespaced by source
   and type) and look its type up in the catalog, then check the event's source against the type's
   ``allowed_sources``. A permanent problem (not JSON, schema violation, unknown or broken type, a
   source the type does not admit, and later a render error) rejects the event: its body goes
   unchanged to ``REJECTED_EVENTS_QUEUE_URL`` (the ingest DLQ) with message attributes ``reason`` and
   ``error_type``, and the record is reported processed.
2. Claim each notification id (a conditional write, ``idempotency.Deduplicator``). A completed
   claim is a duplicate: skipped and logged. One still in progress elsewhere: the record fails and SQS
   delivers it again later. Records of the batch that share a notification id ride on one claim.
3. One prefetch for the whole batch: profiles (users table or custom enrichment function) and
   preferences (``BatchGetItem``, 100 keys per call) of the union of the claimed notifications'
   recipients.
4. Per notification and recipient: channels after preferences and the operators' channel switches
   (``channel_switches``, one cached ``Query``), and for a type with ``fallback`` the first channel of
   that list that can reach the recipient (``fallback``; reachability read for the whole batch first,
   one batched probe per channel, ``reachability``); each channel's template in the recipient's
   locale, rendered. A render error rejects the whole event before anything is sent, and
   releases its claim (a fixed catalog and a redrive then deliver it).
   Then quiet hours (``quiet_hours_deferral``): the interrupting messages of recipients inside their window
   are taken out of the plan, to be put on their channel queue when it ends (``deferred_quiet_hours`` rows).
5. Suppressions go to the delivery log in one batch write; then every channel message of the batch goes
   out with ``SendMessageBatch`` per channel queue (10 per call: 1,000 one-recipient events cost ~100
   calls). Writing the log first means a log failure fails the batch before any fan-out.
6. Claims of events whose messages all went out are completed; the others are released and their
   records reported in ``batchItemFailures``. A failure of the whole batch (catalog or prefetch
   unreadable) fails every record.

Logs carry ``notification_id``, ``source`` and ``idempotency_key`` on every line about one
notification; bodies, recipients lists and addresses are never logged.

Environment: ``CATALOG_TABLE``, ``CATALOG_REFRESH_SECONDS``, ``CHANNEL_SWITCH_REFRESH_SECONDS``, the
tables of ``reachability``'s probes for the channels some type falls back on (``EMAIL_SUBSCRIPTIONS_TABLE``,
``EMAIL_SUPPRESSIONS_TABLE``, ``DEVICE_TOKENS_TABLE``, ``CONNECTIONS_TABLE``, ``CONNECTIONS_USER_INDEX``),
``USERS_TABLE`` or
``ENRICHMENT_FUNCTION_ARN``, ``PREFERENCES_TABLE``, ``DELIVERY_LOG_TABLE``, ``DELIVERY_LOG_TTL_DAYS``,
``IDEMPOTENCY_TABLE``, ``IDEMPOTENCY_TTL_SECONDS``, ``CHANNEL_QUEUE_URLS`` (JSON object channel ->
queue URL), ``REJECTED_EVENTS_QUEUE_URL``; those of ``deferral`` and ``quiet_hours_deferral``.

Frequency caps and digests (``frequency_caps``, ``digests``; docs/notification-service.md, section 13):
after the claim, ``_digest`` reads a claimed digest flush and collects the events of digest types; after
planning, ``_apply_caps`` counts the recipients of capped types. Environment: ``LIMITS_TABLE`` (a type with
``max_per_user``), ``DIGESTS_TABLE`` (a type with ``digest``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import MalformedEventError
from notification_handlers.lazy_import import lazy_module
from notification_handlers.service import (
    catalog,
    channel_switches,
    contract,
    deferral,
    delivery_log,
    dynamodb_batch,
    enrichment,
    env,
    fallback,
    idempotency,
    partial_batch,
    preferences,
    templates,
    type_options,
)
from notification_handlers.service.catalog import Catalog, TypeDefinition
from notification_handlers.service.channel_message import ChannelMessage
from notification_handlers.service.channel_switches import Switches
from notification_handlers.service.contract import Notification, notification_id, parse_notification
from notification_handlers.service.delivery_log import Delivery
from notification_handlers.service.enrichment import Profile
from notification_handlers.service.idempotency import Claim
from notification_handlers.service.log import logger
from notification_handlers.service.sqs_batch import OutgoingMessage, send_batch

if TYPE_CHECKING:
    from notification_handlers.lambda_context import LambdaContext
    from notification_handlers.service import digests, frequency_caps, quiet_hours_deferral, reachability
else:
    # Executed on first use (notification_handlers.lazy_import): a catalog without caps, digests or
    # fallback, and users without quiet hours, never load them.
    digests = lazy_module("notification_handlers.service.digests")
    frequency_caps = lazy_module("notification_handlers.service.frequency_caps")
    quiet_hours_deferral = lazy_module("notification_handlers.service.quiet_hours_deferral")
    reachability = lazy_module("notification_handlers.service.reachability")

MAX_ATTRIBUTE_REASON: Final = 1000
PREFERENCE_ATTRIBUTES: Final = ("muted", "opt_outs", "quiet_hours")
ABOUT_KEYS: Final = ("notification_id", "source", "idempotency_key")


class RejectedEventError(Exception):
    """A permanent problem with one event; it goes to the ingest DLQ with ``reason`` and ``error_type``."""

    def __init__(self, reason: str, error_type: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error_type = error_type


class RecordFailedError(RuntimeError):
    """A record that SQS must deliver again (reported in batchItemFailures)."""


# --- pure planning --------------------------------------------------------------------------------


class Plan(NamedTuple):
    """What one notification turns into: channel messages to send and suppressed deliveries to log."""

    messages: list[ChannelMessage]
    suppressed: list[Delivery]  # every row the router logs itself
    # Delivery-log status -> recipients, for the channel controls' rows (fallback_used, ...).
    counts: dict[str, int]

    @classmethod
    def empty(cls) -> Plan:
        return cls([], [], {})


def _always_reachable(channel: str, user_id: str) -> bool:
    return True


def _bound(check: Callable[[str, str], Any], second: str) -> Callable[[str], Any]:
    return lambda channel: check(channel, second)


def template_variables(notification: Notification, profile: Profile) -> dict[str, Any]:
    """``data`` plus the built-ins ``user`` and ``notification`` (which take precedence)."""
    return {
        **notification.data,
        "user": profile.variables(),
        "notification": {"id": notification.notification_id, "type": notification.notification_type},
    }


def render_channel(
    definition: TypeDefinition, channel: str, profile: Profile, variables: Mapping[str, Any]
) -> tuple[str, dict[str, str]]:
    """(locale, rendered fields) of one channel's template for one recipient."""
    locale = templates.choose_locale(
        profile.locale, definition.locales_for(channel), definition.fallback_locale
    )
    content: dict[str, str] = {}
    for name, text in definition.templates[locale][channel].items():
        try:
            if name in catalog.URL_FIELDS:
                content[name] = templates.render_url(text, variables)
            else:
                content[name] = templates.render(text, variables, escape_html=name in catalog.HTML_FIELDS)
        except templates.TemplateError as error:
            raise templates.TemplateError(f"templates.{locale}.{channel}.{name}: {error}") from None
    return locale, content


def plan_notification(
    notification: Notification,
    definition: TypeDefinition,
    profiles: Mapping[str, Profile],
    preference_items: Mapping[str, Mapping[str, Any]],
    *,
    created_at: datetime,
    switches: Switches = channel_switches.NONE,
    reachable: Callable[[str, str], bool] = _always_reachable,
) -> Plan:
    """Every channel message and logged row of one notification; ``TemplateError`` for a render error
    (naming the template field and the variable, not the recipient). ``switches``: the operators' channel
    switches; ``reachable(channel, user_id)``: the batch's resolved reachability (``fallback``)."""
    plan = Plan.empty()
    stamp = created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    disabled = _bound(switches.disabled, notification.notification_type)
    for user_id in notification.recipients:
        decision = fallback.decide(
            recipient_channels(definition),
            definition.fallback,
            preferences.suppression(definition, preference_items.get(user_id)),
            disabled,
            _bound(reachable, user_id),
        )
        for channel, status, reason in decision.rows:
            plan.suppressed.append(
                Delivery(
                    notification.notification_id,
                    notification.notification_type,
                    user_id,
                    channel,
                    status,
                    reason=reason,
                )
            )
            if status != delivery_log.SUPPRESSED_PREFERENCE:
                plan.counts[status] = plan.counts.get(status, 0) + 1
        if not decision.send:
            continue
        profile = profiles.get(user_id) or Profile(user_id)
        variables = template_variables(notification, profile)
        for channel in decision.send:
            locale, content = render_channel(definition, channel, profile, variables)
            plan.messages.append(
                ChannelMessage(
                    notification_id=notification.notification_id,
                    notification_type=notification.notification_type,
                    critical=definition.critical,
                    user_id=user_id,
                    channel=channel,
                    locale=locale,
                    content=content,
                    created_at=stamp,
                )
            )
    chat_switch = disabled("chat") if "chat" in definition.channels else None
    if chat_switch is None:
        plan.messages.extend(plan_chat(notification, definition, stamp))
    else:
        # An operator turned chat off (for every type or this one): one row per target, as the worker writes.
        for target in definition.chat_targets:
            plan.suppressed.append(
                Delivery(
                    notification.notification_id,
                    notification.notification_type,
                    "-",
                    "chat",
                    delivery_log.SUPPRESSED_CHANNEL_DISABLED,
                    target=target,
                    reason=chat_switch,
                )
            )
        status = delivery_log.SUPPRESSED_CHANNEL_DISABLED
        plan.counts[status] = plan.counts.get(status, 0) + len(definition.chat_targets)
    return plan


def recipient_channels(definition: TypeDefinition) -> tuple[str, ...]:
    """The type's channels a recipient is delivered on: not the type-level ones (chat), which are posted once
    per notification (``plan_chat``) and are not the recipient's to mute."""
    return tuple(c for c in definition.channels if c not in catalog.TYPE_LEVEL_CHANNELS)


def plan_chat(notification: Notification, definition: TypeDefinition, stamp: str) -> list[ChannelMessage]:
    """One chat message per chat target of the type, whatever the number of recipients: rendered once, in
    the type's fallback locale, with ``data`` and ``notification`` (there is no recipient, so no ``user``);
    ``user_id`` is ``"-"``. Escaping for the platform is the chat worker's (``chat_render``)."""
    if "chat" not in definition.channels or not definition.chat_targets:
        return []
    variables = {
        **notification.data,
        "notification": {"id": notification.notification_id, "type": notification.notification_type},
    }
    locale = definition.fallback_locale
    content: dict[str, str] = {}
    for name, text in definition.templates[locale]["chat"].items():
        try:
            content[name] = templates.render(text, variables)
        except templates.TemplateError as error:
            raise templates.TemplateError(f"templates.{locale}.chat.{name}: {error}") from None
    return [
        ChannelMessage(
            notification_id=notification.notification_id,
            notification_type=notification.notification_type,
            critical=definition.critical,
            user_id="-",
            channel="chat",
            locale=locale,
            content=content,
            created_at=stamp,
            target=target,
        )
        for target in definition.chat_targets
    ]


# --- the batch --------------------------------------------------------------------------------------


@dataclass(
    eq=False, repr=False
)  # one per record: identity is its equality (and each method costs import time)
class Item:
    """One SQS record on its way through the batch."""

    message_id: str
    body: str
    notification: Notification | None = None
    definition: TypeDefinition | None = None
    rejection: RejectedEventError | None = None
    failure: Exception | None = None
    primary: Item | None = None  # an earlier record of this batch with the same notification id
    claimed: bool = False
    plan: Plan | None = None
    unsent: int = 0
    cancel: deferral.CancelRequest | None = None  # a producer's cancel-notification request
    deferred: bool = False  # delayed or scheduled: it comes back when due
    flush: digests.FlushRequest | None = None  # a digest's window closed: send the digest
    # Channel messages held until the end of their recipient's quiet hours (quiet_hours_deferral).
    held: list[quiet_hours_deferral.HeldMessage] = field(default_factory=list)

    @property
    def notification_id(self) -> str | None:
        return self.notification.notification_id if self.notification else None

    def reject(self, reason: str, error_type: str) -> None:
        self.rejection = RejectedEventError(reason, error_type)

    def fail(self, error: Exception) -> None:
        self.failure = self.failure or error


@contextmanager
def about(item: Item) -> Iterator[None]:
    """Tag every log line written inside with the item's notification id, source and key (when parsed)."""
    if item.notification is None:
        yield
        return
    # The producer knows its source and key, not the hashed id: every line carries all three.
    logger.append_keys(
        notification_id=item.notification.notification_id,
        source=item.notification.source,
        idempotency_key=item.notification.idempotency_key,
    )
    try:
        yield
    finally:
        logger.remove_keys(list(ABOUT_KEYS))


def _remaining_millis(context: Any) -> int | None:
    getter = getattr(context, "get_remaining_time_in_millis", None)
    value = getter() if callable(getter) else None
    return value if isinstance(value, int) else None


def _parse(items: Sequence[Item], types: Catalog) -> None:
    for item in items:
        try:
            item.cancel = deferral.parse_cancel(item.body)
            if item.cancel is not None:
                continue
            # The marker test first: most messages are events, and digests loads only for a flush.
            item.flush = digests.parse_flush(item.body) if contract.FLUSH_MARKER in item.body else None
            if item.flush is not None:
                item.notification = _flush_notification(item.flush)
                item.definition = types.definition(item.flush.notification_type)
                continue
            item.notification = parse_notification(item.body)
            item.definition = types.definition(item.notification.notification_type)
            # Before any claim: a refused producer cannot even occupy the notification id.
            item.definition.check_source(item.notification.source)
        except MalformedEventError as error:
            item.reject(str(error), type(error).__name__)
            with about(item):
                logger.warning("event rejected", extra={"reason": str(error)})


def _defer(items: Sequence[Item]) -> None:
    """Delay or schedule what is not due yet (``deferral``); reject a bad ``sendAt``/``delaySeconds``."""
    now = datetime.now(UTC)
    for item in items:
        notification = item.notification
        if (
            notification is None
            or item.rejection
            or (notification.send_at is None and notification.delay_seconds is None)
        ):
            continue
        with about(item):
            try:
                decision = deferral.decide(
                    now=now,
                    event_time=notification.time,
                    send_at=notification.send_at,
                    delay_seconds=notification.delay_seconds,
                    due_marker=notification.due,
                    max_delay_days=deferral.max_delay_days(),
                )
            except MalformedEventError as error:
                item.reject(str(error), type(error).__name__)
                logger.warning("event rejected", extra={"reason": str(error)})
                continue
            if decision.action is deferral.Action.NOW:
                continue
            try:
                deferral.defer(notification.notification_id, item.body, decision)
            except (ClientError, BotoCoreError) as error:
                logger.warning("deferring failed", extra={"error_code": aws_clients.error_code(error)})
                item.fail(error)
                continue
            item.deferred = True
            outcome = "scheduled" if decision.action is deferral.Action.SCHEDULE else "delayed"
            logger.info(
                "notification deferred", extra={"outcome": outcome, "seconds": decision.delay_seconds}
            )


def _cancel(items: Sequence[Item], context: Any) -> None:
    """Cancel requests: tombstone the producer's notification id (a completed claim), delete its schedule."""
    dedup = idempotency.deduplicator_from_env()
    for item in items:
        request = item.cancel
        if request is None:
            continue
        # The id comes from the request's own source: a producer can only name its own notifications.
        key = notification_id(request.source, request.notification_type, request.idempotency_key)
        logger.append_keys(
            notification_id=key, source=request.source, idempotency_key=request.idempotency_key
        )
        try:
            claim = dedup.claim(key, remaining_time_in_millis=_remaining_millis(context))
            if claim is Claim.IN_PROGRESS:
                item.fail(RecordFailedError(f"notification {key} is being sent; cancel retried later"))
                logger.info(
                    "cancel of a notification in progress; retried later", extra={"outcome": "in_progress"}
                )
                continue
            if claim is Claim.CLAIMED:
                dedup.complete(key, {"cancelled": True})
            deleted = deferral.delete_schedule(key)
            outcome = "cancelled" if claim is Claim.CLAIMED else "already_done"
            logger.info("notification cancelled", extra={"outcome": outcome, "schedule_deleted": deleted})
        except (ClientError, BotoCoreError) as error:
            logger.warning("cancel failed", extra={"error_code": aws_clients.error_code(error)})
            item.fail(error)
        finally:
            logger.remove_keys(list(ABOUT_KEYS))


def _claim(items: Sequence[Item], context: Any) -> None:
    dedup = idempotency.deduplicator_from_env()
    owners: dict[str, Item] = {}
    for item in items:
        if item.notification is None or item.rejection or item.deferred:
            continue
        with about(item):
            notification_id = item.notification.notification_id
            if notification_id in owners:
                item.primary = owners[notification_id]
                logger.info("duplicate in the same batch", extra={"outcome": "duplicate"})
                continue
            owners[notification_id] = item
            try:
                claim = dedup.claim(notification_id, remaining_time_in_millis=_remaining_millis(context))
            except (ClientError, BotoCoreError) as error:
                logger.warning("claim failed", extra={"error_code": aws_clients.error_code(error)})
                item.fail(error)
                continue
            if claim is Claim.ALREADY_DONE:
                logger.info("duplicate notification skipped", extra={"outcome": "duplicate"})
            elif claim is Claim.IN_PROGRESS:
                logger.info(
                    "notification in progress elsewhere; retried later", extra={"outcome": "in_progress"}
                )
                item.fail(RecordFailedError(f"notification {notification_id} is in progress elsewhere"))
            else:
                item.claimed = True


def _prefetch(items: Sequence[Item]) -> tuple[dict[str, Profile], dict[str, dict[str, Any]]]:
    recipients = list(
        dict.fromkeys(
            user
            for item in items
            if item.claimed and item.notification and item.plan is None
            for user in item.notification.recipients
        )
    )
    if not recipients:
        return {}, {}
    profiles = enrichment.profiles(recipients)
    prefs = dynamodb_batch.batch_get(
        env.required("PREFERENCES_TABLE"),
        [{"user_id": user} for user in recipients],
        attributes=PREFERENCE_ATTRIBUTES,
    )
    return profiles, {str(item["user_id"]): item for item in prefs}


def _reachability(
    items: Sequence[Item], prefs: Mapping[str, Mapping[str, Any]], switches: Switches
) -> dict[tuple[str, str], bool]:
    """(channel, user) -> reachable, for every recipient of a type with fallback: one batched probe per
    channel and round (``fallback.first_reachable``), only for the channels the decision will look at."""
    requests: dict[tuple[int, str], tuple[str, Sequence[str]]] = {}
    for index, item in enumerate(items):
        if not item.claimed or item.notification is None or item.definition is None:
            continue
        if not item.definition.fallback:
            continue
        disabled = _bound(switches.disabled, item.notification.notification_type)
        for user_id in item.notification.recipients:
            wanted = fallback.candidates(
                item.definition.fallback,
                preferences.suppression(item.definition, prefs.get(user_id)),
                disabled,
            )
            if wanted:
                requests[(index, user_id)] = (user_id, wanted)
    if not requests:
        return {}
    return fallback.first_reachable(requests, reachability.reachable)


def _plan(
    items: Sequence[Item],
    profiles: Mapping[str, Profile],
    prefs: Mapping[str, Mapping[str, Any]],
    switches: Switches,
) -> None:
    now = datetime.now(UTC)
    known = _reachability(items, prefs, switches)

    def reachable(channel: str, user_id: str) -> bool:
        # Not probed only when an earlier channel already reached the user; deliver rather than drop.
        return known.get((channel, user_id), True)

    for item in items:
        if not item.claimed or item.notification is None or item.definition is None or item.plan is not None:
            continue
        with about(item):
            try:
                item.plan = plan_notification(
                    item.notification,
                    item.definition,
                    profiles,
                    prefs,
                    created_at=now,
                    switches=switches,
                    reachable=reachable,
                )
            except templates.TemplateError as error:
                item.reject(str(error), type(error).__name__)
                logger.warning("event rejected: render error", extra={"reason": str(error)})
                continue
            _log_controls(item.plan.counts)


def _log_controls(counts: Mapping[str, int]) -> None:
    """One structured line per notification whose channels the controls changed (counts of recipients)."""
    if counts.get(delivery_log.FALLBACK_USED):
        logger.info(
            "fallback used",
            extra={"outcome": delivery_log.FALLBACK_USED, "recipients": counts[delivery_log.FALLBACK_USED]},
        )
    if counts.get(delivery_log.NO_REACHABLE_CHANNEL):
        logger.warning(
            "no channel of the fallback list reaches some recipients",
            extra={
                "outcome": delivery_log.NO_REACHABLE_CHANNEL,
                "recipients": counts[delivery_log.NO_REACHABLE_CHANNEL],
            },
        )
    if counts.get(delivery_log.SUPPRESSED_CHANNEL_DISABLED):
        logger.info(
            "channel switched off by an operator",
            extra={
                "outcome": delivery_log.SUPPRESSED_CHANNEL_DISABLED,
                "deliveries": counts[delivery_log.SUPPRESSED_CHANNEL_DISABLED],
            },
        )


# --- frequency caps (frequency_caps) -----------------------------------------------------------------


def _apply_caps(items: Sequence[Item]) -> None:
    """Count each planned recipient of a capped type (one conditional UpdateItem each); the messages of a
    recipient over the cap become ``suppressed_frequency_cap`` rows. A failed count fails the record before
    anything of it is sent (a retry is not counted twice: ``frequency_caps.admit``)."""
    now = time.time()
    for item in items:
        plan, notification, definition = item.plan, item.notification, item.definition
        if plan is None or item.rejection or notification is None or definition is None or item.flush:
            continue
        cap = definition.max_per_user
        if cap is None:
            continue
        with about(item):
            users = list(dict.fromkeys(m.user_id for m in plan.messages if m.target is None))
            try:
                over = {
                    user
                    for user in users
                    if not frequency_caps.admit(
                        cap, notification.notification_type, user, notification.notification_id, now
                    )
                }
            except (ClientError, BotoCoreError) as error:
                logger.warning(
                    "frequency cap check failed", extra={"error_code": aws_clients.error_code(error)}
                )
                item.plan = None
                item.fail(error)
                continue
            if not over:
                continue
            if cap.overflow == type_options.DIGEST and definition.digest is not None:
                try:
                    rows = _collect(notification, definition.digest, sorted(over))
                except (ClientError, BotoCoreError, digests.DigestBusyError) as error:
                    logger.warning(
                        "digest append failed", extra={"error_code": aws_clients.error_code(error)}
                    )
                    item.plan = None
                    item.fail(error)
                    continue
            else:
                rows = frequency_caps.rows_for(plan.messages, over)
            counts = dict(plan.counts)
            counts[delivery_log.SUPPRESSED_FREQUENCY_CAP] = len(over)
            item.plan = Plan(
                messages=[m for m in plan.messages if m.user_id not in over],
                suppressed=[*plan.suppressed, *rows],
                counts=counts,
            )
            logger.info(
                "frequency cap reached",
                extra={
                    "outcome": delivery_log.SUPPRESSED_FREQUENCY_CAP,
                    "recipients": len(over),
                    "overflow": cap.overflow,
                },
            )


# --- digests (digests) ---------------------------------------------------------------------------------


def _flush_notification(request: digests.FlushRequest) -> Notification:
    """The notification a digest is sent as: id = the flush id, the user its one recipient (``data`` is read
    from the digest once the flush is claimed)."""
    return Notification(
        notification_id=request.flush_id,
        notification_type=request.notification_type,
        event_id=request.flush_id,
        source=digests.FLUSH_SOURCE,
        time=datetime.now(UTC),
        recipients=(request.user_id,),
        idempotency_key=request.flush_id,  # logged with every line about the flush
    )


def _collect(
    notification: Notification, window: type_options.DigestWindow, users: Sequence[str]
) -> list[Delivery]:
    """Append the event to each user's digest; their ``digested`` rows (the reason names the digest)."""
    item = digests.digest_item(notification.data)
    now = datetime.now(UTC)
    rows = []
    for user_id in users:
        request = digests.collect(user_id, notification.notification_type, window, item, now)
        rows.append(
            Delivery(
                notification.notification_id,
                notification.notification_type,
                user_id,
                delivery_log.NO_TARGET,
                delivery_log.DIGESTED,
                reason=f"digest {request.flush_id}",
            )
        )
    return rows


def _digest(items: Sequence[Item]) -> None:
    """After the claim: read each claimed digest flush; collect the events of digest types (every recipient
    without a cap; with one, the event is delivered as a digest of one and only what is over the cap is
    collected, in ``_apply_caps``). An oversize event is rejected before any of it is collected."""
    for item in items:
        notification, definition = item.notification, item.definition
        if not item.claimed or notification is None or definition is None:
            continue
        with about(item):
            try:
                if item.flush is not None:
                    digest = digests.flush(item.flush)
                    if digest is None:
                        item.plan = Plan.empty()  # a window without a kept event: nothing to send
                        logger.info("digest flush without a digest", extra={"outcome": "empty_digest"})
                    else:
                        data = digests.digest_variables(*digest)
                        item.notification = notification._replace(data=data)
                        logger.info("digest flushed", extra={"outcome": "digest", "count": digest[0]})
                    continue
                window = definition.digest
                if window is None:
                    continue
                digests.digest_item(notification.data)  # too large: rejected before anything is collected
                if definition.max_per_user is not None:
                    item.notification = notification._replace(data=digests.single_data(notification.data))
                    continue
                rows = _collect(notification, window, notification.recipients)
                item.plan = Plan([], rows, {delivery_log.DIGESTED: len(rows)})
                logger.info(
                    "notification digested", extra={"outcome": delivery_log.DIGESTED, "recipients": len(rows)}
                )
            except MalformedEventError as error:
                item.plan = Plan.empty()  # nothing planned nor sent
                item.reject(str(error), type(error).__name__)
                logger.warning("event rejected", extra={"reason": str(error)})
            except (ClientError, BotoCoreError, digests.DigestBusyError) as error:
                item.plan = Plan.empty()
                logger.warning("digest failed", extra={"error_code": aws_clients.error_code(error)})
                item.fail(error)


def _send(items: Sequence[Item], queue_urls: Mapping[str, str]) -> None:
    """Every channel message of the batch, batched per channel queue; counts unsent messages per item."""
    by_queue: dict[str, list[tuple[Item, OutgoingMessage]]] = {}
    for index, item in enumerate(items):
        if item.plan is None or item.rejection:
            continue
        for number, message in enumerate(item.plan.messages):
            url = queue_urls.get(message.channel)
            if url is None:
                item.fail(
                    RecordFailedError(f"CHANNEL_QUEUE_URLS has no queue for channel {message.channel!r}")
                )
                continue
            entry = OutgoingMessage(f"{index}-{number}", message.to_json())
            by_queue.setdefault(url, []).append((item, entry))
    for url, pairs in by_queue.items():
        failed = send_batch(url, [entry for _, entry in pairs])
        for item, entry in pairs:
            if entry.entry_id in failed:
                item.unsent += 1


def _send_rejections(items: Sequence[Item]) -> None:
    rejected = [(index, item) for index, item in enumerate(items) if item.rejection and not item.failure]
    if not rejected:
        return
    entries = [
        OutgoingMessage(
            f"r{index}",
            item.body,
            {
                "reason": item.rejection.reason[:MAX_ATTRIBUTE_REASON] or "rejected",
                "error_type": item.rejection.error_type,
            },
        )
        for index, item in rejected
        if item.rejection
    ]
    failed = send_batch(env.required("REJECTED_EVENTS_QUEUE_URL"), entries)
    for index, item in rejected:
        if f"r{index}" in failed:
            item.fail(RecordFailedError("the rejected event could not be sent to the dead-letter queue"))


def _settle(items: Sequence[Item]) -> None:
    """Complete or release each claim, and decide each record's outcome."""
    dedup = idempotency.deduplicator_from_env()
    for item in items:
        if not item.claimed or item.notification is None:
            continue
        with about(item):
            key = item.notification.notification_id
            if item.rejection is None and item.failure is None and item.unsent == 0:
                try:
                    dedup.complete(key)
                except (ClientError, BotoCoreError) as error:  # sent: a redelivery re-sends, workers dedupe
                    logger.warning(
                        "completing the claim failed", extra={"error_code": aws_clients.error_code(error)}
                    )
                sent = len(item.plan.messages) if item.plan else 0
                logger.info("notification routed", extra={"messages": sent, "outcome": "routed"})
                continue
            if item.unsent:
                item.fail(RecordFailedError(f"{item.unsent} channel message(s) could not be sent"))
                logger.warning("channel messages not sent; retried later", extra={"unsent": item.unsent})
            try:
                dedup.release(key)
            except (ClientError, BotoCoreError) as error:  # expires with the in-progress timeout instead
                logger.warning(
                    "releasing the claim failed", extra={"error_code": aws_clients.error_code(error)}
                )


# --- quiet hours (quiet_hours_deferral) ---------------------------------------------------------------


def _hold_for_quiet_hours(
    items: Sequence[Item], profiles: Mapping[str, Profile], prefs: Mapping[str, Mapping[str, Any]]
) -> None:
    """Take the messages that wait for the end of their recipient's quiet hours out of each plan; their
    ``deferred_quiet_hours`` rows join the plan's rows (written before anything is sent)."""
    if not any("quiet_hours" in preference for preference in prefs.values()):
        return  # nobody in the batch has quiet hours: nothing is held (and quiet_hours_deferral not loaded)
    now = datetime.now(UTC)
    for item in items:
        if item.plan is None or item.rejection or item.definition is None:
            continue
        split = quiet_hours_deferral.hold(item.plan.messages, item.definition, prefs, profiles, now=now)
        if split.unknown_time_zones:
            with about(item):
                logger.warning(
                    "profile time zone is not an IANA name: quiet hours not applied, sent now",
                    extra={
                        "outcome": "quiet_hours_unknown_time_zone",
                        "recipients": split.unknown_time_zones,
                    },
                )
        if not split.held:
            continue
        item.held = split.held
        item.plan = Plan(split.send, item.plan.suppressed + split.rows, item.plan.counts)


def _send_held(items: Sequence[Item], queue_urls: Mapping[str, str]) -> None:
    """Put each held message on its channel queue at its due time (SQS delay or a one-time schedule)."""
    now = datetime.now(UTC)
    for item in items:
        if not item.held or item.rejection:
            continue
        with about(item):
            outcomes: dict[str, int] = {}
            try:
                for held in item.held:
                    how = quiet_hours_deferral.defer(held, queue_urls, now=now)
                    outcomes[how] = outcomes.get(how, 0) + 1
            except (ClientError, BotoCoreError) as error:
                logger.warning(
                    "holding for quiet hours failed", extra={"error_code": aws_clients.error_code(error)}
                )
                item.fail(error)
                continue
            except KeyError as error:  # no queue for the channel: a deployment mistake, retried
                item.fail(RecordFailedError(f"no quiet-hours queue for channel {error}"))
                continue
            logger.info(
                "channel messages held for quiet hours",
                extra={
                    "outcome": delivery_log.DEFERRED_QUIET_HOURS,
                    "messages": len(item.held),
                    "channels": sorted({held.message.channel for held in item.held}),
                    "due": quiet_hours_deferral.stamp(min(held.due for held in item.held)),
                    **outcomes,
                },
            )


def route(records: Sequence[Mapping[str, Any]], context: Any) -> dict[str, Exception | None]:
    """Process one batch; the outcome per SQS message id (None: processed)."""
    items = [Item(str(record["messageId"]), str(record.get("body", ""))) for record in records]
    try:
        types = catalog.load()
    except (ClientError, BotoCoreError) as error:
        logger.error(
            "catalog unreadable: failing the batch", extra={"error_code": aws_clients.error_code(error)}
        )
        return {item.message_id: error for item in items}
    switches = channel_switches.load()
    _parse(items, types)
    _cancel(items, context)
    _defer(items)
    _claim(items, context)
    _digest(items)
    try:
        profiles, prefs = _prefetch(items)
        _plan(items, profiles, prefs, switches)
        _apply_caps(items)
        _hold_for_quiet_hours(items, profiles, prefs)
        delivery_log.record(
            [d for item in items if item.plan and not item.rejection for d in item.plan.suppressed]
        )
        _send(items, env.string_map("CHANNEL_QUEUE_URLS"))
        _send_held(items, env.string_map("CHANNEL_QUEUE_URLS"))
    except (
        ClientError,
        BotoCoreError,
        dynamodb_batch.UnprocessedItemsError,
        enrichment.EnrichmentError,
    ) as error:
        logger.error("batch failed", extra={"error_code": aws_clients.error_code(error)})
        for item in items:
            if item.claimed:
                item.fail(error)
    _settle(items)
    _send_rejections(items)
    outcomes: dict[str, Exception | None] = {}
    for item in items:
        if item.primary is not None and item.primary.failure is not None:
            item.fail(item.primary.failure)  # same notification earlier in the batch: share its fate
        outcomes[item.message_id] = item.failure
    return outcomes


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = partial_batch.sqs_records(event)
    # A batch whose every record failed raises (EntireBatchFailedError): the invocation is an error.
    return dict(partial_batch.response(records, route(records, context), raise_if_all_failed=True))
