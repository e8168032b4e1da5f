"""``{{ name }}`` templates: substitution only, no expressions, no code (docs/notification-service.md, §2).

A placeholder is ``{{`` + optional whitespace + a dotted path + optional whitespace + ``}}``; each path
segment is a name (``order_id``, ``display-name``) or a list index (``items.0.sku``). Any other ``{{`` is a
syntax error, found when the catalog is loaded (``check``), not when a message is rendered. A path that
leads nowhere (missing key, null) or to an object/list is a ``TemplateError`` naming the variable.
Strings render as they are, booleans as ``true``/``false``, numbers as JSON writes them; in ``html``
fields every value is HTML-escaped (``&``, ``<``, ``>``, ``"``, ``'``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

_SEGMENT: Final = r"(?:[A-Za-z_][A-Za-z0-9_-]*|[0-9]+)"
PLACEHOLDER: Final = re.compile(r"\{\{\s*(" + _SEGMENT + r"(?:\." + _SEGMENT + r")*)\s*\}\}")
_OPEN: Final = "{{"
MAX_SHOWN: Final = 60


class TemplateError(ValueError):
    """A template cannot be rendered (or parsed); the message names the variable or the position."""


def check(template: str) -> list[str]:
    """The variable paths a template uses, in order; ``TemplateError`` for a malformed ``{{``."""
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
    """``template`` with every placeholder replaced by its variable's value."""
    check(template)

    def substitute(match: re.Match[str]) -> str:
        path = match.group(1)
        text = _text(_lookup(variables, path), path)
        return html.escape(text, quote=True) if escape_html else text

    return PLACEHOLDER.sub(substitute, template)


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
