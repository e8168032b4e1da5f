"""Recipient profiles: from the built-in users table or a custom enrichment Lambda function.

Built-in (``USERS_TABLE``): ``BatchGetItem``, 100 users per call (``dynamodb_batch``). Custom
(``ENRICHMENT_FUNCTION_ARN``): one synchronous ``Invoke`` per 100 users with
``{"version": 1, "user_ids": [...]}``, answered with ``{"users": {id: {display_name, email, locale,
time_zone, attributes}}}`` (docs/notification-service.md, section 5). A function error, a response of
another shape or a failed call raises ``EnrichmentError``/the AWS error: the batch fails and SQS retries
it. A user absent from the answer has no profile.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple

from notification_handlers import aws_clients
from notification_handlers.event_fields import type_name
from notification_handlers.records import EMPTY_MAPPING
from notification_handlers.service import dynamodb_batch, env

CHUNK: Final = 100
PROFILE_FIELDS: Final = ("display_name", "email", "locale", "time_zone")
REQUEST_VERSION: Final = 1


class EnrichmentError(RuntimeError):
    """The enrichment function failed or answered something other than the contract."""


class Profile(NamedTuple):
    user_id: str
    display_name: str | None = None
    email: str | None = None
    locale: str | None = None
    time_zone: str | None = None
    attributes: Mapping[str, Any] = EMPTY_MAPPING

    def variables(self) -> dict[str, Any]:
        """The ``user`` template variables (absent fields are absent, so a template using them fails)."""
        variables: dict[str, Any] = {"id": self.user_id}
        for name in PROFILE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                variables[name] = value
        if self.attributes:
            variables["attributes"] = dict(self.attributes)
        return variables


def _chunks(user_ids: Sequence[str]) -> list[list[str]]:
    unique = list(dict.fromkeys(user_ids))
    return [unique[start : start + CHUNK] for start in range(0, len(unique), CHUNK)]


def profile_from_table_item(item: Mapping[str, Any]) -> Profile:
    """A users-table item as a profile; non-string fields are ignored."""
    values = {name: item[name] for name in PROFILE_FIELDS if isinstance(item.get(name), str) and item[name]}
    return Profile(user_id=str(item["user_id"]), **values)


def from_table(table: str, user_ids: Sequence[str]) -> dict[str, Profile]:
    profiles: dict[str, Profile] = {}
    for chunk in _chunks(user_ids):
        items = dynamodb_batch.batch_get(
            table, [{"user_id": uid} for uid in chunk], attributes=PROFILE_FIELDS
        )
        for item in items:
            profile = profile_from_table_item(item)
            profiles[profile.user_id] = profile
    return profiles


def parse_enrichment_response(document: Any, requested: Sequence[str]) -> dict[str, Profile]:
    """The profiles in a custom function's answer (pure); ``EnrichmentError`` naming the bad field."""
    if not isinstance(document, Mapping):
        raise EnrichmentError(f"response must be an object, got {type_name(document)}")
    users = document.get("users")
    if not isinstance(users, Mapping):
        raise EnrichmentError(f"response.users must be an object, got {type_name(users)}")
    wanted = set(requested)
    profiles: dict[str, Profile] = {}
    for user_id, fields in users.items():
        path = f"response.users[{str(user_id)[:40]!r}]"
        if not isinstance(fields, Mapping):
            raise EnrichmentError(f"{path} must be an object, got {type_name(fields)}")
        values: dict[str, Any] = {}
        for name in PROFILE_FIELDS:
            value = fields.get(name)
            if value is not None and not isinstance(value, str):
                raise EnrichmentError(f"{path}.{name} must be a string, got {type_name(value)}")
            if value:
                values[name] = value
        attributes = fields.get("attributes", {})
        if attributes is None:
            attributes = {}
        if not isinstance(attributes, Mapping):
            raise EnrichmentError(f"{path}.attributes must be an object, got {type_name(attributes)}")
        if user_id in wanted:
            profiles[user_id] = Profile(user_id=user_id, attributes=dict(attributes), **values)
    return profiles


def from_function(function_arn: str, user_ids: Sequence[str]) -> dict[str, Profile]:
    client = aws_clients.client("lambda")
    profiles: dict[str, Profile] = {}
    for chunk in _chunks(user_ids):
        response = client.invoke(
            FunctionName=function_arn,
            InvocationType="RequestResponse",
            Payload=json.dumps({"version": REQUEST_VERSION, "user_ids": chunk}).encode(),
        )
        payload = response["Payload"].read()
        if response.get("FunctionError"):
            raise EnrichmentError(f"enrichment function failed ({response['FunctionError']})")
        try:
            document = json.loads(payload)
        except ValueError:
            raise EnrichmentError("enrichment function answered something that is not JSON") from None
        profiles.update(parse_enrichment_response(document, chunk))
    return profiles


def profiles(user_ids: Sequence[str]) -> dict[str, Profile]:
    """Profiles of these users from ``ENRICHMENT_FUNCTION_ARN`` when set, else from ``USERS_TABLE``;
    neither set: no profiles (templates may use ``user.id`` only)."""
    if not user_ids:
        return {}
    function_arn = env.optional("ENRICHMENT_FUNCTION_ARN")
    if function_arn:
        return from_function(function_arn, user_ids)
    table = env.optional("USERS_TABLE")
    return from_table(table, user_ids) if table else {}
