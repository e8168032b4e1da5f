"""The WebSocket and push channels' test world: moto tables (connections with its ``by_user`` GSI, device
tokens, delivery log, idempotency), the API Gateway management API (moto; 410/413/429 injected per
connection id), SNS platform applications and endpoints (moto), and the workers' environment."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
from moto.sns.models import sns_backends

from notification_handlers import aws_clients
from notification_handlers.service import dynamodb_batch, idempotency
from tests.unit.service_fakes import _Body, create_table, scan
from tools.emulator.account import ACCOUNT_ID
from tools.emulator.account import DEFAULT_REGION as REGION

ENDPOINT = "https://abcdef123.execute-api.us-east-1.amazonaws.com/prod"
TABLES = {
    "CONNECTIONS_TABLE": "connections",
    "DEVICE_TOKENS_TABLE": "device-tokens",
    "DEVICE_OWNERS_TABLE": "device-owners",
    "LIMITS_TABLE": "limits",
    "DELIVERY_LOG_TABLE": "delivery-log",
    "IDEMPOTENCY_TABLE": "idempotency",
}
WORKER_ENV = (
    *TABLES,
    "CONNECTIONS_USER_INDEX",
    "WEBSOCKET_MANAGEMENT_ENDPOINT",
    "MAX_CONCURRENT_POSTS",
    "CONNECTION_TTL_SECONDS",
    "DELIVERY_LOG_TTL_DAYS",
    "IDEMPOTENCY_TTL_SECONDS",
    "AWS_LAMBDA_FUNCTION_NAME",
)


def create_connections_table() -> None:
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=TABLES["CONNECTIONS_TABLE"],
        KeySchema=[{"AttributeName": "connection_id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "connection_id", "AttributeType": "S"},
            {"AttributeName": "user_id", "AttributeType": "S"},
            {"AttributeName": "connected_at", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_user",
                "KeySchema": [
                    {"AttributeName": "user_id", "KeyType": "HASH"},
                    {"AttributeName": "connected_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@contextmanager
def realtime_world(monkeypatch: pytest.MonkeyPatch, function_name: str) -> Iterator[None]:
    with mock_aws():
        for name in WORKER_ENV:
            monkeypatch.delenv(name, raising=False)
        create_connections_table()
        create_table(TABLES["DEVICE_TOKENS_TABLE"], "user_id", "device_key")
        create_table(TABLES["DEVICE_OWNERS_TABLE"], "device_key")
        create_table(TABLES["LIMITS_TABLE"], "limit_key")
        create_table(TABLES["DELIVERY_LOG_TABLE"], "notification_id", "delivery_key")
        create_table(TABLES["IDEMPOTENCY_TABLE"], "id")
        for name, table in TABLES.items():
            monkeypatch.setenv(name, table)
        monkeypatch.setenv("WEBSOCKET_MANAGEMENT_ENDPOINT", ENDPOINT)
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", function_name)
        idempotency.deduplicator_from_env.cache_clear()
        aws_clients.reset_clients()
        try:
            yield
        finally:
            idempotency.deduplicator_from_env.cache_clear()


# --- connections -------------------------------------------------------------------------------


def connect(connection_id: str, user_id: str, at: str = "2026-11-24T10:00:00.000Z") -> None:
    dynamodb_batch.batch_write(
        TABLES["CONNECTIONS_TABLE"],
        [{"connection_id": connection_id, "user_id": user_id, "connected_at": at, "expires_at": 1795521600}],
    )


def connection_ids() -> set[str]:
    return {str(item["connection_id"]) for item in scan(TABLES["CONNECTIONS_TABLE"])}


def received(connection_id: str) -> list[dict[str, Any]]:
    """The JSON documents posted to a connection (moto concatenates the posts' bytes)."""
    data = apigatewaymanagementapi_backends[ACCOUNT_ID][REGION].connections[connection_id].data
    decoder = json.JSONDecoder()
    text = data.decode("utf-8")
    documents: list[dict[str, Any]] = []
    position = 0
    while position < len(text):
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
    return documents


def posted_connections() -> set[str]:
    backend = apigatewaymanagementapi_backends[ACCOUNT_ID][REGION]
    return {cid for cid, connection in backend.connections.items() if connection.data}


@dataclass
class ManagementApi:
    """PostToConnection attempts seen, and per-connection faults: ``faults[id] = [(code, status), ...]``
    answers that connection's next attempts (a fault list ending in ``"always"`` repeats its last one)."""

    posts: list[str] = field(default_factory=list)
    faults: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    always: dict[str, tuple[str, int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def management_api(max_pool_connections: int = 16) -> ManagementApi:
    """Hook the worker's management API client (same cache key as the worker's default settings)."""
    api = ManagementApi()
    client = aws_clients.client_with_endpoint(
        "apigatewaymanagementapi", ENDPOINT, max_pool_connections=max_pool_connections
    )

    def hook(request: Any, **_: Any) -> AWSResponse | None:
        connection_id = request.url.rsplit("/@connections/", 1)[-1]
        with api.lock:
            api.posts.append(connection_id)
            fault = api.always.get(connection_id)
            queue = api.faults.get(connection_id)
            if fault is None and queue:
                fault = queue.pop(0)
        if fault is None:
            return None
        code, status = fault
        url = request.url
        request.url = "https://fault-injected.invalid/"
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code}
        return AWSResponse(url, status, headers, _Body(json.dumps({"message": f"injected {code}"}).encode()))

    client.meta.events.register_first("before-send.apigatewaymanagementapi.PostToConnection", hook)
    return api


# --- push ----------------------------------------------------------------------------------------


def platform_application(platform: str = "APNS", name: str = "app") -> str:
    return str(
        boto3.client("sns", region_name=REGION).create_platform_application(
            Name=name, Platform=platform, Attributes={"PlatformCredential": "k", "PlatformPrincipal": "p"}
        )["PlatformApplicationArn"]
    )


def endpoint_messages(endpoint_arn: str) -> list[dict[str, Any]]:
    """The SNS messages (MessageStructure json documents) published to a platform endpoint (moto)."""
    endpoint = sns_backends[ACCOUNT_ID][REGION].platform_endpoints[endpoint_arn]
    return [json.loads(message) for message in endpoint.messages.values()]


def endpoint_exists(endpoint_arn: str) -> bool:
    return endpoint_arn in sns_backends[ACCOUNT_ID][REGION].platform_endpoints


def disable_endpoint(endpoint_arn: str) -> None:
    boto3.client("sns", region_name=REGION).set_endpoint_attributes(
        EndpointArn=endpoint_arn, Attributes={"Enabled": "false"}
    )


def register_device(
    user_id: str, platform: str, token: str, application_arn: str, *, owned: bool = True
) -> str:
    """What the registration API stores: an enabled endpoint, the device_tokens item and, unless
    ``owned=False`` (a row registered before ownership items), the ownership item and one more on the
    user's device counter."""
    endpoint_arn = str(
        boto3.client("sns", region_name=REGION).create_platform_endpoint(
            PlatformApplicationArn=application_arn, Token=token, CustomUserData=user_id
        )["EndpointArn"]
    )
    boto3.client("sns", region_name=REGION).set_endpoint_attributes(  # moto shows CustomUserData only so
        EndpointArn=endpoint_arn, Attributes={"CustomUserData": user_id}
    )
    updated_at = "2026-11-24T09:00:00Z"
    row = {
        "user_id": user_id,
        "device_key": f"{platform}#{token}",
        "platform": platform,
        "token": token,
        "endpoint_arn": endpoint_arn,
        "updated_at": updated_at,
    }
    dynamodb_batch.batch_write(TABLES["DEVICE_TOKENS_TABLE"], [row])
    if owned:
        owner = {k: row[k] for k in ("device_key", "user_id", "endpoint_arn", "updated_at")}
        dynamodb_batch.batch_write(TABLES["DEVICE_OWNERS_TABLE"], [owner])
        boto3.client("dynamodb", region_name=REGION).update_item(
            TableName=TABLES["LIMITS_TABLE"],
            Key={"limit_key": {"S": f"devices#{user_id}"}},
            UpdateExpression="ADD #count :one",
            ExpressionAttributeNames={"#count": "count"},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
    return endpoint_arn


def device_count(user_id: str) -> int:
    """The user's device counter in the limits table (0 without one)."""
    items = [i for i in scan(TABLES["LIMITS_TABLE"]) if i["limit_key"] == f"devices#{user_id}"]
    return int(items[0]["count"]) if items else 0


def device_owners() -> dict[str, str]:
    """device_key -> user_id of every ownership item."""
    return {str(i["device_key"]): str(i["user_id"]) for i in scan(TABLES["DEVICE_OWNERS_TABLE"])}


def device_keys() -> set[tuple[str, str]]:
    return {(str(i["user_id"]), str(i["device_key"])) for i in scan(TABLES["DEVICE_TOKENS_TABLE"])}


def delivery_rows() -> dict[tuple[str, str], dict[str, Any]]:
    return {(row["notification_id"], row["delivery_key"]): row for row in scan(TABLES["DELIVERY_LOG_TABLE"])}


def statuses() -> dict[tuple[str, str], tuple[str, str | None]]:
    return {key: (str(row["status"]), row.get("reason")) for key, row in delivery_rows().items()}


def channel_message(
    notification_id: str, user_id: str, channel: str, content: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    message = {
        "version": 1,
        "notification_id": notification_id,
        "notification_type": "order_shipped",
        "critical": False,
        "user_id": user_id,
        "channel": channel,
        "locale": "en",
        "content": content,
        "created_at": "2026-11-24T10:00:00Z",
    }
    message.update(overrides)
    return message


def sqs_event(queue: str, *bodies: dict[str, Any] | str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{index}",
                "receiptHandle": "MessageReceiptHandle",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795514400000",
                    "SenderId": "AROAEXAMPLEROLEID:router",
                    "ApproximateFirstReceiveTimestamp": "1795514400012",
                },
                "messageAttributes": {},
                "md5OfBody": "00000000000000000000000000000000",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue}",
                "awsRegion": REGION,
            }
            for index, body in enumerate(bodies)
        ]
    }


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def record_params(service: str) -> list[tuple[str, dict[str, Any]]]:
    """(operation, API parameters) of every call the shared ``service`` client makes (any protocol)."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def hook(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, dict(params)))

    aws_clients.client(service).meta.events.register(f"provide-client-params.{service}", hook)
    return calls


def fail_sns_publish(faults: list[tuple[str, int, str]], target_arn: str | None = None) -> list[str]:
    """Answer the next len(faults) SNS ``Publish`` attempts (to ``target_arn`` only, when given) with these
    (code, HTTP status, message) errors in SNS's XML (query protocol). Returns the targets faulted."""
    queue = list(faults)
    hit: list[str] = []

    def hook(request: Any, **_: Any) -> AWSResponse | None:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
        target = parse_qs(body).get("TargetArn", [""])[0]
        if not queue or (target_arn is not None and target != target_arn):
            return None
        code, status, text = queue.pop(0)
        hit.append(target)
        url = request.url
        request.url = "https://fault-injected.invalid/"
        xml = (
            '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{text}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
        )
        return AWSResponse(url, status, {"Content-Type": "text/xml"}, _Body(xml.encode()))

    aws_clients.client("sns").meta.events.register_first("before-send.sns.Publish", hook)
    return hit
