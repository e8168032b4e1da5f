"""The inbox channel's template: title and body, and a ``url`` that is a link the app opens, so (like an email
``href``) a literal must be https:// or begin with a placeholder, and the rendered value must be an absolute
https:// URL; the router rejects the event otherwise, naming the variable and never echoing the value."""

from __future__ import annotations

import pytest

from notification_handlers.service import catalog, router, templates
from notification_handlers.service.catalog import parse_definition
from notification_handlers.service.enrichment import Profile
from notification_handlers.service.templates import TemplateError


def definition(url: str | None) -> dict[str, object]:
    inbox = {"title": "Order {{order_id}}", "body": "Shipped"}
    if url is not None:
        inbox["url"] = url
    return {
        "critical": False,
        "channels": ["inbox"],
        "fallback_locale": "en",
        "templates": {"en": {"inbox": inbox}},
    }


def test_the_inbox_channel_has_title_body_and_an_optional_url() -> None:
    assert catalog.CHANNEL_FIELDS["inbox"] == (frozenset({"title", "body"}), frozenset({"url"}))
    parsed = parse_definition("order_shipped", definition("https://shop.example.com/orders/{{order_id}}"))
    assert parsed.templates["en"]["inbox"]["url"] == "https://shop.example.com/orders/{{order_id}}"
    assert "url" not in parse_definition("order_shipped", definition(None)).templates["en"]["inbox"]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "http://shop.example.com/",
        "/orders/1",
        "data:text/html,x",
        " https://x.example/",
    ],
)
def test_a_literal_url_that_is_not_https_is_a_definition_error(url: str) -> None:
    with pytest.raises(ValueError, match="https://"):
        parse_definition("order_shipped", definition(url))


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "http://evil.example/",
        "//evil.example/",
        "https://a b.example/",
        "mailto:x@y.z",
    ],
)
def test_a_placeholder_url_must_render_as_an_absolute_https_url(value: str) -> None:
    with pytest.raises(TemplateError, match="'link'") as raised:
        templates.render_url("{{ link }}", {"link": value})
    assert value not in str(raised.value)


def test_a_safe_placeholder_url_renders() -> None:
    assert (
        templates.render_url("{{link}}", {"link": "https://shop.example.com/o/1"})
        == "https://shop.example.com/o/1"
    )
    assert (
        templates.render_url("https://shop.example.com/o/{{id}}", {"id": "1?x=2"})
        == "https://shop.example.com/o/1?x=2"
    )


def test_the_router_renders_the_url_field_through_the_url_check() -> None:
    parsed = parse_definition("order_shipped", definition("{{link}}"))
    profile = Profile(user_id="u-1", email=None, locale="en", display_name="Ana")
    variables = {"order_id": "1", "link": "javascript:alert(1)"}
    with pytest.raises(TemplateError, match=r"templates\.en\.inbox\.url"):
        router.render_channel(parsed, "inbox", profile, variables)
    variables["link"] = "https://shop.example.com/o/1"
    assert (
        router.render_channel(parsed, "inbox", profile, variables)[1]["url"] == "https://shop.example.com/o/1"
    )
