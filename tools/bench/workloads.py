"""The handlers under measure: how to deploy each one's AWS side in moto, feed it N notifications, and
the minimum AWS API calls each step needs.

A workload is declared once and shared by the API-call count (``api_calls``) and the per-invocation
cost (``invocation``). This module defines the shape (``Step``, ``Workload``) and the patterns' handlers;
the notification service's router and channel workers are in ``service_workloads``; ``all_workloads``
lists every one of them; ``api_calls`` lists any handler module without a workload.
"""

from __future__ import annotations

import copy
import json
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from notification_handlers import root_activity, s3_object_notifier
from tools.bench.environment import REGION, REPO_ROOT, FakeLambdaContext, offline_aws, quiet_service_logs

EVENTS_DIR = REPO_ROOT / "tests" / "fixtures" / "events"

Invoke = Callable[[dict[str, Any], Any], Any]


def _fixture(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return document


@dataclass(frozen=True)
class Step:
    """One step of handling a notification: the API operations it makes and the fewest AWS allows.

    ``operations`` are ``service.Operation`` names as botocore reports them (``sns.Publish``).
    ``lower_bound(n)`` is the fewest calls of those operations that ``n`` notifications need within AWS's
    API limits; ``why`` says which limit sets it.
    """

    name: str
    operations: frozenset[str]
    lower_bound: Callable[[int], int]
    bound_text: str
    why: str


# A claim is a conditional PutItem, a completion an UpdateItem (notification_handlers/service/idempotency.py);
# a refused claim returns the record that refused it, so nothing is read.
IDEMPOTENCY_OPERATIONS = frozenset({"dynamodb.PutItem", "dynamodb.UpdateItem"})
UNBATCHABLE_WRITES = "Conditional writes cannot be batched (see the router's idempotency step)."
CACHED_CATALOG = (
    "Each read once per execution environment, then cached for CATALOG_REFRESH_SECONDS and"
    " CHANNEL_SWITCH_REFRESH_SECONDS (two partitions, two Queries)."
)


def idempotency_step(
    per: str, why: str = UNBATCHABLE_WRITES, lower_bound: Callable[[int], int] = lambda n: 2 * n
) -> Step:
    """A claim and a completion per ``per`` (a notification, a delivery, a connection, ...)."""
    return Step(
        name="idempotency",
        operations=IDEMPOTENCY_OPERATIONS,
        lower_bound=lower_bound,
        bound_text=f"2 per {per} (claim, complete)",
        why=why,
    )


def catalog_step(why: str = CACHED_CATALOG) -> Step:
    """The router's catalog and channel-switch reads: two Queries per warm execution environment."""
    return Step(
        name="catalog and channel switches",
        operations=frozenset({"dynamodb.Query"}),
        lower_bound=lambda n: 2,
        bound_text="2 Queries per warm environment",
        why=why,
    )


@dataclass(frozen=True)
class Workload:
    """One handler, one kind of input. ``events(n)`` is the invocations carrying ``n`` notifications."""

    handler_module: str
    label: str
    unit: str
    services: tuple[str, ...]
    steps: tuple[Step, ...]
    setup: Callable[[], dict[str, str]]  # inside moto: create the resources, return the handler's env
    events: Callable[[int], list[dict[str, Any]]]
    handler: Invoke
    reset: Callable[[], None]  # forget per-environment state between measured runs
    delivered: Callable[[list[Any]], int]  # notifications the handler's results say it delivered
    # The most notifications one measured run may carry (a notification to 1,000 recipients fans out into
    # 1,000 messages: 1,000 of them would be a million); None = no cap.
    max_notifications: int | None = None
    # Part of the smoke run (`--quick`, run by make test)? Off for workloads that take minutes in moto.
    quick: bool = True
    # Clients the handler builds for an explicit endpoint (aws_clients.client_with_endpoint): (service,
    # endpoint URL, pool size), exactly as the handler asks for them, so their calls are counted too.
    endpoint_clients: tuple[tuple[str, str, int], ...] = ()

    @property
    def key(self) -> str:
        """Names the workload in docs/benchmarks.json (a handler can have several workloads)."""
        return f"{self.handler_module}[{self.label}]"

    def sizes(self, sizes: tuple[int, ...]) -> tuple[int, ...]:
        """The run sizes of ``sizes`` this workload can carry."""
        cap = self.max_notifications
        return tuple(n for n in sizes if cap is None or n <= cap)

    def run(self, n: int) -> list[Any]:
        """Invoke the handler with events carrying ``n`` notifications; fail unless all were delivered."""
        return self.invoke(self.events(n), n)

    def invoke(self, events: list[dict[str, Any]], n: int) -> list[Any]:
        """Invoke the handler with prepared ``events`` (``n`` notifications in all)."""
        context = FakeLambdaContext()
        results = [self.handler(event, context) for event in events]
        if self.delivered(results) != n:
            raise RuntimeError(f"{self.label}: {self.delivered(results)} of {n} notifications delivered")
        return results


@contextmanager
def deployed(workload: Workload) -> Iterator[None]:
    """Offline credentials, moto in-process, the workload's resources and environment; reset after."""
    with offline_aws({}), mock_aws(), quiet_service_logs():
        os.environ.update(workload.setup())
        workload.reset()
        try:
            yield
        finally:
            workload.reset()


# --- root-activity monitor: one CloudTrail event per asynchronous invocation -> one SNS Publish -------


def _root_activity_setup() -> dict[str, str]:
    topic_arn = boto3.client("sns", region_name=REGION).create_topic(Name="bench-root-activity")["TopicArn"]
    return {"SNS_TOPIC_ARN": topic_arn, "NON_ROOT_EVENTS": "ignore", "ACCOUNT_ALIAS": "bench"}


def _root_activity_events(n: int) -> list[dict[str, Any]]:
    template = _fixture("root_console_sign_in")
    events = []
    for index in range(n):
        event = copy.deepcopy(template)
        event["id"] = f"00000000-0000-4000-8000-{index:012d}"
        event["detail"]["eventID"] = f"00000000-0000-4000-9000-{index:012d}"
        events.append(event)
    return events


ROOT_ACTIVITY = Workload(
    handler_module="notification_handlers.root_activity",
    label="root-activity monitor",
    unit="event",
    services=("sns",),
    steps=(
        Step(
            name="delivery",
            operations=frozenset({"sns.Publish"}),
            lower_bound=lambda n: n,
            bound_text="1 Publish per event",
            why=(
                "EventBridge invokes the function asynchronously with exactly one event, so each invocation"
                " holds one distinct message: one Publish. PublishBatch (up to 10 messages per call) only"
                " pays off when one invocation holds several messages; getting there means buffering events"
                " in SQS and polling it, which adds a queue, its API calls and latency to a security alert."
            ),
        ),
    ),
    setup=_root_activity_setup,
    events=_root_activity_events,
    handler=root_activity.handler,
    reset=lambda: None,
    delivered=lambda results: sum(result["status"] == "published" for result in results),
)


# --- S3 object notifier: one S3 event of N records -> N SES v2 SendEmail ---------------------------------

SENDER = "s3-alerts@example.com"


def _s3_setup() -> dict[str, str]:
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
    return {"SENDER": SENDER, "RECIPIENTS": "ops@example.com,audit@example.com"}


def _s3_events(n: int) -> list[dict[str, Any]]:
    [template] = _fixture("s3_object_created_put")["Records"]
    records = []
    for index in range(n):
        record = copy.deepcopy(template)
        record["s3"]["object"]["key"] = f"reports/2024/object-{index:05d}.csv"
        record["s3"]["object"]["sequencer"] = f"0062E99A88DC4{index:05X}"
        records.append(record)
    return [{"Records": records}]


S3_OBJECT_NOTIFIER = Workload(
    handler_module="notification_handlers.s3_object_notifier",
    label="S3 object notifier",
    unit="record",
    services=("sesv2",),
    steps=(
        Step(
            name="delivery",
            operations=frozenset({"sesv2.SendEmail"}),
            lower_bound=lambda n: n,
            bound_text="1 SendEmail per record",
            why=(
                "SES v2 SendEmail sends one message per call and has no batch form for distinct messages."
                " SendBulkEmail (up to 50 entries per call) is template-based: it would need an SES template"
                f" resource, would cut HTTP calls to ceil(n/50) (n=1,000: {math.ceil(1000 / 50)}) but not"
                " the sending quota, which SES counts per recipient either way."
            ),
        ),
    ),
    setup=_s3_setup,
    events=_s3_events,
    handler=s3_object_notifier.handler,
    reset=s3_object_notifier.forget_sent_records,
    delivered=lambda results: sum(len(result["message_ids"]) for result in results),
)


def source_path(module: str) -> Path:
    return REPO_ROOT / "lambda_src" / Path(*module.split(".")).with_suffix(".py")
