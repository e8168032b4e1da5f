"""Notify a human when the AWS root user signs in or calls an API.

EventBridge delivers CloudTrail events ("AWS Console Sign In via CloudTrail" and
"AWS API Call via CloudTrail") to this function asynchronously. The pure functions
``parse_event``, ``decide`` and ``render`` hold all the logic; ``publish`` and
``handler`` are the thin edge that talks to SNS.

Failures raise on purpose: with async invocation, Lambda retries and then sends the
event to the dead-letter queue, so a malformed event or an SNS outage loses nothing.

Environment:
    SNS_TOPIC_ARN            required; topic the notification is published to.
    NON_ROOT_EVENTS          "ignore" (default) or "notify": what to do with events whose
                             identity is not the root user.
    ACCOUNT_ALIAS            optional; a friendly name for this function's own account.
    POWERTOOLS_SERVICE_NAME  the ``service`` key of the structured logs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Final, NamedTuple
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from notification_handlers import aws_clients
from notification_handlers.event_fields import (
    ConfigurationError,
    MalformedEventError,
    parse_utc_time,
    read_object,
    read_optional_text,
    read_required_text,
    type_name,
)
from notification_handlers.structured_log import service_logger

if TYPE_CHECKING:
    from notification_handlers.lambda_context import LambdaContext

logger = service_logger("root-activity-notifier")

SIGN_IN_DETAIL_TYPE: Final = "AWS Console Sign In via CloudTrail"
API_CALL_DETAIL_TYPE: Final = "AWS API Call via CloudTrail"
SUPPORTED_DETAIL_TYPES: Final = frozenset({SIGN_IN_DETAIL_TYPE, API_CALL_DETAIL_TYPE})
ROOT_IDENTITY_TYPE: Final = "Root"

# The SNS API reference says subjects must be "less than 100 characters long".
MAX_SUBJECT_LENGTH: Final = 99

_IDENTITY_LABELS: Final[Mapping[str, str]] = {
    "Root": "Root user",
    "IAMUser": "IAM user",
    "AssumedRole": "Assumed role",
    "FederatedUser": "Federated user",
    "IdentityCenterUser": "Identity Center user",
    "AWSAccount": "Another AWS account",
    "AWSService": "AWS service",
}


class NonRootPolicy(Enum):
    IGNORE = "ignore"
    NOTIFY = "notify"


class Settings(NamedTuple):
    topic_arn: str
    non_root_policy: NonRootPolicy
    account_alias: str | None


class Activity(NamedTuple):
    """The fields of one CloudTrail event that a human needs to judge it."""

    envelope_id: str
    detail_type: str
    source: str
    account: str
    event_id: str
    event_name: str
    event_source: str
    event_time: datetime
    aws_region: str
    identity_type: str
    identity_arn: str | None
    principal_id: str | None
    identity_account: str | None
    source_ip: str | None
    user_agent: str | None
    mfa_used: bool | None
    succeeded: bool | None
    error_code: str | None
    error_message: str | None

    @property
    def is_root(self) -> bool:
        return self.identity_type == ROOT_IDENTITY_TYPE

    @property
    def is_console_sign_in(self) -> bool:
        return self.detail_type == SIGN_IN_DETAIL_TYPE


class Decision(NamedTuple):
    notify: bool
    reason: str


class Notification(NamedTuple):
    subject: str
    message: str
    attributes: Mapping[str, str]


# --- configuration -------------------------------------------------------------------


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read and validate the handler's settings from an environment mapping."""
    topic_arn = environ.get("SNS_TOPIC_ARN", "").strip()
    if not topic_arn:
        raise ConfigurationError("SNS_TOPIC_ARN is not set: it must name the SNS topic to notify")
    raw_policy = environ.get("NON_ROOT_EVENTS", "").strip().lower() or NonRootPolicy.IGNORE.value
    try:
        policy = NonRootPolicy(raw_policy)
    except ValueError:
        allowed = ", ".join(repr(p.value) for p in NonRootPolicy)
        raise ConfigurationError(
            f"NON_ROOT_EVENTS={environ.get('NON_ROOT_EVENTS')!r} is invalid; use one of {allowed}"
        ) from None
    alias = environ.get("ACCOUNT_ALIAS", "").strip() or None
    return Settings(topic_arn=topic_arn, non_root_policy=policy, account_alias=alias)


# --- parse ---------------------------------------------------------------------------


def _yes_no(value: object, yes: str, no: str) -> bool | None:
    if not isinstance(value, str):
        return None
    lowered = value.strip().lower()
    return True if lowered == yes else False if lowered == no else None


def _mfa_used(detail_type: str, detail: Mapping[str, Any], identity: Mapping[str, Any]) -> bool | None:
    if detail_type == SIGN_IN_DETAIL_TYPE:
        extra = read_object(detail, "additionalEventData", "detail.additionalEventData", required=False)
        return _yes_no(extra.get("MFAUsed"), "yes", "no")
    # API calls made with console or temporary credentials carry the session's MFA state.
    session = identity.get("sessionContext")
    attributes = session.get("attributes") if isinstance(session, Mapping) else None
    if not isinstance(attributes, Mapping):
        return None
    return _yes_no(attributes.get("mfaAuthenticated"), "true", "false")


def _succeeded(detail_type: str, detail: Mapping[str, Any], error_code: str | None) -> bool | None:
    if error_code:
        return False
    if detail_type == SIGN_IN_DETAIL_TYPE:
        response = read_object(detail, "responseElements", "detail.responseElements", required=False)
        return _yes_no(response.get("ConsoleLogin"), "success", "failure")
    return True


def parse_event(event: object) -> Activity:
    """Validate an EventBridge-wrapped CloudTrail event and extract what a reader needs.

    Raises MalformedEventError naming the first field that is missing or of the wrong type.
    """
    if not isinstance(event, Mapping):
        raise MalformedEventError(f"event must be a JSON object, got {type_name(event)}")
    detail_type = read_required_text(event, "detail-type", "detail-type")
    if detail_type not in SUPPORTED_DETAIL_TYPES:
        expected = " or ".join(repr(t) for t in sorted(SUPPORTED_DETAIL_TYPES))
        raise MalformedEventError(
            f"detail-type {detail_type[:80]!r} is not a CloudTrail event: expected {expected}"
        )
    detail = read_object(event, "detail", "detail", required=True)
    identity = read_object(detail, "userIdentity", "detail.userIdentity", required=True)
    error_code = read_optional_text(detail, "errorCode", "detail.errorCode")
    return Activity(
        envelope_id=read_required_text(event, "id", "id"),
        detail_type=detail_type,
        source=read_required_text(event, "source", "source"),
        account=read_required_text(event, "account", "account"),
        event_id=read_required_text(detail, "eventID", "detail.eventID"),
        event_name=read_required_text(detail, "eventName", "detail.eventName"),
        event_source=read_required_text(detail, "eventSource", "detail.eventSource"),
        event_time=parse_utc_time(
            read_required_text(detail, "eventTime", "detail.eventTime"), "detail.eventTime"
        ),
        aws_region=read_required_text(detail, "awsRegion", "detail.awsRegion"),
        identity_type=read_required_text(identity, "type", "detail.userIdentity.type"),
        identity_arn=read_optional_text(identity, "arn", "detail.userIdentity.arn"),
        principal_id=read_optional_text(identity, "principalId", "detail.userIdentity.principalId"),
        identity_account=read_optional_text(identity, "accountId", "detail.userIdentity.accountId"),
        source_ip=read_optional_text(detail, "sourceIPAddress", "detail.sourceIPAddress"),
        user_agent=read_optional_text(detail, "userAgent", "detail.userAgent"),
        mfa_used=_mfa_used(detail_type, detail, identity),
        succeeded=_succeeded(detail_type, detail, error_code),
        error_code=error_code,
        error_message=read_optional_text(detail, "errorMessage", "detail.errorMessage"),
    )


def envelope_log_keys(event: object) -> dict[str, str]:
    """The identifying envelope fields of any event, safe to log even when it is malformed."""
    if not isinstance(event, Mapping):
        return {}
    keys = {"event_id": "id", "detail_type": "detail-type", "source": "source", "account": "account"}
    return {log_key: event[key][:200] for log_key, key in keys.items() if isinstance(event.get(key), str)}


# --- decide --------------------------------------------------------------------------


def decide(activity: Activity, non_root_policy: NonRootPolicy) -> Decision:
    """Root activity is always reported; anything else only when configured to."""
    if activity.is_root:
        return Decision(notify=True, reason="root identity")
    return Decision(
        notify=non_root_policy is NonRootPolicy.NOTIFY,
        reason=f"non-root identity {activity.identity_type}; NON_ROOT_EVENTS={non_root_policy.value}",
    )


def alias_for(event_account: str, function_account: str | None, configured_alias: str | None) -> str | None:
    """The alias to show for ``event_account``.

    ACCOUNT_ALIAS names the function's own account; events forwarded from another
    account must not be labelled with it.
    """
    if function_account is not None and function_account != event_account:
        return None
    return configured_alias


def function_account_id(invoked_function_arn: str | None) -> str | None:
    """The account id inside a Lambda function ARN (arn:aws:lambda:region:account:function:name)."""
    parts = (invoked_function_arn or "").split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() else None


# --- render --------------------------------------------------------------------------


def cloudtrail_event_url(region: str, event_id: str) -> str:
    """Console deep link to the event in CloudTrail Event history."""
    region_part = quote(region, safe="")
    return (
        f"https://{region_part}.console.aws.amazon.com/cloudtrailv2/home"
        f"?region={region_part}#/events/{quote(event_id, safe='')}"
    )


def account_label(account: str, alias: str | None) -> str:
    return f"{account} ({alias})" if alias else account


def identity_label(identity_type: str) -> str:
    return _IDENTITY_LABELS.get(identity_type, identity_type)


def action_label(activity: Activity) -> str:
    if activity.is_console_sign_in:
        return "console sign-in"
    return f"API call {activity.event_name}"


def outcome_label(activity: Activity) -> str:
    if activity.succeeded is None:
        return "Unknown"
    if activity.succeeded:
        return "Success"
    details = ": ".join(part for part in (activity.error_code, activity.error_message) if part)
    return f"FAILED ({details})" if details else "FAILED"


def mfa_label(mfa_used: bool | None) -> str:
    return "unknown" if mfa_used is None else "Yes" if mfa_used else "No"


def sanitize_subject(text: str, limit: int = MAX_SUBJECT_LENGTH) -> str:
    """Make ``text`` a valid SNS subject: printable ASCII on one line, within ``limit``."""
    ascii_only = "".join(ch if " " <= ch <= "~" else " " if ch.isspace() else "?" for ch in text)
    collapsed = re.sub(r" {2,}", " ", ascii_only).strip()
    if len(collapsed) <= limit:
        return collapsed
    return collapsed[: limit - 3].rstrip() + "..."


def render_subject(activity: Activity, alias: str | None) -> str:
    failed = " FAILED" if activity.succeeded is False else ""
    return sanitize_subject(
        f"{identity_label(activity.identity_type)} {action_label(activity)}{failed}"
        f" in {account_label(activity.account, alias)}"
    )


def render_who(activity: Activity, alias: str | None) -> str:
    account = account_label(activity.identity_account or activity.account, alias)
    if activity.is_root:
        return f"Root user of account {account}"
    principal = activity.identity_arn or activity.principal_id or "unknown principal"
    return f"{identity_label(activity.identity_type)} {principal} in account {account}"


def render_message(activity: Activity, alias: str | None) -> str:
    """The plain-text body: the headline first, then one labelled fact per line."""
    rows = [
        ("Who", render_who(activity, alias)),
        ("What", f"{activity.event_name} ({activity.event_source})"),
        ("Result", outcome_label(activity)),
        ("When", activity.event_time.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("Source IP", activity.source_ip or "-"),
        ("User agent", activity.user_agent or "-"),
        ("Region", activity.aws_region),
        ("MFA used", mfa_label(activity.mfa_used)),
    ]
    width = max(len(label) for label, _ in rows) + 1
    lines = [render_subject(activity, alias), ""]
    lines += [f"{label + ':':<{width}} {value}" for label, value in rows]
    lines += [
        "",
        f"CloudTrail event: {cloudtrail_event_url(activity.aws_region, activity.event_id)}",
        f"CloudTrail event ID: {activity.event_id}",
        f"EventBridge event ID: {activity.envelope_id}",
    ]
    return "\n".join(lines) + "\n"


def render(activity: Activity, alias: str | None) -> Notification:
    return Notification(
        subject=render_subject(activity, alias),
        message=render_message(activity, alias),
        # Attributes let subscribers filter (e.g. only ConsoleLogin) without parsing the text.
        attributes={
            "event_name": activity.event_name,
            "account": activity.account,
            "identity_type": activity.identity_type,
        },
    )


# --- edge ----------------------------------------------------------------------------


def publish(notification: Notification, topic_arn: str) -> str:
    """Publish to SNS and return the message id; a ClientError propagates to the caller."""
    response = aws_clients.sns().publish(
        TopicArn=topic_arn,
        Subject=notification.subject,
        Message=notification.message,
        MessageAttributes={
            name: {"DataType": "String", "StringValue": value}
            for name, value in notification.attributes.items()
        },
    )
    return str(response["MessageId"])


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    logger.append_keys(**envelope_log_keys(event))
    try:
        settings = load_settings(os.environ)
    except ConfigurationError as error:
        logger.error("Invalid configuration", extra={"decision": "rejected", "problem": str(error)})
        raise
    try:
        activity = parse_event(event)
    except MalformedEventError as error:
        logger.error("Rejected malformed event", extra={"decision": "rejected", "problem": str(error)})
        raise
    logger.append_keys(
        cloudtrail_event_id=activity.event_id,
        event_name=activity.event_name,
        identity_type=activity.identity_type,
    )

    decision = decide(activity, settings.non_root_policy)
    if not decision.notify:
        logger.info("Ignored event", extra={"decision": "ignored", "reason": decision.reason})
        return {"status": "ignored", "reason": decision.reason}

    alias = alias_for(
        activity.account,
        function_account_id(getattr(context, "invoked_function_arn", None)),
        settings.account_alias,
    )
    notification = render(activity, alias)
    try:
        message_id = publish(notification, settings.topic_arn)
    except (ClientError, BotoCoreError) as error:  # after the SDK's own retries (aws_clients)
        logger.exception(
            "SNS publish failed; raising so Lambda retries and then dead-letters the event",
            extra={"decision": "notify", "error_code": aws_clients.error_code(error)},
        )
        raise
    logger.info("Published notification", extra={"decision": "notify", "message_id": message_id})
    return {"status": "published", "message_id": message_id}
