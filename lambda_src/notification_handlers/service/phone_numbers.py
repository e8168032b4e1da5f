"""Verified phone numbers of the SMS channel (docs/notification-service.md, section 9): the table layout, the
pure rules on numbers and segments, and the batched read every consumer uses.

Table ``phone_numbers`` (hash key ``phone_key``), two kinds of item:

* ``user#<user_id>``: the user's one number, ``phone_number`` (E.164), ``status`` ``pending`` (with
  ``code_hash``, ``code_expires_at``, ``code_sent_at``, ``verify_attempts``) or ``verified``
  (``verified_at``).
* ``number#<e164>``: the owner of a verified number (``user_id``, ``verified_at``). A number has at most
  one owner: the last user who proved they receive it (a code sent to it). Verifying moves the number, in
  one ``TransactWriteItems`` with the new owner's item and the deletion of the previous owner's item, so
  a user item that says ``verified`` always matches its ownership item and the worker need read only the
  user items.

``verified_phone_numbers(user_ids)`` is the channel's "reachable target" read (also for channel
fallback): ONE ``BatchGetItem`` per 100 users, eventually consistent (a number verified a second ago may
be missed once: the router's next notification sees it).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from notification_handlers.service import dynamodb_batch, env

TABLE_ENV: Final = "PHONE_NUMBERS_TABLE"
KEY: Final = "phone_key"
PENDING: Final = "pending"
VERIFIED: Final = "verified"

# E.164: "+", a country code that does not start with 0, at most 15 digits in all (ITU-T E.164); 8 digits is
# the shortest number of any country's plan that SMS reaches.
E164_PATTERN: Final = re.compile(r"\+[1-9][0-9]{7,14}")

# Premium-rate and shared-cost ranges that receive SMS at a price the sender pays (SMS pumping / toll fraud)
# or that no mobile phone holds, refused whatever sms.allowed_country_codes says. NANP 900 and 976: premium
# rate; UK 09 premium, 070 personal numbering (forwarding, a known pumping range), 087 and 084 shared cost.
PREMIUM_PREFIXES: Final = ("+1900", "+1976", "+449", "+4470", "+4487", "+4484")

GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED: Final = frozenset("^{}\\[~]|€\f")  # two septets each (escape + character)
MAX_SEGMENTS_LIMIT: Final = 10  # SNS accepts 1,600 bytes: 10 GSM-7 segments of 153 characters


def is_e164(value: str) -> bool:
    return E164_PATTERN.fullmatch(value) is not None


def is_premium(number: str) -> bool:
    return number.startswith(PREMIUM_PREFIXES)


def country_allowed(number: str, allowed_country_codes: Iterable[str]) -> bool:
    """Whether the number's country calling code is one of ``allowed_country_codes`` (digits, e.g. "1",
    "44"). Calling codes are prefix-free, so a prefix match is exact. An empty list allows none."""
    return any(number.startswith(f"+{code}") for code in allowed_country_codes)


def segments(text: str) -> int:
    """How many SMS segments ``text`` takes: GSM-7 (160 septets alone, 153 per part) when every character
    is in the GSM-7 alphabet, else UCS-2 (70 characters alone, 67 per part; a character outside the BMP
    is two code units)."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, part = 160, 153
    else:
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
        single, part = 70, 67
    if units <= single:
        return 1
    return math.ceil(units / part)


def mask(number: str) -> str:
    """What logs and the delivery log show of a number: the country part and the last two digits."""
    if len(number) < 6:
        return "+***"
    return f"{number[:3]}{'*' * (len(number) - 5)}{number[-2:]}"


def target(number: str) -> str:
    """The delivery log's ``target`` of an SMS: the masked number and a short hash (two numbers that mask
    alike stay apart; the number itself is never stored there)."""
    return f"{mask(number)}#{hashlib.sha256(number.encode()).hexdigest()[:12]}"


def user_key(user_id: str) -> str:
    return f"user#{user_id}"


def number_key(number: str) -> str:
    return f"number#{number}"


def verified_number(item: Mapping[str, Any] | None) -> str | None:
    """The number of a user item when it is verified and well-formed, else None."""
    if not item or item.get("status") != VERIFIED:
        return None
    number = item.get("phone_number")
    return number if isinstance(number, str) and is_e164(number) else None


# --- AWS edge -------------------------------------------------------------------------------------


def verified_phone_numbers(user_ids: Sequence[str], table: str | None = None) -> dict[str, str]:
    """user id -> verified E.164 number, for the users that have one (ONE ``BatchGetItem`` per 100 users).

    ``table`` defaults to ``PHONE_NUMBERS_TABLE``. AWS errors propagate (the caller retries its batch).
    """
    if not user_ids:
        return {}
    name = table or env.required(TABLE_ENV)
    by_key = {user_key(user_id): user_id for user_id in user_ids}
    items = dynamodb_batch.batch_get(
        name, [{KEY: key} for key in by_key], attributes=["status", "phone_number"]
    )
    found: dict[str, str] = {}
    for item in items:
        user_id = by_key.get(str(item.get(KEY)))
        number = verified_number(item)
        if user_id is not None and number is not None:
            found[user_id] = number
    return found
