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
  lambda_package = {
    s3_bucket = "example-artifacts"
    s3_key    = "lambda.zip"
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
    condition     = output.log_group_kms_key_id == output.kms_key_arn
    error_message = "The log group must be encrypted with the module's CMK."
  }

  assert {
    condition     = output.log_group_retention_in_days == 365
    error_message = "The log group must keep the default 365-day retention."
  }

  assert {
    condition     = output.log_group_name == "/aws/lambda/root-monitor"
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

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition = alltrue([for v in [
      output.sns_topic_arn, output.kms_key_arn, output.lambda_function_arn, output.lambda_function_name,
      output.lambda_role_arn, output.log_group_name, output.event_rule_arns, output.event_rule_names,
      output.dead_letter_queue_arn, output.dead_letter_queue_url, output.event_bus_name, output.kms_alias_arns,
    ] : v == null])
    error_message = "With create = false every output must be null."
  }
}

run "rejects_bad_email" {
  command = plan

  variables {
    subscriptions = {
      "not-an-email" = {}
    }
  }

  expect_failures = [var.subscriptions]
}

run "rejects_bad_retention" {
  command = plan

  variables {
    log_retention_in_days = 8
  }

  expect_failures = [var.log_retention_in_days]
}

run "rejects_bad_deletion_window" {
  command = plan

  variables {
    kms_key_deletion_window_in_days = 5
  }

  expect_failures = [var.kms_key_deletion_window_in_days]
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

run "rejects_bad_runtime" {
  command = plan

  variables {
    lambda_runtime = "python2.7"
  }

  expect_failures = [var.lambda_runtime]
}

run "rejects_bad_architecture" {
  command = plan

  variables {
    lambda_architecture = "sparc"
  }

  expect_failures = [var.lambda_architecture]
}

# --- Bad inputs: each run feeds one realistic mistake and expects that input's validation to refuse it. ---

run "rejects_alias_prefix_in_key_alias" {
  command = plan

  variables {
    kms_key_aliases = ["alias/root-monitor"]
  }

  expect_failures = [var.kms_key_aliases]
}

run "rejects_overlong_topic_display_name" {
  command = plan

  variables {
    sns_topic_display_name = join("", [for i in range(101) : "x"])
  }

  expect_failures = [var.sns_topic_display_name]
}

run "rejects_overlong_rule_description" {
  command = plan

  variables {
    event_rule_description = join("", [for i in range(513) : "x"])
  }

  expect_failures = [var.event_rule_description]
}

run "rejects_unknown_rule_state" {
  command = plan

  variables {
    event_rule_state = "PAUSED"
  }

  expect_failures = [var.event_rule_state]
}

run "rejects_function_name_with_spaces" {
  command = plan

  variables {
    lambda_function_name = "root monitor"
  }

  expect_failures = [var.lambda_function_name]
}

run "rejects_zero_timeout" {
  command = plan

  variables {
    lambda_timeout = 0
  }

  expect_failures = [var.lambda_timeout]
}

run "rejects_memory_over_ten_gb" {
  command = plan

  variables {
    lambda_memory_size = 20480
  }

  expect_failures = [var.lambda_memory_size]
}

run "rejects_zero_reserved_concurrency" {
  command = plan

  variables {
    reserved_concurrency = 0
  }

  expect_failures = [var.reserved_concurrency]
}

run "rejects_java_style_log_level" {
  command = plan

  variables {
    log_level = "WARN"
  }

  expect_failures = [var.log_level]
}

run "rejects_markup_in_account_alias" {
  command = plan

  variables {
    account_alias = "prod<script>"
  }

  expect_failures = [var.account_alias]
}

run "rejects_tag_key_with_hash" {
  command = plan

  variables {
    tags = { "cost#center" = "security" }
  }

  expect_failures = [var.tags]
}

run "rejects_two_package_sources" {
  command = plan

  variables {
    lambda_package = { filename = "build/lambda.zip", s3_bucket = "example-artifacts", s3_key = "lambda.zip" }
  }

  expect_failures = [var.lambda_package]
}

run "rejects_package_that_is_not_a_zip" {
  command = plan

  variables {
    lambda_package = { filename = "lambda_src/notification_handlers/root_activity.py" }
  }

  expect_failures = [var.lambda_package]
}

run "rejects_signing_profile_as_code_signing_config" {
  command = plan

  variables {
    lambda_code_signing_config_arn = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/root_monitor"
  }

  expect_failures = [var.lambda_code_signing_config_arn]
}
