"""Push platform applications from Secrets Manager (aws_lambda_invocation CRUD provisioner) and the
registration API's create-or-re-enable of device endpoints, against moto in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from conftest import FakeLambdaContext, capture_logs, load_event
from moto import mock_aws
from moto.sns.models import sns_backends

from notification_handlers import aws_clients
from notification_handlers.event_fields import MalformedEventError
from notification_handlers.service.log import logger
from notification_handlers.service.push_platforms import CredentialsError, ensure_endpoint, handler
from tools.emulator.account import ACCOUNT_ID
from tools.emulator.account import DEFAULT_REGION as REGION

# Placeholders, not keys: they prove the provisioner never echoes or logs a credential.
FAKE_APNS_KEY = (
    "-----BEGIN PRIVATE KEY-----\nMIGTAgEAsecretkey\n-----END PRIVATE KEY-----"  # pragma: allowlist secret
)
FAKE_FCM_KEY = (
    "-----BEGIN PRIVATE KEY-----\nfcmsecret\n-----END PRIVATE KEY-----\n"  # pragma: allowlist secret
)
FAKE_VALUE = "topsecret"  # pragma: allowlist secret

APNS_TOKEN_SECRET = {
    "signing_key": FAKE_APNS_KEY,
    "key_id": "ABC123DEFG",
    "team_id": "TEAM123456",
    "bundle_id": "com.example.orders",
}
SERVICE_ACCOUNT = {
    "type": "service_account",
    "project_id": "orders-app",
    "private_key": FAKE_FCM_KEY,
    "client_email": "sns@orders-app.iam.gserviceaccount.com",
}
APP_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:app/APNS/orders-apns"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        aws_clients.reset_clients()
        yield


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext(
        function_name="notification-service-push-platforms",
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:notification-service-push-platforms",
    )


def secret(name: str, value: dict[str, Any]) -> str:
    return str(
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name=name, SecretString=json.dumps(value)
        )["ARN"]
    )


def applications() -> dict[str, dict[str, Any]]:
    return {arn: dict(app.attributes) for arn, app in sns_backends[ACCOUNT_ID][REGION].applications.items()}


def invocation(fixture: str, **input_: Any) -> dict[str, Any]:
    event = load_event(f"notification_service_push_platform_{fixture}")
    event.update(input_)
    return event


def test_create_reads_apns_token_credentials_and_returns_only_the_arn(
    aws: None, context: FakeLambdaContext
) -> None:
    arn = secret("notification-service/apns", APNS_TOKEN_SECRET)
    with capture_logs(logger) as logs:
        result = handler(invocation("create", credentials_secret_arn=arn), context)
    assert result == {"platform_application_arn": APP_ARN}
    assert applications()[APP_ARN] == {
        "PlatformCredential": APNS_TOKEN_SECRET["signing_key"],
        "PlatformPrincipal": "ABC123DEFG",
        "ApplePlatformTeamID": "TEAM123456",
        "ApplePlatformBundleID": "com.example.orders",
    }
    assert "secretkey" not in json.dumps(logs())


def test_apns_certificate_credentials(aws: None, context: FakeLambdaContext) -> None:
    arn = secret(
        "apns-cert", {"certificate": "-----BEGIN CERTIFICATE-----c", "private_key": "-----BEGIN KEY-----k"}
    )
    result = handler(invocation("create", credentials_secret_arn=arn, platform="apns_sandbox"), context)
    assert result["platform_application_arn"].endswith(":app/APNS_SANDBOX/orders-apns")
    assert applications()[result["platform_application_arn"]] == {
        "PlatformPrincipal": "-----BEGIN CERTIFICATE-----c",
        "PlatformCredential": "-----BEGIN KEY-----k",
    }


@pytest.mark.parametrize("as_string", [True, False])
def test_fcm_http_v1_service_account(aws: None, context: FakeLambdaContext, as_string: bool) -> None:
    key_file: Any = json.dumps(SERVICE_ACCOUNT) if as_string else SERVICE_ACCOUNT
    arn = secret("fcm", {"service_account_json": key_file})
    result = handler(
        invocation("create", credentials_secret_arn=arn, platform="fcm", name="orders-fcm"), context
    )
    assert result == {"platform_application_arn": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:app/GCM/orders-fcm"}
    attributes = applications()[result["platform_application_arn"]]
    assert set(attributes) == {"PlatformCredential"}, "FCM token credentials have no PlatformPrincipal"
    assert json.loads(attributes["PlatformCredential"]) == SERVICE_ACCOUNT


def test_update_rereads_the_secret_and_keeps_the_application(aws: None, context: FakeLambdaContext) -> None:
    first = secret("notification-service/apns", APNS_TOKEN_SECRET)
    rotated = secret("notification-service/apns-rotated", {**APNS_TOKEN_SECRET, "key_id": "NEWKEY0001"})
    handler(invocation("create", credentials_secret_arn=first), context)
    event = invocation("update", credentials_secret_arn=rotated)
    event["tf"]["prev_input"]["credentials_secret_arn"] = first

    assert handler(event, context) == {"platform_application_arn": APP_ARN}
    assert list(applications()) == [APP_ARN]
    assert applications()[APP_ARN]["PlatformPrincipal"] == "NEWKEY0001"


def test_update_with_a_new_name_replaces_the_application(aws: None, context: FakeLambdaContext) -> None:
    arn = secret("apns", APNS_TOKEN_SECRET)
    handler(invocation("create", credentials_secret_arn=arn), context)
    event = invocation("update", credentials_secret_arn=arn, name="orders-ios")
    event["tf"]["prev_input"]["credentials_secret_arn"] = arn
    result = handler(event, context)
    assert list(applications()) == [result["platform_application_arn"]]
    assert result["platform_application_arn"].endswith("app/APNS/orders-ios")


def test_delete_removes_the_application_and_is_idempotent(aws: None, context: FakeLambdaContext) -> None:
    arn = secret("apns", APNS_TOKEN_SECRET)
    handler(invocation("create", credentials_secret_arn=arn), context)
    delete = invocation("delete", credentials_secret_arn=arn)
    assert handler(delete, context) == {"platform_application_arn": APP_ARN}
    assert applications() == {}
    assert handler(delete, context) == {"platform_application_arn": APP_ARN}


def test_create_twice_keeps_one_application(aws: None, context: FakeLambdaContext) -> None:
    arn = secret("apns", APNS_TOKEN_SECRET)
    handler(invocation("create", credentials_secret_arn=arn), context)
    handler(invocation("create", credentials_secret_arn=arn), context)
    assert list(applications()) == [APP_ARN]


@pytest.mark.parametrize(
    ("platform", "value", "problem"),
    [
        ("apns", {"signing_key": FAKE_VALUE, "key_id": "K"}, "an APNs secret needs"),
        ("fcm", {"service_account_json": "{not json topsecret"}, "service_account_json is not JSON"),
        ("fcm", {"service_account_json": {"private_key": FAKE_VALUE}}, "lacks project_id, client_email"),
        ("fcm", {"api_key": FAKE_VALUE}, "an FCM secret needs service_account_json"),
    ],
)
def test_unusable_secrets_name_fields_never_values(
    aws: None, context: FakeLambdaContext, platform: str, value: dict[str, Any], problem: str
) -> None:
    arn = secret("bad", value)
    with capture_logs(logger) as logs, pytest.raises(CredentialsError, match=problem) as raised:
        handler(invocation("create", credentials_secret_arn=arn, platform=platform), context)
    assert FAKE_VALUE not in str(raised.value)
    assert FAKE_VALUE not in json.dumps(logs())
    assert applications() == {}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"platform": "wns"}, r"input.platform must be one of"),
        ({"name": "bad name!"}, r"input.name must be"),
        ({"credentials_secret_arn": FAKE_VALUE}, r"input.credentials_secret_arn is not a Secrets Manager"),
        ({"tf": {"action": "read"}}, r"tf.action must be one of"),
        ({"tf": "create"}, r"tf must be an object"),
    ],
)
def test_bad_input_names_the_field(
    aws: None, context: FakeLambdaContext, change: dict[str, Any], problem: str
) -> None:
    with pytest.raises(MalformedEventError, match=problem):
        handler(invocation("create", **change), context)


def test_the_fixtures_are_the_providers_crud_shapes() -> None:
    for action in ("create", "update", "delete"):
        event = load_event(f"notification_service_push_platform_{action}")
        assert event["tf"]["action"] == action
        assert (event["tf"]["prev_input"] is None) == (action == "create")
        assert "tf" not in (event["tf"]["prev_input"] or {})


# --- ensure_endpoint -------------------------------------------------------------------------------


@pytest.fixture
def app(aws: None) -> str:
    return str(
        boto3.client("sns", region_name=REGION).create_platform_application(
            Name="ios", Platform="APNS", Attributes={"PlatformCredential": "k", "PlatformPrincipal": "p"}
        )["PlatformApplicationArn"]
    )


def attributes(endpoint_arn: str) -> dict[str, str]:
    return dict(
        boto3.client("sns", region_name=REGION).get_endpoint_attributes(EndpointArn=endpoint_arn)[
            "Attributes"
        ]
    )


def test_ensure_endpoint_creates_then_is_idempotent(app: str) -> None:
    first = ensure_endpoint(app, "token-1", "u-1")
    assert ensure_endpoint(app, "token-1", "u-1") == first
    assert ensure_endpoint(app, "token-1", "u-1", first) == first
    assert {k: attributes(first)[k] for k in ("Token", "Enabled")} == {"Token": "token-1", "Enabled": "true"}
    assert sns_backends[ACCOUNT_ID][REGION].platform_endpoints[first].custom_user_data == "u-1"
    assert len(sns_backends[ACCOUNT_ID][REGION].platform_endpoints) == 1


def test_ensure_endpoint_re_enables_a_disabled_endpoint(app: str) -> None:
    endpoint = ensure_endpoint(app, "token-1", "u-1")
    boto3.client("sns", region_name=REGION).set_endpoint_attributes(
        EndpointArn=endpoint, Attributes={"Enabled": "false"}
    )
    assert ensure_endpoint(app, "token-1", "u-1") == endpoint, "found through 'already exists' and reused"
    assert attributes(endpoint)["Enabled"] == "true"
    boto3.client("sns", region_name=REGION).set_endpoint_attributes(
        EndpointArn=endpoint, Attributes={"Enabled": "false"}
    )
    assert ensure_endpoint(app, "token-1", "u-1", endpoint) == endpoint
    assert attributes(endpoint)["Enabled"] == "true"


def test_ensure_endpoint_updates_a_changed_token_and_owner(app: str) -> None:
    endpoint = ensure_endpoint(app, "token-1", "u-1")
    assert ensure_endpoint(app, "token-2", "u-2", endpoint) == endpoint
    assert attributes(endpoint) == {"Token": "token-2", "Enabled": "true", "CustomUserData": "u-2"}


def test_ensure_endpoint_recreates_a_deleted_endpoint(app: str) -> None:
    endpoint = ensure_endpoint(app, "token-1", "u-1")
    boto3.client("sns", region_name=REGION).delete_endpoint(EndpointArn=endpoint)
    again = ensure_endpoint(app, "token-1", "u-1", endpoint)
    assert again != endpoint
    assert attributes(again)["Token"] == "token-1"


def test_ensure_endpoint_refuses_empty_values(app: str) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        ensure_endpoint(app, "", "u-1")
