"""The SNS SMS edge the SMS worker and the registration API share (docs/notification-service.md, section 9):
settings from the environment, the ``Publish`` request and the opt-out check.

Environment: ``SMS_TYPE`` (``Transactional`` or ``Promotional``, default Transactional), ``SMS_MAX_PRICE_USD``
(per-message ceiling, SNS's ``AWS.SNS.SMS.MaxPrice``), ``SMS_SENDER_ID``, ``SMS_ORIGINATION_NUMBER``,
``SMS_MAX_SEGMENTS`` (default 3, at most 10), ``SMS_ALLOWED_COUNTRY_CODES`` (comma-separated calling codes,
e.g. ``1,44``: numbers of other countries are refused).
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

from notification_handlers import aws_clients
from notification_handlers.event_fields import ConfigurationError
from notification_handlers.service import env, phone_numbers

SMS_TYPES: Final = ("Transactional", "Promotional")
DEFAULT_MAX_SEGMENTS: Final = 3


class Settings(NamedTuple):
    sms_type: str = "Transactional"
    max_price_usd: str | None = None
    sender_id: str | None = None
    origination_number: str | None = None
    max_segments: int = DEFAULT_MAX_SEGMENTS
    allowed_country_codes: tuple[str, ...] = ()


def settings_from_env() -> Settings:
    sms_type = env.optional("SMS_TYPE") or "Transactional"
    if sms_type not in SMS_TYPES:
        raise ConfigurationError(f"SMS_TYPE must be one of {', '.join(SMS_TYPES)}, got {sms_type[:40]!r}")
    max_segments = env.positive_int("SMS_MAX_SEGMENTS", DEFAULT_MAX_SEGMENTS)
    if max_segments > phone_numbers.MAX_SEGMENTS_LIMIT:
        raise ConfigurationError(f"SMS_MAX_SEGMENTS must be at most {phone_numbers.MAX_SEGMENTS_LIMIT}")
    codes = tuple(
        c.strip() for c in (env.optional("SMS_ALLOWED_COUNTRY_CODES") or "").split(",") if c.strip()
    )
    if any(not (c.isdigit() and c.isascii() and 1 <= len(c) <= 3 and c[0] != "0") for c in codes):
        raise ConfigurationError(
            "SMS_ALLOWED_COUNTRY_CODES must be country calling codes (1-3 digits), e.g. 1,44"
        )
    return Settings(
        sms_type=sms_type,
        max_price_usd=env.optional("SMS_MAX_PRICE_USD") or None,
        sender_id=env.optional("SMS_SENDER_ID") or None,
        origination_number=env.optional("SMS_ORIGINATION_NUMBER") or None,
        max_segments=max_segments,
        allowed_country_codes=codes,
    )


def refusal(number: str, settings: Settings) -> str | None:
    """Why the service never sends to ``number`` (None: it may): not E.164, a premium-rate range, or a
    country outside ``allowed_country_codes``."""
    if not phone_numbers.is_e164(number):
        return "invalid_phone_number"
    if phone_numbers.is_premium(number):
        return "premium_rate_number"
    if not phone_numbers.country_allowed(number, settings.allowed_country_codes):
        return "country_not_allowed"
    return None


def message_attributes(settings: Settings) -> dict[str, dict[str, str]]:
    """SNS ``MessageAttributes`` of every SMS: type, price ceiling, sender id, origination number."""
    attributes = {"AWS.SNS.SMS.SMSType": settings.sms_type}
    if settings.max_price_usd is not None:
        attributes["AWS.SNS.SMS.MaxPrice"] = settings.max_price_usd
    if settings.sender_id is not None:
        attributes["AWS.SNS.SMS.SenderID"] = settings.sender_id
    if settings.origination_number is not None:
        attributes["AWS.MM.SMS.OriginationNumber"] = settings.origination_number
    return {name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()}


def publish_request(number: str, text: str, settings: Settings) -> dict[str, Any]:
    return {"PhoneNumber": number, "Message": text, "MessageAttributes": message_attributes(settings)}


def is_opted_out(number: str) -> bool:
    """On SNS's opt-out list (the number replied STOP, or the account opted it out)."""
    response = aws_clients.client("sns").check_if_phone_number_is_opted_out(phoneNumber=number)
    return bool(response.get("isOptedOut"))


def publish(number: str, text: str, settings: Settings) -> str:
    """Send one SMS; the SNS message id."""
    response = aws_clients.client("sns").publish(**publish_request(number, text, settings))
    return str(response.get("MessageId", ""))
