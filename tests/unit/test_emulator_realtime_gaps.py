"""The emulator patches the WebSocket and push channels rely on, against the emulator's server (as Terraform
and the in-process handlers use it): synchronous Lambda invokes (``aws_lambda_invocation``), API Gateway v2
deployments and stage updates, the WebSocket management API (live connections, 410 Gone) and SNS mobile push
(the platform's entry of a ``MessageStructure=json`` message)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from notification_handlers import aws_clients
from notification_handlers.service import websocket_worker
from tools.emulator.account import DEFAULT_REGION as REGION
from tools.emulator.apigateway import CONNECTIONS, EXECUTE_API_TARGET
from tools.emulator.awslambda import SYNC_INVOKER
from tools.emulator.lambda_service import InProcessLambdaService
from tools.emulator.server import Emulator
from tools.emulator.sns import endpoint_deliveries

PACKAGE = Path(__file__).resolve().parents[2] / "dist" / "lambda.zip"
APNS_SECRET = {
    "signing_key": "fake-apns-signing-key",  # the provisioner passes it on; SNS (moto) does not parse it
    "key_id": "ABC123DEFG",
    "team_id": "TEAM123456",
    "bundle_id": "com.example.app",
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    started = Emulator().start()
    yield started
    started.stop()
    assert EXECUTE_API_TARGET.endpoint_url is None and CONNECTIONS.active is False


@pytest.fixture
def invoker(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessLambdaService]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.endpoint_url)  # the handlers' clients: the emulator
    aws_clients.reset_clients()
    service = InProcessLambdaService(emulator)
    emulator.install_invoker(service.invoke_sync)
    yield service
    emulator.install_invoker(None)


def _function(emulator: Emulator, name: str, handler: str, variables: dict[str, str] | None = None) -> str:
    iam = emulator.client("iam")
    assume = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(assume))["Role"][
        "Arn"
    ]
    created = emulator.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler=handler,
        Code={"ZipFile": PACKAGE.read_bytes()},
        Environment={"Variables": variables or {}},
    )
    return str(created["FunctionArn"])


def _invoke(emulator: Emulator, function: str, payload: dict[str, Any]) -> tuple[str | None, Any]:
    answer = emulator.client("lambda").invoke(FunctionName=function, Payload=json.dumps(payload).encode())
    assert answer["StatusCode"] == 200
    return answer.get("FunctionError"), json.loads(answer["Payload"].read())


# --- a) Lambda RequestResponse invokes run the deployed handler ---------------------------------------


def test_terraform_lifecycle_invokes_run_the_deployed_provisioner(
    emulator: Emulator, invoker: InProcessLambdaService
) -> None:
    arn = _function(emulator, "gaps-platforms", "notification_handlers.service.push_platforms.handler")
    secret = emulator.client("secretsmanager").create_secret(
        Name="gaps-apns", SecretString=json.dumps(APNS_SECRET)
    )["ARN"]
    request = {"platform": "apns", "name": "gaps-apns", "credentials_secret_arn": secret}
    sns = emulator.client("sns")
    first = f"arn:aws:sns:{REGION}:123456789012:app/APNS/gaps-apns"

    error, created = _invoke(emulator, arn, {**request, "tf": {"action": "create", "prev_input": None}})
    assert error is None and created == {"platform_application_arn": first}
    attributes = sns.get_platform_application_attributes(PlatformApplicationArn=first)["Attributes"]
    assert attributes["PlatformPrincipal"] == "ABC123DEFG"
    assert attributes["ApplePlatformBundleID"] == "com.example.app"

    renamed = {**request, "name": "gaps-apns-2"}
    error, updated = _invoke(
        emulator, "gaps-platforms", {**renamed, "tf": {"action": "update", "prev_input": request}}
    )
    second = f"arn:aws:sns:{REGION}:123456789012:app/APNS/gaps-apns-2"
    assert error is None and updated == {"platform_application_arn": second}
    arns = {a["PlatformApplicationArn"] for a in sns.list_platform_applications()["PlatformApplications"]}
    assert second in arns and first not in arns

    error, deleted = _invoke(emulator, arn, {**renamed, "tf": {"action": "delete", "prev_input": renamed}})
    assert error is None and deleted == {"platform_application_arn": second}
    arns = {a["PlatformApplicationArn"] for a in sns.list_platform_applications()["PlatformApplications"]}
    assert second not in arns


def test_a_raising_handler_is_an_unhandled_function_error(
    emulator: Emulator, invoker: InProcessLambdaService
) -> None:
    arn = _function(emulator, "gaps-broken", "notification_handlers.service.push_platforms.handler")

    error, payload = _invoke(emulator, arn, {"platform": "blackberry", "name": "x"})

    assert error == "Unhandled"
    assert payload["errorType"] == "MalformedEventError"
    assert "input.platform must be one of" in payload["errorMessage"]
    assert payload["requestId"] and isinstance(payload["stackTrace"], list) and payload["stackTrace"]


def test_invocations_of_one_function_take_turns_and_other_functions_run_beside_them(
    emulator: Emulator, invoker: InProcessLambdaService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Terraform destroys both platform applications at once: one environment per function means the
    second invocation waits for the first (their appended log keys and environment never mix), while the
    router's synchronous call to its enrichment function, another function, still runs."""
    provisioner = _function(emulator, "gaps-serial", "probe.provisioner")
    enricher = _function(emulator, "gaps-enricher", "probe.enricher")
    guard = threading.Lock()
    running: list[str] = []
    most_at_once = 0
    second_started = threading.Event()

    def provisioner_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        nonlocal most_at_once
        with guard:
            running.append(event["platform"])
            most_at_once = max(most_at_once, len(running))
        if event["platform"] == "fcm":
            second_started.set()
        else:
            # Without the one-environment rule the fcm invocation starts now and the count reaches 2.
            second_started.wait(timeout=0.5)
        enriched = invoker.invoke_sync(enricher, {"platform": event["platform"]})
        with guard:
            running.remove(event["platform"])
        return {"platform": event["platform"], "enriched": enriched.result}

    handlers = {
        "probe.provisioner": provisioner_handler,
        "probe.enricher": lambda event, context: {"seen": event["platform"]},
    }
    monkeypatch.setattr("tools.emulator.lambda_service._load_handler", handlers.__getitem__)

    with ThreadPoolExecutor(max_workers=2) as pool:
        apns = pool.submit(invoker.invoke_sync, provisioner, {"platform": "apns"})
        while not running:  # the apns invocation holds the environment before fcm asks for it
            time.sleep(0.001)
        fcm = pool.submit(invoker.invoke_sync, provisioner, {"platform": "fcm"})
        results = [apns.result(timeout=30), fcm.result(timeout=30)]

    assert [r.error for r in results] == [None, None]
    assert [r.result for r in results] == [
        {"platform": "apns", "enriched": {"seen": "apns"}},
        {"platform": "fcm", "enriched": {"seen": "fcm"}},
    ]
    assert most_at_once == 1


def test_only_request_response_invokes_use_the_invoker(emulator: Emulator) -> None:
    calls: list[tuple[str, Any]] = []

    class Answer:
        def __init__(self) -> None:
            self.result: Any = {"ok": True}
            self.error: BaseException | None = None

    def spy(function_arn: str, payload: Any) -> Answer:
        calls.append((function_arn, payload))
        return Answer()

    arn = _function(emulator, "gaps-spy", "notification_handlers.service.push_platforms.handler")
    emulator.install_invoker(spy)
    try:
        assert _invoke(emulator, "gaps-spy", {"n": 1}) == (None, {"ok": True})
        assert SYNC_INVOKER.invoker is spy
    finally:
        emulator.install_invoker(None)
    assert calls == [(arn, {"n": 1})]  # by name or ARN, the invoker gets the function's ARN


# --- b) API Gateway v2 -----------------------------------------------------------------------------------


def test_websocket_api_deployments_and_stage_updates(emulator: Emulator) -> None:
    apigw = emulator.client("apigatewayv2")
    api = apigw.create_api(
        Name="gaps-ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    assert api["ApiEndpoint"] == f"wss://{api['ApiId']}.execute-api.{REGION}.amazonaws.com"
    api_id = api["ApiId"]
    first = apigw.create_deployment(ApiId=api_id, Description="routes v1")
    assert first["DeploymentStatus"] == "DEPLOYED" and first["Description"] == "routes v1"
    assert (
        apigw.get_deployment(ApiId=api_id, DeploymentId=first["DeploymentId"])["Description"] == "routes v1"
    )

    log_settings = {
        "DestinationArn": f"arn:aws:logs:{REGION}:123456789012:log-group:ws",
        "Format": '{"id":1}',
    }
    throttling = {
        "ThrottlingBurstLimit": 500,
        "ThrottlingRateLimit": 1000.0,
        "DetailedMetricsEnabled": True,
        "DataTraceEnabled": False,
    }
    apigw.create_stage(
        ApiId=api_id,
        StageName="live",
        DeploymentId=first["DeploymentId"],
        AccessLogSettings=log_settings,
        DefaultRouteSettings=throttling,
    )
    stage = apigw.get_stage(ApiId=api_id, StageName="live")
    assert stage["DeploymentId"] == first["DeploymentId"]
    assert stage["AccessLogSettings"] == log_settings
    assert stage["DefaultRouteSettings"] == throttling

    with pytest.raises(ClientError, match="Active stages pointing to this deployment") as in_use:
        apigw.delete_deployment(ApiId=api_id, DeploymentId=first["DeploymentId"])
    assert in_use.value.response["Error"]["Code"] == "BadRequestException"

    second = apigw.create_deployment(ApiId=api_id, Description="routes v2")
    apigw.update_stage(
        ApiId=api_id,
        StageName="live",
        DeploymentId=second["DeploymentId"],
        DefaultRouteSettings={**throttling, "ThrottlingBurstLimit": 50},
    )
    stage = apigw.get_stage(ApiId=api_id, StageName="live")
    assert stage["DeploymentId"] == second["DeploymentId"]
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 50
    assert stage["AccessLogSettings"] == log_settings  # untouched by the update

    apigw.delete_deployment(ApiId=api_id, DeploymentId=first["DeploymentId"])
    listed = apigw.get_deployments(ApiId=api_id)["Items"]
    assert [d["DeploymentId"] for d in listed] == [second["DeploymentId"]]
    with pytest.raises(ClientError) as gone:
        apigw.get_deployment(ApiId=api_id, DeploymentId=first["DeploymentId"])
    assert gone.value.response["Error"]["Code"] == "NotFoundException"
    apigw.update_deployment(ApiId=api_id, DeploymentId=second["DeploymentId"], Description="v2'")
    assert apigw.get_deployment(ApiId=api_id, DeploymentId=second["DeploymentId"])["Description"] == "v2'"


def test_http_api_keeps_its_https_endpoint_and_jwt_routes(emulator: Emulator) -> None:
    apigw = emulator.client("apigatewayv2")
    api = apigw.create_api(Name="gaps-http", ProtocolType="HTTP")
    assert api["ApiEndpoint"] == f"https://{api['ApiId']}.execute-api.{REGION}.amazonaws.com"
    authorizer = apigw.create_authorizer(
        ApiId=api["ApiId"],
        Name="jwt",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": "https://issuer.example.com", "Audience": ["client-1"]},
    )
    route = apigw.create_route(
        ApiId=api["ApiId"],
        RouteKey="GET /preferences",
        AuthorizationType="JWT",
        AuthorizerId=authorizer["AuthorizerId"],
        AuthorizationScopes=["notifications/self"],
    )
    read = apigw.get_route(ApiId=api["ApiId"], RouteId=route["RouteId"])
    assert (read["AuthorizationType"], read["AuthorizerId"]) == ("JWT", authorizer["AuthorizerId"])
    assert read["AuthorizationScopes"] == ["notifications/self"]
    apigw.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    apigw.update_stage(
        ApiId=api["ApiId"], StageName="$default", DefaultRouteSettings={"ThrottlingRateLimit": 50.0}
    )
    stage = apigw.get_stage(ApiId=api["ApiId"], StageName="$default")
    assert stage["AutoDeploy"] is True and stage["DefaultRouteSettings"] == {"ThrottlingRateLimit": 50.0}


# --- c) the management API, as the WebSocket worker's client reaches it --------------------------------


def _management_client() -> Any:
    """Built exactly as the worker builds it, from the endpoint Terraform gives it."""
    endpoint = f"https://gapsapi01.execute-api.{REGION}.amazonaws.com/live"
    return aws_clients.client_with_endpoint("apigatewaymanagementapi", endpoint, max_pool_connections=16)


def _error(call: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_posts_reach_live_connections_and_gone_ones_answer_410(emulator: Emulator) -> None:
    client = _management_client()
    live, stale = "Lx1bZc0IoAMCJRg=", "Qm9ndXMrL3N0YWxl="
    CONNECTIONS.open(live)
    CONNECTIONS.open(stale)
    CONNECTIONS.close(stale)  # the tab went away without a $disconnect

    client.post_to_connection(ConnectionId=live, Data=b'{"n":1}')
    client.post_to_connection(ConnectionId=live, Data=json.dumps({"n": 2}).encode())

    assert CONNECTIONS.messages(live) == [{"n": 1}, {"n": 2}]
    for connection_id in (stale, "never-connected="):
        assert _error(lambda c=connection_id: client.post_to_connection(ConnectionId=c, Data=b"{}")) == (
            "GoneException",
            410,
        )
        assert CONNECTIONS.frames(connection_id) == []
    with pytest.raises(ClientError) as gone:
        client.post_to_connection(ConnectionId=stale, Data=b"{}")
    assert websocket_worker.classify(gone.value) == ("gone", "GoneException")
    assert isinstance(gone.value, client.exceptions.GoneException)


def test_get_and_delete_connection_follow_the_registry(emulator: Emulator) -> None:
    client = _management_client()
    connection_id = "R2V0QW5k+RGVs/ZXRl="  # base64: "+" and "/" too
    CONNECTIONS.open(connection_id, source_ip="198.51.100.7", user_agent="Firefox")

    described = client.get_connection(ConnectionId=connection_id)
    assert described["Identity"] == {"SourceIp": "198.51.100.7", "UserAgent": "Firefox"}
    assert described["ConnectedAt"] and described["LastActiveAt"]

    client.delete_connection(ConnectionId=connection_id)
    assert not CONNECTIONS.is_live(connection_id)
    assert _error(lambda: client.get_connection(ConnectionId=connection_id)) == ("GoneException", 410)
    assert _error(lambda: client.delete_connection(ConnectionId=connection_id)) == ("GoneException", 410)


def test_a_frame_over_128_kib_is_refused_with_413(emulator: Emulator) -> None:
    client = _management_client()
    CONNECTIONS.open("TGFyZ2U=")

    code = _error(lambda: client.post_to_connection(ConnectionId="TGFyZ2U=", Data=b"x" * (128 * 1024 + 1)))

    assert code == ("PayloadTooLargeException", 413)
    client.post_to_connection(ConnectionId="TGFyZ2U=", Data=b'"' + b"x" * (128 * 1024 - 2) + b'"')
    assert len(CONNECTIONS.frames("TGFyZ2U=")) == 1


def test_without_a_running_emulator_moto_keeps_its_own_management_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(CONNECTIONS, "active", False)
    with mock_aws():
        client = boto3.client(
            "apigatewaymanagementapi", endpoint_url=f"https://x.execute-api.{REGION}.amazonaws.com/live"
        )
        client.post_to_connection(ConnectionId="anything", Data=b"{}")  # moto: every id is connected
    assert CONNECTIONS.frames("anything") == []


# --- d) SNS mobile push ------------------------------------------------------------------------------


def test_endpoints_receive_their_platforms_entry(emulator: Emulator) -> None:
    sns = emulator.client("sns")
    entries = {
        "APNS": json.dumps({"aps": {"alert": {"title": "T", "body": "B"}, "badge": 1, "sound": "default"}}),
        "APNS_SANDBOX": json.dumps({"aps": {"alert": "sandbox"}}),
        "GCM": json.dumps({"fcmV1Message": {"message": {"notification": {"title": "T", "body": "B"}}}}),
    }
    received: dict[str, list[str]] = {}
    for platform in ("APNS", "APNS_SANDBOX", "GCM"):
        application = sns.create_platform_application(
            Name=f"gaps-{platform.lower()}", Platform=platform, Attributes={"PlatformCredential": "k"}
        )["PlatformApplicationArn"]
        endpoint = sns.create_platform_endpoint(
            PlatformApplicationArn=application, Token=f"token-{platform.lower()}", CustomUserData="u-1"
        )["EndpointArn"]
        sns.publish(
            TargetArn=endpoint, Message=json.dumps({"default": "B", **entries}), MessageStructure="json"
        )
        sns.publish(
            TargetArn=endpoint, Message=json.dumps({"default": "only default"}), MessageStructure="json"
        )
        received[platform] = endpoint_deliveries(endpoint)

    assert received == {p: [entries[p], "only default"] for p in entries}


def test_publish_needs_a_default_and_a_disabled_endpoint_refuses(emulator: Emulator) -> None:
    sns = emulator.client("sns")
    application = sns.create_platform_application(
        Name="gaps-disabled", Platform="GCM", Attributes={"PlatformCredential": "k"}
    )["PlatformApplicationArn"]
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=application, Token="token-disabled")[
        "EndpointArn"
    ]
    no_default = json.dumps({"GCM": "{}"})

    assert _error(lambda: sns.publish(TargetArn=endpoint, Message=no_default, MessageStructure="json")) == (
        "InvalidParameter",
        400,
    )
    sns.set_endpoint_attributes(EndpointArn=endpoint, Attributes={"Enabled": "false"})
    message = json.dumps({"default": "d", "GCM": "{}"})
    code, _ = _error(lambda: sns.publish(TargetArn=endpoint, Message=message, MessageStructure="json"))
    assert code == "EndpointDisabled"
    sns.set_endpoint_attributes(EndpointArn=endpoint, Attributes={"Enabled": "true"})
    sns.publish(TargetArn=endpoint, Message=message, MessageStructure="json")
    assert endpoint_deliveries(endpoint) == ["{}"]
