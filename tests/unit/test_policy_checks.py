"""The least-privilege checks themselves (tests/support/policies.py) catch what they claim to."""

from __future__ import annotations

import json
from typing import Any

from tests.support.policies import least_privilege_violations, planned_statements, unscoped_invoke_permissions
from tools.emulator.terraform import Plan


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _plan(*resources: dict[str, Any], child: list[dict[str, Any]] | None = None) -> Plan:
    root = {"resources": list(resources), "child_modules": [{"resources": child or []}]}
    return Plan({"prior_state": {"values": {"root_module": root}}}, text="")


def _resource(address: str, type_: str, **values: Any) -> dict[str, Any]:
    return {"address": address, "mode": "managed", "type": type_, "values": values}


def test_wildcard_action_in_a_nested_module_role_policy_is_reported() -> None:
    plan = _plan(
        child=[
            _resource(
                "module.x.aws_iam_role_policy.this",
                "aws_iam_role_policy",
                policy=_document({"Effect": "Allow", "Action": ["sns:*"], "Resource": "arn:aws:sns:::t"}),
            )
        ]
    )

    assert least_privilege_violations(planned_statements(plan)) == [
        "iam module.x.aws_iam_role_policy.this: wildcard action 'sns:*'"
    ]


def test_star_resource_is_allowed_only_for_listed_actions_and_key_policies() -> None:
    plan = _plan(
        _resource(
            "aws_iam_role_policy.r",
            "aws_iam_role_policy",
            policy=_document(
                {"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"},
                {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"},
            ),
        ),
        _resource(
            "aws_kms_key.k",
            "aws_kms_key",
            policy=_document({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}),
        ),
    )

    assert least_privilege_violations(planned_statements(plan)) == [
        "iam aws_iam_role_policy.r: 'sqs:SendMessage' on resource '*'"
    ]


def test_sns_publish_on_star_is_allowed_only_beside_a_deny_on_every_sns_arn() -> None:
    sms = {"Effect": "Allow", "Action": ["sns:CheckIfPhoneNumberIsOptedOut", "sns:Publish"], "Resource": "*"}
    deny = {"Effect": "Deny", "Action": "sns:Publish", "Resource": "arn:aws:sns:*:*:*"}
    narrow_deny = {"Effect": "Deny", "Action": "sns:Publish", "Resource": "arn:aws:sns:*:*:orders"}
    plan = _plan(
        _resource("aws_iam_role_policy.sms_only", "aws_iam_role_policy", policy=_document(sms, deny)),
        _resource("aws_iam_role_policy.any_topic", "aws_iam_role_policy", policy=_document(sms)),
        _resource("aws_iam_role_policy.narrow", "aws_iam_role_policy", policy=_document(sms, narrow_deny)),
    )

    assert least_privilege_violations(planned_statements(plan)) == [
        "iam aws_iam_role_policy.any_topic: 'sns:Publish' on resource '*'",
        "iam aws_iam_role_policy.narrow: 'sns:Publish' on resource '*'",
    ]


def test_tls_denial_is_recognised_only_with_secure_transport_false() -> None:
    deny = {
        "Effect": "Deny",
        "Action": "sqs:SendMessage",
        "Resource": "*",
        "Principal": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    plan = _plan(
        _resource("aws_sqs_queue_policy.tls", "aws_sqs_queue_policy", policy=_document(deny)),
        _resource(
            "aws_sqs_queue_policy.open", "aws_sqs_queue_policy", policy=_document({**deny, "Condition": {}})
        ),
    )

    statements = {s.policy: s.denies_insecure_transport for s in planned_statements(plan)}

    assert statements == {"queue aws_sqs_queue_policy.tls": True, "queue aws_sqs_queue_policy.open": False}


def test_invoke_permission_without_source_arn_is_reported() -> None:
    plan = _plan(
        _resource(
            "aws_lambda_permission.scoped",
            "aws_lambda_permission",
            principal="events.amazonaws.com",
            source_arn="arn:aws:events:::rule/r",
        ),
        _resource(
            "aws_lambda_permission.open",
            "aws_lambda_permission",
            principal="s3.amazonaws.com",
            source_arn=None,
        ),
    )

    assert unscoped_invoke_permissions(plan) == ["aws_lambda_permission.open"]


def test_plan_changes_ignore_no_ops_and_reads() -> None:
    plan = Plan(
        {
            "resource_changes": [
                {"address": "a.kept", "change": {"actions": ["no-op"]}},
                {"address": "data.x.read", "change": {"actions": ["read"]}},
                {"address": "a.replaced", "change": {"actions": ["delete", "create"]}},
            ]
        },
        text="",
    )

    assert plan.changes() == ["a.replaced: delete/create"]
