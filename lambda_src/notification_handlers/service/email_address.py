"""Email addresses as the email channel stores, compares and logs them.

* ``normalise``: the form every table key and comparison uses: surrounding whitespace stripped,
  lower-cased. SES, the suppressions table and the de-duplication keys all treat ``Ana@Example.com``
  and ``ana@example.com`` as one recipient (mail providers do too, in practice).
* ``mask``: the only form an address may take in a log line: first character of the local part, then
  ``***``, then the domain (``a***@example.com``); the domain stays, because it is what an operator needs
  to spot a provider-wide problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NamedTuple

# RFC 5321: 64 characters of local part, 255 of domain; SES refuses longer addresses.
MAX_ADDRESS_LENGTH: Final = 320
VERIFIED: Final = "verified"  # an email_subscriptions entry's status once its code was confirmed


def normalise(address: str) -> str:
    """``address`` stripped and lower-cased (the key of the suppressions table)."""
    return address.strip().lower()


def is_plausible(address: str) -> bool:
    """One ``@`` with something on both sides, a dot in the domain, no whitespace, at most 320 characters.

    A sanity check on what SES reports and what the subscriptions table holds, not RFC 5322 validation.
    """
    if not address or len(address) > MAX_ADDRESS_LENGTH or any(ch.isspace() for ch in address):
        return False
    local, at, domain = address.rpartition("@")
    return bool(
        at and local and "@" not in local and "." in domain.strip(".") and domain == domain.strip(".")
    )


def mask(address: str) -> str:
    """``a***@example.com`` for ``ana@example.com``; ``***`` for anything without an ``@``."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local:
        return "***"
    return f"{local[0]}***@{domain}"


# Here rather than in email_worker: the router's reachability probe needs them without importing a worker
# (its import time is part of every router cold start).
class Recipient(NamedTuple):
    address: str  # as stored in the subscription (what SES sends to)
    key: str  # normalised: suppression lookups, claim keys, delivery-log targets
    unsubscribe_token: str | None


def verified_recipients(subscription: Mapping[str, Any] | None) -> list[Recipient]:
    """The verified addresses of an ``email_subscriptions`` item, one per normalised address, sorted.

    Entries that are not ``{"status": "verified", ...}`` maps, or not plausible addresses, are skipped.
    """
    addresses = (subscription or {}).get("addresses")
    if not isinstance(addresses, Mapping):
        return []
    recipients: dict[str, Recipient] = {}
    for address, entry in sorted(addresses.items()):
        if not isinstance(address, str) or not isinstance(entry, Mapping) or entry.get("status") != VERIFIED:
            continue
        key = normalise(address)
        if not is_plausible(key) or key in recipients:
            continue
        token = entry.get("unsubscribe_token")
        recipients[key] = Recipient(address.strip(), key, token if isinstance(token, str) and token else None)
    return list(recipients.values())
