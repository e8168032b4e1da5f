"""The catalog of notification types: parsed from the catalog table, cached, refreshed.

Terraform writes one item per type (``catalog_id = "notification-types"``, ``notification_type``,
``definition`` = JSON). ``parse_catalog`` is pure: it validates every definition (channels, locales,
template fields, placeholder syntax). A broken definition does not stop the others: the type is kept
with its error, and events of that type are rejected naming it (``Catalog.definition``), so one bad
``terraform apply`` cannot stall every notification. ``load`` reads the table with one paginated
``Query`` and keeps the result for ``CATALOG_REFRESH_SECONDS`` (default 300) per execution environment.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, NamedTuple

from notification_handlers import aws_clients
from notification_handlers.event_fields import MalformedEventError, type_name
from notification_handlers.records import EMPTY_MAPPING
from notification_handlers.service import env, templates, type_options
from notification_handlers.service.dynamodb_batch import deserialize_item
from notification_handlers.service.log import logger

CATALOG_ID: Final = "notification-types"
DEFAULT_REFRESH_SECONDS: Final = 300
# Required and optional template fields per channel (docs/notification-service.md, section 2).
CHANNEL_FIELDS: Final[Mapping[str, tuple[frozenset[str], frozenset[str]]]] = {
    "email": (frozenset({"subject", "text"}), frozenset({"html"})),
    "push": (frozenset({"title", "body"}), frozenset()),
    "websocket": (frozenset({"body"}), frozenset()),
    "chat": (frozenset({"text"}), frozenset({"title"})),
    "sms": (frozenset({"text"}), frozenset()),
    "inbox": (frozenset({"title", "body"}), frozenset({"url"})),
}
# Channels rendered once per notification (not per recipient): their templates have no `user` variables.
TYPE_LEVEL_CHANNELS: Final = frozenset({"chat"})
CHAT_TARGET_PATTERN: Final = re.compile(r"[a-z][a-z0-9_-]{0,63}")
HTML_FIELDS: Final = frozenset({"html"})
# Quiet hours hold push and sms; email only of the types that set this (docs/notification-service.md).
QUIET_HOURS_EMAIL: Final = "defer_email_in_quiet_hours"
URL_FIELDS: Final = frozenset({"url"})  # a whole field that is a link: https:// only (templates.render_url)
_DEFINITION_KEYS: Final = frozenset(
    {
        "critical",
        "channels",
        "fallback",
        "fallback_locale",
        "templates",
        "allowed_sources",
        "chat_targets",
        "max_per_user",
        "digest",
        QUIET_HOURS_EMAIL,
    }
)
MAX_SOURCE_LENGTH: Final = 256  # EventBridge's limit on an event's source
SOURCE_IN_REASON: Final = 100  # characters of a refused source quoted in the rejection reason


class CatalogError(MalformedEventError):
    """A notification type is unknown or its definition is invalid (the message names the type)."""


class SourceNotAllowedError(MalformedEventError):
    """The event's source is not among the sources its notification type admits (``allowed_sources``)."""


class TypeDefinition(NamedTuple):
    name: str
    critical: bool
    channels: tuple[str, ...]
    fallback_locale: str
    # locale -> channel -> field -> template text
    templates: Mapping[str, Mapping[str, Mapping[str, str]]]
    # EventBridge sources that may send this type; None: every source the ingest rule admits.
    allowed_sources: frozenset[str] | None = None
    # chat: the chat targets (chat.targets keys) each notification of the type is posted to
    chat_targets: tuple[str, ...] = ()
    # Channel fallback: exactly one of these per recipient, the first one that can reach them (fallback.py).
    fallback: tuple[str, ...] = ()
    # At most count deliveries per user and period (frequency_caps); None: no cap.
    max_per_user: type_options.FrequencyCap | None = None
    # Events collected per user and window, delivered as one message (digests); None: delivered one by one.
    digest: type_options.DigestWindow | None = None
    # Quiet hours hold this type's email too (push and sms always; never for a critical type).
    defer_email_in_quiet_hours: bool = False

    @property
    def delivery_channels(self) -> tuple[str, ...]:
        """Every channel the type may deliver on: ``channels``, then ``fallback``."""
        return self.channels + self.fallback

    def check_source(self, source: str) -> None:
        """``SourceNotAllowedError`` unless ``source`` may send this type."""
        if self.allowed_sources is not None and source not in self.allowed_sources:
            raise SourceNotAllowedError(
                f"source_not_allowed: source {source[:SOURCE_IN_REASON]!r} may not send notification "
                f"type {self.name!r} (not in its allowed_sources)"
            )

    def locales_for(self, channel: str) -> list[str]:
        """The locales that have a template for ``channel``."""
        return [locale for locale, channels in self.templates.items() if channel in channels]


class Catalog(NamedTuple):
    types: Mapping[str, TypeDefinition] = EMPTY_MAPPING
    broken: Mapping[str, str] = EMPTY_MAPPING  # type name -> what is wrong with it

    def definition(self, name: str) -> TypeDefinition:
        if name in self.types:
            return self.types[name]
        if name in self.broken:
            raise CatalogError(
                f"notification type {name!r} has an invalid catalog definition: {self.broken[name]}"
            )
        raise CatalogError(f"detail-type {name!r} is not a notification type in the catalog")


def _template_set(channel: str, value: Any, path: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{path} must be an object, got {type_name(value)}")
    required, optional = CHANNEL_FIELDS[channel]
    missing = sorted(required - set(value))
    if missing:
        raise ValueError(f"{path} is missing {', '.join(missing)}")
    unknown = sorted(set(value) - required - optional)
    if unknown:
        raise ValueError(f"{path} has unknown field(s) {', '.join(unknown)}")
    fields: dict[str, str] = {}
    for name, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{path}.{name} must be a non-empty string")
        try:
            if name in URL_FIELDS:
                names = templates.check_url(text)
            else:
                names = templates.check(text, html=name in HTML_FIELDS)
        except templates.TemplateError as error:
            raise ValueError(f"{path}.{name}: {error}") from None
        if channel in TYPE_LEVEL_CHANNELS and any(n == "user" or n.startswith("user.") for n in names):
            raise ValueError(f"{path}.{name}: a {channel} message has no recipient, so no user variables")
        fields[name] = text
    return fields


def _channels(channels: Any, what: str = "channels") -> list[str]:
    if not isinstance(channels, list):
        raise ValueError(f"{what} must be a list")
    prefix = "" if what == "channels" else f"{what}: "
    for channel in channels:
        if channel not in CHANNEL_FIELDS:
            raise ValueError(
                f"{prefix}channel {str(channel)[:40]!r} is not one of {', '.join(sorted(CHANNEL_FIELDS))}"
            )
    if len(set(channels)) != len(channels):
        raise ValueError(f"{what} must not repeat a channel")
    return list(channels)


def _fallback(value: Any, channels: list[str]) -> list[str]:
    """The ordered fallback list: known channels, no repeats, none also in ``channels`` (a channel of both
    would be delivered twice); with ``channels`` empty it must not be empty."""
    fallback = [] if value is None else _channels(value, "fallback")
    if value is not None and not fallback:
        raise ValueError("fallback must not be empty when given (leave it out instead)")
    type_level = sorted(set(fallback) & TYPE_LEVEL_CHANNELS)
    if type_level:
        # A chat message goes to the type's targets, not to a recipient: it can be no one's fallback.
        raise ValueError(f"fallback cannot hold a type-level channel: {', '.join(type_level)}")
    both = sorted(set(fallback) & set(channels))
    if both:
        raise ValueError(f"fallback repeats channel(s) of channels: {', '.join(both)}")
    if not channels and not fallback:
        raise ValueError("channels must be a non-empty list (or fallback given)")
    return fallback


def _allowed_sources(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise ValueError("allowed_sources must be a non-empty list of sources (or absent: any source)")
    for source in value:
        if not isinstance(source, str) or not 0 < len(source) <= MAX_SOURCE_LENGTH:
            raise ValueError(f"allowed_sources must hold strings of 1-{MAX_SOURCE_LENGTH} characters")
    return frozenset(value)


def _chat_targets(value: Any, channels: list[str]) -> tuple[str, ...]:
    if "chat" not in channels:
        if value is not None:
            raise ValueError("chat_targets is set but chat is not in channels")
        return ()
    if not isinstance(value, list) or not value:
        raise ValueError(
            "chat_targets must be a non-empty list of chat targets (the type has the chat channel)"
        )
    for target in value:
        if not isinstance(target, str) or not CHAT_TARGET_PATTERN.fullmatch(target):
            raise ValueError("chat_targets must hold chat target names (lowercase letters, digits, '_', '-')")
    if len(set(value)) != len(value):
        raise ValueError("chat_targets must not repeat a target")
    return tuple(value)


def _templates(raw_templates: Any, channels: list[str]) -> dict[str, dict[str, dict[str, str]]]:
    if not isinstance(raw_templates, Mapping) or not raw_templates:
        raise ValueError("templates must be a non-empty object of locales")
    parsed: dict[str, dict[str, dict[str, str]]] = {}
    for locale, by_channel in raw_templates.items():
        if not isinstance(by_channel, Mapping):
            raise ValueError(f"templates.{locale} must be an object, got {type_name(by_channel)}")
        parsed[locale] = {}
        for channel, fields in by_channel.items():
            if channel not in channels:
                raise ValueError(f"templates.{locale}.{channel}: {channel!r} is not in channels or fallback")
            parsed[locale][channel] = _template_set(channel, fields, f"templates.{locale}.{channel}")
    return parsed


DIGEST_VARIABLES: Final = frozenset({"digest", "user", "notification", templates.ITEM})


def _check_digest_templates(parsed: Mapping[str, Mapping[str, Mapping[str, str]]]) -> None:
    """A digest is rendered with ``digest``, ``user`` and ``notification`` only (and ``item`` in a block):
    a template naming an event's own ``data`` field would fail every flush, so it is refused here."""
    for locale, by_channel in parsed.items():
        for channel, fields in by_channel.items():
            for name, text in fields.items():
                roots = sorted({path.split(".", 1)[0] for path in templates.check(text)} - DIGEST_VARIABLES)
                if roots:
                    raise ValueError(
                        f"templates.{locale}.{channel}.{name}: a digest type's templates may use"
                        " digest.count, digest.items (item inside {{#each}}), user and notification,"
                        f" not {', '.join(roots)}"
                    )


def parse_definition(name: str, definition: Any) -> TypeDefinition:
    """One type's definition (the parsed ``definition`` JSON); ``ValueError`` saying what is wrong."""
    if not isinstance(definition, Mapping):
        raise ValueError(f"definition must be an object, got {type_name(definition)}")
    unknown = sorted(set(definition) - _DEFINITION_KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)}")
    critical = definition.get("critical", False)
    if not isinstance(critical, bool):
        raise ValueError(f"critical must be a boolean, got {type_name(critical)}")
    channels = _channels(definition.get("channels"))
    fallback_channels = _fallback(definition.get("fallback"), channels)
    fallback = definition.get("fallback_locale")
    if not isinstance(fallback, str) or not fallback:
        raise ValueError("fallback_locale must be a non-empty string")
    parsed = _templates(definition.get("templates"), channels + fallback_channels)
    for channel in channels + fallback_channels:
        if channel not in parsed.get(fallback, {}):
            raise ValueError(
                f"templates.{fallback}.{channel} is missing (the fallback locale needs every channel)"
            )
    allowed = _allowed_sources(definition.get("allowed_sources"))
    chat_targets = _chat_targets(definition.get("chat_targets"), channels)
    digest = type_options.parse_digest(definition.get("digest"), critical=critical)
    if digest is not None and "chat" in channels:
        raise ValueError(
            "digest is per user: a type with the chat channel (posted per notification) cannot have one"
        )
    if digest is not None:
        _check_digest_templates(parsed)
    cap = type_options.parse_cap(
        definition.get("max_per_user"), critical=critical, has_digest=digest is not None
    )
    defer_email = _defer_email(
        definition.get(QUIET_HOURS_EMAIL, False), critical, channels + fallback_channels
    )
    return TypeDefinition(
        name,
        critical,
        tuple(channels),
        fallback,
        parsed,
        allowed,
        chat_targets=chat_targets,
        fallback=tuple(fallback_channels),
        max_per_user=cap,
        digest=digest,
        defer_email_in_quiet_hours=defer_email,
    )


def _defer_email(value: Any, critical: bool, channels: list[str]) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{QUIET_HOURS_EMAIL} must be a boolean, got {type_name(value)}")
    if value and critical:
        raise ValueError(f"{QUIET_HOURS_EMAIL} is set on a critical type, which ignores quiet hours")
    if value and "email" not in channels:
        raise ValueError(f"{QUIET_HOURS_EMAIL} is set but email is in neither channels nor fallback")
    return value


def parse_catalog(items: Iterable[Mapping[str, Any]]) -> Catalog:
    """The catalog from the table's items (plain values); broken definitions are kept with their error."""
    types: dict[str, TypeDefinition] = {}
    broken: dict[str, str] = {}
    for item in items:
        name = item.get("notification_type")
        if not isinstance(name, str) or not name:
            logger.error("catalog item without a notification_type skipped")
            continue
        try:
            raw = item.get("definition")
            if not isinstance(raw, str):
                raise ValueError(f"definition must be a JSON string, got {type_name(raw)}")
            try:
                definition = json.loads(raw)
            except ValueError:
                raise ValueError("definition is not JSON") from None
            types[name] = parse_definition(name, definition)
        except ValueError as error:
            broken[name] = str(error)
            logger.error(
                "invalid notification type definition",
                extra={"notification_type": name, "reason": str(error)},
            )
    return Catalog(types, broken)


def query_items(table: str) -> list[dict[str, Any]]:
    """Every item of the catalog partition (one paginated Query)."""
    client = aws_clients.client("dynamodb")
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "catalog_id = :catalog",
        "ExpressionAttributeValues": {":catalog": {"S": CATALOG_ID}},
        "ConsistentRead": False,
    }
    while True:
        response = client.query(**request)
        items.extend(deserialize_item(item) for item in response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return items
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


class CatalogCache:
    """The catalog of one table, read again once ``refresh_seconds`` have passed (``clock``: monotonic)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._loaded: tuple[str, float, Catalog] | None = None

    def get(self, table: str, refresh_seconds: int) -> Catalog:
        now = self._clock()
        if self._loaded is not None:
            loaded_table, loaded_at, catalog = self._loaded
            if loaded_table == table and now - loaded_at < refresh_seconds:
                return catalog
        catalog = parse_catalog(query_items(table))
        logger.info("catalog loaded", extra={"types": len(catalog.types), "broken": len(catalog.broken)})
        self._loaded = (table, now, catalog)
        return catalog

    def clear(self) -> None:
        self._loaded = None


_CACHE: Final = CatalogCache()


def load() -> Catalog:
    """The catalog from ``CATALOG_TABLE``, cached for ``CATALOG_REFRESH_SECONDS`` (default 300)."""
    return _CACHE.get(
        env.required("CATALOG_TABLE"), env.positive_int("CATALOG_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS)
    )
