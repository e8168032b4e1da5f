"""Notification service: producers' events on the service bus become personalised emails, WebSocket frames,
mobile pushes, a chat message, SMS and in-app inbox items, with a report.

Three users (one reading German, one who opted out of shipping emails, one whose address bounced) receive a
shipping notification and a critical security alert; a malformed event, and the alert sent by a source
the type does not allow, go to the ingest DLQ. Anna has two browser tabs open and an iPhone and an
Android phone registered; Ben has one tab; one of Anna's tabs is
stale (closed without a ``$disconnect``) and is cleaned up after API Gateway's 410. The push platform
applications are created during apply by the deployed provisioner from fake credentials this demo stores
in Secrets Manager first (``prepare``), as is the URL of the ops team's chat webhook (a local HTTPS server,
``tools.emulator.webhook_server``, whose throwaway CA this process trusts): the shipping notification is
posted there once, whatever the number of recipients. A delivery notice (``order_delivered``, inbox only)
becomes one inbox item for Anna, pushed live to her open tabs; she reads and archives it through the
registration API, and Ben's token cannot read or mark her item. Every deployed function runs in this
process: the router and the workers fed by the SQS poller that plays Lambda's event source mappings
(``tools.emulator.event_source_poller``), the WebSocket and registration functions with API Gateway's event
shapes. Anna verifies her phone number through the registration API (the code arrives by SMS) and gets the
shipping notification by SMS as well; Ben's number replied STOP, so he gets none (``suppressed_opted_out``).
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from notification_handlers.service import chat_worker
from notification_handlers.service.contract import notification_id
from tools.emulator.account import ACCOUNT_ID
from tools.emulator.event_source_poller import EventSourcePoller
from tools.emulator.lambda_service import InProcessLambdaService
from tools.emulator.scheduler import fire_due
from tools.emulator.server import Emulator
from tools.emulator.sns import endpoint_deliveries
from tools.emulator.webhook_server import WebhookServer

EXAMPLE = "notification-service"
TITLE = (
    "Notification service: EventBridge bus -> SQS -> router (preferences, locale, de-dup) -> SQS -> "
    "email (SES v2), WebSocket (API Gateway), push (SNS: APNs, FCM), chat (webhook), SMS (SNS) and "
    "in-app inbox workers; "
    "bounces -> suppressions"
)
EVENTS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "events"
# Fake platform credentials: the provisioner hands them to SNS; they never pass through Terraform.
PUSH_SECRETS = {
    "apns": {
        "signing_key": "fake-apns-key",
        "key_id": "ABC123DEFG",
        "team_id": "TEAM123456",
        "bundle_id": "com.ex",
    },
    "fcm": {
        "service_account_json": json.dumps(
            {
                "project_id": "demo-shop",
                "private_key": "fake-fcm-key",  # pragma: allowlist secret (a made-up value for the emulator)
                "client_email": "push@demo-shop.example",
            }
        )
    },
}
# Device tokens as the platforms issue them (APNs: 64 hex; FCM: "<instance id>:<registration>").
IPHONE = "a1" * 32
ANDROID = "demo-android-1:APA91b" + "0" * 40
SENDER = "notifications@example.com"
# The example declares the types (order_shipped: en + de, opt-out-able; security_alert: critical).
VARIABLES: dict[str, Any] = {
    "name": "notif-demo",
    "sender_address": SENDER,
    "unsubscribe_url_template": "https://example.com/unsubscribe?token={token}",
    "sms_allowed_country_codes": ["1", "43", "49"],
    "channel_switch_refresh_seconds": 1,  # the demo waits this long after flipping a channel switch
}
ANNA_PHONE = "+436641234567"
BEN_PHONE = "+14155550199"  # on the emulator's opt-out list (numbers ending in 99): Ben replied STOP
ORDER = {"order_id": "A-1001", "carrier": "DHL", "tracking_url": "https://track.example.com/A-1001"}
ALERT = {"event": "New sign-in", "occurred_at": "2026-11-24T10:00:00Z", "location": "Berlin"}
USERS = (
    # user id, name, locale, address, opted out of order_shipped emails
    ("u-anna", "Anna", "de-AT", "anna@example.org", False),
    ("u-ben", "Ben", "en-GB", "ben@example.org", True),
    ("u-cara", "Cara", "en", "cara@example.org", False),
)
BOUNCE = {
    "eventType": "Bounce",
    "bounce": {
        "bounceType": "Permanent",
        "bounceSubType": "General",
        "bouncedRecipients": [{"emailAddress": "cara@example.org", "status": "5.1.1", "action": "failed"}],
        "timestamp": "2026-11-24T10:01:02.669Z",
        "feedbackId": "0100019-demo-000000",
    },
    "mail": {
        "timestamp": "2026-11-24T10:00:02.012Z",
        "source": SENDER,
        "messageId": "demo-message-0001",
        "destination": ["cara@example.org"],
        "tags": {"notification_type": ["order_shipped"]},
    },
}


def _seed(emulator: Emulator, tables: dict[str, str]) -> None:
    dynamodb = emulator.client("dynamodb")
    for user_id, name, locale, address, opted_out in USERS:
        dynamodb.put_item(
            TableName=tables["users"],
            Item={
                "user_id": {"S": user_id},
                "display_name": {"S": name},
                "locale": {"S": locale},
                "email": {"S": address},
            },
        )
        dynamodb.put_item(
            TableName=tables["email_subscriptions"],
            Item={
                "user_id": {"S": user_id},
                "addresses": {
                    "M": {
                        address: {
                            "M": {"status": {"S": "verified"}, "unsubscribe_token": {"S": f"tok-{user_id}"}}
                        }
                    }
                },
            },
        )
        if opted_out:
            dynamodb.put_item(
                TableName=tables["preferences"],
                Item={
                    "user_id": {"S": user_id},
                    "opt_outs": {"M": {"order_shipped": {"L": [{"S": "email"}]}}},
                },
            )
        note = "  (opted out of order_shipped)" if opted_out else ""
        print(f"    user {user_id:7} {name:5} locale {locale:6} {address}{note}")


SHOP, IDENTITY = "com.example.shop", "com.example.identity"  # the example's allowed_sources
ALERT_EVENT = {"recipients": ["u-ben"], "data": ALERT, "idempotencyKey": "alert-7"}


def _put(emulator: Emulator, bus: str, detail_type: str, detail: dict[str, Any], source: str = SHOP) -> None:
    emulator.put_event({"source": source, "detail-type": detail_type, "detail": detail}, bus=bus)
    print(f"==> PutEvents {source} {detail_type} {json.dumps(detail)[:100]}")


def _deliver(poller: EventSourcePoller, functions: dict[str, str]) -> None:
    for role in (
        "router",
        "email_worker",
        "websocket_worker",
        "push_worker",
        "chat_worker",
        "sms_worker",
        "inbox_worker",
    ):
        for batch in poller.drain(functions[role]):
            status = "ok" if batch.invocation.succeeded else f"FAILED: {batch.invocation.error}"
            print(
                f"    SQS -> {functions[role]}: {len(batch.message_ids)} message(s), {status}, "
                f"{len(batch.returned)} returned to the queue"
            )


def prepare(emulator: Emulator) -> dict[str, Any]:
    """Before apply: the platforms' credentials in Secrets Manager; the example takes only their ARNs."""
    secretsmanager = emulator.client("secretsmanager")
    arns = {
        platform: secretsmanager.create_secret(
            Name=f"notif-demo/push/{platform}-{uuid.uuid4().hex[:6]}", SecretString=json.dumps(secret)
        )["ARN"]
        for platform, secret in PUSH_SECRETS.items()
    }
    print(f"==> Stored fake APNs and FCM credentials in Secrets Manager: {', '.join(arns.values())}")
    server = _chat_webhook()
    ops = secretsmanager.create_secret(
        Name=f"notif-demo/chat/ops-{uuid.uuid4().hex[:6]}", SecretString=server.url("/hooks/ops")
    )["ARN"]
    print(
        f"==> Stored the ops team's chat webhook URL in Secrets Manager: {ops} (Terraform gets the ARN only)"
    )
    return {
        "apns_credentials_secret_arn": arns["apns"],
        "fcm_credentials_secret_arn": arns["fcm"],
        "chat_targets": {"ops": {"platform": "webhook", "webhook_secret_arn": ops}},
    }


_CHAT: list[WebhookServer] = []


def _chat_webhook() -> WebhookServer:
    """The ops team's chat endpoint, up for the rest of the demo; its CA trusted by this process."""
    if not _CHAT:
        server = WebhookServer()
        os.environ["SSL_CERT_FILE"] = str(server.ca_file)
        chat_worker.tls_context.cache_clear()
        _CHAT.append(server)
    return _CHAT[0]


def _show_frames(emulator: Emulator, tabs: dict[str, list[str]]) -> None:
    print("\n    WebSocket frames API Gateway delivered")
    for user_id, connection_ids in tabs.items():
        for connection_id in connection_ids:
            received = emulator.connections.messages(connection_id)
            live = "live" if emulator.connections.is_live(connection_id) else "gone"
            frames = json.dumps(received) if received else "(nothing)"
            print(f"      {user_id:7} tab {connection_id} ({live}): {frames}")


def _show_chat() -> None:
    print("\n    Chat messages the ops webhook received (one per notification, not per recipient)")
    for received in _chat_webhook().received:
        print(f"      POST {received.path}: {received.body.decode()}")


def _event(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / f"notification_service_{name}.json").read_text()))


def _invoke(service: InProcessLambdaService, function: str, event: dict[str, Any]) -> dict[str, Any]:
    result = service.invoke_sync(function, event)
    if not result.succeeded:
        raise RuntimeError(f"{function} failed: {result.error}")
    return dict(result.result)


def _open_tab(emulator: Emulator, service: InProcessLambdaService, function: str, user_id: str) -> str:
    """A browser tab: a ``$connect`` the example's built-in JWT authorizer admitted (``principalId`` = the
    token's ``sub``), as API Gateway hands it to the connections function."""
    connection_id = base64.urlsafe_b64encode(uuid.uuid4().bytes[:12]).decode()
    event = _event("websocket_connect_lambda_authorizer")
    event["requestContext"].update(connectionId=connection_id, connectedAt=int(time.time() * 1000))
    event["requestContext"]["authorizer"] = {"principalId": user_id, "integrationLatency": 23}
    answer = _invoke(service, function, event)
    if answer.get("statusCode") == 200:
        emulator.connections.open(connection_id)  # API Gateway keeps the connection: $connect said 200
    print(f"    $connect {connection_id} as {user_id}: {answer.get('statusCode')}")
    return connection_id


def _register(service: InProcessLambdaService, function: str, user_id: str, platform: str, token: str) -> str:
    """``PUT /devices/{platform}/{token}`` with the JWT claims of ``user_id``; the device's endpoint ARN."""
    event = _event("registration_put_device")
    path = f"/devices/{platform}/{token}"
    event.update(rawPath=path, pathParameters={"platform": platform, "token": token})
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = user_id
    answer = _invoke(service, function, event)
    endpoint = str(json.loads(answer["body"]).get("endpoint_arn", "-"))
    print(f"    PUT /devices/{platform}/{token[:12]}... as {user_id}: {answer['statusCode']} -> {endpoint}")
    return endpoint


def _phone(
    service: InProcessLambdaService,
    function: str,
    route_key: str,
    user_id: str,
    number: str,
    *,
    body: Any = None,
) -> dict[str, Any]:
    """A phone number route of the registration API with the JWT claims of ``user_id``; the JSON answer."""
    event = _event("registration_put_device")
    method, template = route_key.split(" ", 1)
    path = template.replace("{phone_number}", number)
    event.update(routeKey=route_key, rawPath=path, pathParameters={"phone_number": number})
    event["requestContext"].update(routeKey=route_key)
    event["requestContext"]["http"].update(method=method, path=path)
    event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = user_id
    if body is not None:
        event["body"] = json.dumps(body)
    answer = _invoke(service, function, event)
    print(f"    {method} {path} as {user_id}: {answer['statusCode']} {answer['body']}")
    return dict(json.loads(answer["body"])) if answer["body"] else {}


def _verify_phones(emulator: Emulator, service: InProcessLambdaService, function: str, table: str) -> int:
    """Anna verifies her number (the code is read from the SMS SNS sent); Ben's is seeded as verified
    before he replied STOP (an opted-out number gets no code). The number of SMS sent so far."""
    print("==> Anna verifies her phone number; Ben verified his before replying STOP")
    _phone(service, function, "PUT /phone-number/{phone_number}", "u-anna", ANNA_PHONE)
    [code_text] = [text for to, text in _sms(emulator) if to == ANNA_PHONE]
    print(f"    SMS to {ANNA_PHONE}: {code_text}")
    code = code_text.split("code is ", 1)[1][:9]
    verify = "POST /phone-number/{phone_number}/verify"
    _phone(service, function, verify, "u-anna", ANNA_PHONE, body={"code": code})
    for item in (
        {"phone_key": {"S": "user#u-ben"}, "phone_number": {"S": BEN_PHONE}, "status": {"S": "verified"}},
        {"phone_key": {"S": f"number#{BEN_PHONE}"}, "user_id": {"S": "u-ben"}},
    ):
        emulator.client("dynamodb").put_item(TableName=table, Item=item)
    return len(_sms(emulator))


def _sms(emulator: Emulator) -> list[tuple[str, str]]:
    return list(sns_backends[ACCOUNT_ID][emulator.region].sms_messages.values())


def _print_sms(emulator: Emulator, seen: int) -> None:
    print("\n    SMS SNS sent (Publish with PhoneNumber)")
    for number, text in _sms(emulator)[seen:]:
        print(f"      {number}: {text}")


def _bounce(emulator: Emulator, service: InProcessLambdaService, topic_arn: str) -> None:
    print("==> SES reports a permanent bounce for cara@example.org (published to the SES events topic)")
    emulator.client("sns").publish(TopicArn=topic_arn, Message=json.dumps(BOUNCE))
    for result in service.run_pending():
        print(f"    SNS -> {result.function_name}: {'ok' if result.succeeded else result.error}")


def _report(emulator: Emulator, table: str, source: str, detail_type: str, key: str) -> None:
    namespaced = notification_id(source, detail_type, key)
    items = emulator.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="notification_id = :n",
        ExpressionAttributeValues={":n": {"S": namespaced}},
    )["Items"]
    print(f"    {key} from {source} (notification id {namespaced[:16]}...)")
    for item in sorted(items, key=lambda i: i["delivery_key"]["S"]):
        reason = item.get("reason", {}).get("S", "")
        user, channel, target = item["user_id"]["S"], item["channel"]["S"], item["target"]["S"]
        print(f"      {user:7} {channel:9} {target:22} {item['status']['S']:28} {reason}")


def _operator(emulator: Emulator, command: str, refresh_seconds: float) -> None:
    """Run one line of the output channel_switch_commands (what the operator pastes into a shell)."""
    print(f"==> operator: {command}")
    argv = shlex.split(command)
    options = dict(zip(argv[3::2], argv[4::2], strict=True))
    dynamodb = emulator.client("dynamodb")
    if argv[2] == "put-item":
        dynamodb.put_item(TableName=options["--table-name"], Item=json.loads(options["--item"]))
    else:
        dynamodb.delete_item(TableName=options["--table-name"], Key=json.loads(options["--key"]))
    time.sleep(refresh_seconds + 0.2)  # channel_switch_refresh_seconds


def _channel_controls(
    emulator: Emulator, outputs: dict[str, Any], poller: EventSourcePoller, outbox: list[Any]
) -> None:
    """account_update: websocket, and exactly one of push (a device) or email; then push switched off."""
    tables, functions, bus = outputs["table_names"], outputs["function_names"], outputs["event_bus_name"]
    switches = outputs["channel_switch_commands"]["switches"]
    seen = len(outbox)
    print("\n==> Channel fallback: account_update falls back from push (u-anna has a phone) to email")
    for key in ("account-1", "account-2"):
        if key == "account-2":
            _operator(emulator, switches["push"]["disable"], VARIABLES["channel_switch_refresh_seconds"])
        detail = {
            "recipients": ["u-anna", "u-ben"],
            "data": {"change": "new password"},
            "idempotencyKey": key,
        }
        _put(emulator, bus, "account_update", detail, IDENTITY)
        _deliver(poller, functions)
        _report(emulator, tables["delivery_log"], IDENTITY, "account_update", key)
    _operator(emulator, switches["push"]["enable"], VARIABLES["channel_switch_refresh_seconds"])
    print("    Emails SES accepted for account_update")
    for message in outbox[seen:]:
        print(f"      To {', '.join(message.destinations['ToAddresses'])}: {message.subject}")


def _inbox(
    service: InProcessLambdaService,
    function: str,
    user_id: str,
    route: str,
    item_id: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """One inbox request to the registration API with the JWT claims of ``user_id``: (status, body)."""
    event = _event("registration_get_inbox")
    method, template = route.split(" ", 1)
    path = template.replace("{item_id}", item_id or "")
    event.update(routeKey=route, rawPath=path, rawQueryString="")
    event.pop("queryStringParameters", None)
    if item_id is not None:
        event["pathParameters"] = {"item_id": item_id}
    event["requestContext"].update(routeKey=route)
    event["requestContext"]["http"].update(method=method, path=path)
    event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = user_id
    answer = _invoke(service, function, event)
    return int(answer["statusCode"]), dict(json.loads(answer["body"] or "{}"))


def _show_inbox(service: InProcessLambdaService, function: str) -> None:
    print("\n    In-app inbox (registration API, as each user)")
    for user_id in ("u-anna", "u-ben"):
        status, page = _inbox(service, function, user_id, "GET /inbox")
        print(f"      GET /inbox as {user_id}: {status}, unread {page.get('unread_count')}")
        for item in page.get("items", []):
            shown = f"{item['item_id'][:30]}... {item['title']!r} -> {item.get('url', '-')}"
            print(f"        {shown} read={item['read']}")
    status, page = _inbox(service, function, "u-anna", "GET /inbox")
    anna_item = page["items"][0]["item_id"]
    status, _ = _inbox(service, function, "u-ben", "POST /inbox/{item_id}/read", anna_item)
    print(f"      POST /inbox/<anna's item>/read as u-ben: {status} (not in his inbox: nothing changes)")
    status, _ = _inbox(service, function, "u-anna", "POST /inbox/{item_id}/read", anna_item)
    _, count = _inbox(service, function, "u-anna", "GET /inbox/unread-count")
    print(f"      POST /inbox/<item>/read as u-anna: {status}; unread count now {count['unread_count']}")
    status, _ = _inbox(service, function, "u-anna", "POST /inbox/{item_id}/archive", anna_item)
    _, page = _inbox(service, function, "u-anna", "GET /inbox")
    print(
        f"      POST /inbox/<item>/archive as u-anna: {status}; items left in the inbox: {len(page['items'])}"
    )


def _deliver_then_schedule(
    emulator: Emulator, outputs: dict[str, Any], poller: EventSourcePoller, functions: dict[str, str]
) -> None:
    """Deliver what was put; then a shipping notice for Anna with ``sendAt`` two hours ahead: one schedule,
    nothing sent until the scheduler stand-in is advanced to that time."""
    _deliver(poller, functions)
    send_at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    detail = {
        "recipients": ["u-anna"],
        "data": {**ORDER, "order_id": "A-1003", "tracking_url": "https://track.example.com/A-1003"},
        "idempotencyKey": "order-A-1003",
        "sendAt": send_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    _put(emulator, outputs["event_bus_name"], "order_shipped", detail)
    _deliver(poller, functions)
    scheduler = emulator.client("scheduler")
    group = outputs["schedule_group_name"]
    for listed in scheduler.list_schedules(GroupName=group)["Schedules"]:
        schedule = scheduler.get_schedule(GroupName=group, Name=listed["Name"])
        print(
            f"    scheduled: {group}/{schedule['Name'][:20]}... {schedule['ScheduleExpression']}"
            f" -> ingest queue, ActionAfterCompletion {schedule['ActionAfterCompletion']}; nothing sent yet"
        )
    print(f"==> Two hours later ({send_at:%H:%M} UTC): EventBridge Scheduler fires")
    for fired in fire_due(emulator.region, send_at):
        print(f"    {fired.name[:20]}... -> SendMessage to the ingest queue (schedule deleted)")
    _deliver(poller, functions)


DIGEST_WINDOW_SECONDS = 86_400  # the example's price_drop digest: one a day (UTC)
PRICE_DROPS = (
    ("drop-1", "Desk lamp", "24.90"),
    ("drop-2", "Oak desk", "189.00"),
    ("drop-3", "Chair", "59.00"),
)


def _digest(
    emulator: Emulator, outputs: dict[str, Any], poller: EventSourcePoller, functions: dict[str, str]
) -> None:
    """Three price drops for Anna: each is collected into her daily digest (logged ``digested``), one schedule
    at the window's end; advanced there, the scheduler stand-in fires it and one email lists all three."""
    for key, product, price in PRICE_DROPS:
        detail = {
            "recipients": ["u-anna"],
            "data": {"product": product, "price": price},
            "idempotencyKey": key,
        }
        _put(emulator, outputs["event_bus_name"], "price_drop", detail)
    _deliver(poller, functions)
    now = datetime.now(UTC).timestamp()
    end = datetime.fromtimestamp(
        int(now) // DIGEST_WINDOW_SECONDS * DIGEST_WINDOW_SECONDS + DIGEST_WINDOW_SECONDS, UTC
    )
    scheduler = emulator.client("scheduler")
    group = outputs["schedule_group_name"]
    for listed in scheduler.list_schedules(GroupName=group)["Schedules"]:
        if listed["Name"].startswith("d-"):
            print(
                f"    digest schedule: {group}/{listed['Name'][:20]}..."
                f" at the window's end ({end:%Y-%m-%d %H:%M} UTC)"
            )
    print(f"==> The digest window closes ({end:%Y-%m-%d %H:%M} UTC): EventBridge Scheduler fires")
    for fired in fire_due(emulator.region, end):
        print(f"    {fired.name[:20]}... -> digest flush to the ingest queue (schedule deleted)")
    _deliver(poller, functions)


def _quiet_hours(
    emulator: Emulator, outputs: dict[str, Any], poller: EventSourcePoller, functions: dict[str, str]
) -> None:
    """Anna (Europe/Vienna) sets quiet hours around now: a shipping notice reaches her mail and open tabs at
    once, while its push waits for the window's end in a one-time schedule that targets the push queue."""
    zone = ZoneInfo("Europe/Vienna")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    end = now + timedelta(hours=3)
    window = {
        "start": f"{(now - timedelta(hours=1)).astimezone(zone):%H:%M}",
        "end": f"{end.astimezone(zone):%H:%M}",
    }
    dynamodb = emulator.client("dynamodb")
    dynamodb.update_item(
        TableName=outputs["table_names"]["users"],
        Key={"user_id": {"S": "u-anna"}},
        UpdateExpression="SET time_zone = :zone",
        ExpressionAttributeValues={":zone": {"S": "Europe/Vienna"}},
    )
    dynamodb.update_item(
        TableName=outputs["table_names"]["preferences"],
        Key={"user_id": {"S": "u-anna"}},
        UpdateExpression="SET quiet_hours = :window",
        ExpressionAttributeValues={":window": {"M": {k: {"S": v} for k, v in window.items()}}},
    )
    print(f"==> u-anna (Europe/Vienna) sets quiet hours {window['start']}-{window['end']}: quiet there now")
    detail = {
        "recipients": ["u-anna"],
        "data": {**ORDER, "order_id": "A-1004", "tracking_url": "https://track.example.com/A-1004"},
        "idempotencyKey": "order-A-1004",
    }
    _put(emulator, outputs["event_bus_name"], "order_shipped", detail)
    _deliver(poller, functions)
    scheduler = emulator.client("scheduler")
    group = outputs["schedule_group_name"]
    due = end
    for listed in scheduler.list_schedules(GroupName=group)["Schedules"]:
        schedule = scheduler.get_schedule(GroupName=group, Name=listed["Name"])
        if not schedule["Name"].startswith("q-"):
            continue
        due = max(
            due,
            datetime.strptime(schedule["ScheduleExpression"], "at(%Y-%m-%dT%H:%M:%S)").replace(tzinfo=UTC),
        )
        queue = schedule["Target"]["Arn"].rsplit(":", 1)[1]
        dlq = schedule["Target"]["DeadLetterConfig"]["Arn"].rsplit(":", 1)[1]
        print(
            f"    held for quiet hours: {group}/{schedule['Name'][:20]}... {schedule['ScheduleExpression']}"
            f" -> {queue} queue (the rendered message itself), DLQ {dlq}"
        )
    print(
        f"==> The window ends ({due.astimezone(zone):%H:%M} in Vienna, {due:%H:%M} UTC): the schedules fire"
    )
    for fired in fire_due(emulator.region, due):
        if fired.name.startswith("q-"):
            print(
                f"    {fired.name[:20]}... -> {fired.target_arn.rsplit(':', 1)[1]} queue (schedule deleted)"
            )
    _deliver(poller, functions)
    dynamodb.update_item(
        TableName=outputs["table_names"]["preferences"],
        Key={"user_id": {"S": "u-anna"}},
        UpdateExpression="REMOVE quiet_hours",
    )
    print("    u-anna removes her quiet hours again (the rest of the demo delivers at once)")


def show(emulator: Emulator, outputs: dict[str, Any]) -> None:
    tables, functions = outputs["table_names"], outputs["function_names"]
    bus = outputs["event_bus_name"]
    print(f"    bus {bus} (CMK {outputs['kms_key_arn']})")
    print(f"    SES configuration set {outputs['ses_configuration_set_name']}, sender {SENDER}")
    service = InProcessLambdaService(emulator)
    poller = EventSourcePoller(service)
    outbox = ses_backends[ACCOUNT_ID][emulator.region].sent_messages
    seen = len(outbox)
    _seed(emulator, tables)

    _bounce(emulator, service, outputs["ses_events_topic_arn"])

    print(f"==> Browsers connect to {outputs['websocket_url']}; phones register through the registration API")
    print(
        f"    push platform applications (created during apply): {outputs['push_platform_application_arns']}"
    )
    tabs = {
        "u-anna": [
            _open_tab(emulator, service, functions["websocket_connections"], "u-anna") for _ in range(3)
        ],
        "u-ben": [_open_tab(emulator, service, functions["websocket_connections"], "u-ben")],
    }
    emulator.connections.close(tabs["u-anna"][2])  # closed without a $disconnect: API Gateway answers 410
    print(f"    tab {tabs['u-anna'][2]} of u-anna went away without a $disconnect")
    devices = {
        ("u-anna", "apns"): _register(service, functions["registration_api"], "u-anna", "apns", IPHONE),
        ("u-anna", "fcm"): _register(service, functions["registration_api"], "u-anna", "fcm", ANDROID),
    }
    sms_seen = _verify_phones(emulator, service, functions["registration_api"], tables["phone_numbers"])

    order = {"recipients": [u[0] for u in USERS], "data": ORDER, "idempotencyKey": "order-A-1001"}
    _put(emulator, bus, "order_shipped", order)
    _put(emulator, bus, "order_shipped", order)  # the producer retried: the same notification id
    _put(emulator, bus, "security_alert", ALERT_EVENT, IDENTITY)
    _put(
        emulator, bus, "security_alert", ALERT_EVENT
    )  # the shop may not send it: rejected (source_not_allowed)
    _put(emulator, bus, "order_shipped", {"data": {"order_id": "A-1002"}})  # no recipients: rejected
    delivered = {"recipients": ["u-anna"], "data": ORDER, "idempotencyKey": "delivered-A-1001"}
    _put(emulator, bus, "order_delivered", delivered)  # inbox only: an item each, live to open tabs
    _deliver_then_schedule(emulator, outputs, poller, functions)
    _digest(emulator, outputs, poller, functions)
    _quiet_hours(emulator, outputs, poller, functions)

    print("\n    Delivery report")
    for source, detail_type, key in (
        (SHOP, "order_shipped", "order-A-1001"),
        (IDENTITY, "security_alert", "alert-7"),
        (SHOP, "order_delivered", "delivered-A-1001"),
        (SHOP, "order_shipped", "order-A-1003"),
        *((SHOP, "price_drop", key) for key, _, _ in PRICE_DROPS),
        (SHOP, "order_shipped", "order-A-1004"),
    ):
        _report(emulator, tables["delivery_log"], source, detail_type, key)
    print("\n    Emails SES accepted")
    for message in outbox[seen:]:
        headers = {h["Name"]: h["Value"] for h in getattr(message, "headers", [])}
        print(f"      To {', '.join(message.destinations['ToAddresses'])}: {message.subject}")
        for line in (getattr(message, "text", None) or message.body).splitlines():
            print(f"        | {line}")
        print(f"        List-Unsubscribe: {headers.get('List-Unsubscribe', '(none: critical)')}")
    _show_frames(emulator, tabs)
    print("\n    Pushes SNS handed to APNs / FCM")
    for (user_id, platform), endpoint in devices.items():
        for payload in endpoint_deliveries(endpoint):
            print(f"      {user_id:7} {platform:5} {payload}")
    _show_chat()
    _print_sms(emulator, sms_seen)
    _show_inbox(service, functions["registration_api"])
    _show_rejected(emulator, outputs)
    _channel_controls(emulator, outputs, poller, outbox)


def _show_rejected(emulator: Emulator, outputs: dict[str, Any]) -> None:
    sqs = emulator.client("sqs")
    rejected = sqs.receive_message(
        QueueUrl=outputs["dlq_urls"]["router"], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    print("\n    Rejected events (ingest DLQ)")
    for message in rejected:
        attributes = message["MessageAttributes"]
        print(f"      {attributes['error_type']['StringValue']}: {attributes['reason']['StringValue']}")
