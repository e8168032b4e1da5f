"""Least-privilege deployer policies: the IAM policy a CI role needs to apply, update and destroy a module.

    python -m tools.ci.deployer_policy generate [DIR...]   rewrite DIR/deployer-policy.json
    python -m tools.ci.deployer_policy check [DIR...]      exit 1 if a file is stale or a type unmapped

Without DIR: the root module `.` and every `modules/*`. A policy is the union of the grants of every resource
and data source type the module declares, following local `module` calls recursively (read with python-hcl2
through tools/ci/terraform_docs.py), looked up in ``GRANTS``: the one reviewed table "type -> actions and
resources". A type missing from the table fails both commands, naming the type and the module that uses it.

The files are templates: ``${name}`` stands for the prefix every name given to the deployment starts with
(for most modules simply their ``name`` input), so ``templatefile("deployer-policy.json", { name = "x" })``
renders the policy for one deployment. Statements whose resource is ``*`` hold only actions AWS does not scope
to a resource (see ``WILDCARD_REASONS``) or resources whose ARN holds a random id. What moto proves of these
files, and what it cannot, is in docs/deployer-policies.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.ci.terraform_docs import DocsError, load_module, terraform_files

REPO_ROOT = Path(__file__).resolve().parents[2]
POLICY_FILE = "deployer-policy.json"
NAME_PLACEHOLDER = "${name}"

# Resource ARN patterns, by statement. ${name}: the deployment's name prefix. Partition `aws`.
ARNS: dict[str, tuple[str, ...]] = {
    "ApiGateway": (
        "arn:aws:apigateway:*::/apis",
        "arn:aws:apigateway:*::/apis/*",
        "arn:aws:apigateway:*::/tags/*",
    ),
    "CloudWatchAlarms": ("arn:aws:cloudwatch:*:*:alarm:${name}*",),
    "CognitoUserPools": ("arn:aws:cognito-idp:*:*:userpool/*",),
    "DynamoDbTables": ("arn:aws:dynamodb:*:*:table/${name}*",),
    "EventBridgeArchives": ("arn:aws:events:*:*:archive/${name}*",),
    "EventBridgeBuses": ("arn:aws:events:*:*:event-bus/${name}*",),
    "EventBridgeRules": ("arn:aws:events:*:*:rule/${name}*", "arn:aws:events:*:*:rule/${name}*/*"),
    # An OIDC provider's ARN is its issuer's host and path (one per issuer and account), not the deployment's
    # name: it cannot be narrowed to ${name}.
    "IamOidcProviders": ("arn:aws:iam::*:oidc-provider/*",),
    "IamRoles": ("arn:aws:iam::*:role/${name}*",),
    "KmsAliases": ("arn:aws:kms:*:*:alias/${name}*",),
    "KmsKeys": ("arn:aws:kms:*:*:key/*",),
    "LambdaEventSourceMappings": ("arn:aws:lambda:*:*:event-source-mapping:*",),
    "LambdaFunctions": ("arn:aws:lambda:*:*:function:${name}*",),
    "LogGroups": ("arn:aws:logs:*:*:log-group:*${name}*",),
    "Pipes": ("arn:aws:pipes:*:*:pipe/${name}*",),
    "S3Buckets": ("arn:aws:s3:::${name}*",),
    "SchedulerGroups": ("arn:aws:scheduler:*:*:schedule-group/${name}*",),
    "SesConfigurationSets": ("arn:aws:ses:*:*:configuration-set/${name}*",),
    "SesIdentities": ("arn:aws:ses:*:*:identity/*",),
    "SnsTopics": ("arn:aws:sns:*:*:${name}*",),
    "SqsQueues": ("arn:aws:sqs:*:*:${name}*",),
    "StateMachines": ("arn:aws:states:*:*:stateMachine:${name}*",),
    "Unscoped": ("*",),
}

# Why each action of the "Unscoped" statement cannot name a resource (AWS's Service Authorization Reference
# lists no resource type for it, or the ARN does not exist before the call).
WILDCARD_REASONS: dict[str, str] = {
    "cognito-idp:CreateUserPool": "the user pool's id does not exist before the call",
    "kms:CreateKey": "the key's id does not exist before the call (KMS supports no resource here)",
    "kms:ListAliases": "a list call over the account: AWS supports no resource for it",
    "lambda:CreateEventSourceMapping": "AWS supports no resource (only the lambda:FunctionArn condition)",
    "lambda:ListEventSourceMappings": "a list call over the account: AWS supports no resource for it",
    "logs:CreateLogDelivery": "vended-log delivery APIs support no resource-level permissions",
    "logs:DeleteLogDelivery": "vended-log delivery APIs support no resource-level permissions",
    "logs:DescribeLogGroups": "a list call over the account (the provider reads a log group by listing)",
    "logs:DescribeResourcePolicies": "a list call over the account: AWS supports no resource for it",
    "logs:GetLogDelivery": "vended-log delivery APIs support no resource-level permissions",
    "logs:ListLogDeliveries": "vended-log delivery APIs support no resource-level permissions",
    "logs:PutResourcePolicy": "the account's CloudWatch Logs resource policy has no ARN",
    "logs:UpdateLogDelivery": "vended-log delivery APIs support no resource-level permissions",
    "states:ValidateStateMachineDefinition": "checks a definition before any state machine exists",
}


@dataclass(frozen=True)
class Grant:
    """Actions on the resources of one ``ARNS`` statement."""

    statement: str
    actions: tuple[str, ...]


def _grant(statement: str, *actions: str) -> Grant:
    return Grant(statement, actions)


_ROLE_PASS = _grant("IamRoles", "iam:PassRole")  # a service assumes the role the resource names
# Vended logs (HTTP/WebSocket API access logs, Step Functions logging): AWS checks these on the caller.
_LOG_DELIVERY = _grant(
    "Unscoped",
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
)
_APIGATEWAY = _grant(
    "ApiGateway",
    "apigateway:DELETE",
    "apigateway:GET",
    "apigateway:PATCH",
    "apigateway:POST",
    "apigateway:PUT",
)

# The reviewed table: what the AWS provider (5.x) calls to create, read, update, tag/untag and delete each
# type. Keys are "resource.<type>" and "data.<type>"; a data source that calls nothing maps to (). A
# resource's first grant is on its own ARN (the e2e tests match it against every deployed resource's ARN).
GRANTS: dict[str, tuple[Grant, ...]] = {
    "data.aws_caller_identity": (),  # sts:GetCallerIdentity needs no permission
    "data.aws_iam_policy_document": (),  # rendered by the provider, no call
    "data.aws_partition": (),
    "data.aws_region": (),
    "resource.aws_apigatewayv2_api": (_APIGATEWAY,),
    "resource.aws_apigatewayv2_authorizer": (_APIGATEWAY,),
    "resource.aws_apigatewayv2_deployment": (_APIGATEWAY,),
    "resource.aws_apigatewayv2_integration": (_APIGATEWAY,),
    "resource.aws_apigatewayv2_route": (_APIGATEWAY,),
    "resource.aws_apigatewayv2_stage": (_APIGATEWAY, _LOG_DELIVERY),
    "resource.aws_cloudwatch_event_archive": (
        _grant(
            "EventBridgeArchives",
            "events:CreateArchive",
            "events:DeleteArchive",
            "events:DescribeArchive",
            "events:UpdateArchive",
        ),
        _grant("EventBridgeBuses", "events:DescribeEventBus"),
    ),
    "resource.aws_cloudwatch_event_bus": (
        _grant(
            "EventBridgeBuses",
            "events:CreateEventBus",
            "events:DeleteEventBus",
            "events:DescribeEventBus",
            "events:ListTagsForResource",
            "events:TagResource",
            "events:UntagResource",
            "events:UpdateEventBus",
        ),
    ),
    "resource.aws_cloudwatch_event_rule": (
        _grant(
            "EventBridgeRules",
            "events:DeleteRule",
            "events:DescribeRule",
            "events:DisableRule",
            "events:EnableRule",
            "events:ListTagsForResource",
            "events:PutRule",
            "events:TagResource",
            "events:UntagResource",
        ),
    ),
    "resource.aws_cloudwatch_event_target": (
        _grant("EventBridgeRules", "events:ListTargetsByRule", "events:PutTargets", "events:RemoveTargets"),
        _ROLE_PASS,
    ),
    "resource.aws_cloudwatch_log_group": (
        _grant(
            "LogGroups",
            "logs:AssociateKmsKey",
            "logs:CreateLogGroup",
            "logs:DeleteLogGroup",
            "logs:DeleteRetentionPolicy",
            "logs:DisassociateKmsKey",
            "logs:ListTagsForResource",
            "logs:ListTagsLogGroup",
            "logs:PutRetentionPolicy",
            "logs:TagLogGroup",
            "logs:TagResource",
            "logs:UntagLogGroup",
            "logs:UntagResource",
        ),
        _grant("Unscoped", "logs:DescribeLogGroups"),
    ),
    "resource.aws_cloudwatch_metric_alarm": (
        _grant(
            "CloudWatchAlarms",
            "cloudwatch:DeleteAlarms",
            "cloudwatch:DescribeAlarms",
            "cloudwatch:ListTagsForResource",
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:TagResource",
            "cloudwatch:UntagResource",
        ),
    ),
    "resource.aws_cognito_user_pool": (
        _grant(
            "CognitoUserPools",
            "cognito-idp:DeleteUserPool",
            "cognito-idp:DescribeUserPool",
            "cognito-idp:GetUserPoolMfaConfig",
            "cognito-idp:ListTagsForResource",
            "cognito-idp:SetUserPoolMfaConfig",
            "cognito-idp:TagResource",
            "cognito-idp:UntagResource",
            "cognito-idp:UpdateUserPool",
        ),
        _grant("Unscoped", "cognito-idp:CreateUserPool"),
    ),
    "resource.aws_cognito_user_pool_client": (
        _grant(
            "CognitoUserPools",
            "cognito-idp:CreateUserPoolClient",
            "cognito-idp:DeleteUserPoolClient",
            "cognito-idp:DescribeUserPoolClient",
            "cognito-idp:UpdateUserPoolClient",
        ),
    ),
    "resource.aws_dynamodb_table": (
        _grant(
            "DynamoDbTables",
            "dynamodb:CreateTable",
            "dynamodb:DeleteTable",
            "dynamodb:DescribeContinuousBackups",
            "dynamodb:DescribeTable",
            "dynamodb:DescribeTimeToLive",
            "dynamodb:ListTagsOfResource",
            "dynamodb:TagResource",
            "dynamodb:UntagResource",
            "dynamodb:UpdateContinuousBackups",
            "dynamodb:UpdateTable",
            "dynamodb:UpdateTimeToLive",
        ),
        # A table encrypted with a customer-managed key: DynamoDB creates a grant as the caller.
        _grant("KmsKeys", "kms:CreateGrant", "kms:DescribeKey"),
    ),
    "resource.aws_dynamodb_table_item": (
        _grant(
            "DynamoDbTables",
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        ),
    ),
    "resource.aws_iam_openid_connect_provider": (
        _grant(
            "IamOidcProviders",
            "iam:AddClientIDToOpenIDConnectProvider",
            "iam:CreateOpenIDConnectProvider",
            "iam:DeleteOpenIDConnectProvider",
            "iam:GetOpenIDConnectProvider",
            "iam:RemoveClientIDFromOpenIDConnectProvider",
            "iam:TagOpenIDConnectProvider",
            "iam:UntagOpenIDConnectProvider",
            "iam:UpdateOpenIDConnectProviderThumbprint",
        ),
    ),
    "resource.aws_iam_role": (
        _grant(
            "IamRoles",
            "iam:CreateRole",
            "iam:DeleteRole",
            "iam:DeleteRolePolicy",
            "iam:DetachRolePolicy",
            "iam:GetRole",
            "iam:ListAttachedRolePolicies",
            "iam:ListInstanceProfilesForRole",
            "iam:ListRolePolicies",
            "iam:TagRole",
            "iam:UntagRole",
            "iam:UpdateAssumeRolePolicy",
            "iam:UpdateRole",
            "iam:UpdateRoleDescription",
        ),
    ),
    "resource.aws_iam_role_policy": (
        _grant("IamRoles", "iam:DeleteRolePolicy", "iam:GetRolePolicy", "iam:PutRolePolicy"),
    ),
    "resource.aws_kms_alias": (
        # CreateAlias/UpdateAlias/DeleteAlias are authorised on the alias and on the key.
        _grant("KmsAliases", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"),
        _grant("KmsKeys", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"),
        _grant("Unscoped", "kms:ListAliases"),
    ),
    "resource.aws_kms_key": (
        _grant(
            "KmsKeys",
            "kms:DescribeKey",
            "kms:DisableKey",
            "kms:DisableKeyRotation",
            "kms:EnableKey",
            "kms:EnableKeyRotation",
            "kms:GetKeyPolicy",
            "kms:GetKeyRotationStatus",
            "kms:ListResourceTags",
            "kms:PutKeyPolicy",
            "kms:ScheduleKeyDeletion",
            "kms:TagResource",
            "kms:UntagResource",
            "kms:UpdateKeyDescription",
        ),
        _grant("Unscoped", "kms:CreateKey"),
    ),
    "resource.aws_lambda_event_source_mapping": (
        _grant(
            "LambdaEventSourceMappings",
            "lambda:DeleteEventSourceMapping",
            "lambda:GetEventSourceMapping",
            "lambda:ListTags",
            "lambda:TagResource",
            "lambda:UntagResource",
            "lambda:UpdateEventSourceMapping",
        ),
        _grant("Unscoped", "lambda:CreateEventSourceMapping", "lambda:ListEventSourceMappings"),
    ),
    "resource.aws_lambda_function": (
        _grant(
            "LambdaFunctions",
            "lambda:CreateFunction",
            "lambda:DeleteFunction",
            "lambda:DeleteFunctionConcurrency",
            "lambda:GetFunction",
            "lambda:GetFunctionCodeSigningConfig",
            "lambda:GetFunctionConfiguration",
            "lambda:GetRuntimeManagementConfig",
            "lambda:ListTags",
            "lambda:ListVersionsByFunction",
            "lambda:PublishVersion",
            "lambda:PutFunctionConcurrency",
            "lambda:TagResource",
            "lambda:UntagResource",
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
        ),
        # Environment variables encrypted with a customer-managed key: Lambda checks these on the caller.
        _grant("KmsKeys", "kms:CreateGrant", "kms:Decrypt", "kms:Encrypt"),
        _ROLE_PASS,
    ),
    "resource.aws_lambda_function_event_invoke_config": (
        _grant(
            "LambdaFunctions",
            "lambda:DeleteFunctionEventInvokeConfig",
            "lambda:GetFunctionEventInvokeConfig",
            "lambda:PutFunctionEventInvokeConfig",
            "lambda:UpdateFunctionEventInvokeConfig",
        ),
    ),
    "resource.aws_lambda_invocation": (_grant("LambdaFunctions", "lambda:InvokeFunction"),),
    "resource.aws_lambda_permission": (
        _grant("LambdaFunctions", "lambda:AddPermission", "lambda:GetPolicy", "lambda:RemovePermission"),
    ),
    "resource.aws_pipes_pipe": (
        _grant(
            "Pipes",
            "pipes:CreatePipe",
            "pipes:DeletePipe",
            "pipes:DescribePipe",
            "pipes:ListTagsForResource",
            "pipes:StartPipe",
            "pipes:StopPipe",
            "pipes:TagResource",
            "pipes:UntagResource",
            "pipes:UpdatePipe",
        ),
        _ROLE_PASS,
    ),
    "resource.aws_s3_bucket": (
        _grant(
            "S3Buckets",
            "s3:CreateBucket",
            "s3:DeleteBucket",
            # force_destroy: destroy empties the bucket, every object version, first.
            "s3:DeleteObject",
            "s3:DeleteObjectVersion",
            "s3:GetAccelerateConfiguration",
            "s3:GetBucketAcl",
            "s3:GetBucketCORS",
            "s3:GetBucketLogging",
            "s3:GetBucketObjectLockConfiguration",
            "s3:GetBucketPolicy",
            "s3:GetBucketRequestPayment",
            "s3:GetBucketTagging",
            "s3:GetBucketVersioning",
            "s3:GetBucketWebsite",
            "s3:GetEncryptionConfiguration",
            "s3:GetLifecycleConfiguration",
            "s3:GetReplicationConfiguration",
            "s3:ListBucket",
            "s3:ListBucketVersions",
            "s3:PutBucketTagging",
        ),
    ),
    "resource.aws_s3_bucket_lifecycle_configuration": (
        _grant("S3Buckets", "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration"),
    ),
    "resource.aws_s3_bucket_logging": (_grant("S3Buckets", "s3:GetBucketLogging", "s3:PutBucketLogging"),),
    "resource.aws_s3_bucket_notification": (
        _grant("S3Buckets", "s3:GetBucketNotification", "s3:PutBucketNotification"),
    ),
    "resource.aws_s3_bucket_ownership_controls": (
        _grant("S3Buckets", "s3:GetBucketOwnershipControls", "s3:PutBucketOwnershipControls"),
    ),
    "resource.aws_s3_bucket_policy": (
        _grant("S3Buckets", "s3:DeleteBucketPolicy", "s3:GetBucketPolicy", "s3:PutBucketPolicy"),
    ),
    "resource.aws_s3_bucket_public_access_block": (
        _grant("S3Buckets", "s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"),
    ),
    "resource.aws_s3_bucket_server_side_encryption_configuration": (
        _grant("S3Buckets", "s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"),
    ),
    "resource.aws_s3_bucket_versioning": (
        _grant("S3Buckets", "s3:GetBucketVersioning", "s3:PutBucketVersioning"),
    ),
    "resource.aws_scheduler_schedule_group": (
        _grant(
            "SchedulerGroups",
            "scheduler:CreateScheduleGroup",
            "scheduler:DeleteScheduleGroup",
            "scheduler:GetScheduleGroup",
            "scheduler:ListTagsForResource",
            "scheduler:TagResource",
            "scheduler:UntagResource",
        ),
    ),
    "resource.aws_sesv2_configuration_set": (
        _grant(
            "SesConfigurationSets",
            "ses:CreateConfigurationSet",
            "ses:DeleteConfigurationSet",
            "ses:GetConfigurationSet",
            "ses:ListTagsForResource",
            "ses:PutConfigurationSetDeliveryOptions",
            "ses:PutConfigurationSetReputationOptions",
            "ses:PutConfigurationSetSendingOptions",
            "ses:PutConfigurationSetSuppressionOptions",
            "ses:PutConfigurationSetTrackingOptions",
            "ses:PutConfigurationSetVdmOptions",
            "ses:TagResource",
            "ses:UntagResource",
        ),
    ),
    "resource.aws_sesv2_configuration_set_event_destination": (
        _grant(
            "SesConfigurationSets",
            "ses:CreateConfigurationSetEventDestination",
            "ses:DeleteConfigurationSetEventDestination",
            "ses:GetConfigurationSetEventDestinations",
            "ses:UpdateConfigurationSetEventDestination",
        ),
    ),
    "resource.aws_sesv2_email_identity": (
        # An identity is named by its address or domain, not by the deployment's name.
        _grant(
            "SesIdentities",
            "ses:CreateEmailIdentity",
            "ses:DeleteEmailIdentity",
            "ses:GetEmailIdentity",
            "ses:ListTagsForResource",
            "ses:PutEmailIdentityConfigurationSetAttributes",
            "ses:PutEmailIdentityDkimSigningAttributes",
            "ses:TagResource",
            "ses:UntagResource",
        ),
        _grant("SesConfigurationSets", "ses:PutEmailIdentityConfigurationSetAttributes"),
    ),
    "resource.aws_sfn_state_machine": (
        _grant(
            "StateMachines",
            "states:CreateStateMachine",
            "states:DeleteStateMachine",
            "states:DescribeStateMachine",
            "states:ListStateMachineVersions",
            "states:ListTagsForResource",
            "states:TagResource",
            "states:UntagResource",
            "states:UpdateStateMachine",
        ),
        # Encryption with a customer-managed key: Step Functions checks the key as the caller.
        _grant("KmsKeys", "kms:DescribeKey", "kms:GenerateDataKey"),
        _grant("Unscoped", "states:ValidateStateMachineDefinition"),
        _LOG_DELIVERY,
        _ROLE_PASS,
    ),
    "resource.aws_sns_topic": (
        _grant(
            "SnsTopics",
            "sns:CreateTopic",
            "sns:DeleteTopic",
            "sns:GetTopicAttributes",
            "sns:ListTagsForResource",
            "sns:SetTopicAttributes",
            "sns:TagResource",
            "sns:UntagResource",
        ),
    ),
    "resource.aws_sns_topic_policy": (
        _grant("SnsTopics", "sns:GetTopicAttributes", "sns:SetTopicAttributes"),
    ),
    "resource.aws_sns_topic_subscription": (
        # A subscription's ARN is its topic's ARN plus ":<id>": the topic pattern covers both.
        _grant(
            "SnsTopics",
            "sns:GetSubscriptionAttributes",
            "sns:ListSubscriptionsByTopic",
            "sns:SetSubscriptionAttributes",
            "sns:Subscribe",
            "sns:Unsubscribe",
        ),
    ),
    "resource.aws_sqs_queue": (
        _grant(
            "SqsQueues",
            "sqs:CreateQueue",
            "sqs:DeleteQueue",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
            "sqs:ListQueueTags",
            "sqs:SetQueueAttributes",
            "sqs:TagQueue",
            "sqs:UntagQueue",
        ),
    ),
    "resource.aws_sqs_queue_policy": (
        _grant("SqsQueues", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SetQueueAttributes"),
    ),
}


class PolicyError(Exception):
    """A module the generator cannot read, or resource types without a mapping in ``GRANTS``."""


@dataclass(frozen=True)
class UsedType:
    """A resource or data source type, and the first module (path from the policy's root) declaring it."""

    key: str  # "resource.<type>" or "data.<type>"
    module: str


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _is_local(source: str) -> bool:
    return source.startswith(("./", "../"))


def used_types(directory: Path) -> list[UsedType]:
    """Every type the module at ``directory`` and its local module calls (recursively) declare, sorted."""
    found: dict[str, UsedType] = {}
    seen: set[Path] = set()
    pending = [(directory.resolve(), _display(directory))]
    while pending:
        module_dir, label = pending.pop(0)
        if module_dir in seen:
            continue
        seen.add(module_dir)
        try:
            doc = load_module(module_dir)
        except DocsError as exc:
            raise PolicyError(str(exc)) from exc
        for resource in doc.resources:
            key = f"{resource.mode}.{resource.type}"
            found.setdefault(key, UsedType(key, label))
        for call in doc.modules:
            if not _is_local(call.source):
                raise PolicyError(f"{label}: module {call.name!r} has a non-local source {call.source!r}")
            child = (module_dir / call.source).resolve()
            if not terraform_files(child):
                raise PolicyError(f"{label}: module {call.name!r}: no *.tf files in {call.source!r}")
            pending.append((child, f"{label} > module.{call.name}"))
    return sorted(found.values(), key=lambda used: used.key)


def unmapped(types: Iterable[UsedType], grants: Mapping[str, tuple[Grant, ...]] = GRANTS) -> list[UsedType]:
    return [used for used in types if used.key not in grants]


def render_policy(
    types: Iterable[UsedType], grants: Mapping[str, tuple[Grant, ...]] = GRANTS
) -> dict[str, Any]:
    """The policy document for ``types``: one statement per ``ARNS`` entry, actions sorted, no duplicates."""
    types = list(types)
    missing = unmapped(types, grants)
    if missing:
        lines = "\n".join(f"  {used.key.replace('.', ' ', 1)} (in {used.module})" for used in missing)
        raise PolicyError(
            "resource types without deployer actions:\n"
            f"{lines}\n"
            "Add each type, with the actions the AWS provider calls to create, read, update, tag and delete"
            " it, to GRANTS in tools/ci/deployer_policy.py, then run `make docs`."
        )
    actions: dict[str, set[str]] = {}
    for used in types:
        for grant in grants[used.key]:
            actions.setdefault(grant.statement, set()).update(grant.actions)
    statements = [
        {
            "Sid": statement,
            "Effect": "Allow",
            "Action": sorted(actions[statement]),
            "Resource": list(ARNS[statement]),
        }
        for statement in sorted(actions)
        if actions[statement]
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def policy_for(directory: Path) -> dict[str, Any]:
    return render_policy(used_types(directory))


def render_file(policy: Mapping[str, Any]) -> str:
    return json.dumps(policy, indent=2) + "\n"


def for_deployment(policy: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The policy of one deployment: what ``templatefile(file, { name = name })`` renders."""
    rendered: dict[str, Any] = json.loads(json.dumps(policy).replace(NAME_PLACEHOLDER, name))
    return rendered


def _arn_regex(pattern: str) -> re.Pattern[str]:
    """IAM's ARN matching: ``*`` any run of characters, ``?`` one character, case-sensitive."""
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + r"\Z"
    )


def actions_covering(policy: Mapping[str, Any], arn: str) -> set[str]:
    """The actions ``policy`` allows on ``arn`` (by the statements' Resource patterns)."""
    allowed: set[str] = set()
    for statement in policy["Statement"]:
        resources = statement["Resource"]
        if any(
            _arn_regex(pattern).match(arn)
            for pattern in ([resources] if isinstance(resources, str) else resources)
        ):
            allowed.update(statement["Action"])
    return allowed


# Types whose ``arn`` attribute names another resource (an event target's ``arn`` is the target's).
_ARN_OF_ANOTHER_RESOURCE = frozenset({"aws_cloudwatch_event_target"})


def uncovered_arns(
    policy: Mapping[str, Any],
    resources: Iterable[Mapping[str, Any]],
    grants: Mapping[str, tuple[Grant, ...]] = GRANTS,
) -> list[str]:
    """Deployed resources (``terraform show -json`` state entries) whose ARN the statement of their own
    actions (the type's first grant) does not name in ``policy``, one rendered for the deployment."""
    gaps = []
    for resource in resources:
        arn = resource.get("values", {}).get("arn")
        own = grants.get(f"resource.{resource['type']}", ())
        if resource.get("mode") != "managed" or not isinstance(arn, str) or not arn or not own:
            continue
        if own[0].statement == "Unscoped" or resource["type"] in _ARN_OF_ANOTHER_RESOURCE:
            continue
        missing = set(own[0].actions) - actions_covering(policy, arn)
        if missing:
            gaps.append(f"{resource['address']} ({arn}): {sorted(missing)}")
    return gaps


def default_directories(root: Path = REPO_ROOT) -> list[Path]:
    return [root, *(d for d in sorted((root / "modules").glob("*")) if d.is_dir() and terraform_files(d))]


def generate(directories: Sequence[Path]) -> list[Path]:
    """Rewrite every stale policy file; return the ones changed."""
    changed = []
    for directory in directories:
        path = directory / POLICY_FILE
        wanted = render_file(policy_for(directory))
        if not path.is_file() or path.read_text(encoding="utf-8") != wanted:
            path.write_text(wanted, encoding="utf-8")
            changed.append(path)
    return changed


def check(directories: Sequence[Path]) -> list[str]:
    """A message for every missing or stale policy file and every module with an unmapped type."""
    problems = []
    for directory in directories:
        path = directory / POLICY_FILE
        try:
            wanted = render_file(policy_for(directory))
        except PolicyError as exc:
            problems.append(f"{_display(directory)}: {exc}")
            continue
        if not path.is_file():
            problems.append(f"{_display(path)} is missing")
        elif path.read_text(encoding="utf-8") != wanted:
            problems.append(f"{_display(path)} is stale (the module's resources or GRANTS changed)")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("command", choices=["generate", "check"])
    parser.add_argument(
        "directories", nargs="*", type=Path, help="module directories (default: . and modules/*)"
    )
    args = parser.parse_args(argv)
    directories = args.directories or default_directories()
    if args.command == "generate":
        try:
            changed = generate(directories)
        except PolicyError as exc:
            print(f"deployer_policy: {exc}", file=sys.stderr)
            return 1
        for path in changed:
            print(f"updated {_display(path)}")
        print(f"deployer_policy: {len(changed)} of {len(directories)} policy file(s) updated")
        return 0
    problems = check(directories)
    if not problems:
        print(f"deployer_policy: {len(directories)} policy file(s) up to date")
        return 0
    print("deployer_policy: deployer policies are stale or incomplete:", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    print("Fix: map the types named above, run `make docs` and commit the JSON files.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
