"""Pattern modules pass their `lambda`, `kms_key`, `tags`, alert-topic and rule inputs through to the
building blocks (lambda-function, kms-key, sns-topic, event-rule), which validate them once. This proves
that a bad value given to a pattern is still refused, by the building block's own validation, before
anything is planned.

A native `run` cannot say so: `expect_failures` only names the tested module's own variables, not a child
module's (hashicorp/terraform#34951). So each case below is written as a one-run `.tftest.hcl` file into a
scratch directory inside the pattern (Terraform only accepts a test directory local to the module), and the
JSON diagnostics of `terraform test` must hold "Invalid value for variable" from the named building block's
`variables.tf`, with that block's error message. One file per case: after a failed run, Terraform skips the
rest of that file. All the cases of a pattern run in one `terraform test` process, two patterns at a time.
"""

from __future__ import annotations

import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools.ci import terraform_offline

ROOT = Path(__file__).resolve().parents[2]
MOCKS = "../../tests/terraform_mocks/aws"  # relative to modules/<pattern>, like the native tests'
PACKAGE = '{ s3_bucket = "example-artifacts", s3_key = "lambda.zip" }'

# The variables each pattern needs to plan at all (an S3 package: dist/lambda.zip may not be built yet).
BASE_VARIABLES = {
    "root-activity-monitor": f'name = "root-monitor"\nlambda = {{ package = {PACKAGE} }}',
    "s3-object-notifier": (
        'name = "uploads"\nsender_email = "s3-alerts@example.com"\nrecipients = ["ops@example.com"]\n'
        f"lambda = {{ package = {PACKAGE} }}"
    ),
    "dynamodb-stream-alerts": 'name = "payments"\nsubscriptions = { "payments-team@example.com" = {} }',
    "event-workflow": 'name = "orders-flow"',
}


@dataclass(frozen=True)
class Case:
    pattern: str
    name: str
    variables: str  # HCL assignments for the run's `variables` block
    building_block: str  # the module whose variables.tf must refuse the value
    message: str  # the start of that validation's error message


def _lambda(attributes: str) -> str:
    return f"lambda = {{ {attributes}, package = {PACKAGE} }}"


CASES = [
    # root-activity-monitor: the values its native tests refused before the inputs were passed through.
    Case(
        "root-activity-monitor",
        "bad_runtime",
        _lambda('runtime = "python2.7"'),
        "lambda-function",
        "runtime must be one of",
    ),
    Case(
        "root-activity-monitor",
        "bad_architecture",
        _lambda('architecture = "sparc"'),
        "lambda-function",
        "architecture must be arm64 or x86_64",
    ),
    Case(
        "root-activity-monitor",
        "zero_timeout",
        _lambda("timeout = 0"),
        "lambda-function",
        "timeout must be a whole number",
    ),
    Case(
        "root-activity-monitor",
        "memory_over_ten_gb",
        _lambda("memory_size = 20480"),
        "lambda-function",
        "memory_size must be a whole number",
    ),
    Case(
        "root-activity-monitor",
        "bad_retention",
        _lambda("log_retention_in_days = 8"),
        "lambda-function",
        "log_retention_in_days must be one of",
    ),
    Case(
        "root-activity-monitor",
        "java_style_log_level",
        _lambda('log_level = "WARN"'),
        "lambda-function",
        "log_level must be DEBUG",
    ),
    Case(
        "root-activity-monitor",
        "function_name_with_spaces",
        _lambda('function_name = "root monitor"'),
        "lambda-function",
        "name must be 1-64 characters",
    ),
    Case(
        "root-activity-monitor",
        "signing_profile_as_code_signing_config",
        _lambda(
            'code_signing_config_arn = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/root_monitor"'
        ),
        "lambda-function",
        "code_signing_config_arn must be a Lambda code signing config ARN",
    ),
    Case(
        "root-activity-monitor",
        "two_package_sources",
        'lambda = { package = { filename = "build/lambda.zip", s3_bucket = "a", s3_key = "lambda.zip" } }',
        "lambda-function",
        "package needs exactly one source",
    ),
    Case(
        "root-activity-monitor",
        "package_that_is_not_a_zip",
        'lambda = { package = { filename = "lambda_src/notification_handlers/root_activity.py" } }',
        "lambda-function",
        "package.filename must point to a .zip file",
    ),
    Case(
        "root-activity-monitor",
        "bad_deletion_window",
        "kms_key = { deletion_window_in_days = 5 }",
        "kms-key",
        "deletion_window_in_days must be",
    ),
    Case(
        "root-activity-monitor",
        "alias_prefix_in_key_alias",
        'kms_key = { aliases = ["alias/root-monitor"] }',
        "kms-key",
        "Each alias must be",
    ),
    Case(
        "root-activity-monitor",
        "tag_key_with_hash",
        'tags = { "cost#center" = "security" }',
        "kms-key",
        "tags: keys must be",
    ),
    Case(
        "root-activity-monitor",
        "bad_email",
        'subscriptions = { "not-an-email" = {} }',
        "sns-topic",
        "Email subscriptions need an endpoint",
    ),
    Case(
        "root-activity-monitor",
        "overlong_topic_display_name",
        'sns_topic_display_name = join("", [for i in range(101) : "x"])',
        "sns-topic",
        "display_name must be 1-100 characters",
    ),
    # s3-object-notifier
    Case(
        "s3-object-notifier",
        "unsupported_runtime",
        _lambda('runtime = "python3.8"'),
        "lambda-function",
        "runtime must be one of",
    ),
    Case(
        "s3-object-notifier",
        "unknown_architecture",
        _lambda('architecture = "amd64"'),
        "lambda-function",
        "architecture must be arm64 or x86_64",
    ),
    Case(
        "s3-object-notifier",
        "fractional_timeout",
        _lambda("timeout = 1.5"),
        "lambda-function",
        "timeout must be a whole number",
    ),
    Case(
        "s3-object-notifier",
        "memory_below_minimum",
        _lambda("memory_size = 100"),
        "lambda-function",
        "memory_size must be a whole number",
    ),
    Case(
        "s3-object-notifier",
        "retention_cloudwatch_does_not_offer",
        _lambda("log_retention_in_days = 200"),
        "lambda-function",
        "log_retention_in_days must be one of",
    ),
    Case(
        "s3-object-notifier",
        "unknown_log_level",
        _lambda('log_level = "TRACE"'),
        "lambda-function",
        "log_level must be DEBUG",
    ),
    Case(
        "s3-object-notifier",
        "function_name_over_64_characters",
        _lambda('function_name = join("", [for i in range(65) : "a"])'),
        "lambda-function",
        "name must be 1-64 characters",
    ),
    Case(
        "s3-object-notifier",
        "code_signing_config_id_instead_of_arn",
        _lambda('code_signing_config_arn = "csc-0123456789abcdef0"'),
        "lambda-function",
        "code_signing_config_arn must be a Lambda code signing config ARN",
    ),
    Case(
        "s3-object-notifier",
        "s3_key_without_bucket",
        'lambda = { package = { s3_key = "lambda.zip" } }',
        "lambda-function",
        "package needs exactly one source",
    ),
    Case(
        "s3-object-notifier",
        "package_that_is_not_a_zip",
        'lambda = { package = { filename = "build/lambda.jar" } }',
        "lambda-function",
        "package.filename must point to a .zip file",
    ),
    Case(
        "s3-object-notifier",
        "aws_prefixed_key_alias",
        'kms_key = { aliases = ["aws/s3"] }',
        "kms-key",
        "Each alias must be",
    ),
    Case(
        "s3-object-notifier",
        "zero_deletion_window",
        "kms_key = { deletion_window_in_days = 0 }",
        "kms-key",
        "deletion_window_in_days must be",
    ),
    Case(
        "s3-object-notifier",
        "reserved_aws_tag_prefix",
        'tags = { "aws:s3:bucket" = "uploads" }',
        "kms-key",
        "tags: keys must be",
    ),
    # dynamodb-stream-alerts (a pipe, no function) and event-workflow (a state machine, no function)
    Case(
        "dynamodb-stream-alerts",
        "bad_email",
        'subscriptions = { "not-an-email" = {} }',
        "sns-topic",
        "Email subscriptions need an endpoint",
    ),
    Case(
        "dynamodb-stream-alerts",
        "alias_prefix_in_key_alias",
        'kms_key = { aliases = ["alias/payments"] }',
        "kms-key",
        "Each alias must be",
    ),
    Case(
        "dynamodb-stream-alerts",
        "deletion_window_below_seven_days",
        "kms_key = { deletion_window_in_days = 3 }",
        "kms-key",
        "deletion_window_in_days must be",
    ),
    Case(
        "dynamodb-stream-alerts",
        "empty_topic_display_name",
        'sns_topic_display_name = ""',
        "sns-topic",
        "display_name must be 1-100 characters",
    ),
    Case(
        "dynamodb-stream-alerts",
        "reserved_aws_tag_prefix",
        'tags = { "aws:cloudformation:stack-name" = "payments" }',
        "kms-key",
        "tags: keys must be",
    ),
    Case(
        "event-workflow",
        "aws_prefixed_key_alias",
        'kms_key = { aliases = ["aws/orders"] }',
        "kms-key",
        "Each alias must be",
    ),
    Case(
        "event-workflow",
        "deletion_window_over_thirty_days",
        "kms_key = { deletion_window_in_days = 31 }",
        "kms-key",
        "deletion_window_in_days must be",
    ),
    Case(
        "event-workflow",
        "overlong_tag_value",
        'tags = { Owner = join("", [for i in range(257) : "x"]) }',
        "kms-key",
        "tags: keys must be",
    ),
    Case(
        "event-workflow",
        "overlong_rule_description",
        'event_rule_description = join("", [for i in range(513) : "x"])',
        "event-rule",
        "rules[*].description must be at most 512 characters",
    ),
    Case(
        "root-activity-monitor",
        "overlong_rule_description",
        'event_rule_description = join("", [for i in range(513) : "x"])',
        "event-rule",
        "rules[*].description must be at most 512 characters",
    ),
    Case(
        "root-activity-monitor",
        "unknown_rule_state",
        'event_rule_state = "PAUSED"',
        "event-rule",
        "rules[*].state must be",
    ),
]


GOOD_VALUES = {
    "root-activity-monitor": _lambda('timeout = 60, log_level = "DEBUG"'),
    "s3-object-notifier": _lambda('timeout = 60, log_level = "DEBUG"'),
    "dynamodb-stream-alerts": 'kms_key = { aliases = ["payments"], deletion_window_in_days = 7 }',
    "event-workflow": 'tags = { Owner = "orders" }',
}


def _test_file(pattern: str, case: Case) -> str:
    return (
        f'mock_provider "aws" {{\n  source = "{MOCKS}"\n}}\n\n'
        f"variables {{\n{BASE_VARIABLES[pattern]}\n}}\n\n"
        f'run "{case.name}" {{\n  command = plan\n\n  variables {{\n{case.variables}\n  }}\n}}\n'
    )


def _refusals(pattern: str, cases: list[Case]) -> dict[str, list[str]]:
    """Run every case of one pattern in one `terraform test`; run name -> its error diagnostics' texts."""
    module = ROOT / "modules" / pattern
    initialised = terraform_offline.init(module, ["-backend=false"])
    assert initialised.returncode == 0, initialised.stdout + initialised.stderr
    with tempfile.TemporaryDirectory(prefix=".refused-", dir=module / "tests") as scratch:
        for case in cases:
            (Path(scratch) / f"{case.name}.tftest.hcl").write_text(
                _test_file(pattern, case), encoding="utf-8"
            )
        directory = Path(scratch).relative_to(module).as_posix()
        completed = terraform_offline.run(
            ["terraform", "test", "-json", f"-test-directory={directory}"], module
        )
    diagnostics: dict[str, list[str]] = {case.name: [] for case in cases}
    for line in completed.stdout.splitlines():
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        diagnostic = message.get("diagnostic")
        if message.get("type") == "diagnostic" and diagnostic and diagnostic.get("severity") == "error":
            run = message.get("@testrun")
            assert run in diagnostics, f"an error outside the cases: {diagnostic}"
            diagnostics[run].append(f"{diagnostic.get('summary')}: {diagnostic.get('detail')}")
    return diagnostics


def _pattern_refusals(pattern: str) -> dict[tuple[str, str], list[str]]:
    cases = [c for c in CASES if c.pattern == pattern] + [
        Case(pattern, "good_values", GOOD_VALUES[pattern], "", "")
    ]
    return {(pattern, run): texts for run, texts in _refusals(pattern, cases).items()}


@pytest.fixture(scope="module")
def refusals() -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    # Two patterns at once (each in its own module directory): a `terraform test` process spends most of
    # its time starting the provider for each file, on one core.
    with ThreadPoolExecutor(max_workers=2) as pool:
        for pattern_refusals in pool.map(_pattern_refusals, BASE_VARIABLES):
            found.update(pattern_refusals)
    return found


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.pattern}:{c.name}")
def test_building_block_refuses_the_value_passed_through_the_pattern(
    case: Case, refusals: dict[tuple[str, str], list[str]]
) -> None:
    texts = refusals[(case.pattern, case.name)]
    expected = f"validation rule at ../{case.building_block}/variables.tf"
    assert any(
        t.startswith("Invalid value for variable: ") and case.message in t and expected in t for t in texts
    ), f"expected {case.building_block}'s '{case.message}...', got: {texts}"


@pytest.mark.parametrize("pattern", BASE_VARIABLES)
def test_good_values_plan(pattern: str, refusals: dict[tuple[str, str], list[str]]) -> None:
    """The cases fail for their bad value, not for the base variables: with good values the plan succeeds."""
    assert refusals[(pattern, "good_values")] == []
