"""The deployer-policy generator (tools/ci/deployer_policy.py) on fixture modules and on the repository."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tools.ci import deployer_policy as dp


def _module(directory: Path, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "main.tf").write_text(textwrap.dedent(body))
    return directory


@pytest.fixture
def queue_module(tmp_path: Path) -> Path:
    _module(tmp_path / "modules" / "queue", 'resource "aws_sqs_queue" "this" {\n  name = var.name\n}\n')
    return _module(
        tmp_path / "service",
        """
        data "aws_caller_identity" "current" {}

        module "queue" {
          source = "../modules/queue"
          name   = "${var.name}-jobs"
        }
        """,
    )


def test_types_are_read_through_local_module_calls(queue_module: Path) -> None:
    used = dp.used_types(queue_module)

    assert [u.key for u in used] == ["data.aws_caller_identity", "resource.aws_sqs_queue"]
    assert used[1].module.endswith("service > module.queue")


def test_policy_holds_the_mapped_actions_on_the_name_pattern(queue_module: Path) -> None:
    policy = dp.policy_for(queue_module)

    assert policy["Statement"] == [
        {
            "Sid": "SqsQueues",
            "Effect": "Allow",
            "Action": sorted(dp.GRANTS["resource.aws_sqs_queue"][0].actions),
            "Resource": ["arn:aws:sqs:*:*:${name}*"],
        }
    ]


def test_check_fails_when_a_module_gains_an_unmapped_resource_type(queue_module: Path) -> None:
    dp.generate([queue_module])
    assert dp.check([queue_module]) == []
    (queue_module.parent / "modules" / "queue" / "extra.tf").write_text(
        'resource "aws_sqs_queue_redrive_allow_policy" "this" {\n  queue_url = "x"\n}\n'
    )

    problems = dp.check([queue_module])

    assert len(problems) == 1
    assert "resource aws_sqs_queue_redrive_allow_policy (in " in problems[0]
    assert "service > module.queue)" in problems[0]
    assert "GRANTS in tools/ci/deployer_policy.py" in problems[0]
    with pytest.raises(dp.PolicyError, match="aws_sqs_queue_redrive_allow_policy"):
        dp.generate([queue_module])


def test_check_fails_on_a_stale_or_missing_file(queue_module: Path) -> None:
    assert dp.check([queue_module]) == [f"{queue_module / dp.POLICY_FILE} is missing"]
    dp.generate([queue_module])
    path = queue_module / dp.POLICY_FILE
    stale = json.loads(path.read_text())
    stale["Statement"][0]["Action"].remove("sqs:UntagQueue")
    path.write_text(json.dumps(stale, indent=2) + "\n")

    assert dp.check([queue_module]) == [f"{path} is stale (the module's resources or GRANTS changed)"]
    assert dp.main(["check", str(queue_module)]) == 1
    assert dp.generate([queue_module]) == [path]
    assert dp.main(["check", str(queue_module)]) == 0


def test_every_statement_names_a_known_arn_pattern_and_every_wildcard_action_has_a_reason() -> None:
    for key, grants in dp.GRANTS.items():
        for grant in grants:
            assert grant.statement in dp.ARNS, key
            if grant.statement == "Unscoped":
                assert set(grant.actions) <= set(dp.WILDCARD_REASONS), key


def test_the_repository_policies_are_current() -> None:
    """The files `make docs` writes for the root module and every modules/* (what `make docs-check` runs)."""
    assert dp.check(dp.default_directories()) == []


def test_rendered_for_a_deployment_the_patterns_match_its_arns_only() -> None:
    policy = dp.for_deployment(dp.policy_for(dp.REPO_ROOT / "modules" / "sqs-queue"), "orders")

    assert "sqs:CreateQueue" in dp.actions_covering(policy, "arn:aws:sqs:eu-west-1:111122223333:orders-dlq")
    assert dp.actions_covering(policy, "arn:aws:sqs:eu-west-1:111122223333:payments") == set()
    resources = [
        {"address": "aws_sqs_queue.a", "mode": "managed", "type": "aws_sqs_queue", "values": {"arn": arn}}
        for arn in ("arn:aws:sqs:us-east-1:1:orders", "arn:aws:sqs:us-east-1:1:billing")
    ]
    queue_actions = sorted(dp.GRANTS["resource.aws_sqs_queue"][0].actions)
    assert dp.uncovered_arns(policy, resources) == [
        f"aws_sqs_queue.a (arn:aws:sqs:us-east-1:1:billing): {queue_actions}"
    ]
