"""Section 4: WebSocket fan-out of one notification to 10,000 connections of one user, 5% of them stale.

The real worker handler runs with DynamoDB in moto (in-process): the user's 10,000 connections sit in the
connections table, 500 of them no longer exist at API Gateway. The management API is a local HTTP server
that answers ``PostToConnection`` after a fixed delay (``POST_LATENCY_S``, standing in for the network
round trip to API Gateway) with 200, or with 410 ``GoneException`` for a stale connection, through the
worker's own boto3 client. Reported: the API calls by operation (botocore ``before-call`` hooks), the
Scans (must be 0), the stale deletes (BatchWriteItem, stale / 25), and the wall time of the posts with the
worker's default concurrency vs. one at a time.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import unquote

import boto3
from moto import mock_aws

from notification_handlers import aws_clients
from notification_handlers.service import idempotency, websocket_worker
from tools.bench.environment import REGION, FakeLambdaContext, offline_aws, quiet_service_logs
from tools.bench.report import Section, ms
from tools.bench.service_workloads import (
    CONNECTIONS_TABLE,
    create_connections_table,
    create_tables,
    sqs_record,
)

CONNECTIONS = 10_000
STALE_SHARE = 0.05
POST_LATENCY_S = 0.010  # assumed round trip to API Gateway's management API from Lambda in-region
DELETES_PER_CALL = 25
USER = "user-fanout"
STAGE_ENDPOINT = f"https://a1b2c3d4e5.execute-api.{REGION}.amazonaws.com/live"
COMMAND = "make bench  (tools/bench/fanout.py)"


class _ManagementApi(BaseHTTPRequestHandler):
    """``POST /<stage>/@connections/<id>``: 200 after the delay, or 410 for a stale connection."""

    stale: ClassVar[frozenset[str]] = frozenset()
    posts: ClassVar[Counter[str]] = Counter()
    lock: ClassVar[threading.Lock] = threading.Lock()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        connection_id = unquote(self.path.rsplit("/", 1)[-1])
        time.sleep(POST_LATENCY_S)
        with self.lock:
            self.posts[connection_id] += 1
        if connection_id in self.stale:
            body = json.dumps({"message": "Gone"}).encode()
            self.send_response(410)
            self.send_header("x-amzn-ErrorType", "GoneException")
        else:
            body = b""
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        return None


@contextmanager
def _management_api(stale: set[str]) -> Iterator[str]:
    _ManagementApi.stale = frozenset(stale)
    _ManagementApi.posts = Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ManagementApi)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/live"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _worker_client(management: Any) -> Iterator[None]:
    """Hand the worker ``management`` whatever endpoint it asks for (its setting must stay an https URL)."""
    original = aws_clients.client_with_endpoint
    aws_clients.client_with_endpoint = lambda *_, **__: management  # type: ignore[assignment]
    try:
        yield
    finally:
        aws_clients.client_with_endpoint = original  # type: ignore[assignment]


def _connection_ids(count: int) -> list[str]:
    return [f"conn{index:06d}=" for index in range(count)]


def _seed_connections(ids: list[str]) -> None:
    table = boto3.resource("dynamodb", region_name=REGION).Table(CONNECTIONS_TABLE)
    with table.batch_writer() as writer:
        for index, connection_id in enumerate(ids):
            writer.put_item(
                Item={
                    "connection_id": connection_id,
                    "user_id": USER,
                    "connected_at": f"2026-11-24T10:00:00.{index:06d}Z",
                    "expires_at": 1_795_521_600,
                }
            )


def _event() -> dict[str, Any]:
    message = {
        "version": 1,
        "notification_id": "n-fanout",
        "notification_type": "order_shipped",
        "critical": False,
        "user_id": USER,
        "channel": "websocket",
        "locale": "en",
        "content": {"body": "Order A-000001 has shipped."},
        "created_at": "2026-11-24T10:00:00Z",
    }
    return {"Records": [sqs_record(json.dumps(message), 1, "bench-websocket")]}


def run(connections: int = CONNECTIONS, stale_share: float = STALE_SHARE) -> dict[str, Any]:
    """One worker invocation (the notification to every connection), then the posts alone, sequentially."""
    ids = _connection_ids(connections)
    stale = set(ids[:: round(1 / stale_share)]) if stale_share else set()
    with offline_aws({}), mock_aws(), quiet_service_logs(), _management_api(stale) as endpoint:
        tables = create_tables(("DELIVERY_LOG_TABLE", "IDEMPOTENCY_TABLE"))
        create_connections_table(CONNECTIONS_TABLE)
        _seed_connections(ids)
        os.environ.update(
            {
                "CONNECTIONS_TABLE": CONNECTIONS_TABLE,
                "CONNECTIONS_USER_INDEX": "by_user",
                "WEBSOCKET_MANAGEMENT_ENDPOINT": STAGE_ENDPOINT,
                **tables,
                "AWS_LAMBDA_FUNCTION_NAME": "bench-websocket-worker",
            }
        )
        aws_clients.reset_clients()
        idempotency.deduplicator_from_env.cache_clear()
        settings = websocket_worker.load_settings(os.environ)
        calls: Counter[str] = Counter()

        def count(model: Any, **_: Any) -> None:
            calls[f"{model.service_model.service_name}.{model.name}"] += 1

        # The worker's management client, pointed at the local server instead of the stage's https URL.
        management = aws_clients.client_with_endpoint(
            "apigatewaymanagementapi", endpoint, max_pool_connections=settings.max_concurrent_posts
        )
        for client in (aws_clients.client("dynamodb"), management):
            client.meta.events.register("before-call", count, unique_id="bench-fanout")

        started = time.perf_counter()
        with _worker_client(management):
            response = websocket_worker.handler(_event(), FakeLambdaContext())
        handler_s = time.perf_counter() - started
        worker_calls = dict(sorted(calls.items()))
        if response["batchItemFailures"]:
            raise RuntimeError(f"fan-out bench: the worker failed {response['batchItemFailures']}")
        remaining = {item["connection_id"]["S"] for item in _scan_connections()}
        posts_per_connection = set(_ManagementApi.posts.values())

        # The posting phase alone, concurrent (the worker's default) vs. one at a time, same server.
        def post(connection_id: str, data: bytes) -> None:
            management.post_to_connection(ConnectionId=connection_id, Data=data)

        payload = b'{"body": "bench"}'
        concurrent = websocket_worker.fan_out(ids, payload, post, settings.max_concurrent_posts)
        sequential = websocket_worker.fan_out(ids, payload, post, 1)
    return {
        "connections": connections,
        "stale": len(stale),
        "calls": worker_calls,
        "scans": worker_calls.get("dynamodb.Scan", 0),
        "delete_calls": worker_calls.get("dynamodb.BatchWriteItem", 0)
        - math.ceil(connections / DELETES_PER_CALL),
        "delete_lower_bound": math.ceil(len(stale) / DELETES_PER_CALL),
        "stale_left": len(stale & remaining),
        "live_removed": len((set(ids) - stale) - remaining),
        "posts_per_connection": sorted(posts_per_connection),
        "handler_s": handler_s,
        "max_concurrent_posts": settings.max_concurrent_posts,
        "concurrent_s": concurrent.seconds,
        "sequential_s": sequential.seconds,
        "post_latency_s": POST_LATENCY_S,
    }


def _scan_connections() -> list[dict[str, Any]]:
    """Read back what is left (a raw client: not one of the worker's calls)."""
    pages = (
        boto3.client("dynamodb", region_name=REGION)
        .get_paginator("scan")
        .paginate(TableName=CONNECTIONS_TABLE)
    )
    return [item for page in pages for item in page["Items"]]


def measure(connections: int = CONNECTIONS) -> Section:
    figures = run(connections)
    calls = figures["calls"]
    log_writes = math.ceil(figures["connections"] / DELETES_PER_CALL)
    rows = (
        ("connections (stale)", f"{figures['connections']:,} ({figures['stale']:,})"),
        ("PostToConnection calls", f"{calls.get('apigatewaymanagementapi.PostToConnection', 0):,}"),
        ("Query calls (connections of the user, paginated)", f"{calls.get('dynamodb.Query', 0):,}"),
        ("Scan calls", f"{figures['scans']} (must be 0)"),
        (
            "stale deletes (BatchWriteItem)",
            f"{figures['delete_calls']:,} (stale / 25 = {figures['delete_lower_bound']:,})",
        ),
        ("delivery log writes (BatchWriteItem, 25 rows)", f"{log_writes:,}"),
        (
            "idempotency (PutItem + UpdateItem, one claim per connection)",
            f"{calls.get('dynamodb.PutItem', 0) + calls.get('dynamodb.UpdateItem', 0):,}",
        ),
        (
            "stale connections left / live connections removed",
            f"{figures['stale_left']} / {figures['live_removed']}",
        ),
        ("whole invocation", ms(figures["handler_s"])),
        (
            f"posts, {figures['max_concurrent_posts']} concurrent (default MAX_CONCURRENT_POSTS)",
            ms(figures["concurrent_s"]),
        ),
        ("posts, one at a time", ms(figures["sequential_s"])),
        ("speed-up", f"{figures['sequential_s'] / figures['concurrent_s']:.1f}x"),
    )
    return Section(
        key="fanout",
        title="WebSocket fan-out",
        command=COMMAND,
        description=(
            f"One notification to one user with {figures['connections']:,} open connections, 5% of them"
            " stale,"
            " through the real worker handler (DynamoDB in moto; the management API a local HTTP server that"
            f" answers after {POST_LATENCY_S * 1000:.0f} ms, 410 for a stale connection)."
        ),
        headers=("Figure", "Result"),
        rows=rows,
        notes=(
            f"The {POST_LATENCY_S * 1000:.0f} ms per post is an assumption standing in for the network, not a"
            " measurement of API Gateway. The whole invocation also pays one idempotency claim and completion"
            " per connection and the delivery log rows, against moto in-process on this machine.",
        ),
        data=figures,
        headline=(
            f"{figures['connections']:,} connections, {figures['stale']:,} stale: {figures['scans']} scans,"
            f" {figures['delete_calls']} delete calls (bound {figures['delete_lower_bound']}), posts"
            f" {figures['sequential_s'] / figures['concurrent_s']:.1f}x faster concurrent than sequential"
        ),
    )
