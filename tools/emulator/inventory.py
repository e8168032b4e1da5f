"""What the emulator holds, service by service, so a test can prove destroy left nothing behind.

``/moto-api/data.json`` would be the generic answer, but it lists every instance moto ever created
(deleted ones included) and crashes once a Lambda function exists, so we ask each service's own API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools.emulator.server import Emulator

_Lister = Callable[[Any], list[str]]


def _pages(client: Any, operation: str, key: str, field: str | None = None, **kwargs: Any) -> list[str]:
    items: list[str] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items += [item[field] if field else item for item in page.get(key, [])]
    return items


def _event_rules(events: Any) -> list[str]:
    buses = [bus["Name"] for bus in events.list_event_buses()["EventBuses"]]
    return [f"{bus}/{rule['Name']}" for bus in buses for rule in events.list_rules(EventBusName=bus)["Rules"]]


def _live_kms_keys(kms: Any) -> list[str]:
    keys = _pages(kms, "list_keys", "Keys", "KeyId")
    # AWS-managed keys (alias/aws/<service>) belong to AWS, not to a deployment: moto creates one lazily
    # when something describes the alias (the provider does, for DynamoDB tables) and marks it CUSTOMER.
    aws_managed = {
        a["TargetKeyId"]
        for a in kms.list_aliases().get("Aliases", [])
        if a["AliasName"].startswith("alias/aws/") and "TargetKeyId" in a
    }
    return [
        key
        for key in keys
        if key not in aws_managed
        and kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] not in {"PendingDeletion", "Disabled"}
    ]


_LISTERS: dict[str, tuple[str, _Lister]] = {
    "lambda functions": ("lambda", lambda c: _pages(c, "list_functions", "Functions", "FunctionName")),
    "sns topics": ("sns", lambda c: _pages(c, "list_topics", "Topics", "TopicArn")),
    "sns subscriptions": (
        "sns",
        lambda c: _pages(c, "list_subscriptions", "Subscriptions", "SubscriptionArn"),
    ),
    "sqs queues": ("sqs", lambda c: c.list_queues().get("QueueUrls", [])),
    "event buses": ("events", lambda c: [b["Name"] for b in c.list_event_buses()["EventBuses"]]),
    "event rules": ("events", _event_rules),
    "log groups": ("logs", lambda c: _pages(c, "describe_log_groups", "logGroups", "logGroupName")),
    "iam roles": ("iam", lambda c: _pages(c, "list_roles", "Roles", "RoleName")),
    "kms keys (not pending deletion)": ("kms", _live_kms_keys),
    "kms aliases": (
        "kms",
        lambda c: [
            a for a in _pages(c, "list_aliases", "Aliases", "AliasName") if not a.startswith("alias/aws/")
        ],
    ),
    "state machines": ("stepfunctions", lambda c: _pages(c, "list_state_machines", "stateMachines", "name")),
    "dynamodb tables": ("dynamodb", lambda c: _pages(c, "list_tables", "TableNames")),
    "pipes": ("pipes", lambda c: _pages(c, "list_pipes", "Pipes", "Name")),
    "s3 buckets": ("s3", lambda c: [b["Name"] for b in c.list_buckets().get("Buckets", [])]),
    "ses identities": (
        "sesv2",
        lambda c: [i["IdentityName"] for i in c.list_email_identities().get("EmailIdentities", [])],
    ),
}


def inventory(emulator: Emulator) -> dict[str, set[str]]:
    return {kind: set(lister(emulator.client(service))) for kind, (service, lister) in _LISTERS.items()}


def created_since(before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, set[str]]:
    """Resources in ``after`` that were not in ``before``, by kind; empty kinds omitted."""
    return {
        kind: after[kind] - before.get(kind, set()) for kind in after if after[kind] - before.get(kind, set())
    }
