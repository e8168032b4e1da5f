"""The local AWS emulator used by the Terraform tests, `make demo` and `make bench`: a patched moto server.

A thin launcher around moto's ``ThreadedMotoServer``. It runs in this process (on 127.0.0.1, on a port
the OS picks, so a busy port can never hang ``start()``) and patches the few moto gaps that Terraform with
the AWS provider 5.x and the handlers run into. The patches live with their service, one module each
(``eventbridge``, ``stepfunctions``, ``awslambda``, ``kms``, ``sqs``, ``scheduler``, ``s3``, ``sesv2``,
``sns``, ``apigateway``), whose docstring lists the symptoms they remove; none of this leaks into
``modules/``: the modules are written for real AWS. Measured with moto 5.2.5, Terraform 1.11 and the
AWS provider 5.100.

Beside the server: ``lambda_service`` runs deployed functions in this process, ``event_source_poller``
plays Lambda's SQS event source mappings, ``pipes`` renders EventBridge Pipes input templates,
``topic_reader`` reads an SNS topic through a subscribed queue, ``inventory`` lists what the emulator holds
and ``terraform`` deploys an example to it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from moto.core.config import default_user_config
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from tools.emulator import (
    access_control,
    apigateway,
    awslambda,
    eventbridge,
    kms,
    s3,
    scheduler,
    sesv2,
    sns,
    sqs,
    stepfunctions,
)
from tools.emulator.access_control import DeployerCredentials
from tools.emulator.account import FAKE_CREDENTIALS
from tools.emulator.apigateway import CONNECTIONS, EXECUTE_API_TARGET
from tools.emulator.awslambda import DELIVERIES, SYNC_INVOKER, SyncInvoker

TERRAFORM_SERVICES = (
    "apigateway",
    "apigatewayv2",
    "cloudwatch",
    "cloudwatchlogs",
    "cognitoidp",
    "dynamodb",
    "events",
    "iam",
    "kms",
    "lambda",
    "pipes",
    "s3",
    "scheduler",
    "secretsmanager",
    "ses",
    "sesv2",
    "sns",
    "sqs",
    "sfn",
    "sts",
)

# Each service's patches, in one fixed order (they patch distinct moto methods).
_PATCHES: tuple[Callable[[], None], ...] = (
    *eventbridge.PATCHES,
    *stepfunctions.PATCHES,
    *awslambda.PATCHES,
    *kms.PATCHES,
    *sqs.PATCHES,
    *scheduler.PATCHES,
    *s3.PATCHES,
    *sesv2.PATCHES,
    *sns.PATCHES,
    *apigateway.PATCHES,
    *access_control.PATCHES,
)
_patched = False
_patch_lock = threading.Lock()


def apply_patches() -> None:
    """Patch moto once per process (idempotent)."""
    global _patched  # noqa: PLW0603
    with _patch_lock:
        if _patched:
            return
        for patch in _PATCHES:
            patch()
        _patched = True


class Emulator:
    """A patched moto server on 127.0.0.1 and boto3 clients that talk to it."""

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
        self._server: ThreadedMotoServer | None = None
        self.deliveries = DELIVERIES
        self.connections = CONNECTIONS

    def start(self) -> Emulator:
        apply_patches()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        # Real ASL execution lives in moto's "parser" backend: switch before anything is created,
        # or state machines made earlier are invisible to StartExecution.
        default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
        # Port 0: the OS picks a free port, so start() cannot hang on a busy one.
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        EXECUTE_API_TARGET.endpoint_url = self.endpoint_url
        CONNECTIONS.active = True
        return self

    def stop(self) -> None:
        if self._server is not None:
            if EXECUTE_API_TARGET.endpoint_url == self.endpoint_url:
                EXECUTE_API_TARGET.endpoint_url = None
                CONNECTIONS.active = False
            self._server.stop()
            self._server = None

    def install_invoker(self, invoker: SyncInvoker | None) -> None:
        """Run ``RequestResponse`` invokes of deployed functions with ``invoker`` (function ARN, payload),
        e.g. ``InProcessLambdaService.invoke_sync``; None uninstalls it (moto's Docker path again)."""
        SYNC_INVOKER.invoker = invoker

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running: call start() first")
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(retries={"max_attempts": 2, "mode": "standard"}),
        )

    def put_event(self, event: dict[str, Any], bus: str = "default") -> None:
        """Put an event given in EventBridge's envelope shape (a fixture) on ``bus``, as its source would."""
        answer = self.client("events").put_events(
            Entries=[
                {
                    "EventBusName": bus,
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"]),
                    "Resources": event.get("resources", []),
                }
            ]
        )
        if answer["FailedEntryCount"]:
            raise RuntimeError(f"emulator: PutEvents rejected the event: {answer['Entries']}")

    def environment(self) -> dict[str, str]:
        """Environment variables that point the AWS CLI, boto3 and handlers at the emulator."""
        return {
            **FAKE_CREDENTIALS,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
        }

    def provider_override(self, credentials: DeployerCredentials | None = None) -> str:
        """A Terraform ``*_override.tf`` body that points the aws provider at the emulator.

        ``credentials``: a deployer's key (``access_control.create_deployer``), whose every call moto
        authorises; by default the harness's unchecked fake key.
        """
        access_key = credentials.access_key_id if credentials else FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]
        secret_key = (
            credentials.secret_access_key if credentials else FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
        )
        endpoints = "\n".join(f'    {service} = "{self.endpoint_url}"' for service in TERRAFORM_SERVICES)
        return f"""# Generated by tools/emulator/server.py: points the example at the local emulator.
provider "aws" {{
  region                      = "{self.region}"
  access_key                  = "{access_key}"
  secret_key                  = "{secret_key}"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = false
  s3_use_path_style           = true
  # Few retries: an emulator gap (HTTP 500) fails in seconds instead of minutes, while a connection
  # dropped on a loaded 2-core machine ("use of closed network connection", seen once) is retried.
  max_retries                 = 3

  endpoints {{
{endpoints}
  }}
}}
"""
