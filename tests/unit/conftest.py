"""Shared fixtures: fake AWS credentials, fixture events, a Lambda context, moto SNS->SQS, the hypothesis
profile and strategies, a fake AWS HTTP endpoint for fault injection, and Lambda's async-retry semantics."""

from __future__ import annotations

import io
import json
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import BotoCoreError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.dynamodb.responses import DynamoHandler

from notification_handlers import aws_clients, root_activity
from tools.emulator.account import ACCOUNT_ID, FAKE_AWS_ENV
from tools.emulator.account import DEFAULT_REGION as REGION

EVENTS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "events"

HANDLER_ENV = (
    "SNS_TOPIC_ARN",
    "NON_ROOT_EVENTS",
    "ACCOUNT_ALIAS",
    "AWS_PROFILE",
    "POWERTOOLS_LOGGER_LOG_EVENT",
)


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of tests/fixtures/events/<name>.json (tests may mutate it)."""
    return json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def fake_aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in HANDLER_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    aws_clients.reset_clients()
    yield
    aws_clients.reset_clients()


@dataclass
class FakeLambdaContext:
    function_name: str = "root-activity-notifier"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:root-activity-notifier"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@dataclass
class SnsToSqs:
    topic_arn: str
    queue_url: str

    def received(self) -> list[dict[str, Any]]:
        """The SNS envelopes (Subject, Message, MessageAttributes) delivered to the queue."""
        sqs = boto3.client("sqs", region_name=REGION)
        response = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [json.loads(message["Body"]) for message in response.get("Messages", [])]


@pytest.fixture
def sns_topic(monkeypatch: pytest.MonkeyPatch) -> Iterator[SnsToSqs]:
    """A moto SNS topic with an SQS subscription, and SNS_TOPIC_ARN pointing at it."""
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        topic_arn = sns.create_topic(Name="root-activity")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="root-activity-inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        monkeypatch.setenv("SNS_TOPIC_ARN", topic_arn)
        yield SnsToSqs(topic_arn=topic_arn, queue_url=queue_url)


@pytest.fixture
def captured_logs() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Redirect the handler's Powertools log stream; the callable returns the parsed JSON records."""
    buffer = io.StringIO()
    handler = root_activity.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(buffer)

    def records() -> list[dict[str, Any]]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    yield records
    handler.setStream(previous)


# --- property-based testing --------------------------------------------------------------
#
# One fixed, reproducible profile for CI: derandomized (the same examples on every run and machine), no
# example database written into the work tree, and a deadline far above the few milliseconds an example
# takes, so only a real hang fails it. Explore more locally with HYPOTHESIS_PROFILE=explore.
hypothesis_settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    max_examples=100,
    deadline=timedelta(seconds=2),
    print_blob=True,
)
hypothesis_settings.register_profile(
    "explore", max_examples=2000, deadline=None, database=None, derandomize=False
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def examples(count: int, **overrides: Any) -> hypothesis_settings:
    """Settings for a property test that resets its function-scoped fakes at the start of each example.

    ``count`` examples in the CI profile; the explore profile's larger count wins when it is loaded.
    """
    return hypothesis_settings(
        max_examples=max(count, hypothesis_settings.default.max_examples)
        if os.environ.get("HYPOTHESIS_PROFILE") == "explore"
        else count,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
        **overrides,
    )


# Text no JSON producer mangles (no lone surrogates), biased to what breaks parsers and renderers.
AWKWARD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\t\n",
        "\x00",
        "null",
        "[]",
        '{"detail": {}}',  # JSON inside a string where an object belongs
        "{not json",
        "%",
        "%ZZ",
        "%ED%A0%80",  # a URL-encoded lone surrogate: not valid UTF-8
        "%C3%A9+%2B",
        "\u202eevil\u202c",  # right-to-left override
        "a\u200bb",  # zero-width space
        "e\u0301\u0301\u0301",  # stacked combining marks
        "\U0001f469\u200d\U0001f469\u200d\U0001f467",  # emoji ZWJ sequence
        "\ufeffBOM",
        "\U0010ffff",
        "<script>alert(1)</script>",
        "Root",
        "ObjectCreated:Put",
        "2024-05-14T09:12:38Z",
        "9999-12-31T23:59:59-10:00",  # valid ISO 8601, out of range once converted to UTC
        "0001-01-01T00:00:00+01:00",
        "A" * 100_000,  # huge
    ]
)
TEXT = st.one_of(AWKWARD_TEXT, st.text(st.characters(exclude_categories=("Cs",)), max_size=40))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.just(10**400),  # JSON has no integer limit
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)

Path_ = tuple[str, ...]


def field_paths(value: object, prefix: Path_ = ()) -> list[Path_]:
    """Every key path in a JSON object (objects and leaves), e.g. ("detail", "userIdentity", "type")."""
    paths: list[Path_] = []
    if isinstance(value, dict):
        for key, child in value.items():
            paths.append((*prefix, key))
            paths.extend(field_paths(child, (*prefix, key)))
    return paths


@st.composite
def mutated(draw: st.DrawFn, document: dict[str, Any], skip: Callable[[Path_], bool]) -> tuple[Any, Path_]:
    """A deep copy of ``document`` with one field deleted or replaced by a wrong, empty, huge or odd value.

    Returns the copy and the path that was changed (``skip`` excludes paths, e.g. arrays' contents).
    """
    copy = json.loads(json.dumps(document))
    path = draw(st.sampled_from([p for p in field_paths(copy) if not skip(p)]))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(JSON_VALUES)
    return copy, path


# --- a fake AWS HTTP endpoint behind real botocore clients ---------------------------------


@dataclass(frozen=True)
class Fault:
    """One failed attempt: an AWS error response (status + code) or a botocore transport exception."""

    kind: str  # throttling | 5xx | timeout | permanent
    code: str
    status: int = 0
    exception: type[BotoCoreError] | None = None

    @property
    def transient(self) -> bool:
        return self.kind != "permanent"


THROTTLING_FAULTS = (
    Fault("throttling", "Throttling", 400),
    Fault("throttling", "ThrottlingException", 400),
    Fault("throttling", "TooManyRequestsException", 429),
)
SERVER_FAULTS = (Fault("5xx", "InternalError", 500), Fault("5xx", "ServiceUnavailable", 503))
TIMEOUT_FAULTS = (
    Fault("timeout", "ReadTimeoutError", exception=ReadTimeoutError),
    Fault("timeout", "ConnectTimeoutError", exception=ConnectTimeoutError),
    Fault("timeout", "EndpointConnectionError", exception=EndpointConnectionError),
)
TRANSIENT_FAULTS = THROTTLING_FAULTS + SERVER_FAULTS + TIMEOUT_FAULTS

# Faults injected by every test in this session, by kind (printed in the terminal summary).
FAULT_TALLY: Counter[str] = Counter()


@dataclass(frozen=True)
class Attempt:
    """One HTTP attempt as botocore sent it; ``attempt``/``max_attempts`` from its amz-sdk-request header."""

    operation: str
    invocation_id: str
    attempt: int
    max_attempts: int
    params: dict[str, Any]
    fault: Fault | None


@dataclass(frozen=True)
class Delivery:
    operation: str
    params: dict[str, Any]
    message_id: str


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


FaultPlan = Callable[[Attempt], Fault | None]


class FakeAws:
    """Answers every request of the handlers' real botocore clients at the ``before-send`` hook.

    Requests go through botocore's serializers, its retry handler (standard mode, backoff, quota) and
    its parsers; only the socket is replaced. ``plan`` decides, per attempt, whether to fail it and how;
    ``lost_responses`` makes a delivered request time out anyway (the response never arrives).
    """

    def __init__(self) -> None:
        self.session = boto3.session.Session(region_name=REGION)
        self.session.events.register_first("before-send", self._send)
        self.plan: FaultPlan = lambda _attempt: None
        self.lost_responses: Callable[[Attempt], bool] = lambda _attempt: False
        self.reset()

    def reset(self) -> None:
        self.attempts: list[Attempt] = []
        self.deliveries: list[Delivery] = []
        self.sleeps: list[float] = []
        self.faults: Counter[str] = Counter()

    def fail_first(self, *faults: Fault | None) -> None:
        """Answer the next attempts (across requests) with these faults (None: succeed), then succeed."""
        queue = list(faults)
        self.plan = lambda _attempt: queue.pop(0) if queue else None

    @staticmethod
    def _header(request: AWSPreparedRequest, name: str) -> str:
        value = request.headers.get(name, "")
        return value.decode() if isinstance(value, bytes) else str(value)

    @classmethod
    def _params(cls, request: AWSPreparedRequest) -> dict[str, Any]:
        body = request.body or b""
        text = body.decode() if isinstance(body, bytes) else str(body)
        if cls._header(request, "Content-Type").startswith("application/json"):
            return dict(json.loads(text))
        return {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}

    def _send(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse:
        service, operation = event_name.split(".")[1:3]
        header = self._header(request, "amz-sdk-request")
        sdk = dict(part.strip().split("=", 1) for part in header.split(";") if "=" in part)
        probe = Attempt(
            operation,
            self._header(request, "amz-sdk-invocation-id"),
            int(sdk.get("attempt", 0)),
            int(sdk.get("max", 0)),
            self._params(request),
            None,
        )
        fault = self.plan(probe)
        attempt = replace(probe, fault=fault)
        self.attempts.append(attempt)
        if fault is not None:
            self.faults[fault.kind] += 1
            FAULT_TALLY[fault.kind] += 1
            if fault.exception is not None:
                raise fault.exception(endpoint_url=request.url)
            return self._error(request.url, service, fault)
        message_id = f"{operation.lower()}-{len(self.deliveries) + 1:06d}"
        self.deliveries.append(Delivery(operation, attempt.params, message_id))
        if self.lost_responses(attempt):
            self.faults["lost-response"] += 1
            FAULT_TALLY["lost-response"] += 1
            raise ReadTimeoutError(endpoint_url=request.url)
        if service == "sns":
            xml = (
                f'<{operation}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
                f"<{operation}Result><MessageId>{message_id}</MessageId></{operation}Result>"
                f"<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></{operation}Response>"
            )
            return AWSResponse(request.url, 200, {"Content-Type": "text/xml"}, _Body(xml.encode()))
        body = json.dumps({"MessageId": message_id}).encode()
        return AWSResponse(request.url, 200, {"Content-Type": "application/json"}, _Body(body))

    @staticmethod
    def _error(url: str, service: str, fault: Fault) -> AWSResponse:
        if service == "sns":  # the query protocol's XML error document
            xml = (
                '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error>'
                f"<Type>{'Receiver' if fault.status >= 500 else 'Sender'}</Type>"
                f"<Code>{fault.code}</Code><Message>injected {fault.kind}</Message>"
                "</Error><RequestId>req-1</RequestId></ErrorResponse>"
            )
            return AWSResponse(url, fault.status, {"Content-Type": "text/xml"}, _Body(xml.encode()))
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": fault.code}
        body = json.dumps({"message": f"injected {fault.kind}"}).encode()
        return AWSResponse(url, fault.status, headers, _Body(body))

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def attempts_per_request(self) -> list[int]:
        """How many HTTP attempts each API call took, in call order."""
        return list(Counter(a.invocation_id for a in self.attempts).values())


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> FakeAws:
    """The handlers' clients (built by aws_clients, with its retry config) talk to a ``FakeAws``.

    botocore's backoff sleeps are recorded in ``fake.sleeps`` instead of slept.
    """
    fake = FakeAws()
    monkeypatch.setattr(aws_clients, "boto3", SimpleNamespace(client=fake.session.client))
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=fake.sleep))
    aws_clients.reset_clients()
    return fake


@dataclass
class AsyncOutcome:
    """What Lambda's asynchronous invocation did with one event: the result, or the dead-letter entry."""

    invocations: int
    result: dict[str, Any] | None
    errors: list[BaseException]

    @property
    def dead_lettered(self) -> bool:
        return self.result is None

    @property
    def dlq_error_message(self) -> str:
        assert self.dead_lettered, "the event was not dead-lettered"
        return str(self.errors[-1])


def invoke_async(
    handler: Callable[[Any, Any], dict[str, Any]],
    event: Any,
    context: Any,
    *,
    retries: int = 2,
    before_retry: Callable[[int], None] = lambda _n: None,
) -> AsyncOutcome:
    """Lambda's async semantics: an invocation that raises is retried ``retries`` times with the same
    event (re-parsed from JSON each time), then the event is dead-lettered with the last error.
    ``before_retry(n)`` runs before retry ``n`` (1-based), e.g. to simulate a cold start."""
    errors: list[BaseException] = []
    for invocation in range(retries + 1):
        if invocation:
            before_retry(invocation)
        try:
            result = handler(json.loads(json.dumps(event)), context)
        except Exception as error:  # the Lambda service catches everything the function raises
            errors.append(error)
            continue
        return AsyncOutcome(invocation + 1, result, errors)
    return AsyncOutcome(retries + 1, None, errors)


@contextmanager
def capture_logs(logger: Any) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Redirect a handler's Powertools log stream; the callable returns the parsed JSON records."""
    buffer = io.StringIO()
    stream = logger.registered_handler
    assert isinstance(stream, logging.StreamHandler)
    previous = stream.setStream(buffer)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    finally:
        stream.setStream(previous)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FAULT_TALLY:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(FAULT_TALLY.items()))
        terminalreporter.write_line(f"fault injection: {sum(FAULT_TALLY.values())} faults injected ({kinds})")


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serialise moto's DynamoDB requests, as DynamoDB applies each request atomically, for race tests.

    moto is not thread-safe: a cancelled TransactWriteItems restores a snapshot of the whole table, which can
    undo another thread's committed write. The races under test are between requests, not inside one.
    """
    lock = threading.Lock()
    call_action = DynamoHandler.call_action

    def serialised(self: DynamoHandler) -> Any:
        with lock:
            return call_action(self)

    monkeypatch.setattr(DynamoHandler, "call_action", serialised)
