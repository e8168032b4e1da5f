"""Chat worker against moto (Secrets Manager, delivery log, idempotency) and a local HTTPS webhook
(``tools.emulator.webhook_server``: TLS verified against its throwaway CA, as production verifies against the
runtime's bundle). Sent, refused (4xx: failed, not retried), retried (429/5xx/timeouts), a secret swapped to a
foreign host, redirects, huge and slow answers, duplicates, unknown targets, the secret cache."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from conftest import FakeLambdaContext, capture_logs, load_event

from notification_handlers.event_fields import MalformedEventError
from notification_handlers.service import chat_worker
from notification_handlers.service.chat_worker import handler, parse_chat_message, url_from_secret
from notification_handlers.service.log import logger
from tests.unit.realtime_fakes import channel_message, failed_ids, realtime_world, sqs_event, statuses
from tests.unit.service_fakes import record_calls
from tools.emulator.account import DEFAULT_REGION as REGION
from tools.emulator.webhook_server import Reply, WebhookServer, webhook_server

QUEUE = "notification-service-chat"


@pytest.fixture
def server() -> Iterator[WebhookServer]:
    with webhook_server() as running:
        yield running


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, server: WebhookServer) -> Iterator[dict[str, str]]:
    """Targets ops (webhook -> the local server), slack-ops (slack, whose secret holds the local server's
    URL: a swapped secret) and plain (webhook whose secret holds an http:// URL)."""
    with realtime_world(monkeypatch, "notification-service-chat-worker"):
        secrets = boto3.client("secretsmanager", region_name=REGION)
        arns = {
            "ops": secrets.create_secret(Name="chat/ops", SecretString=server.url())["ARN"],
            "slack-ops": secrets.create_secret(
                Name="chat/slack", SecretString=json.dumps({"url": server.url()})
            )["ARN"],
            "plain": secrets.create_secret(
                Name="chat/plain", SecretString=f"http://localhost:{server.port}/x"
            )["ARN"],
        }
        platforms = {"ops": "webhook", "slack-ops": "slack", "plain": "webhook"}
        monkeypatch.setenv(
            "CHAT_TARGETS",
            json.dumps({k: {"platform": platforms[k], "secret_arn": arn} for k, arn in arns.items()}),
        )
        monkeypatch.setenv("CHAT_TIMEOUT_SECONDS", "1")
        chat_worker.SECRETS.clear()
        yield arns
        chat_worker.SECRETS.clear()


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext(function_name="notification-service-chat-worker")


def message(notification_id: str = "n-1", target: str = "ops", **content: str) -> dict[str, Any]:
    return channel_message(
        notification_id,
        "-",
        "chat",
        {"title": "Order A-1 shipped", "text": "Order A-1 left with DHL & Co <Express>.", **content},
        target=target,
    )


def row(notification_id: str, target: str = "ops") -> tuple[str, str | None] | None:
    return statuses().get((notification_id, f"-#chat#{target}"))


def test_fixture_batch_is_posted_once_and_logged_sent(
    world: dict[str, str], server: WebhookServer, context: FakeLambdaContext
) -> None:
    event = load_event("notification_service_chat_queue_batch")
    assert handler(event, context) == {"batchItemFailures": []}
    (received,) = server.received
    assert received.path == "/hooks/ops"
    assert received.headers["Content-Type"] == "application/json; charset=utf-8"
    assert received.json()["text"] == "Order A-1001 left the warehouse with DHL & Co <Express>."
    body = json.loads(event["Records"][0]["body"])
    assert statuses() == {(body["notification_id"], "-#chat#ops"): ("sent", None)}


def test_4xx_is_failed_with_its_reason_and_not_retried(
    world: dict[str, str], server: WebhookServer, context: FakeLambdaContext
) -> None:
    server.replies.append(Reply(404, b"channel_not_found"))
    response = handler(sqs_event(QUEUE, message("n-404")), context)
    assert response == {"batchItemFailures": []}
    assert row("n-404") == ("failed", "http_404:channel_not_found")
    # A redelivery (or a retry) posts nothing again: the claim is complete.
    handler(sqs_event(QUEUE, message("n-404")), context)
    assert len(server.received) == 1


@pytest.mark.parametrize("status", [429, 500, 503])
def test_429_and_5xx_are_retried_then_sent(
    world: dict[str, str], server: WebhookServer, context: FakeLambdaContext, status: int
) -> None:
    server.replies.append(Reply(status, b"rate_limited", {"Retry-After": "30"}))
    with capture_logs(logger) as logs:
        first = handler(sqs_event(QUEUE, message("n-r")), context)
    assert failed_ids(first) == ["m-0"]
    assert row("n-r") is None  # nothing logged until it is settled
    retry = [line for line in logs() if line.get("decision") == "retry"]
    assert retry and retry[0]["status"] == status and retry[0]["retry_after"] == 30
    # The claim was released: the redelivery posts it.
    assert handler(sqs_event(QUEUE, message("n-r")), context) == {"batchItemFailures": []}
    assert row("n-r") == ("sent", None)
    assert len(server.received) == 2


def test_after_a_429_the_targets_other_messages_wait_without_a_request(
    world: dict[str, str], server: WebhookServer, context: FakeLambdaContext
) -> None:
    server.replies.append(Reply(429))
    response = handler(sqs_event(QUEUE, message("n-a"), message("n-b"), message("n-c")), context)
    assert failed_ids(response) == ["m-0", "m-1", "m-2"]
    assert len(server.received) == 1


def test_slow_endpoint_times_out_and_is_retried(
    world: dict[str, str], server: WebhookServer, context: FakeLambdaContext
) -> None:
    server.replies.append(Reply(200, delay_seconds=3))  # CHAT_TIMEOUT_SECONDS = 1
    response = handler(sqs_event(QUEUE, message("n-slow")), context)
    assert failed_ids(response) == ["m-0"]
    assert row("n-slow") is None


def test_huge_answer_is_not_read(
    world: dict[str, str], server: WebhookServer, context: FakeLambdaContext
) -> None:
    server.replies.append(Reply(400, b"x" * (20 * 1024 * 1024)))
    response = handler(sqs_event(QUEUE, message("n-big")), context)
    assert response == {"batchItemFailures": []}
    assert row("n-big") == ("failed", "http_400")


def test_a_redirect_is_not_followed(
    world: dict[str, str], server: WebhookServer, context: FakeLambdaContext
) -> None:
    server.replies.append(Reply(307, b"", {"Location": server.url("/elsewhere")}))
    handler(sqs_event(QUEUE, message("n-redirect")), context)
    assert [r.path for r in server.received] == ["/hooks/ops"]
    assert row("n-redirect") == ("failed", "http_307")


def test_a_secret_swapped_to_a_foreign_host_is_refused_before_any_request(
    world: dict[str, str], server: WebhookServer, context: FakeLambdaContext
) -> None:
    with capture_logs(logger) as logs:
        response = handler(sqs_event(QUEUE, message("n-swap", target="slack-ops")), context)
    assert response == {"batchItemFailures": []}
    assert server.received == []
    assert row("n-swap", "slack-ops") == ("failed", "url_refused:host_not_of_platform")
    assert str(server.port) not in json.dumps(logs())  # the URL is never logged


def test_a_plain_http_url_is_refused(
    world: dict[str, str], server: WebhookServer, context: FakeLambdaContext
) -> None:
    handler(sqs_event(QUEUE, message("n-http", target="plain")), context)
    assert server.received == []
    assert row("n-http", "plain") == ("failed", "url_refused:not_https")


def test_an_untrusted_certificate_is_never_posted_to(
    world: dict[str, str], server: WebhookServer, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")
    chat_worker.tls_context.cache_clear()
    response = handler(sqs_event(QUEUE, message("n-tls")), context)
    assert failed_ids(response) == ["m-0"]
    assert server.received == []


def test_a_redelivered_message_is_posted_once(
    world: dict[str, str], server: WebhookServer, context: FakeLambdaContext
) -> None:
    for _ in range(3):
        assert handler(sqs_event(QUEUE, message("n-dup")), context) == {"batchItemFailures": []}
    assert len(server.received) == 1
    assert row("n-dup") == ("sent", None)


def test_the_secret_is_read_once_per_target_while_cached(
    world: dict[str, str], server: WebhookServer, context: FakeLambdaContext
) -> None:
    calls = record_calls("secretsmanager")
    handler(sqs_event(QUEUE, message("n-1"), message("n-2"), message("n-3")), context)
    handler(sqs_event(QUEUE, message("n-4")), context)
    assert calls.count("GetSecretValue") == 1
    assert len(server.received) == 4


def test_an_unknown_target_is_failed_and_a_malformed_message_dead_lettered(
    world: dict[str, str], server: WebhookServer, context: FakeLambdaContext
) -> None:
    response = handler(sqs_event(QUEUE, message("n-x", target="gone"), "{not json", message("n-ok")), context)
    assert failed_ids(response) == ["m-1"]
    assert row("n-x", "gone") == ("failed", "unknown_target")
    assert row("n-ok") == ("sent", None)


def test_parse_refuses_a_message_without_target_or_text() -> None:
    with pytest.raises(MalformedEventError, match="target"):
        parse_chat_message(json.dumps(channel_message("n", "-", "chat", {"text": "x"})))
    with pytest.raises(MalformedEventError, match="text"):
        parse_chat_message(json.dumps(message(text="")))
    with pytest.raises(MalformedEventError, match="channel"):
        parse_chat_message(json.dumps({**message(), "channel": "push"}))


def test_the_secret_holds_the_url_or_a_json_url() -> None:
    assert url_from_secret("https://hooks.slack.com/services/x\n") == "https://hooks.slack.com/services/x"
    assert (
        url_from_secret('{"url": "https://hooks.slack.com/services/x"}')
        == "https://hooks.slack.com/services/x"
    )
    assert url_from_secret('{"webhook": 1}') is None
    assert url_from_secret("{broken") is None
    assert url_from_secret(None) is None
