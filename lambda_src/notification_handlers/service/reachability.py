"""Who can be reached on a channel: one batched probe per channel, for the router's channel fallback.

``PROBES`` maps a channel to its probe: user ids -> the ones that have a target on that channel right
now. The router calls a probe once per channel and batch with every recipient it needs to know about
(``fallback.first_reachable``), never once per recipient where a batched read exists. A new channel
plugs in with one entry here (and its tables in the router's environment and role, ``fallback.tf``).

* email: a verified address (``email_subscriptions``) that is not on the suppression list
  (``email_suppressions``): one ``BatchGetItem`` per 100 users, one per 100 of their addresses. The same
  rule the email worker applies, so a user it would log ``no_address`` or ``suppressed_bounce`` for is
  not reachable.
* push: at least one row in ``device_tokens`` (``Query`` with ``Limit = 1`` per user: the table is keyed
  by user and device, so there is no batched read of "any row of this user").
* websocket: at least one live connection in the ``by_user`` index (``Query`` with ``Limit = 1`` per
  user, for the same reason).
* sms: a verified phone number (``phone_numbers``, one ``BatchGetItem`` per 100 users: the SMS worker's
  own lookup, ``phone_numbers.verified_phone_numbers``). An opted-out number still counts as reachable:
  SNS answers that per number at send time (the worker logs ``suppressed_opted_out``).

The per-user queries of a batch run concurrently (``MAX_CONCURRENT_QUERIES``). A channel without an entry
is treated as reachable for everyone: fallback then stops at it (chat is never a fallback channel: it is
posted to a type's targets, not to a recipient).

A probe that fails raises (AWS errors): the router fails the batch and SQS retries it, as for any other
prefetch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from notification_handlers import aws_clients
from notification_handlers.service import dynamodb_batch, env
from notification_handlers.service.email_address import verified_recipients
from notification_handlers.service.phone_numbers import verified_phone_numbers

Probe = Callable[[Sequence[str]], set[str]]
MAX_CONCURRENT_QUERIES: Final = 8


def email(user_ids: Sequence[str]) -> set[str]:
    """Users with a verified, unsuppressed address (two batched reads for the whole list)."""
    items = dynamodb_batch.batch_get(
        env.required("EMAIL_SUBSCRIPTIONS_TABLE"),
        [{"user_id": user} for user in user_ids],
        attributes=["user_id", "addresses"],
    )
    addresses = {str(item["user_id"]): [r.key for r in verified_recipients(item)] for item in items}
    wanted = sorted({address for keys in addresses.values() for address in keys})
    suppressed: set[str] = set()
    if wanted:
        suppressed = {
            str(item["address"])
            for item in dynamodb_batch.batch_get(
                env.required("EMAIL_SUPPRESSIONS_TABLE"),
                [{"address": address} for address in wanted],
                attributes=["address"],
            )
        }
    return {user for user, keys in addresses.items() if any(key not in suppressed for key in keys)}


def _has_item(request: Mapping[str, Any]) -> Callable[[str], bool]:
    client = aws_clients.client("dynamodb")

    def check(user_id: str) -> bool:
        response = client.query(
            **request,
            KeyConditionExpression="#u = :u",
            ExpressionAttributeNames={"#u": "user_id"},
            ExpressionAttributeValues={":u": {"S": user_id}},
            Limit=1,
        )
        return bool(response.get("Items"))

    return check


def _any_item(request: Mapping[str, Any], user_ids: Sequence[str]) -> set[str]:
    users = list(dict.fromkeys(user_ids))
    if not users:
        return set()
    check = _has_item(request)
    with ThreadPoolExecutor(max_workers=min(MAX_CONCURRENT_QUERIES, len(users))) as pool:
        found = list(pool.map(check, users))
    return {user for user, ok in zip(users, found, strict=True) if ok}


def push(user_ids: Sequence[str]) -> set[str]:
    """Users with at least one registered device."""
    return _any_item({"TableName": env.required("DEVICE_TOKENS_TABLE")}, user_ids)


def websocket(user_ids: Sequence[str]) -> set[str]:
    """Users with at least one open connection."""
    return _any_item(
        {
            "TableName": env.required("CONNECTIONS_TABLE"),
            "IndexName": env.required("CONNECTIONS_USER_INDEX"),
        },
        user_ids,
    )


def sms(user_ids: Sequence[str]) -> set[str]:
    """Users with a verified phone number (one batched read per 100 users)."""
    return set(verified_phone_numbers(list(dict.fromkeys(user_ids))))


PROBES: Final[Mapping[str, Probe]] = {"email": email, "push": push, "sms": sms, "websocket": websocket}


def reachable(channel: str, user_ids: Sequence[str]) -> set[str]:
    """The users of ``user_ids`` that ``channel`` can reach (everyone for a channel without a probe)."""
    probe = PROBES.get(channel)
    if probe is None:
        return set(user_ids)
    return probe(user_ids)
