"""URLs in HTML templates (``href`` values not restricted to ``https:``/``mailto:``).

HTML-escaping keeps a variable from opening a tag, not from being ``javascript:`` in an ``href``. A value
rendered into a URL-bearing attribute must make an absolute https:/mailto: URL, or the render fails naming
the variable; literal URLs and placeholders escaping cannot contain are definition errors.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest
from conftest import examples
from hypothesis import given
from hypothesis import strategies as st

from notification_handlers.service import catalog, templates
from notification_handlers.service.templates import TemplateError, render

LINK = '<p>Hi {{ name }}</p><p><a href="{{ url }}">Track it</a></p>'


def html(template: str, **variables: Any) -> str:
    return render(template, {"name": "Ana", **variables}, escape_html=True)


class _Attributes(HTMLParser):
    """Every attribute value of the document, decoded the way a browser reads it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.values.extend(attrs)


def attributes(document: str) -> list[tuple[str, str | None]]:
    parser = _Attributes()
    parser.feed(document)
    parser.close()
    return parser.values


@pytest.mark.parametrize(
    ("url", "got"),
    [
        ("javascript:alert(document.cookie)", "a URL with scheme javascript:"),
        ("JaVaScRiPt:alert(1)", "a URL with scheme javascript:"),
        ("data:text/html;base64,PHNjcmlwdD4=", "a URL with scheme data:"),
        ("vbscript:msgbox(1)", "a URL with scheme vbscript:"),
        ("http://tracking.example.com/1", "a URL with scheme http:"),
        ("/orders/1", "a relative URL"),
        ("//evil.example.com/", "a relative URL"),
        (" javascript:alert(1)", "a URL with leading whitespace"),
        ("", "an empty value"),
        ("https://", "a URL with scheme https: and whitespace, control characters or no host"),
        ("https://x.example/a b", "a URL with scheme https: and whitespace, control characters or no host"),
        (
            "https:/\\evil.example.com",
            "a URL with scheme https: and whitespace, control characters or no host",
        ),
    ],
)
def test_href_values_in_html_templates_must_be_https_or_mailto(url: str, got: str) -> None:
    with pytest.raises(TemplateError) as refused:
        html(LINK, url=url)
    assert str(refused.value) == (
        f"variable 'url' in the href attribute must make an absolute https: or mailto: URL, got {got}"
    )
    assert url.strip() == "" or url.strip() not in str(refused.value), "the value itself is not quoted"


@pytest.mark.parametrize(
    "url",
    ["https://track.example.com/o/1?a=1&b=2", "HTTPS://X.EXAMPLE", "mailto:help@example.com?subject=Hi"],
)
def test_https_and_mailto_urls_render_escaped(url: str) -> None:
    rendered = html(LINK, url=url)
    assert dict(attributes(rendered))["href"] == url
    assert "&amp;" in rendered or "&" not in url


@pytest.mark.parametrize(
    "attribute", ["src", "action", "formaction", "poster", "background", "cite", "xlink:href", "data"]
)
def test_every_url_bearing_attribute_is_checked(attribute: str) -> None:
    template = f'<img {attribute}="{{{{ url }}}}">'
    assert html(template, url="https://cdn.example.com/a.png")
    with pytest.raises(TemplateError, match=f"variable 'url' in the {attribute} attribute"):
        html(template, url="data:image/svg+xml,<svg onload=alert(1)>")


def test_a_literal_https_prefix_fixes_the_scheme_and_the_rest_is_checked() -> None:
    template = '<a href="https://shop.example.com/orders/{{ order }}?ref={{ ref }}">x</a>'
    assert 'href="https://shop.example.com/orders/A-1?ref=mail"' in html(template, order="A-1", ref="mail")
    with pytest.raises(TemplateError, match="variables 'order', 'ref' in the href attribute"):
        html(template, order="A 1", ref="mail")


def test_values_outside_url_attributes_are_only_escaped() -> None:
    template = '<p title="{{ url }}">{{ url }}</p>'
    assert html(template, url="javascript:x") == '<p title="javascript:x">javascript:x</p>'
    assert render('<a href="{{ url }}">', {"url": "javascript:x"}) == '<a href="javascript:x">', (
        "text templates (subject, text, push, websocket) are not HTML"
    )


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ('<a href="/orders">x</a>', "the href attribute '/orders' must be an absolute https: or mailto: URL"),
        ('<a href="http://x.example">x</a>', "the href attribute 'http://x.example' must be an absolute"),
        ('<a href="javascript:void(0)">x</a>', "the href attribute 'javascript:void(0)' must be an absolute"),
        (
            '<a href="&#106;avascript:{{ url }}">x</a>',
            "the href attribute must begin with https:// or mailto: or with a placeholder, got 'javascript:'",
        ),
        (
            '<a href="/track/{{ url }}">x</a>',
            "the href attribute must begin with https:// or mailto: or with a placeholder, got '/track/'",
        ),
        ("<a href={{ url }}>x</a>", "variable 'url' is in a tag outside a quoted attribute value"),
        ("<a {{ url }}>x</a>", "variable 'url' is in a tag outside a quoted attribute value"),
        ("<{{ url }}>", "variable 'url' is in a tag outside a quoted attribute value"),
        ("<a onclick=\"go('{{ url }}')\">x</a>", "variable 'url' in the onclick attribute could run script"),
        ('<p style="background:url({{ url }})">x</p>', "variable 'url' in the style attribute"),
        (
            "<script>var u = '{{ url }}';</script>",
            "variable 'url' inside a <script> element could run as code",
        ),
        ("<style>a { color: {{ url }} }</style>", "variable 'url' inside a <style> element"),
    ],
)
def test_unsafe_html_is_a_definition_error_found_at_catalog_load(template: str, problem: str) -> None:
    with pytest.raises(TemplateError, match="^" + problem.replace("(", r"\(").replace(")", r"\)")):
        templates.check(template, html=True)
    templates.check(template)  # the same text is harmless outside an html field
    definition = {
        "channels": ["email"],
        "fallback_locale": "en",
        "templates": {"en": {"email": {"subject": "s", "text": "t", "html": template}}},
    }
    loaded = catalog.parse_catalog(
        [
            {
                "catalog_id": catalog.CATALOG_ID,
                "notification_type": "linked",
                "definition": json.dumps(definition),
            }
        ]
    )
    assert "templates.en.email.html" in loaded.broken["linked"]


def test_https_and_mailto_literals_and_quoted_placeholders_are_accepted() -> None:
    template = (
        '<a href="https://shop.example.com/help">help</a> <a href="mailto:help@example.com">mail</a>'
        ' <a href="{{ url }}" title="{{ name }}">track</a> <a href=\'{{ url }}\'>again</a>'
    )
    assert templates.check(template, html=True) == ["url", "name", "url"]


# --- properties ------------------------------------------------------------------------------------

SCHEMES = st.sampled_from(["javascript", "data", "vbscript", "http", "file", "ftp", "blob", "about", "https"])
SEPARATORS = st.sampled_from(["", " ", "\t", "\n", "\x00", "\x0b", "&#9;"])


@st.composite
def hostile_urls(draw: st.DrawFn) -> str:
    """URLs a browser may follow to script, data or plain http, disguised by case and whitespace."""
    scheme = "".join(c.upper() if draw(st.booleans()) else c for c in draw(SCHEMES))
    prefix = draw(SEPARATORS)
    rest = draw(st.text(max_size=30))
    if scheme.lower() == "https":  # only broken https URLs are hostile
        return prefix + scheme + ":" + draw(st.sampled_from(["", "/", "\\\\", "//", "// x"])) + rest
    return prefix + scheme + draw(SEPARATORS) + ":" + rest


@given(url=hostile_urls())
@examples(300)
def test_no_hostile_url_survives_an_href(url: str) -> None:
    try:
        rendered = html(LINK, url=url)
    except TemplateError as error:
        assert "variable 'url' in the href attribute" in str(error)
        return
    href = dict(attributes(rendered))["href"] or ""
    assert templates.SAFE_URL.fullmatch(href), f"rendered {href!r}"


@given(value=st.text(max_size=60))
@examples(300)
def test_any_rendered_href_is_an_absolute_https_or_mailto_url_equal_to_the_value(value: str) -> None:
    try:
        rendered = html(LINK, url=value)
    except TemplateError:
        assert not templates.SAFE_URL.fullmatch(value)
        return
    assert templates.SAFE_URL.fullmatch(value)
    assert attributes(rendered) == [("href", value)], "the browser reads back exactly the value"


@given(value=st.text(max_size=60))
@examples(200)
def test_text_outside_url_attributes_never_fails_and_never_opens_a_tag(value: str) -> None:
    rendered = html('<p title="{{ name }}">{{ name }}</p>', name=value)
    assert attributes(rendered) == [("title", value)]
    assert "<" not in rendered.removeprefix("<p ").removesuffix("</p>").split(">", 1)[1]
