# Offline plan-mode tests: `terraform test` in modules/root-activity-monitor (Terraform >= 1.11 for override_during).

mock_provider "aws" {
  source = "../../tests/terraform_mocks/aws"
}

variables {
  name = "root-monitor"
  subscriptions = {
    "security@example.com" = {}
  }
  # The committed dist/lambda.zip may not be built yet; an S3 package keeps the tests self-contained.
  lambda = {
    package = {
      s3_bucket = "example-artifacts"
      s3_key    = "lambda.zip"
    }
  }
}

run "default_plan" {
  command = plan

  override_resource {
    target          = module.kms_key.aws_kms_key.this
    override_during = plan
    values = {
      arn    = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
      key_id = "11111111-2222-3333-4444-555555555555"
    }
  }

  override_resource {
    target          = module.event_rule.aws_cloudwatch_event_rule.this
    override_during = plan
    values = {
      arn = "arn:aws:events:us-east-1:123456789012:rule/root-monitor-root-activity"
    }
  }

  assert {
    condition     = output.sns_topic_kms_master_key_id == output.kms_key_arn
    error_message = "The SNS topic must be encrypted with the module's CMK."
  }

  assert {
    condition     = output.lambda_function.log_group_kms_key_id == output.kms_key_arn
    error_message = "The log group must be encrypted with the module's CMK."
  }

  assert {
    condition     = output.lambda_function.log_group_retention_in_days == 365
    error_message = "The log group must keep the default 365-day retention."
  }

  assert {
    condition     = output.lambda_function.log_group_name == "/aws/lambda/root-monitor"
    error_message = "The log group must be /aws/lambda/<function name>."
  }

  assert {
    condition = jsondecode(output.event_rule_patterns["root-activity"]) == {
      "detail-type" = ["AWS Console Sign In via CloudTrail", "AWS API Call via CloudTrail"]
      detail        = { userIdentity = { type = ["Root"] } }
    }
    error_message = "The default rule must match root console sign-ins and API calls."
  }

  assert {
    condition     = output.event_rule_names == { "root-activity" = "root-monitor-root-activity" }
    error_message = "The rule must be named <name>-<pattern key>."
  }

  assert {
    condition     = output.lambda_permission_source_arns["root-activity"] == output.event_rule_arns["root-activity"]
    error_message = "The Lambda invoke permission must be scoped to the rule ARN."
  }

  assert {
    condition     = output.event_bus_name == "default"
    error_message = "CloudTrail events arrive on the default bus."
  }

  assert {
    condition     = output.kms_alias_arns != null && keys(output.kms_alias_arns) == ["root-monitor"]
    error_message = "The key alias defaults to the module name."
  }
}

run "lambda_settings_reach_the_function" {
  command = plan

  variables {
    lambda = {
      function_name         = "root-monitor-handler"
      log_retention_in_days = 30
      package               = { s3_bucket = "example-artifacts", s3_key = "lambda.zip" }
    }
  }

  assert {
    condition = (
      output.lambda_function.log_group_name == "/aws/lambda/root-monitor-handler"
      && output.lambda_function.log_group_retention_in_days == 30
    )
    error_message = "lambda.function_name and lambda.log_retention_in_days must reach the lambda-function module."
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition = alltrue([for v in [
      output.sns_topic_arn, output.kms_key_arn, output.lambda_function.function_arn, output.lambda_function.function_name,
      output.lambda_function.role_arn, output.lambda_function.log_group_name, output.event_rule_arns, output.event_rule_names,
      output.dead_letter_queue_arn, output.dead_letter_queue_url, output.event_bus_name, output.kms_alias_arns,
    ] : v == null])
    error_message = "With create = false every output must be null."
  }
}

run "rejects_bad_name" {
  command = plan

  variables {
    name = "root monitor!"
  }

  expect_failures = [var.name]
}

run "rejects_bad_json_pattern" {
  command = plan

  variables {
    event_patterns = {
      broken = "{\"detail-type\": ["
    }
  }

  expect_failures = [var.event_patterns]
}

run "rejects_bad_non_root_events" {
  command = plan

  variables {
    non_root_events = "sometimes"
  }

  expect_failures = [var.non_root_events]
}

# --- Bad inputs: each run feeds one realistic mistake and expects that input's validation to refuse it. ---

run "rejects_zero_reserved_concurrency" {
  command = plan

  variables {
    lambda = { reserved_concurrent_executions = 0 }
  }

  expect_failures = [var.lambda]
}

run "rejects_sqs_subscription" {
  command = plan

  variables {
    subscriptions = { "arn:aws:sqs:us-east-1:123456789012:alerts" = { protocol = "sqs" } }
  }

  expect_failures = [var.subscriptions]
}

run "rejects_markup_in_account_alias" {
  command = plan

  variables {
    account_alias = "prod<script>"
  }

  expect_failures = [var.account_alias]
}

# Values the building blocks refuse (a bad runtime, timeout, package, alias, tag, email endpoint, rule description or state, ...) are
# proven refused through this module by tests/unit/test_pattern_passthrough.py: `expect_failures` cannot name
# a child module's variable (hashicorp/terraform#34951).
