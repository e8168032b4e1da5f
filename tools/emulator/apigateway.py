"""API Gateway v2 and WebSocket management API gaps of moto, patched.

* API Gateway v2 has no deployments (CreateDeployment answers 404) and stages drop ``deploymentId`` and have
  no UpdateStage: both are kept here. A WebSocket API's endpoint is ``wss://``, not ``https://``.
* The WebSocket management API: the stage endpoint ``https://<api-id>.execute-api.<region>.amazonaws.com``
  a worker gets from Terraform cannot be reached offline (requests to it go to the emulator); moto's server
  routes ``/<stage>/@connections/<id>`` to IoT; and moto treats every connection id as connected and never
  answers 410. ``CONNECTIONS`` (``LiveConnections``, ``Emulator.connections``) decides what is connected,
  keeps what was posted and makes unknown or closed connections answer 410 GoneException.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote

from botocore.endpoint import Endpoint
from moto.apigatewaymanagementapi import urls as management_urls
from moto.apigatewaymanagementapi.models import ApiGatewayManagementApiBackend
from moto.apigatewayv2 import urls as apigatewayv2_urls
from moto.apigatewayv2.models import Api as ApiGatewayV2Api
from moto.apigatewayv2.models import Stage as ApiGatewayV2Stage
from moto.apigatewayv2.responses import ApiGatewayV2Response
from moto.core.exceptions import JsonRESTError
from moto.core.utils import (
    iso_8601_datetime_with_milliseconds,
    iso_8601_datetime_without_milliseconds,
    utcnow,
)
from moto.moto_server.werkzeug_app import DomainDispatcherApplication


def _apigatewayv2_route(pattern: str) -> None:
    """Route a path to ApiGatewayV2Response (the Flask server only routes paths of the urls module)."""
    apigatewayv2_urls.url_paths["{0}/v2/apis/(?P<api_id>[^/]+)" + pattern] = ApiGatewayV2Response.dispatch


def _patch_apigatewayv2_deployments() -> None:
    """moto has no API Gateway v2 deployments (CreateDeployment answers HTTP 404 HTML): a WebSocket stage,
    which cannot auto-deploy, can never be created. Deployments are kept per API (id, description, status
    ``DEPLOYED``, created date) with Create/Get/GetAll/Update/Delete; deleting one a stage still points to
    answers BadRequest, as AWS does (Terraform's ``create_before_destroy`` moves the stage first)."""

    def deployments(response: Any) -> tuple[Any, dict[str, dict[str, Any]]]:
        api = response.apigatewayv2_backend.get_api(response.path.split("/")[3])
        found: dict[str, dict[str, Any]] = api.__dict__.setdefault("emulator_deployments", {})
        return api, found

    def existing(response: Any) -> tuple[Any, dict[str, dict[str, Any]], str]:
        api, found = deployments(response)
        deployment_id = response.path.split("/")[5]
        if deployment_id not in found:
            raise JsonRESTError(
                "NotFoundException", f"Invalid Deployment identifier specified {deployment_id}"
            )
        return api, found, deployment_id

    def create_deployment(self: Any) -> tuple[int, dict[str, str], str]:
        api, found = deployments(self)
        params = json.loads(self.body or "{}")
        deployment = {
            "deploymentId": uuid.uuid4().hex[:6],
            "deploymentStatus": "DEPLOYED",
            "createdDate": iso_8601_datetime_without_milliseconds(utcnow()),
            "autoDeployed": False,
        }
        if params.get("description"):
            deployment["description"] = params["description"]
        found[deployment["deploymentId"]] = deployment
        if params.get("stageName"):
            api.get_stage(params["stageName"]).config["deploymentId"] = deployment["deploymentId"]
        return 201, {}, json.dumps(deployment)

    def get_deployment(self: Any) -> tuple[int, dict[str, str], str]:
        _, found, deployment_id = existing(self)
        return 200, {}, json.dumps(found[deployment_id])

    def get_deployments(self: Any) -> tuple[int, dict[str, str], str]:
        _, found = deployments(self)
        return 200, {}, json.dumps({"items": list(found.values())})

    def update_deployment(self: Any) -> tuple[int, dict[str, str], str]:
        _, found, deployment_id = existing(self)
        description = json.loads(self.body or "{}").get("description")
        if description is not None:
            found[deployment_id]["description"] = description
        return 200, {}, json.dumps(found[deployment_id])

    def delete_deployment(self: Any) -> tuple[int, dict[str, str], str]:
        api, found, deployment_id = existing(self)
        if any(stage.config.get("deploymentId") == deployment_id for stage in api.stages.values()):
            raise JsonRESTError(
                "BadRequestException", "Active stages pointing to this deployment must be moved or deleted"
            )
        del found[deployment_id]
        return 204, {}, ""

    _apigatewayv2_route("/deployments$")
    _apigatewayv2_route("/deployments/(?P<deployment_id>[^/]+)$")
    for handler in (create_deployment, get_deployment, get_deployments, update_deployment, delete_deployment):
        setattr(ApiGatewayV2Response, handler.__name__, handler)


def _patch_apigatewayv2_stage_updates() -> None:
    """moto's API Gateway v2 stages drop ``deploymentId`` (a perpetual diff on a stage's ``deployment_id``)
    and have no UpdateStage (HTTP 500): a new deployment, changed throttling or access logs can never be
    applied. The stage keeps and echoes ``deploymentId``, and UpdateStage changes the fields given."""

    fields = {
        "accessLogSettings": "access_log_settings",
        "autoDeploy": "auto_deploy",
        "clientCertificateId": "client_certificate_id",
        "defaultRouteSettings": "default_route_settings",
        "description": "description",
        "routeSettings": "route_settings",
        "stageVariables": "stage_variables",
    }
    original_to_json = ApiGatewayV2Stage.to_json

    def to_json(self: Any) -> dict[str, Any]:
        answer: dict[str, Any] = original_to_json(self)
        if self.config.get("deploymentId"):
            answer["deploymentId"] = self.config["deploymentId"]
        return answer

    def update_stage(self: Any) -> tuple[int, dict[str, str], str]:
        api_id, stage_name = self.path.split("/")[3], unquote(self.path.split("/")[5])
        stage = self.apigatewayv2_backend.get_stage(api_id, stage_name)
        params = json.loads(self.body or "{}")
        for key, attribute in fields.items():
            if key in params:
                setattr(stage, attribute, params[key])
                stage.config[key] = params[key]
        if "deploymentId" in params:
            stage.config["deploymentId"] = params["deploymentId"]
        stage.updated = utcnow()
        return 200, {}, json.dumps(stage.to_json())

    ApiGatewayV2Stage.to_json = to_json
    ApiGatewayV2Response.update_stage = update_stage


def _patch_apigatewayv2_websocket_endpoint() -> None:
    """moto gives every API an ``https://`` endpoint; a WebSocket API's is ``wss://<api-id>.execute-api.
    <region>.amazonaws.com`` in AWS (what clients connect to, and what a module derives the management
    endpoint from)."""

    original_init = ApiGatewayV2Api.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if self.protocol_type == "WEBSOCKET":
            self.api_endpoint = self.api_endpoint.replace("https://", "wss://", 1)

    ApiGatewayV2Api.__init__ = __init__


# --- API Gateway management API (WebSocket @connections) ------------------------------------------------

_EXECUTE_API_HOST = re.compile(r"^https://[a-z0-9]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?=/|$)")


@dataclass
class _ExecuteApiTarget:
    """Where this process's requests to execute-api hosts go (the running emulator), or None."""

    endpoint_url: str | None = None


EXECUTE_API_TARGET = _ExecuteApiTarget()


def _patch_execute_api_hosts() -> None:
    """A WebSocket worker gets its management endpoint from Terraform,
    ``https://<api-id>.execute-api.<region>.amazonaws.com/<stage>``, and passes it to boto3 as
    ``endpoint_url``, which overrides ``AWS_ENDPOINT_URL``: offline that host cannot be reached. While an
    emulator runs, requests boto3 makes in this process to an execute-api host go to the emulator instead
    (same path, headers and signature), so handlers run with their deployed endpoint unchanged."""

    original = Endpoint._send

    def _send(self: Any, request: Any) -> Any:
        target = EXECUTE_API_TARGET.endpoint_url
        if target is not None and _EXECUTE_API_HOST.match(request.url):
            request.url = _EXECUTE_API_HOST.sub(target, request.url, count=1)
        return original(self, request)

    Endpoint._send = _send


def _patch_management_api_routing() -> None:
    """moto's server routes a management API request (signed for ``execute-api``) to its API Gateway
    management backend only when the path starts with ``/@connections``; with the stage in the path (what a
    client of the stage endpoint sends: ``/<stage>/@connections/<id>``) it routes it to IoT, and the
    backend's own staged path does not survive the conversion to a Flask rule (HTTP 404 either way)."""

    # The id is matched to the end: it reaches the server percent-decoded, and base64 may hold a "/".
    management_urls.url_paths["{0}/(?P<stage_name>[^/]+)/@connections/(?P<connection_id>.+)$"] = (
        management_urls.response.connect_to_apigateway
    )
    original = DomainDispatcherApplication.infer_service_region_host

    def infer_service_region_host(self: Any, environ: dict[str, Any], path: str) -> str | None:
        auth = environ.get("HTTP_AUTHORIZATION") or ""
        scope = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/execute-api/", auth)
        if scope and "/@connections/" in environ.get("PATH_INFO", ""):
            return f"execute-api.{scope.group(1)}.amazonaws.com"
        return original(self, environ, path)  # type: ignore[no-any-return]

    DomainDispatcherApplication.infer_service_region_host = infer_service_region_host


MAX_WEBSOCKET_FRAME_BYTES = 128 * 1024  # API Gateway's WebSocket message limit


@dataclass
class LiveConnections:
    """WebSocket clients currently connected to the emulator's APIs (a test opens and closes them), and what
    the management API posted to each (thread-safe). A connection id is unique across APIs, as in AWS.
    ``active`` while an emulator runs: moto in-process mocks (``mock_aws``) keep moto's own behaviour."""

    active: bool = False
    _live: dict[str, dict[str, Any]] = field(default_factory=dict)
    _posted: dict[str, list[bytes]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def open(
        self, connection_id: str, source_ip: str = "203.0.113.10", user_agent: str = "Mozilla/5.0"
    ) -> None:
        with self._lock:
            self._live[connection_id] = {
                "connectedAt": iso_8601_datetime_with_milliseconds(),
                "identity": {"sourceIp": source_ip, "userAgent": user_agent},
            }
            self._posted.setdefault(connection_id, [])

    def close(self, connection_id: str) -> None:
        """The client went away (API Gateway then answers 410 for it)."""
        with self._lock:
            self._live.pop(connection_id, None)

    def is_live(self, connection_id: str) -> bool:
        with self._lock:
            return connection_id in self._live

    def describe(self, connection_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._live.get(connection_id)
            return None if found is None else {**found, "lastActiveAt": iso_8601_datetime_with_milliseconds()}

    def deliver(self, connection_id: str, data: bytes) -> bool:
        """Store a frame for a live connection; False (nothing stored) when it is not live."""
        with self._lock:
            if connection_id not in self._live:
                return False
            self._posted.setdefault(connection_id, []).append(bytes(data))
            return True

    def frames(self, connection_id: str) -> list[bytes]:
        """Every frame posted to the connection, in order."""
        with self._lock:
            return list(self._posted.get(connection_id, []))

    def messages(self, connection_id: str) -> list[Any]:
        """The frames posted to the connection, decoded as JSON."""
        return [json.loads(frame) for frame in self.frames(connection_id)]


CONNECTIONS = LiveConnections()


class GoneException(JsonRESTError):
    code = 410

    def __init__(self) -> None:
        super().__init__("GoneException", "")


class PayloadTooLargeException(JsonRESTError):
    code = 413

    def __init__(self) -> None:
        super().__init__("PayloadTooLargeException", "Message too long")


def _patch_management_api_connections() -> None:
    """moto's management API treats every connection id as connected (a ``defaultdict``), concatenates what
    is posted and never answers 410: a worker's stale-connection handling cannot be exercised. Here
    ``CONNECTIONS`` (opened and closed by tests) decides: PostToConnection to a live connection stores the
    frame (read back with ``CONNECTIONS.messages(id)``), over 128 KiB answers 413 PayloadTooLargeException;
    Post/Get/DeleteConnection of an unknown or closed connection answer 410 GoneException, as AWS does.
    DeleteConnection closes it (the $disconnect AWS then sends is not emulated). Only while an emulator
    runs (``CONNECTIONS.active``): ``mock_aws`` tests keep moto's behaviour."""

    original_post = ApiGatewayManagementApiBackend.post_to_connection
    original_get = ApiGatewayManagementApiBackend.get_connection
    original_delete = ApiGatewayManagementApiBackend.delete_connection

    def post_to_connection(self: Any, data: bytes, connection_id: str) -> None:
        if not CONNECTIONS.active:
            return original_post(self, data, connection_id)
        if len(data) > MAX_WEBSOCKET_FRAME_BYTES:
            raise PayloadTooLargeException()
        if not CONNECTIONS.deliver(unquote(connection_id), data):
            raise GoneException()
        return None

    def get_connection(self: Any, connection_id: str) -> Any:
        if not CONNECTIONS.active:
            return original_get(self, connection_id)
        found = CONNECTIONS.describe(unquote(connection_id))
        if found is None:
            raise GoneException()
        return SimpleNamespace(to_dict=lambda: found)

    def delete_connection(self: Any, connection_id: str) -> None:
        if not CONNECTIONS.active:
            return original_delete(self, connection_id)
        if not CONNECTIONS.is_live(unquote(connection_id)):
            raise GoneException()
        CONNECTIONS.close(unquote(connection_id))
        return None

    ApiGatewayManagementApiBackend.post_to_connection = post_to_connection
    ApiGatewayManagementApiBackend.get_connection = get_connection
    ApiGatewayManagementApiBackend.delete_connection = delete_connection


# Applied by ``tools.emulator.server.apply_patches``, in this order.
PATCHES: tuple[Callable[[], None], ...] = (
    _patch_apigatewayv2_deployments,
    _patch_apigatewayv2_stage_updates,
    _patch_apigatewayv2_websocket_endpoint,
    _patch_execute_api_hosts,
    _patch_management_api_routing,
    _patch_management_api_connections,
)
