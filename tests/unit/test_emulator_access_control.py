"""The emulator's IAM enforcement for deployer keys (tools/emulator/access_control.py), against moto
in-process: a registered deployer gets exactly its policy's actions, every other caller stays unchecked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tools.emulator.access_control import DEPLOYER_KEYS, DeployerCredentials, create_deployer, iam_action
from tools.emulator.account import DEFAULT_REGION as REGION
from tools.emulator.server import apply_patches

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Deploy",
            "Effect": "Allow",
            "Action": [
                "sqs:CreateQueue",
                "lambda:ListFunctions",
                "cloudwatch:DescribeAlarms",
                "apigateway:GET",
                "s3:CreateBucket",
            ],
            # Scoped patterns: moto only knows the resource of SQS, IAM and S3 calls, so the deployer's
            # copy is widened to "*" (what is and is not proven is in docs/deployer-policies.md).
            "Resource": ["arn:aws:sqs:*:*:orders*", "arn:aws:lambda:*:*:function:orders*"],
        }
    ],
}


@pytest.fixture
def deployer() -> Iterator[DeployerCredentials]:
    apply_patches()
    with mock_aws():
        credentials = create_deployer(boto3.client("iam", region_name=REGION), "deployer-orders", POLICY)
        yield credentials
        DEPLOYER_KEYS.unregister(credentials.access_key_id)


def _as(credentials: DeployerCredentials, service: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name=REGION,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=None,
    )


def test_the_deployer_gets_its_actions_and_nothing_else(deployer: DeployerCredentials) -> None:
    sqs = _as(deployer, "sqs")
    url = sqs.create_queue(QueueName="orders-jobs")["QueueUrl"]

    with pytest.raises(ClientError) as refused:
        sqs.delete_queue(QueueUrl=url)

    # moto answers in IAM's XML, which the JSON-protocol SQS client reads as a bare 403 and its body.
    assert "is not authorized to perform: sqs:DeleteQueue" in str(refused.value)
    calls = [(c.action, c.allowed) for c in DEPLOYER_KEYS.calls[deployer.access_key_id]]
    assert calls == [("sqs:CreateQueue", True), ("sqs:DeleteQueue", False)]


def test_every_other_caller_stays_unchecked(deployer: DeployerCredentials) -> None:
    harness = boto3.client("sqs", region_name=REGION)  # the fake "testing" key of the test environment

    url = harness.create_queue(QueueName="harness-queue")["QueueUrl"]
    harness.delete_queue(QueueUrl=url)

    assert DEPLOYER_KEYS.calls[deployer.access_key_id] == []


def test_rest_calls_without_a_body_are_signed_and_authorised(deployer: DeployerCredentials) -> None:
    """GET requests of REST services: moto alone answers SignatureDoesNotMatch to every one of them."""
    assert _as(deployer, "lambda").list_functions()["Functions"] == []
    assert _as(deployer, "apigatewayv2").get_apis()["Items"] == []
    assert _as(deployer, "cloudwatch").describe_alarms()["MetricAlarms"] == []

    with pytest.raises(ClientError, match="AccessDenied"):
        _as(deployer, "pipes").list_pipes()


def test_s3_bucket_configuration_calls_are_authorised_under_their_own_action(
    deployer: DeployerCredentials,
) -> None:
    """moto alone authorises PUT ?publicAccessBlock as s3:CreateBucket, which the policy grants."""
    s3 = _as(deployer, "s3")
    s3.create_bucket(Bucket="orders-uploads")

    with pytest.raises(ClientError, match="AccessDenied"):
        s3.put_public_access_block(
            Bucket="orders-uploads", PublicAccessBlockConfiguration={"BlockPublicAcls": True}
        )

    calls = [(c.action, c.allowed) for c in DEPLOYER_KEYS.calls[deployer.access_key_id]]
    assert calls == [("s3:CreateBucket", True), ("s3:PutBucketPublicAccessBlock", False)]


def test_actions_are_named_as_iam_names_them() -> None:
    assert iam_action("monitoring:PutMetricAlarm", "POST") == "cloudwatch:PutMetricAlarm"
    assert iam_action("apigateway:CreateApi", "POST") == "apigateway:POST"
    assert iam_action("sqs:CreateQueue", "POST") == "sqs:CreateQueue"
    assert iam_action("lambda:Invoke", "POST") == "lambda:InvokeFunction"
    assert iam_action("s3:HeadBucket", "HEAD", "", bucket_level=True) == "s3:ListBucket"
    assert iam_action("s3:CreateBucket", "PUT", "publicAccessBlock=", bucket_level=True) == (
        "s3:PutBucketPublicAccessBlock"
    )
    assert (
        iam_action("s3:ListBucket", "GET", "encryption", bucket_level=True) == "s3:GetEncryptionConfiguration"
    )
    assert iam_action("s3:DeleteBucket", "DELETE", "ownershipControls", bucket_level=True) == (
        "s3:PutBucketOwnershipControls"
    )
    assert iam_action("s3:ListBucket", "GET", "list-type=2", bucket_level=True) == "s3:ListBucket"
