"""The notification service's pure parts: the event contract, the catalog, templates, locale choice,
preferences, enrichment answers and the router's planning."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from notification_handlers.event_fields import MalformedEventError
from notification_handlers.service import catalog, contract, enrichment, preferences, router
from notification_handlers.service.catalog import CatalogCache, CatalogError, parse_catalog
from notification_handlers.service.contract import parse_notification
from notification_handlers.service.enrichment import EnrichmentError, Profile, parse_enrichment_response
from notification_handlers.service.templates import TemplateError, choose_locale, render
from tests.unit.conftest import load_event

EVENT = "notification_service_event"


def body(**changes: Any) -> str:
    document = load_event(EVENT)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = document
        for key in parents:
            target = target[key]
        key = last.replace("_", "-") if last == "detail_type" else last
        if value is ...:
            del target[key]
        else:
            target[key] = value
    return json.dumps(document)


# --- contract ------------------------------------------------------------------------------------


# The documented test vector (docs/notification-service.md, section 1), computed with
# printf 'order_shipped\n16:com.example.shop\norder-A-1001-shipped' | sha256sum
FIXTURE_NOTIFICATION_ID = "3936a9ff1f17c315bc3b04afaacb1124082b93af2b3d5d235fcbce3d64d8f805"


def test_fixture_event_parses() -> None:
    notification = parse_notification(json.dumps(load_event(EVENT)))
    assert notification.notification_id == FIXTURE_NOTIFICATION_ID
    assert notification.idempotency_key == "order-A-1001-shipped"
    assert notification.notification_type == "order_shipped"
    assert notification.event_id == "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
    assert notification.source == "com.example.shop"
    assert notification.time == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert notification.recipients == ("u-1", "u-2", "u-3")
    assert notification.data["carrier"] == {"name": "DHL & Co <Express>"}


def test_without_idempotency_key_the_event_id_is_the_key() -> None:
    notification = parse_notification(body(detail__idempotencyKey=..., detail__data=...))
    assert notification.idempotency_key == "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
    assert notification.notification_id == contract.notification_id(
        "com.example.shop", "order_shipped", "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
    )
    assert notification.data == {}


def test_producers_are_isolated_the_notification_id_is_namespaced_by_source_and_type() -> None:
    shop = parse_notification(body())
    other_source = parse_notification(body(source="com.example.marketing"))
    other_type = parse_notification(body(detail_type="security_alert"))
    redelivered = parse_notification(body(id="another-event-id"))
    assert shop.idempotency_key == other_source.idempotency_key == other_type.idempotency_key
    assert len({shop.notification_id, other_source.notification_id, other_type.notification_id}) == 3
    assert redelivered.notification_id == shop.notification_id  # one producer's repeats: one notification
    assert contract.NOTIFICATION_ID_PATTERN.fullmatch(shop.notification_id)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        # A separator inside the source or key cannot shift a boundary: the source is length-prefixed.
        (("a\n1:b", "t", "k"), ("a", "t", "1:b\nk")),
        (("a:b", "t", "k"), ("a", "t", "b:k")),
        (("a", "t", "b\nk"), ("a\nb", "t", "k")),
        (("a", "t", ""), ("a\n", "t", "")),
    ],
)
def test_separators_in_a_source_or_key_cannot_make_two_producers_collide(
    one: tuple[str, str, str], other: tuple[str, str, str]
) -> None:
    assert contract.namespaced_key(*one) != contract.namespaced_key(*other)
    assert contract.notification_id(*one) != contract.notification_id(*other)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"detail_type": "OrderShipped"}, "detail-type must match pattern"),
        ({"detail_type": ...}, "event must contain"),
        ({"detail__recipients": []}, "detail.recipients must contain at least 1 items"),
        ({"detail__recipients": ["u-1"] * 2}, "detail.recipients must contain unique items"),
        ({"detail__recipients": [f"u-{n}" for n in range(1001)]}, "detail.recipients must contain less than"),
        ({"detail__recipients": ["-u"]}, "detail.recipients[0] must match pattern"),
        ({"detail__recipients": ["u" * 129]}, "detail.recipients[0] must match pattern"),
        ({"detail__extra": 1}, "detail must not contain"),
        ({"detail__data": {"a": None}}, "detail.data.a must be a string, number or boolean"),
        ({"detail__data": {"a": [[[[[[1]]]]]]}}, "nested at most 5 deep"),
        ({"detail__data": []}, "detail.data must be object"),
        ({"detail__idempotencyKey": "has space"}, "detail.idempotencyKey must match pattern"),
        ({"time": "yesterday"}, "time must match pattern"),
        ({"account": "12345"}, "account must match pattern"),
        ({"version": "1"}, "version must be same as const"),
    ],
)
def test_contract_violations_name_the_field(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(MalformedEventError) as error:
        parse_notification(body(**changes))
    assert reason in str(error.value)


def test_data_nested_five_deep_is_accepted() -> None:
    assert parse_notification(body(detail__data={"a": [[[[{"b": 1}]]]]})).data == {"a": [[[[{"b": 1}]]]]}


@pytest.mark.parametrize(("raw", "reason"), [("{", "body is not JSON"), ("[1]", "must be a JSON object")])
def test_non_events_are_rejected(raw: str, reason: str) -> None:
    with pytest.raises(MalformedEventError, match=reason):
        parse_notification(raw)


def test_schema_is_draft_07_and_closes_detail() -> None:
    schema = contract.schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["properties"]["detail"]["additionalProperties"] is False


# --- catalog -------------------------------------------------------------------------------------

DEFINITION: dict[str, Any] = {
    "critical": False,
    "channels": ["email"],
    "fallback_locale": "en",
    "templates": {
        "en": {"email": {"subject": "S {{a}}", "text": "T", "html": "<b>{{ a }}</b>"}},
        "de": {"email": {"subject": "S", "text": "T"}},
    },
}


def item(name: str, definition: Any) -> dict[str, Any]:
    return {
        "catalog_id": "notification-types",
        "notification_type": name,
        "definition": definition if isinstance(definition, str) else json.dumps(definition),
    }


def test_parse_catalog_keeps_good_types_and_names_broken_ones() -> None:
    parsed = parse_catalog(
        [
            item("order_shipped", DEFINITION),
            item("broken_json", "{"),
            item("no_fallback", {**DEFINITION, "fallback_locale": "fr"}),
        ]
    )
    definition = parsed.definition("order_shipped")
    assert definition.channels == ("email",) and definition.fallback_locale == "en"
    assert definition.locales_for("email") == ["en", "de"]
    with pytest.raises(
        CatalogError, match="'broken_json' has an invalid catalog definition: definition is not JSON"
    ):
        parsed.definition("broken_json")
    with pytest.raises(CatalogError, match=r"templates\.fr\.email is missing"):
        parsed.definition("no_fallback")
    with pytest.raises(CatalogError, match="'other' is not a notification type"):
        parsed.definition("other")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"critical": "yes"}, "critical must be a boolean"),
        ({"channels": []}, "channels must be a non-empty list"),
        ({"channels": ["email", "email"]}, "must not repeat"),
        ({"channels": ["fax"]}, "channel 'fax' is not one of"),
        ({"templates": {"en": {"email": {"subject": "S"}}}}, r"templates\.en\.email is missing text"),
        ({"templates": {"en": {"email": {"subject": "S", "text": "T", "body": "x"}}}}, "unknown field"),
        ({"templates": {"en": {"email": {"subject": "S {{", "text": "T"}}}}, "malformed placeholder"),
        ({"templates": {"en": {"email": {"subject": "{{ a b }}", "text": "T"}}}}, "malformed placeholder"),
        ({"templates": {"en": {"push": {"title": "t", "body": "b"}}}}, "'push' is not in channels"),
        ({"extra": 1}, "unknown key"),
        ({"allowed_sources": []}, "allowed_sources must be a non-empty list"),
        ({"allowed_sources": "com.example.shop"}, "allowed_sources must be a non-empty list"),
        ({"allowed_sources": [""]}, "allowed_sources must hold strings of 1-256"),
        ({"allowed_sources": ["s" * 257]}, "allowed_sources must hold strings of 1-256"),
    ],
)
def test_parse_definition_errors(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        catalog.parse_definition("t", {**DEFINITION, **change})


def test_producers_are_isolated_a_type_admits_only_its_allowed_sources() -> None:
    open_type = catalog.parse_definition("t", DEFINITION)
    restricted = catalog.parse_definition("t", {**DEFINITION, "allowed_sources": ["com.example.shop"]})
    assert open_type.allowed_sources is None and restricted.allowed_sources == {"com.example.shop"}
    open_type.check_source("anything")
    restricted.check_source("com.example.shop")
    with pytest.raises(catalog.SourceNotAllowedError) as refused:
        restricted.check_source("com.example.shop.evil" + "x" * 300)
    reason = str(refused.value)
    assert reason.startswith("source_not_allowed: source 'com.example.shop.evil")
    assert "notification type 't'" in reason and len(reason) < 250  # the refused source is cut short


def test_catalog_cache_refreshes_after_the_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    reads: list[str] = []

    def query(table: str) -> list[dict[str, Any]]:
        reads.append(table)
        return [item(f"type_{len(reads)}", DEFINITION)]

    monkeypatch.setattr(catalog, "query_items", query)
    cache = CatalogCache(clock=lambda: now[0])
    assert set(cache.get("catalog", 300).types) == {"type_1"}
    now[0] += 299
    assert set(cache.get("catalog", 300).types) == {"type_1"}
    now[0] += 1
    assert set(cache.get("catalog", 300).types) == {"type_2"}
    assert set(cache.get("other-table", 300).types) == {"type_3"}
    assert reads == ["catalog", "catalog", "other-table"]


# --- templates -----------------------------------------------------------------------------------


def test_render_substitutes_paths_and_scalars() -> None:
    variables = {"a": {"b": [{"c": "x"}]}, "n": 3, "f": 1.5, "whole": 2.0, "t": True, "s": "<&>"}
    assert render("{{a.b.0.c}}|{{ n }}|{{f}}|{{whole}}|{{ t }}|{{s}}", variables) == "x|3|1.5|2|true|<&>"
    assert render("{{s}} {{ s }}", variables, escape_html=True) == "&lt;&amp;&gt; &lt;&amp;&gt;"
    assert render("no placeholders }} {", {}) == "no placeholders }} {"


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ missing }}", "variable 'missing' is missing"),
        ("{{ a.zz }}", "variable 'a.zz' is missing"),
        ("{{ a }}", "variable 'a' is an object"),
        ("{{ l }}", "variable 'l' is a list"),
        ("{{ l.5 }}", "variable 'l.5' is missing"),
        ("{{ nothing }}", "variable 'nothing' is missing"),
        ("{{ }}", "malformed placeholder at character 0"),
        ("ok {{ a.", "malformed placeholder at character 3"),
    ],
)
def test_render_errors_name_the_variable(template: str, reason: str) -> None:
    with pytest.raises(TemplateError, match=reason):
        render(template, {"a": {"b": 1}, "l": [1], "nothing": None})


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("de-AT", "de-AT"),
        ("de_at", "de-AT"),
        ("de-CH", "de"),
        ("DE", "de"),
        ("fr", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_choose_locale(user: str | None, expected: str) -> None:
    assert choose_locale(user, ["en", "de", "de-AT"], "en") == expected


# --- preferences ---------------------------------------------------------------------------------


def definition(critical: bool = False) -> catalog.TypeDefinition:
    return catalog.parse_definition(
        "order_shipped",
        {
            **DEFINITION,
            "critical": critical,
            "channels": ["email", "push"],
            "templates": {
                "en": {"email": {"subject": "s", "text": "t"}, "push": {"title": "t", "body": "b"}}
            },
        },
    )


@pytest.mark.parametrize(
    ("prefs", "critical", "expected"),
    [
        (None, False, (["email", "push"], [])),
        ({"muted": True}, False, ([], [("email", "muted"), ("push", "muted")])),
        ({"muted": True}, True, (["email", "push"], [])),
        ({"muted": "true"}, False, (["email", "push"], [])),  # not a boolean: ignored
        ({"opt_outs": {"order_shipped": ["push"]}}, False, (["email"], [("push", "opted_out")])),
        ({"opt_outs": {"order_shipped": ["push"]}}, True, (["email", "push"], [])),
        ({"opt_outs": {"other": ["email"]}}, False, (["email", "push"], [])),
        ({"opt_outs": {"order_shipped": "email"}}, False, (["email", "push"], [])),
        ({"opt_outs": ["email"]}, False, (["email", "push"], [])),
    ],
)
def test_channels_for(prefs: dict[str, Any] | None, critical: bool, expected: Any) -> None:
    assert preferences.channels_for(definition(critical), prefs) == expected


# --- enrichment ----------------------------------------------------------------------------------


def test_parse_enrichment_response() -> None:
    answer = {
        "users": {
            "u-1": {
                "display_name": "Ana",
                "email": "ana@example.com",
                "locale": "de-AT",
                "time_zone": "Europe/Vienna",
                "attributes": {"tier": "gold"},
            },
            "u-2": {},
            "stranger": {"display_name": "X"},
        }
    }
    profiles = parse_enrichment_response(answer, ["u-1", "u-2", "u-3"])
    assert set(profiles) == {"u-1", "u-2"}
    assert profiles["u-1"].variables() == {
        "id": "u-1",
        "display_name": "Ana",
        "email": "ana@example.com",
        "locale": "de-AT",
        "time_zone": "Europe/Vienna",
        "attributes": {"tier": "gold"},
    }
    assert profiles["u-2"].variables() == {"id": "u-2"}


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ([], "response must be an object"),
        ({}, "response.users must be an object"),
        ({"users": {"u-1": "Ana"}}, r"response.users\['u-1'\] must be an object"),
        ({"users": {"u-1": {"locale": 5}}}, r"response.users\['u-1'\].locale must be a string"),
        ({"users": {"u-1": {"attributes": [1]}}}, r"response.users\['u-1'\].attributes must be an object"),
    ],
)
def test_parse_enrichment_response_errors(answer: Any, reason: str) -> None:
    with pytest.raises(EnrichmentError, match=reason):
        parse_enrichment_response(answer, ["u-1"])


def test_table_profile_ignores_non_strings() -> None:
    profile = enrichment.profile_from_table_item({"user_id": "u-1", "display_name": 5, "email": "a@b.c"})
    assert profile == Profile("u-1", email="a@b.c")


# --- router planning -----------------------------------------------------------------------------


def test_plan_notification_renders_per_recipient_and_logs_suppressions() -> None:
    notification = parse_notification(body(detail__data={"a": 1}))
    types = parse_catalog([item("order_shipped", DEFINITION)])
    plan = router.plan_notification(
        notification,
        types.definition("order_shipped"),
        {"u-1": Profile("u-1", locale="de-AT"), "u-2": Profile("u-2", locale="fr")},
        {"u-3": {"muted": True}},
        created_at=datetime(2026, 11, 24, 10, 0, 5, tzinfo=UTC),
    )
    assert [(m.user_id, m.locale, dict(m.content)) for m in plan.messages] == [
        ("u-1", "de", {"subject": "S", "text": "T"}),
        ("u-2", "en", {"subject": "S 1", "text": "T", "html": "<b>1</b>"}),
    ]
    assert all(m.created_at == "2026-11-24T10:00:05Z" for m in plan.messages)
    assert [(d.user_id, d.status, d.reason) for d in plan.suppressed] == [
        ("u-3", "suppressed_preference", "muted")
    ]


def test_builtin_variables_win_over_data() -> None:
    notification = parse_notification(body(detail__data={"user": {"id": "spoofed"}, "notification": "x"}))
    variables = router.template_variables(notification, Profile("u-1"))
    assert variables["user"] == {"id": "u-1"}
    assert variables["notification"] == {"id": FIXTURE_NOTIFICATION_ID, "type": "order_shipped"}
