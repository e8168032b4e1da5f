"""examples/notification-service applied to the emulator, proven end to end, then destroyed.

The flow under test is the deployed one. Events are put on the deployed bus; the bus's rule delivers them to
the ingest queue (moto's EventBridge -> SQS). ``tools.emulator.event_source_poller`` plays Lambda's SQS
event source mappings as deployed (queue, batch size, ``ReportBatchItemFailures``) and runs the deployed
router, then the deployed email worker, in this process with their deployed environment; they talk to the
emulator's DynamoDB, SQS and SES v2, whose sent messages (headers included, see ``tools.emulator.sesv2``)
we read back. SES bounce events published to the deployed SES events topic reach the deployed feedback
function through the in-process Lambda service. One deployment serves every test of this file.

The WebSocket, push and registration API tests run on the same deployment, every channel on. The push platform
applications are created during apply by the deployed provisioner, which Terraform invokes synchronously
(the emulator runs it in this process) from fake credentials the fixture stores in Secrets Manager first.
The connections and registration functions are invoked with API Gateway's event shapes (``$connect`` as
the built-in JWT authorizer admitted it, its ``principalId`` the user's sub; HTTP API payload 2.0 with JWT
claims);
the deployed authorizer itself is run on a ``$connect`` REQUEST with tokens signed here, its JWKS fetch (one
seam) answered with the test's keys; the WebSocket worker posts through the management API
of the deployed stage, where ``Emulator.connections`` says which browser tabs are live and keeps what each
received; SNS endpoints record what each device received (``endpoint_deliveries``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shlex
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from moto.core.exceptions import JsonRESTError
from moto.ses.models import ses_backends
from moto.sesv2.models import SESV2Backend
from moto.sns.models import sns_backends

from notification_handlers.aws_clients import reset_clients
from notification_handlers.service.contract import notification_id
from notification_handlers.service.registration import edge
from tests.support.policies import deployed_statements, least_privilege_violations
from tests.terraform.common_checks import (  # noqa: F401 - collected here, run against this example
    test_deployer_policy_allowed_every_call,
    test_deployer_policy_names_every_deployed_resource,
    test_rendered_policies_are_least_privilege,
    test_replan_after_apply_is_clean,
)
from tests.terraform.conftest import DeployedExample, load_event
from tools.emulator.account import ACCOUNT_ID
from tools.emulator.event_source_poller import BatchResult, EventSourcePoller
from tools.emulator.inventory import created_since, inventory
from tools.emulator.lambda_service import InProcessLambdaService
from tools.emulator.scheduler import Fired, fire_due
from tools.emulator.server import Emulator
from tools.emulator.sns import endpoint_deliveries
from tools.emulator.webhook_server import Reply, WebhookServer, webhook_server

pytestmark = pytest.mark.terraform

EXAMPLE = "notification-service"
NAME = "notif-e2e"
SENDER = "notifications@example.com"
UNSUBSCRIBE = "https://example.com/unsubscribe?token={token}"

SWITCH_REFRESH_SECONDS = 1  # channel_switch_refresh_seconds: how soon an operator's channel switch holds
VARIABLES = {
    "name": NAME,
    "sender_address": SENDER,
    "unsubscribe_url_template": UNSUBSCRIBE,
    "sms_allowed_country_codes": ["1", "49"],  # the SMS channel on (US/Canada and Germany)
    "channel_switch_refresh_seconds": SWITCH_REFRESH_SECONDS,
}
MAX_RECEIVE_COUNT = 5  # the module's default for every queue: a failing record is dead-lettered on receive 6
TRACKING = "https://track.example.com/A-1001?carrier=dhl&lang=de"
# The example's producers (allowed_sources): the shop and the marketplace send order_shipped, only the
# identity service sends the critical security_alert.
SHOP, MARKETPLACE, IDENTITY = "com.example.shop", "com.example.marketplace", "com.example.identity"


@dataclass(frozen=True)
class User:
    user_id: str
    display_name: str
    locale: str
    address: str
    token: str


@dataclass(frozen=True)
class Mail:
    to: list[str]
    subject: str
    text: str
    html: str | None
    headers: dict[str, str]
    configuration_set: str | None
    tags: dict[str, str]


class Outbox:
    """What SES v2 accepted, read from the emulator's backend (the server runs in this process)."""

    def __init__(self, region: str) -> None:
        self._messages = ses_backends[ACCOUNT_ID][region].sent_messages
        self._seen = len(self._messages)

    def new(self) -> list[Mail]:
        fresh = self._messages[self._seen :]
        self._seen = len(self._messages)
        return [
            Mail(
                to=m.destinations["ToAddresses"],
                subject=m.subject,
                text=m.text,
                html=m.html,
                headers={h["Name"]: h["Value"] for h in m.headers},
                configuration_set=m.configuration_set_name,
                tags={t["Name"]: t["Value"] for t in m.email_tags},
            )
            for m in fresh
        ]


@dataclass
class Service:
    """The deployed service and the tools to drive it."""

    emulator: Emulator
    deployed: DeployedExample
    lambda_service: InProcessLambdaService
    poller: EventSourcePoller
    realtime: dict[str, list[BatchResult]] = field(default_factory=dict)  # the last deliver()'s

    @property
    def outputs(self) -> dict[str, Any]:
        return self.deployed.outputs

    def table(self, role: str) -> str:
        return str(self.outputs["table_names"][role])

    def function(self, role: str) -> str:
        return str(self.outputs["function_names"][role])

    def put(self, detail_type: str, detail: dict[str, Any], source: str = SHOP) -> None:
        self.emulator.put_event(
            {"source": source, "detail-type": detail_type, "detail": detail},
            bus=self.outputs["event_bus_name"],
        )

    def deliver(self) -> tuple[list[BatchResult], list[BatchResult]]:
        """Run the router over the ingest queue, then each channel's worker over its queue, until all drain;
        the router's batches and the email worker's."""
        routed = self.poller.drain(self.function("router"))
        sent = self.poller.drain(self.function("email_worker"))
        self.realtime = {
            role: self.poller.drain(self.function(role))
            for role in ("websocket_worker", "push_worker", "sms_worker", "inbox_worker")
        }
        return routed, sent

    def seed_user(self, name: str, locale: str = "en", opt_outs: dict[str, list[str]] | None = None) -> User:
        suffix = uuid.uuid4().hex[:8]
        user = User(f"u-{name}-{suffix}", name.title(), locale, f"{name}.{suffix}@example.org", f"t-{suffix}")
        dynamodb = self.emulator.client("dynamodb")
        dynamodb.put_item(
            TableName=self.table("users"),
            Item={
                "user_id": {"S": user.user_id},
                "display_name": {"S": user.display_name},
                "email": {"S": user.address},
                "locale": {"S": locale},
                "time_zone": {"S": "Europe/Berlin"},
            },
        )
        dynamodb.put_item(
            TableName=self.table("email_subscriptions"),
            Item={
                "user_id": {"S": user.user_id},
                "addresses": {
                    "M": {
                        user.address: {
                            "M": {
                                "status": {"S": "verified"},
                                "unsubscribe_token": {"S": user.token},
                                "verified_at": {"S": "2026-11-01T00:00:00Z"},
                            }
                        }
                    }
                },
            },
        )
        if opt_outs is not None:
            dynamodb.put_item(
                TableName=self.table("preferences"),
                Item={
                    "user_id": {"S": user.user_id},
                    "muted": {"BOOL": False},
                    "opt_outs": {"M": {t: {"L": [{"S": c} for c in cs]} for t, cs in opt_outs.items()}},
                    "updated_at": {"S": "2026-11-01T00:00:00Z"},
                },
            )
        return user

    def delivery_log(self, notification_id: str, channel: str | None = None) -> dict[str, dict[str, Any]]:
        """The delivery log of one notification (or of one of its channels), by delivery key
        (``<user>#<channel>#<target>``)."""
        items = self.emulator.client("dynamodb").query(
            TableName=self.table("delivery_log"),
            KeyConditionExpression="notification_id = :n",
            ExpressionAttributeValues={":n": {"S": notification_id}},
        )["Items"]
        return {
            item["delivery_key"]["S"]: {k: next(iter(v.values())) for k, v in item.items()}
            for item in items
            if channel is None or item["channel"]["S"] == channel
        }

    def receive_all(self, queue_url: str) -> list[dict[str, Any]]:
        sqs = self.emulator.client("sqs")
        messages: list[dict[str, Any]] = []
        while batch := sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"]
        ).get("Messages", []):
            messages += batch
            for message in batch:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return messages


@pytest.fixture(scope="module")
def chat_webhook() -> Iterator[WebhookServer]:
    """The chat targets' endpoint: a local HTTPS server (certificate for localhost from a throwaway CA this
    process trusts through SSL_CERT_FILE; the worker's production TLS and URL rules are unchanged)."""
    with webhook_server() as server:
        yield server


@pytest.fixture(scope="module")
def chat_targets(emulator: Emulator, chat_webhook: WebhookServer) -> dict[str, dict[str, str]]:
    """The example's chat_targets: the URLs stored in Secrets Manager first, only their ARNs passed to
    Terraform. ops is an HTTPS endpoint (platform webhook); alerts claims to be Slack but its secret was
    swapped to another host (the local server): the worker must refuse it."""
    reset_clients()
    secretsmanager = emulator.client("secretsmanager")
    suffix = uuid.uuid4().hex[:6]
    ops = secretsmanager.create_secret(
        Name=f"e2e/chat/ops-{suffix}", SecretString=chat_webhook.url("/hooks/ops")
    )
    alerts = secretsmanager.create_secret(
        Name=f"e2e/chat/alerts-{suffix}", SecretString=json.dumps({"url": chat_webhook.url("/hooks/alerts")})
    )
    return {
        "ops": {"platform": "webhook", "webhook_secret_arn": ops["ARN"]},
        "alerts": {"platform": "slack", "webhook_secret_arn": alerts["ARN"]},
    }


@pytest.fixture(scope="module")
def deployed(
    emulator: Emulator, push_credentials: dict[str, str], chat_targets: dict[str, dict[str, str]]
) -> Iterator[DeployedExample]:
    reset_clients()
    example = DeployedExample(
        emulator, EXAMPLE, {**VARIABLES, **push_credentials, "chat_targets": chat_targets}
    )
    yield example
    example.close()


@pytest.fixture(scope="module")
def service(emulator: Emulator, deployed: DeployedExample, lambda_service: InProcessLambdaService) -> Service:
    reset_clients()  # the handlers' cached clients must point at this emulator
    return Service(emulator, deployed, lambda_service, EventSourcePoller(lambda_service))


@pytest.fixture
def outbox(emulator: Emulator, service: Service) -> Outbox:
    service.deliver()  # nothing stale from another test
    service.lambda_service.run_pending()
    return Outbox(emulator.region)


def _order(user_ids: list[str], key: str | None = None, order_id: str = "A-1001") -> dict[str, Any]:
    detail: dict[str, Any] = {
        "recipients": user_ids,
        "data": {"order_id": order_id, "carrier": "DHL & Co <Express>", "tracking_url": TRACKING},
    }
    if key:
        detail["idempotencyKey"] = key
    return detail


def _key() -> str:
    return f"n-{uuid.uuid4().hex[:12]}"


def _id(key: str, notification_type: str = "order_shipped", source: str = SHOP) -> str:
    """The notification id of a producer's idempotencyKey (namespaced by source and type)."""
    return notification_id(source, notification_type, key)


# --- what was deployed -------------------------------------------------------------------------------


def test_event_source_mappings_report_batch_item_failures(service: Service) -> None:
    sqs = service.emulator.client("sqs")
    workers = {
        "router": "router",
        "email_worker": "email",
        "websocket_worker": "websocket",
        "push_worker": "push",
        "chat_worker": "chat",
        "sms_worker": "sms",
    }
    for role, worker in workers.items():
        mapping = service.poller.mapping(service.function(role))
        url = service.outputs["queue_urls"][worker]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        assert mapping["EventSourceArn"] == queue_arn
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["UUID"] == service.outputs["event_source_mapping_uuids"][role]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
        dlq_url = service.outputs["dlq_urls"][worker]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        redrive = json.loads(attributes["Attributes"]["RedrivePolicy"])
        assert redrive == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}
        assert attributes["Attributes"]["KmsMasterKeyId"] == service.outputs["kms_key_arn"]


def test_catalog_holds_the_declared_types(service: Service) -> None:
    items = service.emulator.client("dynamodb").query(
        TableName=service.table("catalog"),
        KeyConditionExpression="catalog_id = :c",
        ExpressionAttributeValues={":c": {"S": "notification-types"}},
    )["Items"]
    definitions = {i["notification_type"]["S"]: json.loads(i["definition"]["S"]) for i in items}
    assert set(definitions) == {
        "order_shipped",
        "order_delivered",
        "security_alert",
        "account_update",
        "price_drop",
        "promotion",
    }
    assert definitions["account_update"]["channels"] == ["websocket"]
    assert definitions["account_update"]["fallback"] == ["push", "email"]
    assert definitions["security_alert"]["critical"] is True
    assert definitions["order_shipped"]["critical"] is False
    assert definitions["security_alert"]["allowed_sources"] == [IDENTITY]
    assert definitions["order_shipped"]["allowed_sources"] == [SHOP, MARKETPLACE]
    de = definitions["order_shipped"]["templates"]["de"]["email"]
    assert de["subject"] == "Ihre Bestellung {{ order_id }} wurde versandt"


def test_every_deployed_policy_is_least_privilege(emulator: Emulator, deployed: DeployedExample) -> None:
    created = created_since(deployed.before, inventory(emulator))
    statements = deployed_statements(emulator, created)

    assert {s.policy.split()[0] for s in statements} >= {"role", "key", "queue", "topic", "function"}
    assert least_privilege_violations(statements) == []
    with_policy = {s.policy for s in statements if s.policy.startswith(("queue", "topic"))}
    tls_only = {s.policy for s in statements if s.denies_insecure_transport}
    assert with_policy and with_policy <= tls_only, "every queue and topic must deny non-TLS access"
    ses = [s for s in statements if any(a.startswith("ses:") for a in s.actions)]
    assert len(ses) == 2  # the email worker and the registration API (verification codes)
    assert all(s.actions == ("ses:SendEmail",) for s in ses)
    sender_only = json.dumps({"StringEquals": {"ses:FromAddress": SENDER}}, separators=(",", ":"))
    assert all(s.conditions.replace(" ", "") == sender_only for s in ses), "From the sender only"


# --- the flow ----------------------------------------------------------------------------------------


def test_email_is_rendered_in_the_recipients_locale(service: Service, outbox: Outbox) -> None:
    ana = service.seed_user("ana", locale="de-AT")
    key = _key()
    service.put("order_shipped", _order([ana.user_id], key))

    routed, sent = service.deliver()

    assert routed and all(b.invocation.succeeded and b.returned == [] for b in routed)
    assert sent and all(b.invocation.succeeded and b.returned == [] for b in sent)
    [mail] = outbox.new()
    assert mail.to == [ana.address]
    assert mail.subject == "Ihre Bestellung A-1001 wurde versandt"  # de-AT -> de
    assert mail.text == (
        "Hallo Ana,\n\nIhre Bestellung A-1001 ist mit DHL & Co <Express> unterwegs.\n"
        f"Sendungsverfolgung: {TRACKING}"
    )
    assert mail.html == (
        "<p>Hallo Ana,</p>"
        "<p>Ihre Bestellung <b>A-1001</b> ist mit DHL &amp; Co &lt;Express&gt; unterwegs.</p>"
        '<p><a href="https://track.example.com/A-1001?carrier=dhl&amp;lang=de">Sendungsverfolgung</a></p>'
    )
    assert mail.headers == {
        "List-Unsubscribe": f"<https://example.com/unsubscribe?token={ana.token}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert mail.configuration_set == service.outputs["ses_configuration_set_name"]
    assert mail.tags == {
        "notification_id": _id(key),
        "notification_type": "order_shipped",
        "user_id": ana.user_id,
    }
    log = service.delivery_log(_id(key), "email")
    assert list(log) == [f"{ana.user_id}#email#{ana.address}"]
    assert log[f"{ana.user_id}#email#{ana.address}"]["status"] == "sent"


def test_opted_out_user_gets_nothing_but_critical_still_arrives(service: Service, outbox: Outbox) -> None:
    bob = service.seed_user("bob", opt_outs={"order_shipped": ["email"], "security_alert": ["email"]})
    order_key, alert_key = _key(), _key()
    service.put("order_shipped", _order([bob.user_id], order_key))
    alert = {"event": "New sign-in", "occurred_at": "2026-11-24T10:00:00Z", "location": "Berlin"}
    service.put(
        "security_alert", {"recipients": [bob.user_id], "data": alert, "idempotencyKey": alert_key}, IDENTITY
    )

    service.deliver()

    [mail] = outbox.new()  # the critical one only
    assert mail.to == [bob.address]
    assert mail.subject == "Security alert: New sign-in"
    assert mail.text == (
        "Hi Bob,\n\nNew sign-in at 2026-11-24T10:00:00Z from Berlin.\n"
        "If this was not you, reset your password now."
    )
    assert "List-Unsubscribe" not in mail.headers and mail.headers == {}
    order_log = service.delivery_log(_id(order_key), "email")
    assert {k: (v["status"], v.get("reason")) for k, v in order_log.items()} == {
        f"{bob.user_id}#email#-": ("suppressed_preference", "opted_out")
    }
    assert (
        service.delivery_log(_id(alert_key, "security_alert", IDENTITY))[
            f"{bob.user_id}#email#{bob.address}"
        ]["status"]
        == "sent"
    )


def test_duplicate_event_is_sent_once(service: Service, outbox: Outbox) -> None:
    cleo = service.seed_user("cleo")
    key = _key()
    service.put("order_shipped", _order([cleo.user_id], key))
    service.put("order_shipped", _order([cleo.user_id], key))

    service.deliver()
    service.put("order_shipped", _order([cleo.user_id], key))  # a late redelivery of the same notification
    service.deliver()

    [mail] = outbox.new()
    assert mail.to == [cleo.address] and mail.tags["notification_id"] == _id(key)
    assert [v["status"] for v in service.delivery_log(_id(key), "email").values()] == ["sent"]


# --- finding 4: producers are isolated ----------------------------------------------------------------


def test_producers_are_isolated_the_same_key_from_two_producers_delivers_both(
    service: Service, outbox: Outbox
) -> None:
    ida = service.seed_user("ida")
    key = _key()
    service.put("order_shipped", _order([ida.user_id], key, order_id="S-1"), SHOP)
    service.put("order_shipped", _order([ida.user_id], key, order_id="M-1"), MARKETPLACE)

    service.deliver()
    service.put("order_shipped", _order([ida.user_id], key, order_id="S-1"), SHOP)  # the shop's redelivery
    service.deliver()

    assert sorted((m.subject, m.tags["notification_id"]) for m in outbox.new()) == sorted(
        [
            ("Your order S-1 has shipped", _id(key)),
            ("Your order M-1 has shipped", _id(key, source=MARKETPLACE)),
        ]
    )
    for source in (SHOP, MARKETPLACE):
        log = service.delivery_log(_id(key, source=source), "email")
        assert {k: v["status"] for k, v in log.items()} == {f"{ida.user_id}#email#{ida.address}": "sent"}


def test_producers_are_isolated_a_critical_event_of_an_unlisted_source_is_dead_lettered_neighbour_delivered(
    service: Service, outbox: Outbox
) -> None:
    jo = service.seed_user("jo")
    key = _key()
    alert = {"event": "Password changed", "occurred_at": "2026-11-24T10:00:00Z", "location": "Nowhere"}
    service.put("security_alert", {"recipients": [jo.user_id], "data": alert, "idempotencyKey": key}, SHOP)
    service.put("order_shipped", _order([jo.user_id], key, order_id="A-9"), SHOP)

    routed, _ = service.deliver()

    assert routed and all(
        b.invocation.succeeded and b.returned == [] for b in routed
    )  # processed, not retried
    assert [m.subject for m in outbox.new()] == ["Your order A-9 has shipped"]
    [rejected] = service.receive_all(service.outputs["dlq_urls"]["router"])
    event = json.loads(rejected["Body"])
    assert (event["source"], event["detail-type"], event["detail"]["idempotencyKey"]) == (
        SHOP,
        "security_alert",
        key,
    )
    assert {k: v["StringValue"] for k, v in rejected["MessageAttributes"].items()} == {
        "reason": "source_not_allowed: source 'com.example.shop' may not send notification type "
        "'security_alert' (not in its allowed_sources)",
        "error_type": "SourceNotAllowedError",
    }
    assert service.delivery_log(_id(key, "security_alert", SHOP)) == {}

    # The identity service's alert with the very same key is neither blocked nor pre-empted.
    service.put(
        "security_alert", {"recipients": [jo.user_id], "data": alert, "idempotencyKey": key}, IDENTITY
    )
    service.deliver()
    [mail] = outbox.new()
    assert mail.subject == "Security alert: Password changed"
    assert mail.tags["notification_id"] == _id(key, "security_alert", IDENTITY)


def test_producers_are_isolated_each_source_gets_a_put_events_policy_bound_to_it(service: Service) -> None:
    documents = {s: json.loads(d) for s, d in service.outputs["producer_policy_documents"].items()}
    assert set(documents) == {SHOP, MARKETPLACE, IDENTITY}
    for source, detail_type in (
        # both shops send the two order types; the shop alone its price drops and promotions
        (SHOP, ["order_delivered", "order_shipped", "price_drop", "promotion"]),
        (MARKETPLACE, ["order_delivered", "order_shipped"]),
        (IDENTITY, ["account_update", "security_alert"]),  # the identity service sends two types
    ):
        [statement] = documents[source]["Statement"]
        assert statement["Effect"] == "Allow" and statement["Action"] == "events:PutEvents"
        assert statement["Resource"] == service.outputs["event_bus_arn"]
        assert statement["Condition"] == {
            "ForAllValues:StringEquals": {
                "events:source": source,
                # and its own cancel requests (docs/notification-service.md, section 12)
                "events:detail-type": [*detail_type, "cancel-notification"],
            },
            "Null": {"events:source": "false", "events:detail-type": "false"},
        }


def test_malformed_event_is_dead_lettered_with_its_reason_while_neighbours_are_delivered(
    service: Service, outbox: Outbox
) -> None:
    dan, eve = service.seed_user("dan"), service.seed_user("eve")
    first, last = _key(), _key()
    service.put("order_shipped", _order([dan.user_id], first, order_id="A-1"))
    service.put("order_shipped", {"data": {"order_id": "A-2"}, "idempotencyKey": _key()})  # no recipients
    service.put("order_shipped", _order([eve.user_id], last, order_id="A-3"))

    routed, _ = service.deliver()

    [batch] = routed  # one batch of three: the bad one is reported processed, not retried
    assert len(batch.message_ids) == 3 and batch.returned == []
    assert sorted((m.to[0], m.subject) for m in outbox.new()) == sorted(
        [(dan.address, "Your order A-1 has shipped"), (eve.address, "Your order A-3 has shipped")]
    )
    [rejected] = service.receive_all(service.outputs["dlq_urls"]["router"])
    event = json.loads(rejected["Body"])
    assert event["detail"] == {
        "data": {"order_id": "A-2"},
        "idempotencyKey": event["detail"]["idempotencyKey"],
    }
    reason = rejected["MessageAttributes"]["reason"]["StringValue"]
    assert "recipients" in reason
    assert rejected["MessageAttributes"]["error_type"]["StringValue"]


def test_bounced_address_is_suppressed_and_never_sent_again(service: Service, outbox: Outbox) -> None:
    fay = service.seed_user("fay")
    bounce = load_event("notification_service_ses_bounce_permanent")["Records"][0]["Sns"]["Message"]
    notice = json.loads(bounce)
    notice["bounce"]["bouncedRecipients"][0]["emailAddress"] = fay.address.upper()
    notice["mail"]["destination"] = [fay.address.upper()]
    service.emulator.client("sns").publish(
        TopicArn=service.outputs["ses_events_topic_arn"], Message=json.dumps(notice)
    )

    [feedback] = service.lambda_service.run_pending()

    assert feedback.function_name == service.function("email_feedback")
    assert feedback.succeeded, feedback.error
    item = service.emulator.client("dynamodb").get_item(
        TableName=service.table("email_suppressions"), Key={"address": {"S": fay.address.lower()}}
    )["Item"]
    assert item["reason"]["S"] == "bounce"

    key = _key()
    service.put("order_shipped", _order([fay.user_id], key))
    service.deliver()

    assert outbox.new() == []
    assert {k: v["status"] for k, v in service.delivery_log(_id(key), "email").items()} == {
        f"{fay.user_id}#email#{fay.address.lower()}": "suppressed_bounce"
    }


class TooManyRequests(JsonRESTError):
    code = 429

    def __init__(self) -> None:
        super().__init__("TooManyRequestsException", "Maximum sending rate exceeded.")


def test_failing_ses_send_is_retried_then_dead_lettered(
    service: Service, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    gus, hal = service.seed_user("gus"), service.seed_user("hal")
    original = SESV2Backend.send_email
    attempts: list[str] = []

    def send_email(
        self: Any, source: str, destinations: dict[str, list[str]], *args: Any, **kwargs: Any
    ) -> Any:
        if gus.address in destinations.get("ToAddresses", []):
            attempts.append(gus.address)
            raise TooManyRequests()
        return original(self, source, destinations, *args, **kwargs)

    monkeypatch.setattr(SESV2Backend, "send_email", send_email)
    key = _key()
    service.put("order_shipped", _order([gus.user_id, hal.user_id], key))

    _, sent = service.deliver()

    [mail] = outbox.new()
    assert mail.to == [hal.address]
    gus_batches = [
        b for b in sent if any(json.loads(r["body"])["user_id"] == gus.user_id for r in b.event["Records"])
    ]
    assert len(gus_batches) == MAX_RECEIVE_COUNT
    assert all(len(b.returned) == 1 for b in gus_batches)
    assert len(attempts) == 3 * MAX_RECEIVE_COUNT  # the SDK's 3 attempts per invocation
    [dead] = service.receive_all(service.outputs["dlq_urls"]["email"])
    message = json.loads(dead["Body"])
    assert (message["notification_id"], message["user_id"], message["locale"]) == (
        _id(key),
        gus.user_id,
        "en",
    )
    # A transient failure writes no row (the record is retried); only Hal's delivery is logged.
    assert {k: v["status"] for k, v in service.delivery_log(_id(key), "email").items()} == {
        f"{hal.user_id}#email#{hal.address}": "sent"
    }


# --- WebSocket, push and the registration API -----------------------------------------------------


@dataclass(frozen=True)
class Device:
    platform: str
    token: str
    endpoint_arn: str

    @property
    def target(self) -> str:
        """The delivery log's target: the platform and the first 16 hex of the token's SHA-256."""
        return f"{self.platform}#{hashlib.sha256(self.token.encode()).hexdigest()[:16]}"


def _connection_id() -> str:
    """A connection id in API Gateway's shape (12 random bytes, URL-safe base64: "L0SNAdG8vHcCJbQ=")."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes[:12]).decode()


def _websocket_api(service: Service) -> tuple[str, str]:
    """(API id, stage name) of the deployed WebSocket API, read back from API Gateway."""
    apigateway = service.emulator.client("apigatewayv2")
    [api] = [a for a in apigateway.get_apis()["Items"] if a["Name"] == f"{NAME}-websocket"]
    [stage] = apigateway.get_stages(ApiId=api["ApiId"])["Items"]
    return api["ApiId"], stage["StageName"]


def _connect_event(
    service: Service, connection_id: str, user_id: str | None, offered: str | None = None
) -> dict[str, Any]:
    """A ``$connect`` to the deployed stage as API Gateway hands it to the integration once the authorizer
    admitted it (``requestContext.authorizer.principalId`` = ``user_id``), or with no authorizer result at
    all. The fixture's query string asks to be ``mallory``: it must be ignored. ``offered``: the client's
    ``Sec-WebSocket-Protocol`` header."""
    event = load_event("notification_service_websocket_connect_lambda_authorizer")
    api_id, stage = _websocket_api(service)
    host = f"{api_id}.execute-api.{service.emulator.region}.amazonaws.com"
    event["headers"]["Host"] = host
    event["multiValueHeaders"]["Host"] = [host]
    if offered is not None:
        event["headers"]["Sec-WebSocket-Protocol"] = offered
        event["multiValueHeaders"]["Sec-WebSocket-Protocol"] = [offered]
    context = event["requestContext"]
    context.update(apiId=api_id, stage=stage, domainName=host, connectionId=connection_id)
    context["connectedAt"] = context["requestTimeEpoch"] = int(time.time() * 1000)
    if user_id is None:
        del context["authorizer"]
    else:
        context["authorizer"] = {"principalId": user_id, "integrationLatency": 23}
    return event


def _route_event(service: Service, route: str, connection_id: str) -> dict[str, Any]:
    event = load_event(f"notification_service_websocket_{route}")
    event["requestContext"].update(apiId=_websocket_api(service)[0], connectionId=connection_id)
    return event


def _registration_event(
    service: Service, route_key: str, path: dict[str, str], sub: str | None, body: Any = None
) -> dict[str, Any]:
    """An HTTP API (payload 2.0) request to the deployed registration API, with the JWT claims of ``sub``
    (API Gateway validated the token), or without an authorizer at all (``sub`` None)."""
    fixture = (
        "notification_service_registration_put_device"
        if sub
        else "notification_service_registration_no_authorizer"
    )
    event = load_event(fixture)
    method, template = route_key.split(" ", 1)
    raw_path = template
    for name, value in path.items():
        raw_path = raw_path.replace(f"{{{name}}}", value)
    event.update(routeKey=route_key, rawPath=raw_path, pathParameters=path)
    context = event["requestContext"]
    context.update(routeKey=route_key)
    context["http"].update(method=method, path=raw_path)
    if sub:
        context["authorizer"]["jwt"]["claims"]["sub"] = sub
        context["authorizer"]["jwt"]["claims"]["username"] = sub
    if body is not None:
        event["body"] = json.dumps(body)
    return event


class Realtime:
    """Browser tabs and phones of the deployed service's users, driven through the deployed functions."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.connections = service.emulator.connections

    def invoke(self, role: str, event: dict[str, Any]) -> dict[str, Any]:
        result = self.service.lambda_service.invoke_sync(self.service.function(role), event)
        assert result.succeeded, result.error
        return dict(result.result)

    def open_tab(self, user_id: str) -> str:
        """A browser tab of ``user_id``: ``$connect`` (admitted by the authorizer) answered 200, so API
        Gateway keeps it open."""
        connection_id = _connection_id()
        answer = self.invoke("websocket_connections", _connect_event(self.service, connection_id, user_id))
        assert answer == {"statusCode": 200}
        self.connections.open(connection_id)
        return connection_id

    def device_request(self, method: str, user_id: str, platform: str, token: str) -> dict[str, Any]:
        """The answer to ``PUT`` or ``DELETE /devices/{platform}/{token}`` by ``user_id``."""
        return self.invoke(
            "registration_api",
            _registration_event(
                self.service,
                f"{method} /devices/{{platform}}/{{token}}",
                {"platform": platform, "token": token},
                user_id,
            ),
        )

    def register(self, user_id: str, platform: str, token: str) -> Device:
        answer = self.device_request("PUT", user_id, platform, token)
        assert answer["statusCode"] == 200, answer
        item = json.loads(answer["body"])
        assert (item["user_id"], item["platform"], item["token"]) == (user_id, platform, token)
        return Device(platform, token, item["endpoint_arn"])

    def connection_item(self, connection_id: str) -> dict[str, Any] | None:
        found = self.service.emulator.client("dynamodb").get_item(
            TableName=self.service.table("connections"), Key={"connection_id": {"S": connection_id}}
        )
        return found.get("Item")

    def device_keys(self, user_id: str) -> set[str]:
        items = self.service.emulator.client("dynamodb").query(
            TableName=self.service.table("device_tokens"),
            KeyConditionExpression="user_id = :u",
            ExpressionAttributeValues={":u": {"S": user_id}},
        )["Items"]
        return {item["device_key"]["S"] for item in items}


@pytest.fixture(scope="module")
def realtime(service: Service) -> Realtime:
    return Realtime(service)


def _apns_token() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex  # 64 hex, as APNs issues them


def _fcm_token() -> str:
    return f"{uuid.uuid4().hex[:22]}:APA91b{uuid.uuid4().hex}{uuid.uuid4().hex}"


def test_push_platform_applications_were_created_from_the_secrets(service: Service) -> None:
    applications = service.outputs["push_platform_application_arns"]
    prefix = f"arn:aws:sns:{service.emulator.region}:{ACCOUNT_ID}:app"
    assert applications == {"apns": f"{prefix}/APNS/{NAME}-apns", "fcm": f"{prefix}/GCM/{NAME}-fcm"}
    sns = service.emulator.client("sns")
    apns = sns.get_platform_application_attributes(PlatformApplicationArn=applications["apns"])["Attributes"]
    assert (apns["PlatformPrincipal"], apns["ApplePlatformTeamID"]) == ("ABC123DEFG", "TEAM123456")
    fcm = sns.get_platform_application_attributes(PlatformApplicationArn=applications["fcm"])["Attributes"]
    assert json.loads(fcm["PlatformCredential"])["project_id"] == "example-shop"
    # The credentials reached SNS through the provisioner only: Terraform's state holds the secrets' ARNs.
    state = json.dumps(service.deployed.replan().document.get("prior_state", {}))
    assert "fake-apns-signing-key" not in state and "fake-fcm-key" not in state
    worker = service.emulator.client("lambda").get_function_configuration(
        FunctionName=service.function("websocket_worker")
    )
    endpoint = worker["Environment"]["Variables"]["WEBSOCKET_MANAGEMENT_ENDPOINT"]
    api_id, stage = _websocket_api(service)
    assert endpoint == f"https://{api_id}.execute-api.{service.emulator.region}.amazonaws.com/{stage}"
    assert endpoint == service.outputs["websocket_management_endpoint"]
    assert (
        service.outputs["websocket_url"]
        == f"wss://{api_id}.execute-api.{service.emulator.region}.amazonaws.com/{stage}"
    )


def test_connect_stores_only_the_authorised_user_never_the_query_string(
    service: Service, realtime: Realtime
) -> None:
    user = service.seed_user("ida")
    tab = realtime.open_tab(user.user_id)

    item = realtime.connection_item(tab)
    assert item is not None and item["user_id"]["S"] == user.user_id  # not the query string's "mallory"
    assert int(item["expires_at"]["N"]) - int(time.time()) in range(7200 - 60, 7200 + 1)

    anonymous = _connection_id()
    refused = realtime.invoke("websocket_connections", _connect_event(service, anonymous, None))
    assert refused["statusCode"] == 403 and json.loads(refused["body"])["error"]["code"] == "forbidden"
    assert realtime.connection_item(anonymous) is None

    message = realtime.invoke("websocket_connections", _route_event(service, "default", tab))
    assert message["statusCode"] == 400
    closed = realtime.invoke("websocket_connections", _route_event(service, "disconnect", tab))
    assert closed == {"statusCode": 200} and realtime.connection_item(tab) is None


# --- Finding 5: one identity across channels (the WebSocket user id is the JWT sub) ---------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _signed_token(key: Any, kid: str, claims: dict[str, Any]) -> str:
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415 - only this test signs tokens
    from cryptography.hazmat.primitives.asymmetric import padding  # noqa: PLC0415

    head = _b64url(json.dumps({"kid": kid, "alg": "RS256"}).encode())
    body = _b64url(json.dumps(claims).encode())
    signature = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{_b64url(signature)}"


def test_websocket_identity_is_the_jwt_sub_the_registration_api_and_producers_use(
    service: Service, realtime: Realtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415

    from notification_handlers.service import websocket_authorizer  # noqa: PLC0415

    # The deployed authorizer trusts exactly what the registration API trusts: the example's user pool (its
    # issuer) and app client (the audience).
    lambda_client = service.emulator.client("lambda")
    deployed = lambda_client.get_function_configuration(FunctionName=service.function("websocket_authorizer"))
    environment = deployed["Environment"]["Variables"]
    cognito = service.emulator.client("cognito-idp")
    [pool] = [p for p in cognito.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == f"{NAME}-users"]
    [client] = cognito.list_user_pool_clients(UserPoolId=pool["Id"], MaxResults=60)["UserPoolClients"]
    issuer, audience = environment["JWT_ISSUER"], json.loads(environment["JWT_AUDIENCE"])
    region = service.emulator.region
    assert (issuer, audience) == (
        f"https://cognito-idp.{region}.amazonaws.com/{pool['Id']}",
        [client["ClientId"]],
    )
    assert environment["JWKS_URI"] == f"{issuer}/.well-known/jwks.json"

    # The issuer's keys: the authorizer's one JWKS fetch answered here, for the deployed URI only.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    jwks = {
        "keys": [
            {
                "kty": "RSA",
                "kid": "k1",
                "alg": "RS256",
                "use": "sig",
                "e": _b64url(b"\x01\x00\x01"),
                "n": _b64url(numbers.n.to_bytes(256, "big")),
            }
        ]
    }
    fetched: list[str] = []

    def fetch(uri: str) -> object:
        fetched.append(uri)
        assert uri == environment["JWKS_URI"]
        return jwks

    monkeypatch.setattr(websocket_authorizer, "fetch_jwks", fetch)
    monkeypatch.setattr(websocket_authorizer, "_CACHE", {})

    ann = service.seed_user("ann")
    now = int(time.time())
    claims = {
        "sub": ann.user_id,
        "iss": issuer,
        "aud": audience[0],
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
    }
    api_id, stage = _websocket_api(service)

    def authorize(token: str) -> dict[str, Any]:
        event = load_event("notification_service_websocket_authorizer_request")
        event["methodArn"] = (
            f"arn:aws:execute-api:{service.emulator.region}:{ACCOUNT_ID}:{api_id}/{stage}/$connect"
        )
        event["headers"]["Sec-WebSocket-Protocol"] = f"notifications, {token}"
        event["requestContext"].update(apiId=api_id, stage=stage, connectionId=_connection_id())
        return realtime.invoke("websocket_authorizer", event)

    # Ann's token: admitted, principalId = her sub; the connection is stored under it.
    admitted = authorize(_signed_token(key, "k1", claims))
    assert admitted["principalId"] == ann.user_id
    assert admitted["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    tab = _connection_id()
    answer = realtime.invoke(
        "websocket_connections",
        _connect_event(service, tab, admitted["principalId"], offered="notifications, <the token>"),
    )
    assert answer == {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "notifications"}}
    realtime.connections.open(tab)
    item = realtime.connection_item(tab)
    assert item is not None and item["user_id"]["S"] == ann.user_id

    # The registration API sees the same user (the JWT sub), and a producer addresses her by it: both reach
    # her, the tab and the device.
    device = realtime.register(ann.user_id, "fcm", _fcm_token())
    notification = _key()
    service.put("order_shipped", _order([ann.user_id], notification))
    service.deliver()
    assert [m["notification_id"] for m in realtime.connections.messages(tab)] == [_id(notification)]
    assert len(endpoint_deliveries(device.endpoint_arn)) == 1

    # A forged token (another key under the same kid, claiming Ann's sub) is denied: API Gateway then never
    # calls the connections function, and nothing is stored.
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    denied = authorize(_signed_token(forger, "k1", claims))
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert denied["principalId"] != ann.user_id
    assert (
        authorize(_signed_token(key, "k1", {**claims, "aud": "another-app"}))["policyDocument"]["Statement"][
            0
        ]["Effect"]
        == "Deny"
    )
    stored = service.emulator.client("dynamodb").query(
        TableName=service.table("connections"),
        IndexName="by_user",
        KeyConditionExpression="user_id = :u",
        ExpressionAttributeValues={":u": {"S": ann.user_id}},
    )["Items"]
    assert [i["connection_id"]["S"] for i in stored] == [tab]
    assert fetched == [environment["JWKS_URI"]], "one fetch, then the cached keys"


def test_unauthenticated_registration_is_rejected_and_stores_nothing(
    service: Service, realtime: Realtime
) -> None:
    token = _fcm_token()
    event = _registration_event(
        service, "PUT /devices/{platform}/{token}", {"platform": "fcm", "token": token}, None
    )
    assert "authorizer" not in event["requestContext"]

    answer = realtime.invoke("registration_api", event)

    assert answer["statusCode"] == 403
    assert json.loads(answer["body"])["error"]["code"] == "forbidden"
    sns = service.emulator.client("sns")
    endpoints = sns.list_endpoints_by_platform_application(
        PlatformApplicationArn=service.outputs["push_platform_application_arns"]["fcm"]
    )["Endpoints"]
    assert token not in {e["Attributes"]["Token"] for e in endpoints}


# --- Verification-code brute force, mail bombing, suppressed addresses ------

VERIFY_CODE = re.compile(r"code is ([0-9A-Z]{4}-[0-9A-Z]{4})\.")


class Registration:
    """One user of the deployed registration API, on a clock the test moves (the handler runs in this
    process: its ``_now`` is patched, so cooldowns and days pass without waiting)."""

    def __init__(self, service: Service, realtime: Realtime, clock: list[datetime], user_id: str) -> None:
        self.service, self.realtime, self.clock, self.user_id = service, realtime, clock, user_id

    def call(self, route_key: str, address: str, body: Any = None) -> dict[str, Any]:
        event = _registration_event(self.service, route_key, {"address": address}, self.user_id, body)
        answer = self.realtime.invoke("registration_api", event)
        answer["error"] = json.loads(answer["body"])["error"]["code"] if answer["statusCode"] >= 400 else None
        return answer

    def subscribe(self, address: str) -> dict[str, Any]:
        return self.call("PUT /email-subscriptions/{address}", address)

    def verify(self, address: str, code: str) -> dict[str, Any]:
        return self.call("POST /email-subscriptions/{address}/verify", address, {"code": code})

    def unsubscribe(self, address: str) -> dict[str, Any]:
        return self.call("DELETE /email-subscriptions/{address}", address)

    def advance(self, seconds: int) -> None:
        self.clock[0] += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    # Today at 09:00 UTC: the test moves minutes, never across midnight (the counters' day window).
    start = [datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)]
    monkeypatch.setattr(edge, "now", lambda: start[0])
    return start


def test_verification_brute_force_and_mail_bombing_are_capped_across_delete_and_re_add(
    service: Service, realtime: Realtime, outbox: Outbox, clock: list[datetime]
) -> None:
    mallory = Registration(service, realtime, clock, f"u-mallory-{uuid.uuid4().hex[:8]}")
    victim = f"victim.{uuid.uuid4().hex[:8]}@example.org"
    answers: list[dict[str, Any]] = []
    # Each cycle: PUT (a code to the victim), use up the code's attempts, DELETE, wait out the cooldown.
    for _cycle in range(7):
        answers.append(mallory.subscribe(victim))
        answers += [mallory.verify(victim, "0000-0000") for _ in range(5)]
        assert mallory.unsubscribe(victim)["statusCode"] == 204
        mallory.advance(61)

    mails = [m for m in outbox.new() if m.to == [victim]]
    assert len(mails) == 5, "5 codes per address per day, across delete and re-add"
    assert all(VERIFY_CODE.search(m.text or "") for m in mails), "8-character codes"
    assert {m.configuration_set for m in mails} == {f"{NAME}-verification"}, "its own configuration set"
    assert sum(1 for a in answers if a["error"] == "invalid_code") == 10, "10 guesses per address per day"
    refused = [a for a in answers if a["statusCode"] == 429]
    assert len(refused) == 3 * 5 + 2, "every guess of cycles 3-5, and the PUTs of cycles 6 and 7"
    assert all(a["error"] == "too_many_requests" and int(a["headers"]["retry-after"]) > 0 for a in refused)
    day = clock[0].strftime("%Y-%m-%d")
    counters = {
        key: service.emulator.client("dynamodb").get_item(
            TableName=service.table("limits"), Key={"limit_key": {"S": key}}
        )["Item"]
        for key in (f"verify-send#{victim}#{day}", f"verify-guess#{victim}#{day}")
    }
    assert {key: item["count"]["N"] for key, item in counters.items()} == {
        f"verify-send#{victim}#{day}": "5",
        f"verify-guess#{victim}#{day}": "10",
    }
    assert all(int(item["expires_at"]["N"]) > clock[0].timestamp() for item in counters.values()), "TTL set"


def test_suppressed_address_gets_no_verification_code(
    service: Service, realtime: Realtime, outbox: Outbox, clock: list[datetime]
) -> None:
    bounced = f"bounced.{uuid.uuid4().hex[:8]}@example.org"
    service.emulator.client("dynamodb").put_item(  # as the feedback function writes a notification's bounce
        TableName=service.table("email_suppressions"),
        Item={
            "address": {"S": bounced},
            "reason": {"S": "bounce"},
            "suppressed_at": {"S": "2026-11-01T00:00:00Z"},
        },
    )
    user = Registration(service, realtime, clock, f"u-gus-{uuid.uuid4().hex[:8]}")

    answer = user.subscribe(bounced)
    fresh = user.subscribe(f"fresh.{uuid.uuid4().hex[:8]}@example.org")

    assert answer["statusCode"] == fresh["statusCode"] == 200
    body = json.loads(answer["body"])
    assert body["status"] == "pending" and set(body) == set(json.loads(fresh["body"])), "indistinguishable"
    assert [m.to for m in outbox.new()] == [[json.loads(fresh["body"])["address"]]], (
        "no code to the suppressed"
    )


def test_complaint_about_a_verification_mail_blocks_verification_mail_only(
    service: Service, realtime: Realtime, outbox: Outbox, clock: list[datetime]
) -> None:
    hal = service.seed_user("hal")  # hal.address is verified and gets hal's notifications
    complaint = json.loads(
        load_event("notification_service_ses_complaint_verification")["Records"][0]["Sns"]["Message"]
    )
    complaint["complaint"]["complainedRecipients"][0]["emailAddress"] = hal.address
    complaint["mail"]["destination"] = [hal.address]
    complaint["complaint"]["timestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    complaint["mail"]["tags"]["ses:configuration-set"] = [f"{NAME}-verification"]
    service.emulator.client("sns").publish(
        TopicArn=service.outputs["ses_events_topic_arn"], Message=json.dumps(complaint)
    )

    [feedback] = service.lambda_service.run_pending()

    assert feedback.succeeded, feedback.error
    dynamodb = service.emulator.client("dynamodb")
    assert "Item" not in dynamodb.get_item(
        TableName=service.table("email_suppressions"), Key={"address": {"S": hal.address}}
    ), "not suppressed for every user"
    block = dynamodb.get_item(
        TableName=service.table("limits"), Key={"limit_key": {"S": f"verify-blocked#{hal.address}"}}
    )["Item"]
    assert block["reason"]["S"] == "complaint"
    assert int(block["expires_at"]["N"]) - int(time.time()) in range(29 * 86400, 31 * 86400), "30 days"

    mallory = Registration(service, realtime, clock, f"u-mallory-{uuid.uuid4().hex[:8]}")
    assert mallory.subscribe(hal.address)["statusCode"] == 200
    assert outbox.new() == [], "no verification mail while the block lasts"
    key = _key()
    service.put("order_shipped", _order([hal.user_id], key))
    service.deliver()
    assert [m.to for m in outbox.new()] == [[hal.address]], "hal's notifications still arrive"


def test_one_notification_reaches_every_tab_and_device_of_its_user_and_no_one_else(
    service: Service, realtime: Realtime, outbox: Outbox
) -> None:
    ann, ben = service.seed_user("ann"), service.seed_user("ben")
    ann_tabs = [realtime.open_tab(ann.user_id), realtime.open_tab(ann.user_id)]
    ben_tab = realtime.open_tab(ben.user_id)
    apns = realtime.register(ann.user_id, "apns", _apns_token())
    fcm = realtime.register(ann.user_id, "fcm", _fcm_token())
    applications = service.outputs["push_platform_application_arns"]
    assert apns.endpoint_arn.startswith(applications["apns"].replace(":app/", ":endpoint/") + "/")
    assert fcm.endpoint_arn.startswith(applications["fcm"].replace(":app/", ":endpoint/") + "/")
    key = _key()

    service.put("order_shipped", _order([ann.user_id], key))
    service.deliver()

    assert all(b.invocation.succeeded and b.returned == [] for r in service.realtime.values() for b in r)
    frame = {
        "notification_id": _id(key),
        "type": "order_shipped",
        "body": "Order A-1001 has shipped with DHL & Co <Express>.",
    }
    assert [realtime.connections.messages(tab) for tab in ann_tabs] == [[frame], [frame]]
    assert realtime.connections.messages(ben_tab) == []
    alert = {"title": "Order A-1001 shipped", "body": "On its way with DHL & Co <Express>."}
    assert [json.loads(m) for m in endpoint_deliveries(apns.endpoint_arn)] == [
        {"aps": {"alert": alert, "badge": 1, "sound": "default"}, "notification_id": _id(key)}
    ]
    assert [json.loads(m) for m in endpoint_deliveries(fcm.endpoint_arn)] == [
        {
            "fcmV1Message": {
                "message": {
                    "notification": alert,
                    "data": {"notification_id": _id(key), "notification_type": "order_shipped"},
                }
            }
        }
    ]
    [mail] = outbox.new()
    assert mail.to == [ann.address] and mail.subject == "Your order A-1001 has shipped"
    expected = {
        f"{ann.user_id}#email#{ann.address}": "sent",
        f"{ann.user_id}#websocket#{ann_tabs[0]}": "sent",
        f"{ann.user_id}#websocket#{ann_tabs[1]}": "sent",
        f"{ann.user_id}#push#{apns.target}": "sent",
        f"{ann.user_id}#push#{fcm.target}": "sent",
        f"{ann.user_id}#sms#-": "no_phone_number",
    }
    assert {k: v["status"] for k, v in service.delivery_log(_id(key)).items()} == expected
    # The user reads the same rows through the registration API; another user sees none of them.
    path = {"notification_id": _id(key)}
    route = "GET /notifications/{notification_id}/deliveries"
    mine = realtime.invoke("registration_api", _registration_event(service, route, path, ann.user_id))
    assert mine["statusCode"] == 200
    rows = json.loads(mine["body"])["deliveries"]
    assert sorted((r["channel"], r["target"], r["status"]) for r in rows) == sorted(
        (k.split("#", 2)[1], k.split("#", 2)[2], v) for k, v in expected.items()
    )
    theirs = realtime.invoke("registration_api", _registration_event(service, route, path, ben.user_id))
    assert theirs["statusCode"] == 404


def test_stale_connection_and_disabled_endpoint_are_removed(service: Service, realtime: Realtime) -> None:
    cyd = service.seed_user("cyd")
    live, stale = realtime.open_tab(cyd.user_id), realtime.open_tab(cyd.user_id)
    realtime.connections.close(stale)  # the tab crashed: no $disconnect, API Gateway answers 410 for it
    good = realtime.register(cyd.user_id, "fcm", _fcm_token())
    dead = realtime.register(cyd.user_id, "apns", _apns_token())
    sns = service.emulator.client("sns")
    sns.set_endpoint_attributes(
        EndpointArn=dead.endpoint_arn, Attributes={"Enabled": "false"}
    )  # APNs feedback
    key = _key()

    service.put("order_shipped", _order([cyd.user_id], key))
    service.deliver()

    assert len(realtime.connections.messages(live)) == 1
    assert realtime.connection_item(stale) is None and realtime.connection_item(live) is not None
    assert realtime.device_keys(cyd.user_id) == {f"fcm#{good.token}"}
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_endpoint_attributes(EndpointArn=dead.endpoint_arn)
    assert len(endpoint_deliveries(good.endpoint_arn)) == 1
    log = service.delivery_log(_id(key))
    assert {k: (v["status"], v.get("reason")) for k, v in log.items() if "#email#" not in k} == {
        f"{cyd.user_id}#websocket#{live}": ("sent", None),
        f"{cyd.user_id}#websocket#{stale}": ("failed", "connection_gone"),
        f"{cyd.user_id}#push#{good.target}": ("sent", None),
        f"{cyd.user_id}#push#{dead.target}": ("failed", "endpoint_disabled"),
        f"{cyd.user_id}#sms#-": ("no_phone_number", None),
    }


# --- One owner per device token, devices per user capped ------------------------------------


def _endpoint_user(service: Service, endpoint_arn: str) -> str | None:
    attributes = service.emulator.client("sns").get_endpoint_attributes(EndpointArn=endpoint_arn)[
        "Attributes"
    ]
    return attributes.get("CustomUserData")


def test_push_device_takeover_moves_the_token_to_its_last_registrant_only(
    service: Service, realtime: Realtime
) -> None:
    gil, hal = service.seed_user("gil"), service.seed_user("hal")
    token = _fcm_token()
    first = realtime.register(gil.user_id, "fcm", token)

    taken = realtime.register(hal.user_id, "fcm", token)  # the phone changed hands, or hal is an attacker

    assert (
        taken.endpoint_arn == first.endpoint_arn
        and _endpoint_user(service, taken.endpoint_arn) == hal.user_id
    )
    assert realtime.device_keys(gil.user_id) == set(), "the previous owner's row goes in the same transaction"
    assert realtime.device_keys(hal.user_id) == {f"fcm#{token}"}
    owner = service.emulator.client("dynamodb").get_item(
        TableName=service.table("device_owners"),
        Key={"device_key": {"S": f"fcm#{token}"}},
        ConsistentRead=True,
    )["Item"]
    assert owner["user_id"]["S"] == hal.user_id

    to_gil, to_hal = _key(), _key()
    service.put("order_shipped", _order([gil.user_id], to_gil))
    service.deliver()
    assert endpoint_deliveries(taken.endpoint_arn) == [], "a notification to gil reaches no device of hal"
    assert service.delivery_log(_id(to_gil), "push")[f"{gil.user_id}#push#-"]["status"] == "no_device"
    service.put("order_shipped", _order([hal.user_id], to_hal))
    service.deliver()
    assert len(endpoint_deliveries(taken.endpoint_arn)) == 1

    # A row an earlier release left for gil (before ownership items): the worker skips and removes it.
    service.emulator.client("dynamodb").put_item(
        TableName=service.table("device_tokens"),
        Item={
            "user_id": {"S": gil.user_id},
            "device_key": {"S": f"fcm#{token}"},
            "platform": {"S": "fcm"},
            "token": {"S": token},
            "endpoint_arn": {"S": taken.endpoint_arn},
            "updated_at": {"S": "2026-11-01T00:00:00Z"},
        },
    )
    stale = _key()
    service.put("order_shipped", _order([gil.user_id], stale))
    service.deliver()
    assert len(endpoint_deliveries(taken.endpoint_arn)) == 1
    row = service.delivery_log(_id(stale), "push")[f"{gil.user_id}#push#{taken.target}"]
    assert (row["status"], row["reason"]) == ("failed", "device_owned_by_another_user")
    assert realtime.device_keys(gil.user_id) == set()

    # gil's DELETE (a stale app) is 204 and leaves hal's endpoint and row; hal's DELETE removes them.
    assert realtime.device_request("DELETE", gil.user_id, "fcm", token)["statusCode"] == 204
    assert _endpoint_user(service, taken.endpoint_arn) == hal.user_id
    assert realtime.device_keys(hal.user_id) == {f"fcm#{token}"}
    assert realtime.device_request("DELETE", hal.user_id, "fcm", token)["statusCode"] == 204
    assert realtime.device_keys(hal.user_id) == set()
    sns = service.emulator.client("sns")
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_endpoint_attributes(EndpointArn=taken.endpoint_arn)


def test_devices_per_user_are_capped_at_ten_and_a_refusal_creates_no_endpoint(
    service: Service, realtime: Realtime
) -> None:
    ivy = service.seed_user("ivy")
    tokens = [_fcm_token() for _ in range(11)]
    for token in tokens[:10]:
        realtime.register(ivy.user_id, "fcm", token)

    refused = realtime.device_request("PUT", ivy.user_id, "fcm", tokens[10])

    assert refused["statusCode"] == 409
    assert json.loads(refused["body"])["error"]["code"] == "device_limit_reached"
    endpoints = service.emulator.client("sns").list_endpoints_by_platform_application(
        PlatformApplicationArn=service.outputs["push_platform_application_arns"]["fcm"]
    )["Endpoints"]
    assert tokens[10] not in {e["Attributes"]["Token"] for e in endpoints}
    assert len(realtime.device_keys(ivy.user_id)) == 10
    lambda_config = service.emulator.client("lambda").get_function_configuration(
        FunctionName=service.function("registration_api")
    )
    assert lambda_config["Environment"]["Variables"]["MAX_DEVICES_PER_USER"] == "10"

    assert realtime.device_request("DELETE", ivy.user_id, "fcm", tokens[0])["statusCode"] == 204
    assert realtime.register(ivy.user_id, "fcm", tokens[10]).token == tokens[10]


def test_a_user_without_tabs_or_devices_is_logged_not_failed(service: Service) -> None:
    dee = service.seed_user("dee")
    key = _key()

    service.put("order_shipped", _order([dee.user_id], key))
    service.deliver()

    assert {k: v["status"] for k, v in service.delivery_log(_id(key)).items() if "#email#" not in k} == {
        f"{dee.user_id}#websocket#-": "no_connection",
        f"{dee.user_id}#push#-": "no_device",
        f"{dee.user_id}#sms#-": "no_phone_number",
    }


# --- Per-identity limiting of the registration API ---


def test_registration_api_limits_each_user_separately(service: Service, realtime: Realtime) -> None:
    """The stage throttle is one bucket for everyone; the function's per-user counter (limits table)
    refuses the user over their ceiling and nobody else."""
    configuration = service.emulator.client("lambda").get_function_configuration(
        FunctionName=service.function("registration_api")
    )
    ceiling = int(configuration["Environment"]["Variables"]["REQUESTS_PER_USER_PER_MINUTE"])
    greedy, patient = f"greedy-{uuid.uuid4().hex}", f"patient-{uuid.uuid4().hex}"

    def get_preferences(user_id: str) -> dict[str, Any]:
        event = _registration_event(service, "GET /preferences", {}, user_id)
        return realtime.invoke("registration_api", event)

    if time.time() % 60 > 40:  # the requests below must fall into one one-minute window
        time.sleep(60 - time.time() % 60)
    window = int(time.time() // 60)
    statuses = [get_preferences(greedy)["statusCode"] for _ in range(ceiling)]
    refused = get_preferences(greedy)
    other = get_preferences(patient)
    assert int(time.time() // 60) == window, "the test outran its window: rerun"

    assert statuses == [200] * ceiling
    assert refused["statusCode"] == 429
    assert json.loads(refused["body"])["error"]["code"] == "too_many_requests"
    assert 1 <= int(refused["headers"]["retry-after"]) <= 60
    assert other["statusCode"] == 200, "one user's requests do not spend another user's allowance"
    counter = service.emulator.client("dynamodb").get_item(
        TableName=service.table("limits"), Key={"limit_key": {"S": f"requests#{greedy}#{window * 60}"}}
    )["Item"]
    assert int(counter["count"]["N"]) == ceiling
    assert int(counter["expires_at"]["N"]) > time.time()


# --- chat -----------------------------------------------------------------------------------------------


def _chat(service: Service, webhook: WebhookServer) -> tuple[list[BatchResult], int]:
    """Route what is pending, then run the chat worker until its queue drains; (its batches, how many requests
    the webhook had before)."""
    seen = len(webhook.received)
    service.deliver()
    return service.poller.drain(service.function("chat_worker")), seen


def _posted(webhook: WebhookServer, seen: int, notification_id: str) -> list[dict[str, Any]]:
    return [r.json() for r in webhook.new(seen) if r.json().get("notification_id") == notification_id]


@pytest.fixture
def webhook(service: Service, chat_webhook: WebhookServer) -> WebhookServer:
    chat_webhook.replies.clear()
    _chat(service, chat_webhook)  # nothing stale from another test
    return chat_webhook


def test_chat_message_is_posted_once_per_notification_and_target_not_per_recipient(
    service: Service, webhook: WebhookServer
) -> None:
    ivy, jon = service.seed_user("ivy", locale="de"), service.seed_user("jon")
    key = _key()
    service.put("order_shipped", _order([ivy.user_id, jon.user_id], key))
    service.put("order_shipped", _order([ivy.user_id, jon.user_id], key))  # the producer's retry

    batches, seen = _chat(service, webhook)

    assert all(b.returned == [] for b in batches)
    [posted] = _posted(webhook, seen, _id(key))
    assert [r.path for r in webhook.new(seen)] == ["/hooks/ops"]  # alerts' swapped secret is never called
    # Plain JSON for an HTTPS endpoint, in the type's fallback locale, the producer's data as sent.
    assert posted == {
        "notification_id": _id(key),
        "notification_type": "order_shipped",
        "target": "ops",
        "created_at": posted["created_at"],
        "title": "Order A-1001 shipped",
        "text": "Order A-1001 left the warehouse with DHL & Co <Express>.",
    }
    log = {k: (v["status"], v.get("reason")) for k, v in service.delivery_log(_id(key), "chat").items()}
    assert log == {
        "-#chat#ops": ("sent", None),
        "-#chat#alerts": ("failed", "url_refused:host_not_of_platform"),
    }
    # Chat rows belong to no user: "-" is never a user id, so no registration API caller can read them.
    assert {v["user_id"] for v in service.delivery_log(_id(key), "chat").values()} == {"-"}


def test_chat_webhook_4xx_is_failed_for_good_while_429_and_5xx_are_retried(
    service: Service, webhook: WebhookServer
) -> None:
    kim = service.seed_user("kim")
    refused, throttled = _key(), _key()
    webhook.replies.append(Reply(404, b"channel_not_found"))
    service.put("order_shipped", _order([kim.user_id], refused))
    _, seen = _chat(service, webhook)
    assert len(_posted(webhook, seen, _id(refused))) == 1  # not retried
    assert service.delivery_log(_id(refused), "chat")["-#chat#ops"]["reason"] == "http_404:channel_not_found"
    assert service.delivery_log(_id(refused), "chat")["-#chat#ops"]["status"] == "failed"

    webhook.replies.extend([Reply(429, b"rate_limited", {"Retry-After": "1"}), Reply(503)])
    service.put("order_shipped", _order([kim.user_id], throttled))
    batches, seen = _chat(service, webhook)

    assert len(_posted(webhook, seen, _id(throttled))) == 3  # 429, 503, then 200
    assert [len(b.returned) for b in batches if b.returned] == [1, 1]
    assert service.delivery_log(_id(throttled), "chat")["-#chat#ops"]["status"] == "sent"
    assert service.receive_all(service.outputs["dlq_urls"]["chat"]) == []


def test_chat_webhook_failing_every_time_is_dead_lettered_without_a_row(
    service: Service, webhook: WebhookServer
) -> None:
    lou = service.seed_user("lou")
    key = _key()
    webhook.replies.extend([Reply(500)] * MAX_RECEIVE_COUNT)
    service.put("order_shipped", _order([lou.user_id], key))

    batches, seen = _chat(service, webhook)

    assert len([b for b in batches if b.returned]) == MAX_RECEIVE_COUNT
    assert len(_posted(webhook, seen, _id(key))) == MAX_RECEIVE_COUNT
    dead = [json.loads(m["Body"]) for m in service.receive_all(service.outputs["dlq_urls"]["chat"])]
    assert [(m["notification_id"], m["target"], m["user_id"]) for m in dead] == [(_id(key), "ops", "-")]
    # A transient failure writes no row; alerts' refusal is final at once.
    assert {k: v["status"] for k, v in service.delivery_log(_id(key), "chat").items()} == {
        "-#chat#alerts": "failed"
    }


# --- SMS: a number verified by a code sent to it, opt-outs honoured ----------------------------------

SMS_CODE = re.compile(r"code is ([0-9A-Z]{4}-[0-9A-Z]{4})\.")


def _texts_to(emulator: Emulator, number: str) -> list[str]:
    """What SNS (the emulator, in this process) accepted for ``number``: Publish with PhoneNumber."""
    return [
        text for to, text in sns_backends[ACCOUNT_ID][emulator.region].sms_messages.values() if to == number
    ]


def _phone(
    service: Service, realtime: Realtime, route_key: str, user_id: str, number: str, body: Any = None
) -> dict[str, Any]:
    path = {"phone_number": number} if "{phone_number}" in route_key else {}
    answer = realtime.invoke("registration_api", _registration_event(service, route_key, path, user_id, body))
    answer["json"] = json.loads(answer["body"]) if answer["body"] else None
    return answer


def _number(prefix: str = "+491511") -> str:
    return prefix + "".join(str(int(c, 16) % 10) for c in uuid.uuid4().hex[:7])


def test_sms_is_sent_to_the_number_its_user_verified_and_nobody_else_can_claim_it(
    service: Service, realtime: Realtime, clock: list[datetime]
) -> None:
    eve, mallory = service.seed_user("eve", locale="de"), service.seed_user("mallory")
    number = _number()

    pending = _phone(service, realtime, "PUT /phone-number/{phone_number}", eve.user_id, number)
    assert pending["statusCode"] == 200 and pending["json"]["pending"]["phone_number"] == number, pending
    [text] = _texts_to(service.emulator, number)
    code = SMS_CODE.search(text)
    assert code, text
    # Mallory asks for the same number: the code goes to Eve's phone, and Mallory cannot guess it.
    clock[0] += timedelta(seconds=61)
    assert (
        _phone(service, realtime, "PUT /phone-number/{phone_number}", mallory.user_id, number)["statusCode"]
        == 200
    )
    guess = _phone(
        service,
        realtime,
        "POST /phone-number/{phone_number}/verify",
        mallory.user_id,
        number,
        {"code": "0000-0000"},
    )
    assert (guess["statusCode"], guess["json"]["error"]["code"]) == (422, "invalid_code")
    verified = _phone(
        service,
        realtime,
        "POST /phone-number/{phone_number}/verify",
        eve.user_id,
        number,
        {"code": code.group(1)},
    )
    assert verified["statusCode"] == 200 and verified["json"]["status"] == "verified", verified

    key = _key()
    service.put("order_shipped", _order([eve.user_id, mallory.user_id], key))
    service.deliver()

    assert all(b.invocation.succeeded and b.returned == [] for b in service.realtime["sms_worker"])
    assert _texts_to(service.emulator, number)[-1] == (
        f"Ihre Bestellung A-1001 ist mit DHL & Co <Express> unterwegs: {TRACKING}"
    )
    assert len(_texts_to(service.emulator, number)) == 3  # two codes, one notification (to Eve only)
    log = {k: v["status"] for k, v in service.delivery_log(_id(key), "sms").items()}
    [eve_row] = [k for k in log if k.startswith(f"{eve.user_id}#sms#")]
    assert log == {eve_row: "sent", f"{mallory.user_id}#sms#-": "no_phone_number"}
    assert number not in eve_row and eve_row.endswith(number[-2:] + "#" + eve_row.rsplit("#", 1)[1])
    # Eve removes her number: the next notification is not sent by SMS.
    assert _phone(service, realtime, "DELETE /phone-number", eve.user_id, number)["statusCode"] == 204
    after = _key()
    service.put("order_shipped", _order([eve.user_id], after))
    service.deliver()
    assert len(_texts_to(service.emulator, number)) == 3
    assert service.delivery_log(_id(after), "sms")[f"{eve.user_id}#sms#-"]["status"] == "no_phone_number"


def test_sms_opted_out_number_gets_nothing_and_is_logged(
    service: Service, realtime: Realtime, clock: list[datetime]
) -> None:
    fay = service.seed_user("fay")
    opted_out = _number("+1415555")[:-2] + "99"  # the emulator's opt-out list: numbers ending in 99

    # No code for a number on the opt-out list (the answer does not tell who asked that it opted out).
    asked = _phone(service, realtime, "PUT /phone-number/{phone_number}", fay.user_id, opted_out)
    assert asked["statusCode"] == 200 and asked["json"]["pending"]["phone_number"] == opted_out
    assert _texts_to(service.emulator, opted_out) == []
    # Fay verified the number before she replied STOP (the item as the API writes it on verification).
    table = service.table("phone_numbers")
    dynamodb = service.emulator.client("dynamodb")
    dynamodb.put_item(
        TableName=table,
        Item={
            "phone_key": {"S": f"user#{fay.user_id}"},
            "phone_number": {"S": opted_out},
            "status": {"S": "verified"},
            "verified_at": {"S": "2026-11-01T00:00:00Z"},
        },
    )
    dynamodb.put_item(
        TableName=table, Item={"phone_key": {"S": f"number#{opted_out}"}, "user_id": {"S": fay.user_id}}
    )
    key = _key()

    service.put("order_shipped", _order([fay.user_id], key))
    service.deliver()

    assert _texts_to(service.emulator, opted_out) == []
    [(row_key, row)] = service.delivery_log(_id(key), "sms").items()
    assert row_key.startswith(f"{fay.user_id}#sms#+14") and opted_out not in row_key
    assert (row["status"], row["reason"]) == ("suppressed_opted_out", "opted_out")
    assert [m for m in service.receive_all(service.outputs["dlq_urls"]["sms"])] == []


def test_sms_roles_send_to_phone_numbers_only(emulator: Emulator, deployed: DeployedExample) -> None:
    statements = deployed_statements(emulator, created_since(deployed.before, inventory(emulator)))
    senders = {
        s.policy
        for s in statements
        if s.effect == "Allow" and "sns:Publish" in s.actions and "*" in s.resources
    }
    denied = {
        s.policy
        for s in statements
        if s.effect == "Deny" and s.actions == ("sns:Publish",) and s.resources == ("arn:aws:sns:*:*:*",)
    }
    assert len(senders) == 2 and senders == denied  # the SMS worker and the registration API (codes)
    assert all(f"{NAME}-sms-worker" in p or f"{NAME}-registration-api" in p for p in senders)


# --- Channel fallback and the channel kill switch --------------------------------------------------------


def _operator_runs(service: Service, command: str) -> None:
    """An operator pastes one line of the output channel_switch_commands; it runs here against the
    emulator (the table, region, key and item the AWS CLI sends), then the switch cache expires."""
    argv = shlex.split(command)
    assert argv[:2] == ["aws", "dynamodb"], command
    options = dict(zip(argv[3::2], argv[4::2], strict=True))
    assert options["--table-name"] == service.table("catalog")
    assert options["--region"] == service.emulator.region
    dynamodb = service.emulator.client("dynamodb")
    if argv[2] == "put-item":
        dynamodb.put_item(TableName=options["--table-name"], Item=json.loads(options["--item"]))
    else:
        assert argv[2] == "delete-item", command
        dynamodb.delete_item(TableName=options["--table-name"], Key=json.loads(options["--key"]))
    time.sleep(SWITCH_REFRESH_SECONDS + 0.2)  # the documented delay: channel_switch_refresh_seconds


def _switch(service: Service, scope: str, action: str) -> str:
    return str(service.outputs["channel_switch_commands"]["switches"][scope][action])


def _account_update(user_ids: list[str], key: str) -> dict[str, Any]:
    return {"recipients": user_ids, "data": {"change": "new password"}, "idempotencyKey": key}


def _log(service: Service, notification_id: str) -> dict[str, tuple[str, str | None]]:
    return {k: (v["status"], v.get("reason")) for k, v in service.delivery_log(notification_id).items()}


def test_fallback_delivers_on_the_phone_when_there_is_one_else_by_email(
    service: Service, realtime: Realtime, outbox: Outbox
) -> None:
    ann, ben = service.seed_user("ann"), service.seed_user("ben")
    phone = realtime.register(ann.user_id, "apns", _apns_token())  # ben has no device
    key = _key()

    service.put("account_update", _account_update([ann.user_id, ben.user_id], key), IDENTITY)
    service.deliver()

    alerts = [json.loads(m)["aps"]["alert"] for m in endpoint_deliveries(phone.endpoint_arn)]
    assert alerts == [{"title": "Account changed", "body": "new password"}]
    [mail] = outbox.new()  # ann has an address too: exactly one fallback channel each
    assert mail.to == [ben.address] and mail.subject == "Your account changed"
    assert _log(service, _id(key, "account_update", IDENTITY)) == {
        f"{ann.user_id}#websocket#-": ("no_connection", None),
        f"{ann.user_id}#push#{phone.target}": ("sent", None),
        f"{ben.user_id}#websocket#-": ("no_connection", None),
        f"{ben.user_id}#email#-": ("fallback_used", "skipped push: unreachable"),
        f"{ben.user_id}#email#{ben.address}": ("sent", None),
    }


def test_kill_switch_stops_one_types_email_queued_or_new_within_seconds_and_reenabling_restores(
    service: Service, outbox: Outbox
) -> None:
    cy = service.seed_user("cy")
    queued, new, alert_key, after = _key(), _key(), _key(), _key()
    service.put("order_shipped", _order([cy.user_id], queued))
    service.poller.drain(service.function("router"))  # in the email queue, not sent yet

    _operator_runs(service, _switch(service, "email#order_shipped", "disable"))
    try:
        service.put("order_shipped", _order([cy.user_id], new))
        alert = {"event": "New sign-in", "occurred_at": "2026-11-24T10:00:00Z", "location": "Berlin"}
        service.put(
            "security_alert",
            {"recipients": [cy.user_id], "data": alert, "idempotencyKey": alert_key},
            IDENTITY,
        )
        service.deliver()

        # Only the other type's mail: the queued message stopped in the worker, the new one in the router.
        assert [m.subject for m in outbox.new()] == ["Security alert: New sign-in"]
        disabled = ("suppressed_channel_disabled", "disabled for this type")
        assert _log(service, _id(queued))[f"{cy.user_id}#email#-"] == disabled
        assert _log(service, _id(new))[f"{cy.user_id}#email#-"] == disabled
        assert (
            _log(service, _id(new))[f"{cy.user_id}#websocket#-"][0] == "no_connection"
        )  # other channels go on
    finally:
        _operator_runs(service, _switch(service, "email#order_shipped", "enable"))

    service.put("order_shipped", _order([cy.user_id], after))
    service.deliver()
    [mail] = outbox.new()
    assert mail.to == [cy.address]
    assert _log(service, _id(after))[f"{cy.user_id}#email#{cy.address}"] == ("sent", None)


def test_kill_switch_on_push_everywhere_makes_fallback_skip_to_email(
    service: Service, realtime: Realtime, outbox: Outbox
) -> None:
    dan = service.seed_user("dan")
    phone = realtime.register(dan.user_id, "fcm", _fcm_token())
    key = _key()

    _operator_runs(service, _switch(service, "push", "disable"))
    try:
        service.put("account_update", _account_update([dan.user_id], key), IDENTITY)
        service.deliver()
    finally:
        _operator_runs(service, _switch(service, "push", "enable"))

    assert endpoint_deliveries(phone.endpoint_arn) == []
    [mail] = outbox.new()
    assert mail.to == [dan.address]
    log = _log(service, _id(key, "account_update", IDENTITY))
    assert log[f"{dan.user_id}#push#-"] == ("suppressed_channel_disabled", "disabled globally")
    assert log[f"{dan.user_id}#email#-"] == ("fallback_used", "skipped push: disabled globally")


def test_a_malformed_switch_stops_nothing(service: Service, outbox: Outbox) -> None:
    """An operator's typo (the BOOL written as a string) is ignored and logged: fail open."""
    eve = service.seed_user("eve")
    key = _key()
    item = json.loads(shlex.split(_switch(service, "email", "disable"))[-1])
    item["disabled"] = {"S": "true"}
    service.emulator.client("dynamodb").put_item(TableName=service.table("catalog"), Item=item)
    time.sleep(SWITCH_REFRESH_SECONDS + 0.2)
    try:
        service.put("order_shipped", _order([eve.user_id], key))
        service.deliver()
    finally:
        _operator_runs(service, _switch(service, "email", "enable"))
    [mail] = outbox.new()
    assert mail.to == [eve.address]


# --- The in-app inbox -------------------------------------------------------------------------------


def _inbox(realtime: Realtime, method: str, user_id: str, path: str = "", **query: str) -> dict[str, Any]:
    """A request to the deployed registration API's inbox routes as ``user_id``: the status and the body."""
    route = {"": "/inbox", "count": "/inbox/unread-count", "read-all": "/inbox/read-all"}.get(path)
    parameters: dict[str, str] = {}
    if route is None:  # "<item id>/read" or "<item id>/archive"
        item_id, action = path.rsplit("/", 1)
        route, parameters = f"/inbox/{{item_id}}/{action}", {"item_id": item_id}
    event = _registration_event(realtime.service, f"{method} {route}", parameters, user_id)
    if query:
        event["queryStringParameters"] = query
    answer = realtime.invoke("registration_api", event)
    return {"status": answer["statusCode"], **json.loads(answer["body"] or "{}")}


def test_inbox_item_reaches_its_recipient_only_counts_unread_and_is_pushed_to_the_open_tab(
    service: Service, realtime: Realtime
) -> None:
    ivy, jon = service.seed_user("ivy", locale="de-AT"), service.seed_user("jon")
    ivy_tab, jon_tab = realtime.open_tab(ivy.user_id), realtime.open_tab(jon.user_id)
    key = _key()

    service.put("order_delivered", _order([ivy.user_id], key))
    service.put("order_delivered", _order([ivy.user_id], key))  # a duplicate event: still one item
    service.deliver()

    assert all(b.invocation.succeeded and b.returned == [] for b in service.realtime["inbox_worker"])
    listed = _inbox(realtime, "GET", ivy.user_id)
    assert listed["status"] == 200 and listed["unread_count"] == 1
    [item] = listed["items"]
    assert item["notification_id"] == _id(key, "order_delivered") and item["read"] is False
    assert item["title"] == "Bestellung A-1001 zugestellt" and item["url"] == TRACKING
    # The open tab got the item live; the other user's tab got nothing.
    [frame] = realtime.connections.messages(ivy_tab)
    assert frame == {
        "notification_id": item["notification_id"],
        "type": "order_delivered",
        "inbox_item": item,
    }
    assert realtime.connections.messages(jon_tab) == []
    log = service.delivery_log(_id(key, "order_delivered"), "inbox")
    assert {k: v["status"] for k, v in log.items()} == {f"{ivy.user_id}#inbox#{item['item_id']}": "sent"}

    # Another user's token: none of it is theirs to read, mark or archive.
    assert _inbox(realtime, "GET", jon.user_id) == {"status": 200, "items": [], "unread_count": 0}
    assert _inbox(realtime, "POST", jon.user_id, f"{item['item_id']}/read")["status"] == 404
    assert _inbox(realtime, "POST", jon.user_id, f"{item['item_id']}/archive")["status"] == 404
    assert _inbox(realtime, "GET", ivy.user_id, "count") == {"status": 200, "unread_count": 1}

    # The owner marks it read (twice: counted once), archives it; it leaves the default list.
    assert _inbox(realtime, "POST", ivy.user_id, f"{item['item_id']}/read")["status"] == 200
    assert _inbox(realtime, "POST", ivy.user_id, f"{item['item_id']}/read")["status"] == 200
    assert _inbox(realtime, "GET", ivy.user_id, "count") == {"status": 200, "unread_count": 0}
    assert _inbox(realtime, "POST", ivy.user_id, f"{item['item_id']}/archive")["status"] == 200
    assert _inbox(realtime, "GET", ivy.user_id)["items"] == []
    archived = _inbox(realtime, "GET", ivy.user_id, archived="true")["items"]
    assert [a["item_id"] for a in archived] == [item["item_id"]] and archived[0]["archived"] is True


def test_inbox_read_all_and_bounded_pages_against_the_deployed_api(
    service: Service, realtime: Realtime
) -> None:
    kim = service.seed_user("kim")
    keys = [_key() for _ in range(3)]
    for key in keys:
        service.put("order_delivered", _order([kim.user_id], key))
    service.deliver()

    assert _inbox(realtime, "GET", kim.user_id, "count")["unread_count"] == 3
    first = _inbox(realtime, "GET", kim.user_id, limit="2")
    assert len(first["items"]) == 2 and "next_cursor" in first
    rest = _inbox(realtime, "GET", kim.user_id, limit="2", cursor=first["next_cursor"])
    assert len(rest["items"]) == 1 and "next_cursor" not in rest
    assert _inbox(realtime, "GET", kim.user_id, limit="100000")["status"] == 400
    assert _inbox(realtime, "GET", kim.user_id, cursor="bm90LWEtY3Vyc29y")["status"] == 400
    assert _inbox(realtime, "POST", kim.user_id, "read-all") == {"status": 200, "unread_count": 0}
    assert _inbox(realtime, "GET", kim.user_id, "count")["unread_count"] == 0
    assert all(i["read"] for i in _inbox(realtime, "GET", kim.user_id)["items"])


# --- scheduled and delayed send (docs/notification-service.md, "Scheduled and delayed send") ----------


def _at(delta: timedelta) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + delta


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _schedules(service: Service) -> dict[str, dict[str, Any]]:
    scheduler = service.emulator.client("scheduler")
    group = service.outputs["schedule_group_name"]
    names = [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]]
    return {name: scheduler.get_schedule(GroupName=group, Name=name) for name in names}


def _fire(service: Service, now: datetime) -> list[Fired]:
    """The scheduler stand-in delivers what is due at ``now`` to the ingest queue; then everything drains."""
    fired = fire_due(service.emulator.region, now)
    service.deliver()
    return fired


def test_scheduled_notification_is_sent_once_when_due_and_not_before(
    service: Service, outbox: Outbox
) -> None:
    gus = service.seed_user("gus")
    key, send_at = _key(), _at(timedelta(hours=2))
    detail = {**_order([gus.user_id], key), "sendAt": _stamp(send_at)}
    service.put("order_shipped", detail)
    service.put("order_shipped", detail)  # a duplicate of the scheduled notification

    service.deliver()
    service.put("order_shipped", detail)  # and a later redelivery
    service.deliver()

    assert outbox.new() == []
    name = f"n-{_id(key)[:60]}"
    mine = {n: s for n, s in _schedules(service).items() if n == name}
    assert list(mine) == [name]  # one schedule for the three copies
    schedule = mine[name]
    assert schedule["ScheduleExpression"] == f"at({send_at:%Y-%m-%dT%H:%M:%S})"
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["KmsKeyArn"] == service.outputs["kms_key_arn"]
    target = schedule["Target"]
    assert target["RoleArn"] == service.outputs["scheduler_role_arn"]
    assert target["Arn"] == service.outputs["queue_arns"]["router"]
    assert target["DeadLetterConfig"]["Arn"] == service.outputs["dlq_arns"]["router"]
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}

    assert [f.name for f in _fire(service, send_at - timedelta(minutes=1)) if f.name == name] == []
    assert outbox.new() == []  # not due yet

    assert [f.name for f in _fire(service, send_at) if f.name == name] == [name]
    [mail] = outbox.new()
    assert mail.to == [gus.address] and mail.tags["notification_id"] == _id(key)
    assert name not in _schedules(service)  # deleted after completion
    assert [f.name for f in _fire(service, send_at + timedelta(days=2)) if f.name == name] == []
    assert outbox.new() == []
    assert [v["status"] for v in service.delivery_log(_id(key), "email").values()] == ["sent"]


def test_cancelled_notification_is_never_sent_and_a_producer_cannot_cancel_anothers(
    service: Service, outbox: Outbox
) -> None:
    hal = service.seed_user("hal")
    cancelled, kept, send_at = _key(), _key(), _at(timedelta(hours=5))
    service.put("order_shipped", {**_order([hal.user_id], cancelled), "sendAt": _stamp(send_at)}, SHOP)
    service.put("order_shipped", {**_order([hal.user_id], kept), "sendAt": _stamp(send_at)}, SHOP)
    service.deliver()
    assert {f"n-{_id(cancelled)[:60]}", f"n-{_id(kept)[:60]}"} <= set(_schedules(service))

    service.put(
        "cancel-notification", {"notificationType": "order_shipped", "idempotencyKey": cancelled}, SHOP
    )
    # The marketplace names the shop's key: its request is namespaced by its own source and reaches nothing.
    service.put(
        "cancel-notification", {"notificationType": "order_shipped", "idempotencyKey": kept}, MARKETPLACE
    )
    routed, _ = service.deliver()

    assert routed and all(b.returned == [] for b in routed)
    assert f"n-{_id(cancelled)[:60]}" not in _schedules(service)
    assert f"n-{_id(kept)[:60]}" in _schedules(service)
    _fire(service, send_at)
    [mail] = outbox.new()
    assert mail.tags["notification_id"] == _id(kept)
    assert service.delivery_log(_id(cancelled)) == {}
    assert service.receive_all(service.outputs["dlq_urls"]["router"]) == []


def test_bad_schedules_are_dead_lettered_with_their_reason_while_neighbours_are_delivered(
    service: Service, outbox: Outbox
) -> None:
    ivy = service.seed_user("ivy")
    good = _key()
    bad = {
        "past": {"sendAt": _stamp(_at(-timedelta(hours=1)))},
        "far": {"sendAt": _stamp(_at(timedelta(days=366)))},
        "both": {"sendAt": _stamp(_at(timedelta(hours=1))), "delaySeconds": 60},
        "malformed": {"sendAt": "2027-02-30T10:00:00Z"},
    }
    keys = {label: _key() for label in bad}
    service.put("order_shipped", _order([ivy.user_id], keys["past"]) | bad["past"])
    service.put("order_shipped", _order([ivy.user_id], good, order_id="A-9"))
    for label in ("far", "both", "malformed"):
        service.put("order_shipped", _order([ivy.user_id], keys[label]) | bad[label])

    routed, _ = service.deliver()

    assert all(b.returned == [] for b in routed)
    [mail] = outbox.new()
    assert mail.subject == "Your order A-9 has shipped"
    reasons = {
        json.loads(m["Body"])["detail"]["idempotencyKey"]: m["MessageAttributes"]["reason"]["StringValue"]
        for m in service.receive_all(service.outputs["dlq_urls"]["router"])
    }
    assert reasons.keys() == {keys[label] for label in bad}
    assert "in the past" in reasons[keys["past"]]
    assert "more than 365 days ahead" in reasons[keys["far"]]
    assert "exclude each other" in reasons[keys["both"]]
    assert "detail.sendAt" in reasons[keys["malformed"]]
    assert not {f"n-{_id(k)[:60]}" for k in keys.values()} & set(_schedules(service))


def test_scheduler_role_and_group_are_the_modules_own(service: Service) -> None:
    scheduler = service.emulator.client("scheduler")
    group = scheduler.get_schedule_group(Name=service.outputs["schedule_group_name"])
    assert group["Arn"] == service.outputs["schedule_group_arn"]
    iam = service.emulator.client("iam")
    role = service.outputs["scheduler_role_arn"].split("/")[-1]
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"] == {"aws:SourceArn": service.outputs["schedule_group_arn"]}
    [policy_name] = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    actions = {
        a
        for s in document["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions == {"sqs:SendMessage", "kms:Decrypt", "kms:GenerateDataKey"}


# --- quiet hours (docs/notification-service.md, "Quiet hours") ---------------------------------------------


def _window_around_now(zone: str, minutes_left: int) -> dict[str, str]:
    """A quiet-hours window that began an hour ago in ``zone`` and ends ``minutes_left`` (+ < 1) from now."""
    now = datetime.now(UTC)

    def local(moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M")

    return {"start": local(now - timedelta(hours=1)), "end": local(now + timedelta(minutes=minutes_left + 1))}


def test_quiet_hours_hold_push_and_sms_to_the_window_end_and_deliver_them_once(
    service: Service, outbox: Outbox, realtime: Realtime
) -> None:
    quin = service.seed_user("quin")  # profile time zone Europe/Berlin
    device = realtime.register(quin.user_id, "fcm", _fcm_token())
    tab = realtime.open_tab(quin.user_id)
    window = _window_around_now("Europe/Berlin", 180)
    answer = realtime.invoke(
        "registration_api",
        _registration_event(service, "PUT /preferences", {}, quin.user_id, {"quiet_hours": window}),
    )
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["quiet_hours"] == window, answer
    key, alert_key = _key(), _key()
    service.put("order_shipped", _order([quin.user_id], key))
    alert = {"event": "New sign-in", "occurred_at": "2026-11-24T10:00:00Z", "location": "Berlin"}
    service.put(
        "security_alert", {"recipients": [quin.user_id], "data": alert, "idempotencyKey": alert_key}, IDENTITY
    )
    service.deliver()

    # Now: email, websocket and chat of the order, and the critical alert; push and sms wait.
    assert sorted(m.subject for m in outbox.new()) == [
        "Security alert: New sign-in",
        "Your order A-1001 has shipped",
    ]
    log = service.delivery_log(_id(key))
    assert log[f"{quin.user_id}#websocket#{tab}"]["status"] == "sent"
    assert endpoint_deliveries(device.endpoint_arn) == []
    held = {k: (v["status"], v["reason"]) for k, v in log.items() if v["status"] == "deferred_quiet_hours"}
    assert sorted(held) == [f"{quin.user_id}#push#-", f"{quin.user_id}#sms#-"]
    mine = {name: s for name, s in _schedules(service).items() if s.get("Description", "").endswith(_id(key))}
    assert len(mine) == 2 and all(name.startswith("q-") for name in mine)
    targets = {s["Target"]["Arn"]: s for s in mine.values()}
    assert set(targets) == {service.outputs["queue_arns"]["push"], service.outputs["queue_arns"]["sms"]}
    push = targets[service.outputs["queue_arns"]["push"]]
    assert push["Target"]["DeadLetterConfig"]["Arn"] == service.outputs["dlq_arns"]["push"]
    assert push["Target"]["RoleArn"] == service.outputs["scheduler_role_arn"]
    assert push["ActionAfterCompletion"] == "DELETE" and push["KmsKeyArn"] == service.outputs["kms_key_arn"]
    due = datetime.strptime(push["ScheduleExpression"], "at(%Y-%m-%dT%H:%M:%S)").replace(tzinfo=UTC)
    assert due.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M") == window["end"]
    assert held[f"{quin.user_id}#push#-"] == ("deferred_quiet_hours", f"quiet hours until {_stamp(due)}")

    _fire(service, due - timedelta(minutes=1))
    assert endpoint_deliveries(device.endpoint_arn) == []  # not before the window ends

    fired = [f for f in _fire(service, due) if f.name in mine]
    assert len(fired) == 2
    assert len(endpoint_deliveries(device.endpoint_arn)) == 1
    after = {k: v["status"] for k, v in service.delivery_log(_id(key)).items()}
    assert after[f"{quin.user_id}#push#{device.target}"] == "sent"
    assert (
        after[f"{quin.user_id}#sms#-"] == "no_phone_number"
    )  # the sms reached its worker: quin has no number
    assert not set(mine) & set(_schedules(service))  # deleted after completion

    # Fired again, or the event redelivered: still once.
    _fire(service, due + timedelta(days=1))
    service.put("order_shipped", _order([quin.user_id], key))
    service.deliver()
    assert len(endpoint_deliveries(device.endpoint_arn)) == 1 and outbox.new() == []


def test_a_digest_of_events_in_one_window_is_one_email_listing_them(service: Service, outbox: Outbox) -> None:
    ida = service.seed_user("ida")
    keys = [_key() for _ in range(4)]
    products = ["Lamp", "Desk <oak>", "Chair", "Rug"]
    for key, product in zip(keys, products, strict=True):
        service.put("price_drop", _price_drop(ida.user_id, key, product))
    service.put("price_drop", _price_drop(ida.user_id, keys[0], products[0]))  # a duplicate: one item
    service.deliver()
    assert [m for m in outbox.new() if m.to == [ida.address]] == []

    start = int(datetime.now(UTC).timestamp()) // DAY * DAY
    end = datetime.fromtimestamp(start + DAY, UTC)
    flush_id = hashlib.sha256(f"digest\nprice_drop\n{start}\n{ida.user_id}".encode()).hexdigest()
    for key in keys:
        [row] = service.delivery_log(_id(key, "price_drop")).values()
        assert (row["status"], row["reason"]) == ("digested", f"digest {flush_id}")
    name = f"d-{flush_id[:60]}"
    schedule = _schedules(service)[name]  # one schedule for the user's window
    assert schedule["ScheduleExpression"] == f"at({end:%Y-%m-%dT%H:%M:%S})"
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["Target"]["Arn"] == service.outputs["queue_arns"]["router"]

    assert [f.name for f in _fire(service, end - timedelta(minutes=1)) if f.name == name] == []
    assert [m for m in outbox.new() if m.to == [ida.address]] == []
    assert [f.name for f in _fire(service, end) if f.name == name] == [name]
    [mail] = [m for m in outbox.new() if m.to == [ida.address]]
    assert mail.subject == "4 price drop(s) on your wishlist"
    assert mail.text.endswith("".join(f"- {p}: now 9.90\n" for p in products))
    assert mail.html is not None and "<li>Desk &lt;oak&gt;: now 9.90</li>" in mail.html
    assert mail.tags["notification_id"] == flush_id
    # The flush again (Scheduler and SQS deliver at least once): no second email.
    service.emulator.client("sqs").send_message(
        QueueUrl=service.outputs["queue_urls"]["router"],
        MessageBody=json.dumps(
            {
                "notification-service-digest": {
                    "user_id": ida.user_id,
                    "notification_type": "price_drop",
                    "window_start": start,
                }
            }
        ),
    )
    service.deliver()
    assert [m for m in outbox.new() if m.to == [ida.address]] == []
    assert [v["status"] for v in service.delivery_log(flush_id, "email").values()] == ["sent"]


def test_a_frequency_cap_holds_under_a_burst(service: Service, outbox: Outbox) -> None:
    jon = service.seed_user("jon")
    keys = [_key() for _ in range(7)]
    for n, key in enumerate(keys):
        service.put(
            "promotion",
            {
                "recipients": [jon.user_id],
                "idempotencyKey": key,
                "data": {"title": f"Sale {n}", "body": "20% off"},
            },
        )
    service.deliver()
    mails = [m for m in outbox.new() if m.to == [jon.address]]
    assert len(mails) == 2  # count = 2 per user and day
    statuses = sorted(
        row["status"] for key in keys for row in service.delivery_log(_id(key, "promotion")).values()
    )
    assert statuses == ["sent"] * 2 + ["suppressed_frequency_cap"] * 5


def test_zz_destroy_leaves_nothing_behind(emulator: Emulator, deployed: DeployedExample) -> None:
    left = deployed.destroy_and_list_leftovers()
    assert left == {}, f"destroy left behind: {left}"
    mappings = emulator.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert [m for m in mappings if NAME in m["FunctionArn"]] == []
    alarms = emulator.client("cloudwatch").describe_alarms(AlarmNamePrefix=NAME)["MetricAlarms"]
    assert alarms == []
    assert NAME not in emulator.client("sesv2").list_configuration_sets()["ConfigurationSets"]
    archives = emulator.client("events").list_archives(NamePrefix=NAME)["Archives"]
    assert archives == []
    groups = emulator.client("scheduler").list_schedule_groups(NamePrefix=NAME)["ScheduleGroups"]
    assert groups == []
    # The APIs, and the platform applications the provisioner deleted when Terraform invoked it.
    apis = emulator.client("apigatewayv2").get_apis()["Items"]
    assert [a["Name"] for a in apis if a["Name"].startswith(NAME)] == []
    applications = emulator.client("sns").list_platform_applications()["PlatformApplications"]
    assert [
        a["PlatformApplicationArn"] for a in applications if f"/{NAME}-" in a["PlatformApplicationArn"]
    ] == []
    pools = emulator.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
    assert [p["Name"] for p in pools if p["Name"].startswith(NAME)] == []


# --- frequency caps and digests (docs/notification-service.md, "Frequency caps and digests") -----------

DAY = 86_400  # the example's price_drop window and promotion period


def _price_drop(user_id: str, key: str, product: str) -> dict[str, Any]:
    return {"recipients": [user_id], "idempotencyKey": key, "data": {"product": product, "price": "9.90"}}
