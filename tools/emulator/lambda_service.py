"""Plays the Lambda service for functions deployed to the emulator, in this process.

moto stores functions but cannot run them without Docker. For each asynchronous invocation the emulator
recorded (see ``tools.emulator.awslambda``), this runner reads the *deployed* configuration back from the
emulator — handler, environment, retry attempts, dead-letter target — imports the handler from
``lambda_src/`` and calls it with exactly the payload EventBridge delivered, with the environment pointed at
the emulator. Failed invocations are retried as Lambda retries asynchronous ones, then sent to the
function's dead-letter queue with the attributes Lambda adds (RequestID, ErrorCode, ErrorMessage).
``invoke_sync`` makes one synchronous invocation with the same deployed handler and environment, for
``tools.emulator.event_source_poller`` (Lambda's SQS event source mappings invoke synchronously).

Lambda runs one invocation at a time per execution environment, and here each function has one environment
(its module, imported once). Invocations of one function are therefore serialised: Terraform destroying
two platform applications in parallel must not interleave the provisioner's appended log keys or its
environment. Different functions still run concurrently, so a handler that invokes another one
synchronously (the router's enrichment call) cannot deadlock.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tools.emulator.awslambda import LambdaDelivery
from tools.emulator.server import Emulator

DEFAULT_ASYNC_RETRY_ATTEMPTS = 2  # Lambda's default for asynchronous invocations

# Process-wide: the demo, the poller and moto's Invoke each hold their own InProcessLambdaService.
_ENVIRONMENTS: dict[str, threading.Lock] = {}
_ENVIRONMENTS_GUARD = threading.Lock()


def _environment_of(function_arn: str) -> threading.Lock:
    """The lock standing for the function's one execution environment."""
    with _ENVIRONMENTS_GUARD:
        return _ENVIRONMENTS.setdefault(function_arn, threading.Lock())


@dataclass(frozen=True)
class InvocationResult:
    function_name: str
    payload: Any
    attempts: int
    result: Any = None
    error: BaseException | None = None
    dead_lettered_to: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None


class FakeLambdaContext:
    """The attributes of the Lambda context object the handlers read."""

    def __init__(self, configuration: dict[str, Any]) -> None:
        self.function_name = configuration["FunctionName"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = configuration["FunctionArn"]
        self.memory_limit_in_mb = int(configuration.get("MemorySize", 128))
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "in-process"
        self._timeout_ms = int(configuration.get("Timeout", 3)) * 1000

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout_ms


@contextlib.contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _load_handler(handler: str) -> Any:
    module_name, _, function_name = handler.rpartition(".")
    return getattr(importlib.import_module(module_name), function_name)


class InProcessLambdaService:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._lambda = emulator.client("lambda")

    def _retry_attempts(self, function_name: str) -> int:
        try:
            config = self._lambda.get_function_event_invoke_config(FunctionName=function_name)
        except self._lambda.exceptions.ResourceNotFoundException:
            return DEFAULT_ASYNC_RETRY_ATTEMPTS
        return int(config.get("MaximumRetryAttempts", DEFAULT_ASYNC_RETRY_ATTEMPTS))

    def _deployed(self, function: str) -> tuple[dict[str, Any], Any, dict[str, str]]:
        """The deployed configuration, the handler it names and the environment it runs with."""
        configuration = self._lambda.get_function_configuration(FunctionName=function)
        variables = {
            **configuration.get("Environment", {}).get("Variables", {}),
            **self.emulator.environment(),
            "AWS_LAMBDA_FUNCTION_NAME": configuration["FunctionName"],
        }
        return configuration, _load_handler(configuration["Handler"]), variables

    def invoke_sync(self, function: str, payload: Any) -> InvocationResult:
        """One synchronous invocation (``RequestResponse``, what an event source mapping makes): no retry,
        no dead letter. The result goes through JSON as Lambda's response does."""
        configuration, handler, variables = self._deployed(function)
        try:
            with _environment_of(configuration["FunctionArn"]), _environment(variables):
                result = handler(json.loads(json.dumps(payload)), FakeLambdaContext(configuration))
            result = json.loads(json.dumps(result))
        except Exception as exc:
            return InvocationResult(configuration["FunctionName"], payload, 1, error=exc)
        return InvocationResult(configuration["FunctionName"], payload, 1, result=result)

    def invoke_async(self, function_arn: str, payload: Any) -> InvocationResult:
        configuration, handler, variables = self._deployed(function_arn)
        name = configuration["FunctionName"]
        attempts = 1 + self._retry_attempts(name)
        error: BaseException | None = None
        for attempt in range(1, attempts + 1):
            context = FakeLambdaContext(configuration)
            try:
                with _environment_of(configuration["FunctionArn"]), _environment(variables):
                    result = handler(json.loads(json.dumps(payload)), context)
            except Exception as exc:
                error = exc
                continue
            return InvocationResult(name, payload, attempt, result=result)
        dead_letter = configuration.get("DeadLetterConfig", {}).get("TargetArn")
        if dead_letter:
            self._dead_letter(dead_letter, payload, context.aws_request_id, error)
        return InvocationResult(name, payload, attempts, error=error, dead_lettered_to=dead_letter)

    def _dead_letter(
        self, target_arn: str, payload: Any, request_id: str, error: BaseException | None
    ) -> None:
        if target_arn.split(":")[2] != "sqs":
            raise NotImplementedError(f"in-process Lambda: dead-letter target {target_arn} is not emulated")
        sqs = self.emulator.client("sqs")
        queue_url = sqs.get_queue_url(QueueName=target_arn.rsplit(":", 1)[1])["QueueUrl"]
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps(payload),
            MessageAttributes={
                "RequestID": {"DataType": "String", "StringValue": request_id},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": str(error)[:1000]},
            },
        )

    def run_pending(self) -> list[InvocationResult]:
        """Invoke every function EventBridge delivered to since the last call, in delivery order."""
        deliveries: list[LambdaDelivery] = self.emulator.deliveries.take_lambda_invocations()
        return [self.invoke_async(d.function_arn, d.payload) for d in deliveries]
