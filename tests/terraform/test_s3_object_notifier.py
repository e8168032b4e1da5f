"""examples/s3-object-notifier applied to the emulator, proven end to end, then destroyed.

The flow under test is the deployed one: objects are put into and deleted from the deployed bucket; the
deployed bucket notification makes the emulator record S3's asynchronous invocation of the deployed
function (see ``tools.emulator.s3``); the in-process Lambda service runs the handler with the deployed
configuration and exactly the event S3 delivered; the handler sends through the emulator's SES v2, whose
backend (in this process) holds the sent messages we read back.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from moto.ses.models import ses_backends

from notification_handlers import s3_object_notifier
from tests.support.policies import deployed_statements, least_privilege_violations
from tests.terraform.common_checks import (  # noqa: F401 - collected here, run against this example
    test_deployer_policy_allowed_every_call,
    test_deployer_policy_names_every_deployed_resource,
    test_rendered_policies_are_least_privilege,
    test_replan_after_apply_is_clean,
)
from tests.terraform.conftest import DeployedExample, load_event
from tools.emulator.account import ACCOUNT_ID
from tools.emulator.inventory import created_since, inventory
from tools.emulator.lambda_service import InProcessLambdaService, InvocationResult
from tools.emulator.server import Emulator

pytestmark = pytest.mark.terraform

EXAMPLE = "s3-object-notifier"
# Deployed as a consumer copies it: no -var, the example's defaults.
NAME = "s3-object-notifier"
SENDER = "s3-alerts@example.com"
RECIPIENTS = ["ops@example.com"]
BUCKET = f"{NAME}-{ACCOUNT_ID}-us-east-1"
REPORT = "reports/quarterly report.pdf"
MENU = "menus/café menu.txt"
REPORT_BODY = b"%PDF-1.7 " + b"x" * 2039  # 2048 bytes -> "2.0 KiB (2,048 bytes)"
MENU_BODY = "Café crème 2,50 €\n".encode()


@dataclass(frozen=True)
class Mail:
    source: str
    to: list[str]
    subject: str
    body: str


@pytest.fixture(scope="module")
def deployed(emulator: Emulator) -> Iterator[DeployedExample]:
    example = DeployedExample(emulator, EXAMPLE, {})
    yield example
    example.close()


class Outbox:
    """What SES v2 accepted, read from the emulator's backend (the server runs in this process)."""

    def __init__(self, region: str) -> None:
        self._messages = ses_backends[ACCOUNT_ID][region].sent_messages
        self._seen = len(self._messages)

    def new(self) -> list[Mail]:
        fresh = self._messages[self._seen :]
        self._seen = len(self._messages)
        return [Mail(m.source, m.destinations["ToAddresses"], m.subject, m.body) for m in fresh]


@pytest.fixture
def outbox(emulator: Emulator, lambda_service: InProcessLambdaService) -> Outbox:
    lambda_service.run_pending()  # nothing stale from another test
    return Outbox(emulator.region)


def _run(lambda_service: InProcessLambdaService) -> list[InvocationResult]:
    results = lambda_service.run_pending()
    for result in results:
        assert result.succeeded, result.error
    return results


def test_bucket_has_the_secure_defaults(emulator: Emulator, deployed: DeployedExample) -> None:
    s3 = emulator.client("s3")
    bucket = deployed.outputs["bucket_name"]
    assert bucket == BUCKET

    blocked = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert blocked == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    [rule] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": deployed.outputs["kms_key_arn"],
    }
    assert rule["BucketKeyEnabled"] is True
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    [ownership] = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert ownership == {"ObjectOwnership": "BucketOwnerEnforced"}
    [statement] = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(statement["Resource"]) == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}


def test_notification_and_permission_are_scoped(emulator: Emulator, deployed: DeployedExample) -> None:
    outputs = deployed.outputs
    config = emulator.client("s3").get_bucket_notification_configuration(Bucket=outputs["bucket_name"])
    [target] = config["LambdaFunctionConfigurations"]
    assert target["Id"] == "objects"
    assert target["LambdaFunctionArn"] == outputs["lambda_function_arn"]
    assert sorted(target["Events"]) == ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]

    lambda_ = emulator.client("lambda")
    [permission] = json.loads(lambda_.get_policy(FunctionName=outputs["lambda_function_name"])["Policy"])[
        "Statement"
    ]
    assert permission["Principal"] == {"Service": "s3.amazonaws.com"}
    assert permission["Condition"]["ArnLike"]["AWS:SourceArn"] == outputs["bucket_arn"]
    assert permission["Condition"]["StringEquals"]["AWS:SourceAccount"] == ACCOUNT_ID

    function = lambda_.get_function_configuration(FunctionName=outputs["lambda_function_name"])
    assert function["Handler"] == "notification_handlers.s3_object_notifier.handler"
    assert function["DeadLetterConfig"]["TargetArn"] == outputs["dead_letter_queue_arn"]
    assert function["KMSKeyArn"] == outputs["kms_key_arn"]
    variables = function["Environment"]["Variables"]
    assert variables["SENDER"] == SENDER
    assert json.loads(variables["RECIPIENTS"]) == RECIPIENTS
    assert variables["SES_IDENTITY_ARN"] == outputs["ses_identity_arn"]
    assert "CONFIGURATION_SET" not in variables

    identity = emulator.client("sesv2").get_email_identity(EmailIdentity=SENDER)
    assert identity["IdentityType"] == "EMAIL_ADDRESS"


def test_every_deployed_policy_is_least_privilege(emulator: Emulator, deployed: DeployedExample) -> None:
    created = created_since(deployed.before, inventory(emulator))
    statements = deployed_statements(emulator, created)

    assert {s.policy.split()[0] for s in statements} >= {"role", "key", "queue", "function", "bucket"}
    assert least_privilege_violations(statements) == []
    with_policy = {s.policy for s in statements if s.policy.startswith(("queue", "bucket"))}
    tls_only = {s.policy for s in statements if s.denies_insecure_transport}
    assert with_policy and with_policy <= tls_only, "the bucket and the queue must deny non-TLS access"
    [ses] = [s for s in statements if any(a.startswith("ses:") for a in s.actions)]
    assert ses.actions == ("ses:SendEmail",)
    assert ses.resources == (deployed.outputs["ses_identity_arn"],)
    assert not [
        s for s in statements if s.policy.startswith("role") and any(a.startswith("s3:") for a in s.actions)
    ]


def test_uploads_with_spaces_and_accents_are_mailed(
    emulator: Emulator, deployed: DeployedExample, lambda_service: InProcessLambdaService, outbox: Outbox
) -> None:
    s3 = emulator.client("s3")
    s3.put_object(Bucket=BUCKET, Key=REPORT, Body=REPORT_BODY)
    s3.put_object(Bucket=BUCKET, Key=MENU, Body=MENU_BODY)

    report, menu = _run(lambda_service)

    # S3 delivers URL-encoded keys: "+" for a space, UTF-8 %XX escapes.
    assert report.payload["Records"][0]["s3"]["object"]["key"] == "reports/quarterly+report.pdf"
    assert menu.payload["Records"][0]["s3"]["object"]["key"] == "menus/caf%C3%A9+menu.txt"
    assert report.function_name == deployed.outputs["lambda_function_name"]
    first, second = outbox.new()
    for mail in (first, second):
        assert mail.source == SENDER
        assert mail.to == RECIPIENTS
    assert first.subject == f"S3 object created: s3://{BUCKET}/{REPORT}"
    assert second.subject == f"S3 object created: s3://{BUCKET}/{MENU}"
    for fact in (REPORT, "created (ObjectCreated:Put)", "2.0 KiB (2,048 bytes)", BUCKET, ACCOUNT_ID):
        assert fact in first.body, f"{fact!r} missing from:\n{first.body}"
    assert f"{len(MENU_BODY)} bytes" in second.body and "café menu.txt" in second.body


def test_delete_is_mailed_as_a_delete_marker(
    emulator: Emulator, lambda_service: InProcessLambdaService, outbox: Outbox
) -> None:
    s3 = emulator.client("s3")
    s3.put_object(Bucket=BUCKET, Key="scratch/to be removed é.txt", Body=b"bye")
    _run(lambda_service)
    outbox.new()

    marker_version = s3.delete_object(Bucket=BUCKET, Key="scratch/to be removed é.txt")["VersionId"]

    [result] = _run(lambda_service)
    [record] = result.payload["Records"]
    assert record["eventName"] == "ObjectRemoved:DeleteMarkerCreated"
    assert "size" not in record["s3"]["object"]
    [mail] = outbox.new()
    assert mail.subject == f"S3 object deleted: s3://{BUCKET}/scratch/to be removed é.txt"
    assert "deleted (ObjectRemoved:DeleteMarkerCreated)" in mail.body
    assert marker_version in mail.body
    assert "bytes" not in mail.body


def test_a_put_and_a_delete_in_one_event_are_two_emails(
    emulator: Emulator, deployed: DeployedExample, lambda_service: InProcessLambdaService, outbox: Outbox
) -> None:
    s3 = emulator.client("s3")
    s3.put_object(Bucket=BUCKET, Key="batch/new price list.csv", Body=b"a,b\n1,2\n")
    s3.delete_object(Bucket=BUCKET, Key=MENU)
    put, delete = _run(lambda_service)
    outbox.new()
    # S3 may batch records; build that event from what the emulator delivered, as a fresh environment sees it.
    batch = {"Records": put.payload["Records"] + delete.payload["Records"]}
    s3_object_notifier.forget_sent_records()

    result = lambda_service.invoke_async(deployed.outputs["lambda_function_arn"], batch)

    assert result.succeeded, result.error
    assert result.attempts == 1
    first, second = outbox.new()
    assert first.subject == f"S3 object created: s3://{BUCKET}/batch/new price list.csv"
    assert "8 bytes" in first.body
    assert second.subject == f"S3 object deleted: s3://{BUCKET}/{MENU}"
    assert "ObjectRemoved:DeleteMarkerCreated" in second.body

    # The same event again (an S3 redelivery or a retry on this warm environment): nothing is re-sent.
    again = lambda_service.invoke_async(deployed.outputs["lambda_function_arn"], batch)
    assert again.result["duplicates"] == 2
    assert outbox.new() == []


def test_malformed_record_mails_the_good_one_then_is_dead_lettered(
    emulator: Emulator, deployed: DeployedExample, lambda_service: InProcessLambdaService, outbox: Outbox
) -> None:
    event = load_event("s3_batch_put_and_delete")
    bad = copy.deepcopy(event)
    del bad["Records"][1]["s3"]["object"]["key"]

    result = lambda_service.invoke_async(deployed.outputs["lambda_function_arn"], bad)

    assert not result.succeeded
    assert result.attempts == 3, "Lambda's async retries: 1 attempt + 2 retries"
    assert result.dead_lettered_to == deployed.outputs["dead_letter_queue_arn"]
    assert "Records[1]: s3.object.key is missing" in str(result.error)
    [mail] = outbox.new()  # the valid record, once: the retries did not mail it again
    assert mail.subject == "S3 object created: s3://acme-reports/uploads/café menu.txt"
    sqs = emulator.client("sqs")
    [dead] = sqs.receive_message(
        QueueUrl=deployed.outputs["dead_letter_queue_url"],
        MessageAttributeNames=["All"],
        MaxNumberOfMessages=10,
    )["Messages"]
    assert json.loads(dead["Body"]) == bad
    assert "s3.object.key is missing" in dead["MessageAttributes"]["ErrorMessage"]["StringValue"]
    sqs.delete_message(
        QueueUrl=deployed.outputs["dead_letter_queue_url"], ReceiptHandle=dead["ReceiptHandle"]
    )


def test_s3_test_event_is_ignored(
    deployed: DeployedExample, lambda_service: InProcessLambdaService, outbox: Outbox
) -> None:
    result = lambda_service.invoke_async(deployed.outputs["lambda_function_arn"], load_event("s3_test_event"))

    assert result.succeeded and result.result == {"status": "ignored", "reason": "s3:TestEvent"}
    assert outbox.new() == []


def test_zz_destroy_leaves_nothing_behind(emulator: Emulator, deployed: DeployedExample) -> None:
    # The bucket still holds versions and delete markers: the example's force_destroy removes them.
    left = deployed.destroy_and_list_leftovers()
    assert left == {}, f"destroy left behind: {left}"
