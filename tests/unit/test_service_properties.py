"""Properties of the renderer and the event contract parser over generated input."""

from __future__ import annotations

import contextlib
import html
import json
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from notification_handlers.event_fields import MalformedEventError
from notification_handlers.service import contract
from notification_handlers.service.contract import parse_notification
from notification_handlers.service.templates import PLACEHOLDER, TemplateError, choose_locale, render
from tests.unit.conftest import JSON_VALUES, TEXT, examples, load_event, mutated

EVENT = load_event("notification_service_event")
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
SCALAR_VALUES = st.one_of(TEXT, st.integers(), st.booleans())
USER_IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._@:+-]{0,20}", fullmatch=True)


@examples(200)
@given(literal=TEXT.filter(lambda t: "{{" not in t))
def test_text_without_placeholders_renders_unchanged(literal: str) -> None:
    assert render(literal, {}) == literal


@examples(200)
@given(
    parts=st.lists(st.tuples(TEXT.filter(lambda t: "{" not in t and "}" not in t), NAMES), max_size=5),
    values=st.dictionaries(NAMES, SCALAR_VALUES, max_size=8),
    escape=st.booleans(),
)
def test_render_is_substitution(parts: list[tuple[str, str]], values: dict[str, Any], escape: bool) -> None:
    template = "".join(f"{text}{{{{ {name} }}}}" for text, name in parts)
    missing = [name for _, name in parts if name not in values]
    if missing:
        try:
            render(template, values, escape_html=escape)
        except TemplateError as error:
            assert repr(missing[0]) in str(error)
            return
        raise AssertionError("a missing variable rendered")

    def text(value: Any) -> str:
        shown = value if isinstance(value, str) else json.dumps(value)
        return html.escape(shown, quote=True) if escape else shown

    expected = "".join(f"{literal}{text(values[name])}" for literal, name in parts)
    assert render(template, values, escape_html=escape) == expected


@examples(200)
@given(template=TEXT, variables=st.dictionaries(NAMES, JSON_VALUES, max_size=4), escape=st.booleans())
def test_render_either_renders_or_names_the_problem(
    template: str, variables: dict[str, Any], escape: bool
) -> None:
    try:
        out = render(template, variables, escape_html=escape)
    except TemplateError as error:
        assert re.search(r"variable '|malformed placeholder", str(error))
        return
    assert PLACEHOLDER.search(out) is None or PLACEHOLDER.search(template) is not None


@examples(200)
@given(value=TEXT)
def test_html_fields_never_carry_markup_from_data(value: str) -> None:
    out = render("<p>{{ v }}</p>", {"v": value}, escape_html=True)
    assert out == f"<p>{html.escape(value, quote=True)}</p>"
    assert not set(out[3:-4]) & set("<>\"'")


@examples(100)
@given(
    user=st.one_of(st.none(), TEXT),
    available=st.lists(st.sampled_from(["en", "de", "de-AT", "pt-BR"]), unique=True),
)
def test_choose_locale_returns_an_available_locale_or_the_fallback(
    user: str | None, available: list[str]
) -> None:
    assert choose_locale(user, available, "xx") in [*available, "xx"]


@examples(300)
@given(case=mutated(EVENT, skip=lambda path: False))
def test_a_mutated_event_parses_or_is_rejected_naming_a_field(case: tuple[Any, tuple[str, ...]]) -> None:
    document, path = case
    try:
        notification = parse_notification(json.dumps(document))
    except MalformedEventError as error:
        message = str(error)
        assert message and len(message) <= 500
        named = {"event", "time", *(part for part in path if isinstance(part, str))}
        assert any(message.startswith(field) or f"{field}" in message for field in named), (message, path)
        return
    # Accepted: it still satisfies the contract the router relies on.
    assert 1 <= len(notification.recipients) <= 1000
    assert len(set(notification.recipients)) == len(notification.recipients)
    assert re.fullmatch(r"[a-z][a-z0-9_]{0,63}", notification.notification_type)


@examples(200)
@given(
    recipients=st.lists(USER_IDS, min_size=1, max_size=30, unique=True),
    data=st.dictionaries(TEXT, st.one_of(SCALAR_VALUES, st.lists(SCALAR_VALUES, max_size=3)), max_size=4),
    key=st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,30}", fullmatch=True)),
)
def test_valid_events_always_parse(recipients: list[str], data: dict[str, Any], key: str | None) -> None:
    document = json.loads(json.dumps(EVENT))
    document["detail"] = {"recipients": recipients, "data": data}
    if key is not None:
        document["detail"]["idempotencyKey"] = key
    notification = parse_notification(json.dumps(document))
    assert notification.recipients == tuple(recipients)
    assert notification.idempotency_key == (key or EVENT["id"])
    assert notification.notification_id == contract.notification_id(
        EVENT["source"], EVENT["detail-type"], key or EVENT["id"]
    )
    assert notification.data == data


@examples(100)
@given(raw=TEXT)
def test_arbitrary_bodies_never_crash_the_parser(raw: str) -> None:
    with contextlib.suppress(MalformedEventError):
        parse_notification(raw)


# --- notification ids: producers are isolated -------------------------------------------------------

TYPES = st.from_regex(r"[a-z][a-z0-9_]{0,63}", fullmatch=True)
# Sources and keys may hold anything, separators ("\n", ":") and non-ASCII included.
FREE_TEXT = st.text(alphabet=st.sampled_from("ab:\n1#/é\x00"), max_size=12) | TEXT


def _decode(encoded: bytes) -> tuple[str, str, str]:
    """The inverse of contract.namespaced_key: the encoding is injective."""
    notification_type, rest = encoded.split(b"\n", 1)
    length, rest = rest.split(b":", 1)
    source, separator, key = rest[: int(length)], rest[int(length) : int(length) + 1], rest[int(length) + 1 :]
    assert separator == b"\n"
    utf8 = (notification_type, source, key)
    return tuple(part.decode("utf-8", "surrogatepass") for part in utf8)  # type: ignore[return-value]


@examples(300)
@given(source=FREE_TEXT, notification_type=TYPES, key=FREE_TEXT)
def test_producers_are_isolated_the_namespaced_key_decodes_to_its_parts(
    source: str, notification_type: str, key: str
) -> None:
    encoded = contract.namespaced_key(source, notification_type, key)
    assert _decode(encoded) == (notification_type, source, key)
    assert contract.NOTIFICATION_ID_PATTERN.fullmatch(
        contract.notification_id(source, notification_type, key)
    )


@examples(300)
@given(
    one=st.tuples(FREE_TEXT, TYPES, FREE_TEXT),
    other=st.tuples(FREE_TEXT, TYPES, FREE_TEXT),
)
def test_producers_are_isolated_different_source_type_or_key_never_share_an_id(
    one: tuple[str, str, str], other: tuple[str, str, str]
) -> None:
    if one == other:
        assert contract.notification_id(*one) == contract.notification_id(*other)
    else:
        assert contract.namespaced_key(*one) != contract.namespaced_key(*other)
        assert contract.notification_id(*one) != contract.notification_id(*other)


@examples(200)
@given(source=FREE_TEXT, notification_type=TYPES, key=FREE_TEXT.filter(bool), data=st.data())
def test_producers_are_isolated_moving_characters_between_source_and_key_changes_the_id(
    source: str, notification_type: str, key: str, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(min_value=1, max_value=len(key)))
    shifted = (source + key[:cut], notification_type, key[cut:])
    assert contract.notification_id(*shifted) != contract.notification_id(source, notification_type, key)
