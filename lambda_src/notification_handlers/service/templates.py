"""``{{ name }}`` templates: substitution only, no expressions, no code (docs/notification-service.md, §2).

A placeholder is ``{{`` + optional whitespace + a dotted path + optional whitespace + ``}}``; each path
segment is a name (``order_id``, ``display-name``) or a list index (``items.0.sku``). Any other ``{{`` is a
syntax error, found when the catalog is loaded (``check``), not when a message is rendered. A path that
leads nowhere (missing key, null) or to an object/list is a ``TemplateError`` naming the variable.
Strings render as they are, booleans as ``true``/``false``, numbers as JSON writes them; in ``html``
fields every value is HTML-escaped (``&``, ``<``, ``>``, ``"``, ``'``).

One block lists the elements of a list (a digest's items): ``{{#each digest.items}}- {{ item.product }}
{{/each}}`` renders its body once per element (at most ``MAX_EACH_ITEMS``), with ``item`` the element and
every other variable as outside. One level: a block cannot hold another; the body holds text and
placeholders only. Values are substituted, never parsed, so an element's text cannot add template syntax;
in ``html`` fields they are escaped like every value, and a block may neither begin nor end inside a tag.

Escaping keeps a value from opening a tag, but not from being a dangerous URL: ``javascript:`` or
``data:`` in an ``href`` survives escaping. So in ``html`` fields (``check(..., html=True)``, parsed once
per template with the standard library's HTML parser):

* A URL-bearing attribute (``URL_ATTRIBUTES``: ``href``, ``src``, ``action``, ``formaction``, ...) that
  contains a placeholder must, once rendered and read the way a browser reads it (entities decoded),
  be an absolute ``https://`` or ``mailto:`` URL without whitespace or control characters; otherwise
  ``render`` raises ``TemplateError`` naming the variable(s) and the attribute (never the value, which
  is producer data). The router turns that into a rejection with the reason (ingest DLQ).
* A literal value of such an attribute must itself begin with ``https://`` or ``mailto:``, or begin with
  a placeholder (the rendered value is then checked as above); the root module checks the same at plan.
* A placeholder where escaping cannot contain it is a definition error: in a tag or attribute name, in an
  unquoted attribute value, in an ``on*`` event handler or ``style`` attribute, or inside a ``<script>``
  or ``<style>`` element.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any, Final, NamedTuple

_SEGMENT: Final = r"(?:[A-Za-z_][A-Za-z0-9_-]*|[0-9]+)"
PLACEHOLDER: Final = re.compile(r"\{\{\s*(" + _SEGMENT + r"(?:\." + _SEGMENT + r")*)\s*\}\}")
_OPEN: Final = "{{"
MAX_SHOWN: Final = 60


# Attributes whose value a browser or mail client loads or follows as a URL (HTML 4/5, SVG's xlink:href).
# srcset is left out: it is a list of URLs with descriptors, and an image candidate cannot run script.
URL_ATTRIBUTES: Final = frozenset(
    {
        "action",
        "archive",
        "background",
        "cite",
        "classid",
        "codebase",
        "data",
        "dynsrc",
        "formaction",
        "href",
        "icon",
        "longdesc",
        "lowsrc",
        "manifest",
        "ping",
        "poster",
        "profile",
        "src",
        "usemap",
        "xlink:href",
    }
)
SAFE_URL: Final = re.compile(
    r"(?:https://[^\s\x00-\x1f\x7f/\\][^\s\x00-\x1f\x7f]*|mailto:[^\s\x00-\x1f\x7f]+)", re.I
)
SAFE_URL_START: Final = re.compile(r"https://|mailto:", re.I)
_SCHEME: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_QUOTED: Final = re.compile(r"\"[^\"]*\"|'[^']*'")
_TAG_START: Final = re.compile(r"</?\s*\ue000[0-9]+\ue001")
_RAW_TEXT_ELEMENTS: Final = frozenset({"script", "style"})
# A placeholder stands in the parsed HTML as a private-use marker around its index.
_MARK_OPEN, _MARK_CLOSE = "\ue000", "\ue001"
_MARK: Final = re.compile(_MARK_OPEN + r"([0-9]+)" + _MARK_CLOSE)


class TemplateError(ValueError):
    """A template cannot be rendered (or parsed); the message names the variable or the position."""


def _placeholders(template: str) -> list[str]:
    names: list[str] = []
    position = 0
    while (start := template.find(_OPEN, position)) != -1:
        match = PLACEHOLDER.match(template, start)
        if match is None:
            snippet = template[start : start + 30]
            raise TemplateError(f"malformed placeholder at character {start}: {snippet!r}")
        names.append(match.group(1))
        position = match.end()
    return names


def check(template: str, *, html: bool = False) -> list[str]:
    """The variable paths a template uses, in order; ``TemplateError`` for a malformed ``{{``, and in an
    ``html`` template for a placeholder in an unsafe place or an unsafe literal URL (module docstring)."""
    if _has_blocks(template):
        return _check_blocks(template, html=html)
    names = _placeholders(template)
    if html:
        _html_url_attributes(template)
    return names


# --- {{#each path}}...{{/each}}: list the items of a list (digests) ---------------------------------------

EACH_OPEN: Final = re.compile(r"\{\{#each\s+(" + _SEGMENT + r"(?:\." + _SEGMENT + r")*)\s*\}\}")
EACH_CLOSE: Final = "{{/each}}"
ITEM: Final = "item"  # inside a block, the current element of the list
MAX_EACH_ITEMS: Final = 100
_BLOCK_MARKER: Final = "{{ each_block }}"


class _Block(NamedTuple):
    path: str
    body: str


def _has_blocks(template: str) -> bool:
    return "{{#" in template or "{{/" in template


def _split_blocks(template: str) -> list[str | _Block]:
    """Literal-and-placeholder text and ``{{#each}}`` blocks, in order; ``TemplateError`` for a malformed,
    unclosed, stray or nested block."""
    parts: list[str | _Block] = []
    position = 0
    while True:
        start = template.find("{{#", position)
        stray = template.find("{{/", position)
        if stray != -1 and (start == -1 or stray < start):
            raise TemplateError(f"{{{{/each}}}} at character {stray} closes no {{{{#each ...}}}}")
        if start == -1:
            parts.append(template[position:])
            return parts
        match = EACH_OPEN.match(template, start)
        if match is None:
            raise TemplateError(
                f"malformed block at character {start}: {template[start : start + 30]!r}"
                " (the only block is {{#each path}}...{{/each}})"
            )
        end = template.find(EACH_CLOSE, match.end())
        if end == -1:
            raise TemplateError(
                f"{{{{#each {match.group(1)}}}}} at character {start} is not closed by {{{{/each}}}}"
            )
        body = template[match.end() : end]
        if "{{#" in body:
            raise TemplateError(
                f"{{{{#each {match.group(1)}}}}} at character {start}: blocks cannot be nested"
            )
        parts.extend([template[position:start], _Block(match.group(1), body)])
        position = end + len(EACH_CLOSE)


def _check_blocks(template: str, *, html: bool) -> list[str]:
    parts = _split_blocks(template)
    names: list[str] = []
    for part in parts:
        if isinstance(part, str):
            names.extend(_placeholders(part))
        else:
            names.append(part.path)
            names.extend(_placeholders(part.body))
    if html:
        # The block tags must stand in text: not in a tag (an attribute split across items could not be
        # checked), nor in <script>/<style>. A marker placeholder in their place gets the placeholder checks.
        flat = "".join(
            part if isinstance(part, str) else f"{_BLOCK_MARKER}{part.body}{_BLOCK_MARKER}" for part in parts
        )
        position = 0
        while (index := flat.find(_BLOCK_MARKER, position)) != -1:
            if flat.rfind("<", 0, index) > flat.rfind(">", 0, index):
                raise TemplateError("an {{#each}} block must not begin or end inside an HTML tag")
            position = index + len(_BLOCK_MARKER)
        _html_url_attributes(flat)
    return names


def _render_blocks(template: str, variables: Mapping[str, Any], *, escape_html: bool) -> str:
    _check_blocks(template, html=escape_html)
    out: list[str] = []
    for part in _split_blocks(template):
        if isinstance(part, str):
            out.append(render(part, variables, escape_html=escape_html))
            continue
        items = _lookup(variables, part.path)
        if isinstance(items, str | bytes) or not isinstance(items, Sequence):
            raise TemplateError(f"variable {part.path!r} of {{{{#each}}}} is not a list")
        # Each value is substituted, never parsed: an item holding "{{ ... }}" is text, not a template.
        out.extend(
            render(part.body, {**variables, ITEM: element}, escape_html=escape_html)
            for element in items[:MAX_EACH_ITEMS]
        )
    return "".join(out)


class UrlAttribute(NamedTuple):
    """A URL-bearing attribute with placeholders: its parts are literal text as the browser reads it
    (entities decoded) and the indexes of the placeholders, in order."""

    name: str
    parts: tuple[str | int, ...]

    @property
    def placeholders(self) -> list[int]:
        return [part for part in self.parts if isinstance(part, int)]


class _Scanner(HTMLParser):
    """Finds URL attributes with placeholders, and placeholders or literal URLs escaping cannot make safe."""

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.names = names
        self.attributes: list[UrlAttribute] = []
        self.problems: list[str] = []
        self.raw_text_element: str | None = None

    def named(self, text: str) -> str:
        indexes = [int(index) for index in _MARK.findall(text)]
        return ", ".join(repr(self.names[index]) for index in indexes if index < len(self.names))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)
        if tag in _RAW_TEXT_ELEMENTS:
            self.raw_text_element = tag

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == self.raw_text_element:
            self.raw_text_element = None

    def handle_data(self, data: str) -> None:
        if self.raw_text_element and _MARK.search(data):
            self.problems.append(
                f"variable {self.named(data)} inside a <{self.raw_text_element}> element could run as code"
            )

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        outside_quotes = _QUOTED.sub('""', self.get_starttag_text() or "")
        if _MARK.search(outside_quotes):
            self.problems.append(
                f"variable {self.named(outside_quotes)} is in a tag outside a quoted attribute value:"
                " quote the value (a placeholder cannot name a tag or an attribute)"
            )
        for name, value in attrs:
            if value is None:
                continue
            if name in URL_ATTRIBUTES:
                self._url(name, value)
            elif _MARK.search(value) and (name.startswith("on") or name == "style"):
                self.problems.append(
                    f"variable {self.named(value)} in the {name} attribute could run script or load content"
                )

    def _url(self, name: str, value: str) -> None:
        if not _MARK.search(value):
            if not SAFE_URL.fullmatch(value):
                self.problems.append(
                    f"the {name} attribute {value[:MAX_SHOWN]!r} must be an absolute https: or mailto: URL"
                )
            return
        if not (value.startswith(_MARK_OPEN) or SAFE_URL_START.match(value)):
            self.problems.append(
                f"the {name} attribute must begin with https:// or mailto: or with a placeholder,"
                f" got {value.split(_MARK_OPEN, 1)[0][:MAX_SHOWN]!r}"
            )
            return
        pieces = _MARK.split(value)  # literal, index, literal, index, ..., literal
        parts = tuple(piece if n % 2 == 0 else int(piece) for n, piece in enumerate(pieces) if piece)
        self.attributes.append(UrlAttribute(name, parts))


@lru_cache(maxsize=512)
def _html_url_attributes(template: str) -> tuple[UrlAttribute, ...]:
    """The template's URL attributes with placeholders; ``TemplateError`` for an unsafe placeholder or
    literal URL (the first problem found)."""
    names = _placeholders(template)
    counter = iter(range(len(names)))
    marked = PLACEHOLDER.sub(lambda _match: f"{_MARK_OPEN}{next(counter)}{_MARK_CLOSE}", template)
    scanner = _Scanner(names)
    scanner.feed(marked)
    scanner.close()
    for tag_start in _TAG_START.finditer(marked):  # "<{{ x }}": the parser reads it as text
        scanner.problems.append(
            f"variable {scanner.named(tag_start.group())} is in a tag outside a quoted attribute value:"
            " quote the value (a placeholder cannot name a tag or an attribute)"
        )
    if scanner.problems:
        raise TemplateError(scanner.problems[0])
    return tuple(scanner.attributes)


def _describe_url(url: str) -> str:
    """What an unsafe URL is, without quoting it (it is producer data)."""
    if not url:
        return "an empty value"
    scheme = _SCHEME.match(url)
    if scheme is None:
        return "a relative URL" if url.strip() == url else "a URL with leading whitespace"
    if scheme.group(1).lower() in {"https", "mailto"}:
        return f"a URL with scheme {scheme.group(1).lower()}: and whitespace, control characters or no host"
    return f"a URL with scheme {scheme.group(1).lower()}:"


def _check_urls(attributes: Iterable[UrlAttribute], texts: Sequence[str], names: Sequence[str]) -> None:
    for attribute in attributes:
        url = "".join(part if isinstance(part, str) else texts[part] for part in attribute.parts)
        if not SAFE_URL.fullmatch(url):
            indexes = attribute.placeholders
            named = ", ".join(repr(names[index]) for index in indexes)
            raise TemplateError(
                f"variable{'s' if len(indexes) > 1 else ''} {named} in the {attribute.name} attribute must"
                f" make an absolute https: or mailto: URL, got {_describe_url(url)}"
            )


def _lookup(variables: Mapping[str, Any], path: str) -> Any:
    value: Any = variables
    for segment in path.split("."):
        if isinstance(value, Mapping) and segment in value:
            value = value[segment]
        elif isinstance(value, Sequence) and not isinstance(value, str) and segment.isdigit():
            index = int(segment)
            if index >= len(value):
                raise TemplateError(f"variable {path!r} is missing")
            value = value[index]
        else:
            raise TemplateError(f"variable {path!r} is missing")
    if value is None:
        raise TemplateError(f"variable {path!r} is missing")
    return value


def _text(value: Any, path: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value) if not value.is_integer() or abs(value) >= 1e16 else str(int(value))
    kind = (
        "an object" if isinstance(value, Mapping) else "a list" if isinstance(value, Iterable) else "a value"
    )
    raise TemplateError(f"variable {path!r} is {kind}, not a string, number or boolean")


def render(template: str, variables: Mapping[str, Any], *, escape_html: bool = False) -> str:
    """``template`` with every placeholder replaced by its variable's value; with ``escape_html`` the
    values are HTML-escaped and URL attributes must render as https:/mailto: URLs (module docstring)."""
    if _has_blocks(template):
        return _render_blocks(template, variables, escape_html=escape_html)
    names = check(template)
    texts = [_text(_lookup(variables, path), path) for path in names]
    if escape_html:
        _check_urls(_html_url_attributes(template), texts, names)
    replacements = iter(html.escape(text, quote=True) if escape_html else text for text in texts)
    return PLACEHOLDER.sub(lambda _match: next(replacements), template)


def choose_locale(user_locale: str | None, available: Iterable[str], fallback: str) -> str:
    """The template locale for a user: their locale exactly (``de-AT``), then its language (``de``), then
    ``fallback``. Matching ignores case and treats ``_`` as ``-`` (``de_at`` finds ``de-AT``)."""
    by_tag = {locale.replace("_", "-").lower(): locale for locale in available}
    if user_locale:
        tag = user_locale.strip().replace("_", "-").lower()
        if tag in by_tag:
            return by_tag[tag]
        language = tag.split("-", 1)[0]
        if language in by_tag:
            return by_tag[language]
    return fallback


HTTPS_URL_START: Final = re.compile(r"https://", re.I)


def check_url(template: str) -> list[str]:
    """A whole-field URL template (the inbox channel's ``url``): it must begin with ``https://`` or with a
    placeholder (whose rendered value ``render_url`` checks); ``TemplateError`` otherwise."""
    names = check(template)
    if not (HTTPS_URL_START.match(template) or PLACEHOLDER.match(template)):
        raise TemplateError("a url template must begin with https:// or with a {{ placeholder }}")
    return names


def render_url(template: str, variables: Mapping[str, Any]) -> str:
    """``render`` for a whole-field URL: the result must be an absolute ``https://`` URL without whitespace
    or control characters; ``TemplateError`` naming the variable(s) otherwise (never the value)."""
    names = check_url(template)
    url = render(template, variables)
    if not (HTTPS_URL_START.match(url) and SAFE_URL.fullmatch(url)):
        shown = ", ".join(repr(n) for n in names) or "the template"
        raise TemplateError(
            f"variable(s) {shown} must make an absolute https:// URL, got {_describe_url(url)}"
        )
    return url
