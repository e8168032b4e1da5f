"""The chat channel's pure half: which URLs a target may post to, each platform's message, and what an
HTTP answer means (docs/notification-service.md, section 7, chat).

Everything a template renders is plain text: producers' ``data`` reaches it through placeholders, so the
whole rendered title and text are treated as untrusted and escaped for the platform, never interpreted as
markup (a template cannot carry markup either; that is the price of the guarantee):

* Slack: ``&``, ``<`` and ``>`` become ``&amp;``, ``&lt;``, ``&gt;`` everywhere (the escaping Slack
  documents; every mention, channel link and ``<url|label>`` link needs a literal ``<``), the blocks are
  ``plain_text`` (no mrkdwn: ``*bold*`` stays literal) and ``link_names`` is never set (a bare ``@here`` is
  not a mention without it).
* Teams: an Adaptive Card whose text is only in ``TextRun`` elements of ``RichTextBlock`` (the schema:
  "Markdown is not supported"); no ``msteams.entities``, so ``<at>`` is never a mention.
* Chime: ``Content`` text; every ``@`` becomes U+FF20 FULLWIDTH COMMERCIAL AT (``@All``, ``@Present`` and
  ``@alias`` are mentions only with the ASCII sign) and a leading ``/`` (``/md`` switches to Markdown) gets
  a U+200B ZERO WIDTH SPACE in front.
* Any other HTTPS endpoint (``webhook``): a JSON document, escaped by JSON itself.

URLs: ``https`` only, no user info, and for slack/teams/chime the platform's own hosts on port 443
(``url_problem``), so a secret swapped to an internal or foreign address is refused before any connection.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final, NamedTuple
from urllib.parse import urlsplit

PLATFORMS: Final = frozenset({"slack", "teams", "chime", "webhook"})
# Exact hosts and host suffixes (with their leading dot) each platform's webhooks live on.
PLATFORM_HOSTS: Final[Mapping[str, frozenset[str]]] = {
    "slack": frozenset({"hooks.slack.com", "hooks.slack-gov.com"}),
    "chime": frozenset({"hooks.chime.aws"}),
}
PLATFORM_HOST_SUFFIXES: Final[Mapping[str, tuple[str, ...]]] = {
    # Office 365 connectors (<tenant>.webhook.office.com) and the Workflows (Power Automate) webhooks that
    # replace them (prod-NN.<region>.logic.azure.com, <env>.environment.api.powerplatform.com).
    "teams": (".webhook.office.com", ".logic.azure.com", ".api.powerplatform.com"),
}
MAX_URL_LENGTH: Final = 2048
_HOST: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*")
_IPV4: Final = re.compile(r"[0-9.]+")

# Platform limits: a Slack header holds 150 characters and a section 3,000; Chime's Content 4,096; a Teams
# card about 28 KB. Longer renderings are cut with an ellipsis (the delivery is still worth making).
SLACK_TITLE_MAX: Final = 150
SLACK_TEXT_MAX: Final = 3000
CHIME_CONTENT_MAX: Final = 4096
TEAMS_TEXT_MAX: Final = 20000
WEBHOOK_TEXT_MAX: Final = 40000
ELLIPSIS: Final = "\u2026"
FULLWIDTH_AT: Final = "\uff20"
ZERO_WIDTH_SPACE: Final = "\u200b"

SENT: Final = "sent"
RETRY: Final = "retry"
FAILED: Final = "failed"
MAX_RETRY_AFTER_SECONDS: Final = 43200  # SQS's longest visibility timeout
_REASON_WORD: Final = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class ChatContent(NamedTuple):
    text: str
    title: str | None = None


def url_problem(platform: str, url: str) -> str | None:
    """Why ``url`` may not be posted to for ``platform`` (a short reason), or None when it may.

    Never echoes the URL: its path is the webhook's secret.
    """
    if platform not in PLATFORMS:
        return "unknown_platform"
    parts = _https_parts(url)
    if isinstance(parts, str):
        return parts
    host, port = parts
    return _host_problem(platform, host, port)


def _https_parts(url: str) -> tuple[str, int | None] | str:
    """(host, port) of an https URL without credentials, or why it is not one."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH or any(c.isspace() for c in url):
        return "not_a_url"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not_a_url"
    if parts.scheme != "https":
        return "not_https"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "credentials_in_url"
    return parts.hostname or "", port


def _host_problem(platform: str, host: str, port: int | None) -> str | None:
    if not _HOST.fullmatch(host) or _IPV4.fullmatch(host):
        return "host_not_allowed"  # no IP literal, no IDN, no empty host, no trailing dot
    if platform == "webhook":
        return None
    exact = PLATFORM_HOSTS.get(platform, frozenset())
    suffixes = PLATFORM_HOST_SUFFIXES.get(platform, ())
    on_suffix = any(host.endswith(suffix) and len(host) > len(suffix) for suffix in suffixes)
    if host not in exact and not on_suffix:
        return "host_not_of_platform"
    return None if port in (None, 443) else "port_not_allowed"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def slack_escape(text: str) -> str:
    """Slack's escaping: ``&``, ``<``, ``>`` (every mention, link and channel reference needs a ``<``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def chime_escape(text: str) -> str:
    """No ``@`` mention (fullwidth at sign) and no leading ``/`` command such as ``/md``."""
    escaped = text.replace("@", FULLWIDTH_AT)
    return ZERO_WIDTH_SPACE + escaped if escaped.startswith("/") else escaped


def slack_payload(content: ChatContent) -> dict[str, Any]:
    """Incoming-webhook message: ``text`` (the notification's fallback) and ``plain_text`` blocks."""
    blocks: list[dict[str, Any]] = []
    title = _cut(slack_escape(content.title), SLACK_TITLE_MAX) if content.title else None
    text = _cut(slack_escape(content.text), SLACK_TEXT_MAX)
    if title:
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": title, "emoji": False}})
    blocks.append({"type": "section", "text": {"type": "plain_text", "text": text, "emoji": False}})
    fallback = f"{title}\n{text}" if title else text
    return {"text": _cut(fallback, SLACK_TEXT_MAX), "blocks": blocks}


def teams_payload(content: ChatContent) -> dict[str, Any]:
    """A message with one Adaptive Card (connectors and Workflows webhooks take this shape); text only in
    TextRuns, which never interpret Markdown."""
    body: list[dict[str, Any]] = []
    if content.title:
        body.append(
            {
                "type": "RichTextBlock",
                "inlines": [
                    {
                        "type": "TextRun",
                        "text": _cut(content.title, 400),
                        "weight": "Bolder",
                        "size": "Medium",
                    }
                ],
            }
        )
    body.append(
        {
            "type": "RichTextBlock",
            "inlines": [{"type": "TextRun", "text": _cut(content.text, TEAMS_TEXT_MAX)}],
        }
    )
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    return {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    }


def chime_payload(content: ChatContent) -> dict[str, Any]:
    text = f"{content.title}\n{content.text}" if content.title else content.text
    return {"Content": _cut(chime_escape(text), CHIME_CONTENT_MAX)}


def webhook_payload(
    content: ChatContent, *, notification_id: str, notification_type: str, target: str, created_at: str
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "notification_id": notification_id,
        "notification_type": notification_type,
        "target": target,
        "created_at": created_at,
        "text": _cut(content.text, WEBHOOK_TEXT_MAX),
    }
    if content.title:
        document["title"] = _cut(content.title, SLACK_TITLE_MAX * 4)
    return document


def payload(
    platform: str,
    content: ChatContent,
    *,
    notification_id: str,
    notification_type: str,
    target: str,
    created_at: str,
) -> bytes:
    """The request body for ``platform`` (UTF-8 JSON)."""
    if platform == "slack":
        document = slack_payload(content)
    elif platform == "teams":
        document = teams_payload(content)
    elif platform == "chime":
        document = chime_payload(content)
    elif platform == "webhook":
        document = webhook_payload(
            content,
            notification_id=notification_id,
            notification_type=notification_type,
            target=target,
            created_at=created_at,
        )
    else:
        raise ValueError(f"unknown platform {platform[:40]!r}")
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def retry_after_seconds(value: str | None) -> int | None:
    """A ``Retry-After`` header in seconds (delta-seconds only; an HTTP date is ignored), capped."""
    if value is None or not value.strip().isdigit():
        return None
    return min(int(value.strip()), MAX_RETRY_AFTER_SECONDS)


def outcome(status: int, body_start: bytes = b"") -> tuple[str, str | None]:
    """(``sent`` | ``retry`` | ``failed``, reason) for an HTTP status and the first bytes of the body.

    2xx sent; 408, 429 and 5xx retried; every other answer (4xx, and 1xx/3xx: redirects are never followed)
    failed for good. The reason is ``http_<status>`` plus, when the body starts with one short word
    (Slack's ``invalid_payload``, ``channel_not_found``...), that word: nothing else of a body is kept.
    """
    if 200 <= status < 300:
        return SENT, None
    word = body_start[:65].decode("ascii", "replace").strip()  # a 65th character: not one short word
    reason = f"http_{status}" + (f":{word}" if _REASON_WORD.fullmatch(word) else "")
    if status in (408, 429) or 500 <= status < 600:
        return RETRY, reason
    return FAILED, reason
