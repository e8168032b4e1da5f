"""Every policy a deployment left in the emulator, flattened to statements, for least-privilege checks.

Reads what was deployed (not what the .tf files say): IAM role inline policies, KMS key policies, SNS topic
policies, SQS queue policies, S3 bucket policies and Lambda resource policies of the resources a test created.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from tools.emulator.server import Emulator
from tools.emulator.terraform import Plan

# "*" resources AWS requires, each with the reason. Anything else must name its resources.
WILDCARD_RESOURCE_ALLOWED = {
    "xray:PutTraceSegments": "X-Ray has no resource-level permissions",
    "xray:PutTelemetryRecords": "X-Ray has no resource-level permissions",
    "dynamodb:ListStreams": "no resource-level permissions (needed by DynamoDB-stream pipes)",
    "xray:GetSamplingRules": "X-Ray has no resource-level permissions",
    "xray:GetSamplingTargets": "X-Ray has no resource-level permissions",
    "sns:CreatePlatformApplication": "no resource type (the push platforms provisioner creates applications)",
    "sns:CheckIfPhoneNumberIsOptedOut": "no resource type (the account's SMS opt-out list)",
    # Step Functions execution logging (CloudWatch Logs vended-log delivery): these actions have no
    # resource-level permissions, AWS documents them on "*" for the state machine role.
    **{
        f"logs:{action}": "CloudWatch Logs log delivery has no resource-level permissions"
        for action in (
            "CreateLogDelivery",
            "GetLogDelivery",
            "UpdateLogDelivery",
            "DeleteLogDelivery",
            "ListLogDeliveries",
            "PutResourcePolicy",
            "DescribeResourcePolicies",
            "DescribeLogGroups",
        )
    },
}


@dataclass(frozen=True)
class Statement:
    policy: str  # where it came from, for the failure message
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: str  # the Condition block as compact JSON, for simple containment checks

    @property
    def denies_insecure_transport(self) -> bool:
        return self.effect == "Deny" and '"aws:SecureTransport":"false"' in self.conditions.replace(" ", "")


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _statements(policy: str, document: str | dict[str, Any]) -> Iterator[Statement]:
    parsed = json.loads(unquote(document)) if isinstance(document, str) else document
    for statement in _as_tuple_of_dicts(parsed.get("Statement", [])):
        yield Statement(
            policy=policy,
            effect=statement.get("Effect", ""),
            actions=_as_tuple(statement.get("Action")),
            resources=_as_tuple(statement.get("Resource")),
            conditions=json.dumps(statement.get("Condition", {}), separators=(",", ":")),
        )


def _as_tuple_of_dicts(value: Any) -> tuple[dict[str, Any], ...]:
    return (value,) if isinstance(value, dict) else tuple(value)


def deployed_statements(emulator: Emulator, created: dict[str, set[str]]) -> list[Statement]:
    """Statements of every policy attached to the resources in ``created`` (an inventory diff)."""
    found: list[Statement] = []
    iam = emulator.client("iam")
    for role in created.get("iam roles", set()):
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            found += _statements(f"role {role} policy {name}", document)
        attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        assert attached == [], f"role {role} has managed policies attached: {attached}"
    kms = emulator.client("kms")
    for key in created.get("kms keys (not pending deletion)", set()):
        found += _statements(f"key {key}", kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    sns = emulator.client("sns")
    for topic in created.get("sns topics", set()):
        attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
        found += _statements(f"topic {topic}", attributes["Policy"])
    sqs = emulator.client("sqs")
    for queue in created.get("sqs queues", set()):
        attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["Policy"]).get("Attributes", {})
        if "Policy" in attributes:
            found += _statements(f"queue {queue}", attributes["Policy"])
    lambda_ = emulator.client("lambda")
    for function in created.get("lambda functions", set()):
        try:
            policy = lambda_.get_policy(FunctionName=function)["Policy"]
        except lambda_.exceptions.ResourceNotFoundException:
            continue  # no resource policy: only its event source mapping invokes it (SQS)
        found += _statements(f"function {function}", policy)
    s3 = emulator.client("s3")
    for bucket in created.get("s3 buckets", set()):
        try:
            found += _statements(f"bucket {bucket}", s3.get_bucket_policy(Bucket=bucket)["Policy"])
        except s3.exceptions.ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchBucketPolicy":
                raise
    return found


# Where each resource type keeps its policy documents (every rendered aws_iam_policy_document ends up in
# one of these, so the data sources themselves are not read: they do not say how a document is used).
_POLICY_ATTRIBUTES = {
    "aws_iam_role": ("assume_role_policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_kms_key": ("policy",),
    "aws_sns_topic": ("policy",),
    "aws_sns_topic_policy": ("policy",),
    "aws_sqs_queue_policy": ("policy",),
    "aws_s3_bucket_policy": ("policy",),
}


def planned_statements(plan: Plan) -> list[Statement]:
    """Statements of every policy document the configuration renders, from ``terraform show -json``.

    Key policies are labelled "key ..." (where "*" means "this key"); topic, queue and bucket policies
    "topic ...", "queue ...", "bucket ..." so that the TLS check can find them.
    """
    labels = {
        "aws_kms_key": "key",
        "aws_sns_topic_policy": "topic",
        "aws_sqs_queue_policy": "queue",
        "aws_s3_bucket_policy": "bucket",
    }
    found: list[Statement] = []
    for resource in plan.resources():
        for attribute in _POLICY_ATTRIBUTES.get(resource["type"], ()):
            document = resource.get("values", {}).get(attribute)
            if document:
                label = labels.get(resource["type"], "iam")
                found += _statements(f"{label} {resource['address']}", document)
    return found


def unscoped_invoke_permissions(plan: Plan) -> list[str]:
    """Lambda invoke permissions for a service principal that name no source ARN."""
    return [
        resource["address"]
        for resource in plan.resources()
        if resource["type"] == "aws_lambda_permission"
        and resource["values"]["principal"].endswith(".amazonaws.com")
        and not resource["values"].get("source_arn")
    ]


# sns:Publish to a phone number (SMS) has no ARN, so it is authorised on "*". That is admitted only in a
# policy that also denies sns:Publish on every SNS ARN (topics, platform endpoints): the role can then send
# SMS and nothing else.
SMS_ONLY_DENY = re.compile(r"arn:aws[a-zA-Z-]*:sns:\*:\*:\*")


def _sms_only(statements: list[Statement], policy: str) -> bool:
    return any(
        s.policy == policy
        and s.effect == "Deny"
        and "sns:Publish" in s.actions
        and any(SMS_ONLY_DENY.fullmatch(r) for r in s.resources)
        and s.conditions in ("{}", "")
        for s in statements
    )


def least_privilege_violations(statements: list[Statement]) -> list[str]:
    """A "*" in any action, or a "*" resource in an Allow outside WILDCARD_RESOURCE_ALLOWED (sns:Publish: only
    beside a Deny of sns:Publish on every SNS ARN, ``SMS_ONLY_DENY``)."""
    problems = []
    for s in statements:
        problems += [f"{s.policy}: wildcard action {a!r}" for a in s.actions if "*" in a]
        # In a key policy "*" means "this key" (the only value KMS accepts); Deny statements only narrow.
        if s.effect == "Allow" and "*" in s.resources and not s.policy.startswith("key "):
            problems += [
                f"{s.policy}: {a!r} on resource '*'"
                for a in s.actions
                if a not in WILDCARD_RESOURCE_ALLOWED
                and not (a == "sns:Publish" and _sms_only(statements, s.policy))
            ]
    return problems
