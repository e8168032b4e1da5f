"""The chat channel's pure half: URL rules, each platform's payload, escaping (property tests: no value a
producer controls becomes a mention or markup), and what an HTTP answer means."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import examples
from hypothesis import given
from hypothesis import strategies as st

from notification_handlers.service import chat_render
from notification_handlers.service.chat_render import ChatContent, outcome, payload, url_problem

SLACK = "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX"  # pragma: allowlist secret
TEAMS = "https://contoso.webhook.office.com/webhookb2/1234/IncomingWebhook/abcd/5678"
WORKFLOWS = "https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=xyz"
CHIME = "https://hooks.chime.aws/incomingwebhooks/abc?token=xyz"

# What producers send goes through templates into title and text: any text at all.
any_text = st.text(min_size=1, max_size=400)
hostile = st.sampled_from(
    [
        "<!channel>",
        "<!here|here>",
        "<@U024BE7LH>",
        "<#C024BE7LH>",
        "<!subteam^SAZ94GDB8>",
        "<https://evil.example|click me>",
        "@All please",
        "@Present",
        "/md **bold**",
        "<at>Everyone</at>",
        "**bold** _it_ [x](https://evil.example)",
        "&lt;!channel&gt;",
    ]
)
texts = st.one_of(
    any_text, hostile, st.lists(st.one_of(any_text, hostile), min_size=1, max_size=4).map("".join)
)


def render(platform: str, content: ChatContent) -> dict[str, Any]:
    body = payload(
        platform,
        content,
        notification_id="n-1",
        notification_type="order_shipped",
        target="ops",
        created_at="2026-11-24T10:00:00Z",
    )
    document: dict[str, Any] = json.loads(body)
    return document


def strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


# --- URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "url"),
    [
        ("slack", SLACK),
        ("teams", TEAMS),
        ("teams", WORKFLOWS),
        ("chime", CHIME),
        ("webhook", "https://alerts.example.com/in"),
    ],
)
def test_the_platforms_own_webhook_urls_are_accepted(platform: str, url: str) -> None:
    assert url_problem(platform, url) is None


@pytest.mark.parametrize(
    ("platform", "url", "problem"),
    [
        # A secret swapped to another host: internal, foreign or look-alike.
        ("slack", "https://internal.corp.example/hook", "host_not_of_platform"),
        ("slack", "https://hooks.slack.com.evil.example/services/x", "host_not_of_platform"),
        ("slack", "https://evilhooks.slack.com/services/x", "host_not_of_platform"),
        ("teams", "https://evilwebhook.office.com/x", "host_not_of_platform"),
        ("teams", "https://webhook.office.com.evil.example/x", "host_not_of_platform"),
        ("teams", "https://.webhook.office.com/x", "host_not_allowed"),
        ("chime", "https://hooks.slack.com/services/x", "host_not_of_platform"),
        ("slack", "https://hooks.slack.com:8443/services/x", "port_not_allowed"),
        # Never plain HTTP, never an address, never credentials.
        ("slack", "http://hooks.slack.com/services/x", "not_https"),
        ("webhook", "http://alerts.example.com/in", "not_https"),
        ("webhook", "https://169.254.169.254/latest/meta-data", "host_not_allowed"),
        ("webhook", "https://127.0.0.1:9001/2018-06-01/runtime/invocation/next", "host_not_allowed"),
        ("webhook", "https://[::1]/x", "host_not_allowed"),
        (
            "webhook",
            "https://user:pass@alerts.example.com/in",  # pragma: allowlist secret
            "credentials_in_url",
        ),
        ("slack", "https://hooks.slack.com@evil.example/x", "credentials_in_url"),
        ("webhook", "file:///etc/passwd", "not_https"),
        ("webhook", "https://alerts.example.com/in put", "not_a_url"),
        ("webhook", "", "not_a_url"),
        ("webhook", "https://alerts.example.com:99999/in", "not_a_url"),
        ("discord", "https://discord.com/api/webhooks/x", "unknown_platform"),
    ],
)
def test_a_url_outside_the_rules_is_refused(platform: str, url: str, problem: str) -> None:
    assert url_problem(platform, url) == problem


# --- payloads ------------------------------------------------------------------------------------


def test_slack_gets_plain_text_blocks_and_an_escaped_fallback() -> None:
    document = render("slack", ChatContent("Order A-1 left with DHL & Co <Express>.", "Order A-1 shipped"))
    assert document == {
        "text": "Order A-1 shipped\nOrder A-1 left with DHL &amp; Co &lt;Express&gt;.",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Order A-1 shipped", "emoji": False}},
            {
                "type": "section",
                "text": {
                    "type": "plain_text",
                    "text": "Order A-1 left with DHL &amp; Co &lt;Express&gt;.",
                    "emoji": False,
                },
            },
        ],
    }
    assert "link_names" not in document


def test_teams_gets_an_adaptive_card_of_text_runs() -> None:
    document = render("teams", ChatContent("**not bold** <at>All</at>", "Title"))
    assert document["type"] == "message"
    (attachment,) = document["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert [block["type"] for block in card["body"]] == ["RichTextBlock", "RichTextBlock"]
    assert card["body"][1]["inlines"] == [{"type": "TextRun", "text": "**not bold** <at>All</at>"}]
    assert "msteams" not in json.dumps(document)


def test_chime_gets_content_without_mentions_or_markdown_switch() -> None:
    assert render("chime", ChatContent("/md @All look", None)) == {"Content": "\u200b/md \uff20All look"}


def test_any_endpoint_gets_plain_json() -> None:
    assert render("webhook", ChatContent("<b>x</b>", "T")) == {
        "notification_id": "n-1",
        "notification_type": "order_shipped",
        "target": "ops",
        "created_at": "2026-11-24T10:00:00Z",
        "title": "T",
        "text": "<b>x</b>",
    }


def test_long_renderings_are_cut_to_the_platforms_limits() -> None:
    document = render("slack", ChatContent("x" * 5000, "t" * 500))
    assert len(document["blocks"][0]["text"]["text"]) == chat_render.SLACK_TITLE_MAX
    assert len(document["blocks"][1]["text"]["text"]) == chat_render.SLACK_TEXT_MAX
    assert len(render("chime", ChatContent("x" * 5000))["Content"]) == chat_render.CHIME_CONTENT_MAX


# --- escaping, for any text ----------------------------------------------------------------------


@examples(300)
@given(text=texts, title=st.one_of(st.none(), texts))
def test_no_slack_text_can_open_a_mention_link_or_channel_reference(text: str, title: str | None) -> None:
    document = render("slack", ChatContent(text, title))
    for value in strings(document):
        if value in ("header", "section", "plain_text"):
            continue
        assert "<" not in value and ">" not in value  # <!channel>, <@U..>, <#C..>, <url|label> all need one
        # Every & starts one of the three entities Slack decodes: none can be formed from the input.
        assert value.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "").count("&") == 0
    assert all(block["text"]["type"] == "plain_text" for block in document["blocks"])


@examples(300)
@given(text=texts, title=st.one_of(st.none(), texts))
def test_slack_escaping_keeps_the_text(text: str, title: str | None) -> None:
    section = render("slack", ChatContent(text[: chat_render.SLACK_TEXT_MAX // 5], title))["blocks"][-1]
    unescaped = section["text"]["text"].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped == text[: chat_render.SLACK_TEXT_MAX // 5]


@examples(300)
@given(text=texts, title=st.one_of(st.none(), texts))
def test_no_teams_text_is_read_as_markdown_or_a_mention(text: str, title: str | None) -> None:
    document = render("teams", ChatContent(text, title))
    card = document["attachments"][0]["content"]

    def elements(value: object) -> list[dict[str, Any]]:
        if isinstance(value, dict):
            return [value, *(e for item in value.values() for e in elements(item))]
        if isinstance(value, list):
            return [e for item in value for e in elements(item)]
        return []

    with_text = [e for e in elements(card["body"]) if "text" in e]
    assert with_text and all(e["type"] == "TextRun" for e in with_text)  # TextRun: no Markdown
    assert "msteams" not in document and "msteams" not in card  # no mention entities


@examples(300)
@given(text=texts, title=st.one_of(st.none(), texts))
def test_no_chime_text_mentions_anyone_or_switches_to_markdown(text: str, title: str | None) -> None:
    content = render("chime", ChatContent(text, title))["Content"]
    assert "@" not in content
    assert not content.startswith("/")


@examples(200)
@given(text=texts, title=st.one_of(st.none(), texts))
def test_the_plain_json_carries_the_text_unchanged(text: str, title: str | None) -> None:
    document = render("webhook", ChatContent(text[:1000], title[:100] if title else None))
    assert document["text"] == text[:1000]
    assert document.get("title") == (title[:100] if title else None)


# --- answers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, b"ok", ("sent", None)),
        (202, b"", ("sent", None)),
        (400, b"invalid_payload", ("failed", "http_400:invalid_payload")),
        (404, b"channel_not_found", ("failed", "http_404:channel_not_found")),
        (403, b"<html>forbidden & more</html>", ("failed", "http_403")),
        (410, b"", ("failed", "http_410")),
        (302, b"", ("failed", "http_302")),
        (429, b"rate_limited", ("retry", "http_429:rate_limited")),
        (408, b"", ("retry", "http_408")),
        (500, b"", ("retry", "http_500")),
        (503, b"", ("retry", "http_503")),
    ],
)
def test_2xx_is_sent_429_408_5xx_retried_every_other_answer_failed(
    status: int, body: bytes, expected: tuple[str, str | None]
) -> None:
    assert outcome(status, body) == expected


def test_retry_after_is_read_in_seconds_and_capped() -> None:
    assert chat_render.retry_after_seconds("30") == 30
    assert chat_render.retry_after_seconds("999999") == chat_render.MAX_RETRY_AFTER_SECONDS
    assert chat_render.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert chat_render.retry_after_seconds(None) is None
