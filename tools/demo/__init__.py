"""One module per pattern shown by `make demo`.

Each module defines ``EXAMPLE`` (the directory under ``examples/``), ``TITLE``, ``VARIABLES`` (the
example's Terraform variables for the demo) and ``show(emulator, outputs)``, which drives the deployed
example and prints what a person would see; optionally ``prepare(emulator)``, which creates what must
exist before apply (e.g. secrets) and returns the variables naming it. ``tools/demo/runner.py`` applies and
destroys around it; ``make bench TERRAFORM=1`` deploys the same way.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.emulator.server import Emulator

PATTERNS = (
    "root_activity_monitor",
    "event_workflow",
    "dynamodb_stream_alerts",
    "s3_object_notifier",
    "notification_service",
)


def load(name: str) -> ModuleType:
    return importlib.import_module(f"tools.demo.{name}")


def start_emulator() -> Emulator:
    """The emulator the examples deploy to, with Terraform's synchronous invokes (aws_lambda_invocation)
    running the deployed handlers in this process."""
    from tools.emulator.lambda_service import InProcessLambdaService  # noqa: PLC0415
    from tools.emulator.server import Emulator  # noqa: PLC0415 - moto loads only to deploy

    emulator = Emulator().start()
    emulator.install_invoker(InProcessLambdaService(emulator).invoke_sync)
    return emulator


def deployment_variables(pattern: ModuleType, emulator: Emulator) -> dict[str, Any]:
    """The pattern's example variables, plus those naming what its ``prepare`` created in ``emulator``."""
    prepare = getattr(pattern, "prepare", None)
    return {**pattern.VARIABLES, **(prepare(emulator) if prepare else {})}
