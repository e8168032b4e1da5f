"""Lambda gaps of moto, patched, and the record of what other services deliver to Lambda.

* moto stores functions but cannot run them without Docker. The EventBridge, S3 and SNS patches record
  each asynchronous invocation in ``DELIVERIES``; ``tools.emulator.lambda_service`` runs them in-process.
* ``DeadLetterConfig`` is accepted but not echoed back: a perpetual diff on re-plan.
* ListEventSourceMappings by function name finds nothing when the mapping was created with the function's
  ARN (as Terraform does).
* ``Invoke`` (``RequestResponse``, what Terraform's ``aws_lambda_invocation`` makes at create, update and
  delete) needs Docker (HTTP 500): with an invoker installed (``Emulator.install_invoker``, the in-process
  Lambda service) the deployed handler runs here; its answer is the payload, an exception a function error.
"""

from __future__ import annotations

import json
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import LambdaBackend, LambdaFunction


@dataclass(frozen=True)
class LambdaDelivery:
    """One asynchronous invocation EventBridge made of a Lambda function."""

    function_arn: str
    payload: dict[str, Any]
    rule_arn: str
    target_id: str


@dataclass
class Deliveries:
    """Deliveries the launcher made on moto's behalf, in order (thread-safe)."""

    lambda_invocations: list[LambdaDelivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, delivery: LambdaDelivery) -> None:
        with self._lock:
            self.lambda_invocations.append(delivery)

    def take_lambda_invocations(self) -> list[LambdaDelivery]:
        with self._lock:
            taken, self.lambda_invocations = self.lambda_invocations, []
        return taken


# One process-wide record: moto's backends are process-wide too.
DELIVERIES = Deliveries()


def _patch_lambda_dead_letter_config() -> None:

    original_init = LambdaFunction.__init__
    original_update = LambdaFunction.update_configuration
    original_get = LambdaFunction.get_configuration

    def __init__(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original_init(self, account_id, spec, *args, **kwargs)
        self.dead_letter_config = spec.get("DeadLetterConfig")

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in config_updates:
            self.dead_letter_config = config_updates["DeadLetterConfig"]
        return original_update(self, config_updates)  # type: ignore[no-any-return]

    def get_configuration(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config: dict[str, Any] = original_get(self, *args, **kwargs)
        if getattr(self, "dead_letter_config", None) and self.dead_letter_config.get("TargetArn"):
            config["DeadLetterConfig"] = self.dead_letter_config
        return config

    LambdaFunction.__init__ = __init__
    LambdaFunction.update_configuration = update_configuration
    LambdaFunction.get_configuration = get_configuration


def _patch_lambda_event_source_mapping_filter() -> None:
    """ListEventSourceMappings ``FunctionName`` matches only the exact string the mapping was created with
    (Terraform passes the ARN), so listing by name finds nothing; Lambda accepts a name or an ARN."""

    original = LambdaBackend.list_event_source_mappings

    def list_event_source_mappings(self: Any, event_source_arn: str, function_name: str) -> list[Any]:
        mappings = list(original(self, event_source_arn, None))
        if not function_name:
            return mappings
        try:
            function_arn = self.get_function(function_name).function_arn
        except UnknownFunctionException:
            return []
        return [m for m in mappings if m.function_arn == function_arn]

    LambdaBackend.list_event_source_mappings = list_event_source_mappings


class SyncInvocation(Protocol):
    """What a synchronous invoker reports (``tools.emulator.lambda_service.InvocationResult`` fits)."""

    @property
    def result(self) -> Any: ...

    @property
    def error(self) -> BaseException | None: ...


SyncInvoker = Callable[[str, Any], SyncInvocation]


@dataclass
class _InvokerSlot:
    """The process-wide synchronous invoker (installed by whoever plays the Lambda service)."""

    invoker: SyncInvoker | None = None


SYNC_INVOKER = _InvokerSlot()


def lambda_error_payload(error: BaseException, request_id: str) -> dict[str, Any]:
    """The payload Lambda's Python runtime answers for an unhandled exception."""
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": request_id,
        "stackTrace": [line.rstrip("\n") for line in traceback.format_tb(error.__traceback__)],
    }


def _patch_lambda_sync_invoke() -> None:
    """moto runs an ``Invoke`` through Docker (HTTP 500 "error running docker"), so Terraform's
    ``aws_lambda_invocation`` (a ``RequestResponse`` invoke at create, update and delete) cannot run. With an
    invoker installed (``Emulator.install_invoker``: the in-process Lambda service's ``invoke_sync``), a
    ``RequestResponse`` invoke runs the deployed handler in this process: the handler's answer is the
    ``Payload`` (JSON), an exception answers ``X-Amz-Function-Error: Unhandled`` with Lambda's error JSON.
    Other invocation types, and every invoke without an invoker, are left to moto."""

    original = LambdaBackend.invoke

    def invoke(  # noqa: PLR0917 - moto's LambdaBackend.invoke signature
        self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> Any:
        invoker = SYNC_INVOKER.invoker
        invocation_type = headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        if invoker is None or invocation_type != "RequestResponse":
            return original(self, function_name, qualifier, body, headers, response_headers)
        function = self.get_function(function_name, qualifier)
        text = body.decode() if isinstance(body, bytes) else body
        outcome = invoker(function.function_arn, json.loads(text) if text else {})
        if outcome.error is None:
            answer = json.dumps(outcome.result)
        else:
            response_headers["x-amz-function-error"] = "Unhandled"
            answer = json.dumps(lambda_error_payload(outcome.error, str(uuid.uuid4())))
        payload = answer.encode()
        response_headers["Content-Length"] = str(len(payload))
        return payload

    LambdaBackend.invoke = invoke


# Applied by ``tools.emulator.server.apply_patches``, in this order.
PATCHES: tuple[Callable[[], None], ...] = (
    _patch_lambda_dead_letter_config,
    _patch_lambda_event_source_mapping_filter,
    _patch_lambda_sync_invoke,
)
