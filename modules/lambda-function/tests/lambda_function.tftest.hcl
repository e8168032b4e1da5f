# Offline plan-mode tests: `terraform test` in modules/lambda-function (Terraform >= 1.11 for override_during).

mock_provider "aws" {
  source = "../../tests/terraform_mocks/aws"
}

variables {
  name        = "notify"
  handler     = "notification_handlers.root_activity.handler"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  # The committed dist/lambda.zip may not be built yet; an S3 package keeps the tests self-contained.
  package = {
    s3_bucket = "example-artifacts"
    s3_key    = "lambda.zip"
  }
}

run "log_group_is_named_retained_and_encrypted" {
  command = plan

  variables {
    log_retention_in_days = 90
  }

  assert {
    condition     = aws_cloudwatch_log_group.this[0].name == "/aws/lambda/notify"
    error_message = "The log group must be the one Lambda writes to: /aws/lambda/<name>."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this[0].retention_in_days == 90 && output.log_group_retention_in_days == 90
    error_message = "The log group must keep logs for log_retention_in_days."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this[0].kms_key_id == var.kms_key_arn && aws_lambda_function.this[0].kms_key_arn == var.kms_key_arn
    error_message = "The log group and the environment must be encrypted with the given CMK."
  }
}

run "module_dead_letter_queue_is_wired" {
  command = plan

  override_resource {
    target          = module.dead_letter_queue.aws_sqs_queue.this
    override_during = plan
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:notify-dlq"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-dlq"
    }
  }

  override_resource {
    target          = aws_cloudwatch_log_group.this
    override_during = plan
    values = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/notify"
    }
  }

  assert {
    condition     = module.dead_letter_queue.queue_name == "notify-dlq" && module.dead_letter_queue.queue_arn == output.dead_letter_queue_arn
    error_message = "The module must create <name>-dlq through the sqs-queue module."
  }

  assert {
    condition     = aws_lambda_function.this[0].dead_letter_config[0].target_arn == "arn:aws:sqs:us-east-1:123456789012:notify-dlq"
    error_message = "The function's dead-letter target must be the sqs-queue submodule's queue."
  }

  assert {
    condition     = output.dead_letter_target_arn == module.dead_letter_queue.queue_arn
    error_message = "dead_letter_target_arn must report the module-created queue."
  }

  assert {
    condition = length([
      for s in data.aws_iam_policy_document.this[0].statement : s
      if s.sid == "SendToDeadLetterTarget" && toset(s.actions) == toset(["sqs:SendMessage"])
      && toset(s.resources) == toset(["arn:aws:sqs:us-east-1:123456789012:notify-dlq"])
    ]) == 1
    error_message = "The role must be allowed sqs:SendMessage on the DLQ and nothing broader."
  }

  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.this[0].statement : [for a in s.actions : !strcontains(a, "*")]
    ]))
    error_message = "No wildcard actions in the role policy."
  }
}

run "caller_sns_dead_letter_target" {
  command = plan

  variables {
    create_dead_letter_queue = false
    dead_letter_target_arn   = "arn:aws:sns:us-east-1:123456789012:failed-events"
  }

  override_resource {
    target          = aws_cloudwatch_log_group.this
    override_during = plan
    values = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/notify"
    }
  }

  assert {
    condition     = module.dead_letter_queue.queue_arn == null && aws_lambda_function.this[0].dead_letter_config[0].target_arn == var.dead_letter_target_arn
    error_message = "A caller-supplied target must replace the module's queue."
  }

  assert {
    condition = length([
      for s in data.aws_iam_policy_document.this[0].statement : s
      if s.sid == "SendToDeadLetterTarget" && toset(s.actions) == toset(["sns:Publish"])
    ]) == 1
    error_message = "An SNS dead-letter target needs sns:Publish, not sqs:SendMessage."
  }
}

run "no_dead_letter_target_when_disabled" {
  command = plan

  variables {
    create_dead_letter_queue = false
  }

  assert {
    condition     = length(aws_lambda_function.this[0].dead_letter_config) == 0 && output.dead_letter_target_arn == null
    error_message = "Without a queue or a target, no dead_letter_config may be set."
  }
}

run "async_retries_tracing_and_environment" {
  command = plan

  variables {
    maximum_retry_attempts         = 1
    maximum_event_age_in_seconds   = 3600
    environment_variables          = { LOG_LEVEL = "DEBUG", TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alerts" }
    timeout                        = 60
    memory_size                    = 512
    reserved_concurrent_executions = 5
  }

  assert {
    condition = (
      aws_lambda_function_event_invoke_config.this[0].maximum_retry_attempts == 1
      && aws_lambda_function_event_invoke_config.this[0].maximum_event_age_in_seconds == 3600
      && aws_lambda_function_event_invoke_config.this[0].function_name == "notify"
    )
    error_message = "The async invoke config must carry the retry count and event age."
  }

  assert {
    condition     = aws_lambda_function.this[0].tracing_config[0].mode == "Active"
    error_message = "X-Ray active tracing must be on by default."
  }

  assert {
    condition     = aws_lambda_function.this[0].environment[0].variables == tomap({ LOG_LEVEL = "DEBUG", TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alerts" })
    error_message = "The environment must be exactly environment_variables."
  }

  assert {
    condition = (
      aws_lambda_function.this[0].runtime == "python3.12" && aws_lambda_function.this[0].architectures == tolist(["arm64"])
      && aws_lambda_function.this[0].timeout == 60 && aws_lambda_function.this[0].memory_size == 512
      && aws_lambda_function.this[0].reserved_concurrent_executions == 5
      && aws_lambda_function.this[0].s3_bucket == "example-artifacts" && aws_lambda_function.this[0].s3_key == "lambda.zip"
    )
    error_message = "Runtime, architecture, sizing, concurrency and package must follow the inputs."
  }
}

run "defaults_and_no_environment_block_when_empty" {
  command = plan

  assert {
    condition = (
      length(aws_lambda_function.this[0].environment) == 0
      && aws_lambda_function.this[0].reserved_concurrent_executions == -1
      && aws_lambda_function_event_invoke_config.this[0].maximum_retry_attempts == 2
      && aws_cloudwatch_log_group.this[0].retention_in_days == 365
    )
    error_message = "Defaults: no environment block, unreserved concurrency, 2 async retries, one year of logs."
  }
}

run "log_level_sets_the_powertools_level_over_the_environment" {
  command = plan

  variables {
    environment_variables = { POWERTOOLS_LOG_LEVEL = "DEBUG", TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alerts" }
    log_level             = "WARNING"
  }

  assert {
    condition     = aws_lambda_function.this[0].environment[0].variables == tomap({ POWERTOOLS_LOG_LEVEL = "WARNING", TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alerts" })
    error_message = "log_level must set POWERTOOLS_LOG_LEVEL, over the one in environment_variables, and keep the other variables."
  }
}

run "role_trusts_only_lambda_for_this_account" {
  command = plan

  variables {
    role_name = "notify-us-east-1"
    role_path = "/service/"
  }

  assert {
    condition = length([
      for s in data.aws_iam_policy_document.assume_role[0].statement : s
      if s.effect == "Allow" && toset(s.actions) == toset(["sts:AssumeRole"])
      && anytrue([for p in s.principals : p.type == "Service" && toset(p.identifiers) == toset(["lambda.amazonaws.com"])])
      && anytrue([for c in s.condition : c.test == "StringEquals" && c.variable == "aws:SourceAccount" && toset(c.values) == toset(["123456789012"])])
    ]) == 1
    error_message = "The role must trust lambda.amazonaws.com only, scoped to this account with aws:SourceAccount."
  }

  assert {
    condition     = length(data.aws_iam_policy_document.assume_role[0].statement) == 1
    error_message = "The trust policy must have no other statement."
  }

  assert {
    condition = (
      aws_iam_role.this[0].name == "notify-us-east-1" && aws_iam_role.this[0].path == "/service/"
      && aws_iam_role.this[0].assume_role_policy == data.aws_iam_policy_document.assume_role[0].json
    )
    error_message = "The role must use role_name, role_path and the trust policy document."
  }
}

run "create_false_builds_nothing" {
  command = plan

  variables {
    create      = false
    kms_key_arn = null
    # The default package (dist/lambda.zip) must not even be hashed when nothing is created.
    package = null
  }

  assert {
    condition = (
      length(aws_lambda_function.this) == 0 && length(aws_iam_role.this) == 0
      && length(aws_iam_role_policy.this) == 0 && length(aws_cloudwatch_log_group.this) == 0
      && length(aws_lambda_function_event_invoke_config.this) == 0
    )
    error_message = "create = false must build nothing."
  }

  assert {
    condition     = output.function_arn == null && output.role_arn == null && output.dead_letter_queue_arn == null && output.dead_letter_target_arn == null
    error_message = "create = false must leave every output null, including the DLQ's."
  }
}

# --- Bad inputs: each run feeds one realistic mistake and expects that input's validation to refuse it. ---

run "rejects_name_with_dots" {
  command = plan

  variables {
    name = "notify.v2"
  }

  expect_failures = [var.name]
}

run "rejects_overlong_description" {
  command = plan

  variables {
    description = "Sends notifications. ${join("", [for i in range(30) : "0123456789"])}"
  }

  expect_failures = [var.description]
}

run "rejects_two_package_sources" {
  command = plan

  variables {
    package = { filename = "build/lambda.zip", s3_bucket = "example-artifacts", s3_key = "lambda.zip" }
  }

  expect_failures = [var.package]
}

run "rejects_s3_bucket_without_key" {
  command = plan

  variables {
    package = { s3_bucket = "example-artifacts" }
  }

  expect_failures = [var.package]
}

run "rejects_package_that_is_not_a_zip" {
  command = plan

  variables {
    package = { filename = "build/lambda.tar.gz" }
  }

  expect_failures = [var.package]
}

run "rejects_handler_path_with_slashes" {
  command = plan

  variables {
    handler = "notification_handlers/root_activity.handler"
  }

  expect_failures = [var.handler]
}

run "rejects_unsupported_runtime" {
  command = plan

  variables {
    runtime = "python3.9"
  }

  expect_failures = [var.runtime]
}

run "rejects_unknown_architecture" {
  command = plan

  variables {
    architecture = "aarch64"
  }

  expect_failures = [var.architecture]
}

run "rejects_timeout_over_fifteen_minutes" {
  command = plan

  variables {
    timeout = 901
  }

  expect_failures = [var.timeout]
}

run "rejects_memory_below_minimum" {
  command = plan

  variables {
    memory_size = 64
  }

  expect_failures = [var.memory_size]
}

run "rejects_java_style_log_level" {
  command = plan

  variables {
    log_level = "WARN"
  }

  expect_failures = [var.log_level]
}

run "rejects_reserved_aws_env_prefix" {
  command = plan

  variables {
    environment_variables = { AWS_REGION = "us-east-1" }
  }

  expect_failures = [var.environment_variables]
}

run "rejects_env_name_with_dash" {
  command = plan

  variables {
    environment_variables = { "LOG-LEVEL" = "INFO" }
  }

  expect_failures = [var.environment_variables]
}

run "rejects_negative_reserved_concurrency" {
  command = plan

  variables {
    reserved_concurrent_executions = -1
  }

  expect_failures = [var.reserved_concurrent_executions]
}

run "rejects_unknown_tracing_mode" {
  command = plan

  variables {
    tracing_mode = "Enabled"
  }

  expect_failures = [var.tracing_mode]
}

run "rejects_alias_arn_as_key" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:123456789012:alias/notify"
  }

  expect_failures = [var.kms_key_arn]
}

run "requires_a_key" {
  command = plan

  variables {
    kms_key_arn = null
    # The module's DLQ (sqs-queue) would refuse a null key first, with its own precondition.
    create_dead_letter_queue = false
  }

  expect_failures = [aws_lambda_function.this]
}

run "rejects_retention_cloudwatch_does_not_offer" {
  command = plan

  variables {
    log_retention_in_days = 10
  }

  expect_failures = [var.log_retention_in_days]
}

run "rejects_three_async_retries" {
  command = plan

  variables {
    maximum_retry_attempts = 3
  }

  expect_failures = [var.maximum_retry_attempts]
}

run "rejects_event_age_over_six_hours" {
  command = plan

  variables {
    maximum_event_age_in_seconds = 86400
  }

  expect_failures = [var.maximum_event_age_in_seconds]
}

run "rejects_queue_url_as_dead_letter_target" {
  command = plan

  variables {
    create_dead_letter_queue = false
    dead_letter_target_arn   = "https://sqs.us-east-1.amazonaws.com/123456789012/failed-events"
  }

  expect_failures = [var.dead_letter_target_arn]
}

run "rejects_dead_letter_target_with_module_queue" {
  command = plan

  variables {
    dead_letter_target_arn = "arn:aws:sqs:us-east-1:123456789012:failed-events"
  }

  expect_failures = [aws_lambda_function.this]
}

run "rejects_dead_letter_retention_over_fourteen_days" {
  command = plan

  variables {
    dead_letter_queue_message_retention_seconds = 1209601
  }

  expect_failures = [var.dead_letter_queue_message_retention_seconds]
}

run "rejects_wildcard_action" {
  command = plan

  variables {
    policy_statements = [{ actions = ["s3:*"], resources = ["arn:aws:s3:::example-bucket/*"] }]
  }

  expect_failures = [var.policy_statements]
}

run "rejects_statement_without_resources" {
  command = plan

  variables {
    policy_statements = [{ actions = ["sns:Publish"], resources = [] }]
  }

  expect_failures = [var.policy_statements]
}

run "rejects_lowercase_effect" {
  command = plan

  variables {
    policy_statements = [{ effect = "allow", actions = ["sns:Publish"], resources = ["arn:aws:sns:us-east-1:123456789012:alerts"] }]
  }

  expect_failures = [var.policy_statements]
}

run "rejects_sid_with_dashes" {
  command = plan

  variables {
    policy_statements = [{ sid = "publish-alerts", actions = ["sns:Publish"], resources = ["arn:aws:sns:us-east-1:123456789012:alerts"] }]
  }

  expect_failures = [var.policy_statements]
}

run "rejects_role_name_with_slash" {
  command = plan

  variables {
    role_name = "service/notify"
  }

  expect_failures = [var.role_name]
}

run "rejects_role_path_without_trailing_slash" {
  command = plan

  variables {
    role_path = "/service"
  }

  expect_failures = [var.role_path]
}

run "rejects_role_arn_as_permissions_boundary" {
  command = plan

  variables {
    role_permissions_boundary = "arn:aws:iam::123456789012:role/boundary"
  }

  expect_failures = [var.role_permissions_boundary]
}

run "rejects_tag_value_with_newline" {
  command = plan

  variables {
    tags = { Owner = "ops\nsecurity" }
  }

  expect_failures = [var.tags]
}

run "rejects_signing_profile_as_code_signing_config" {
  command = plan

  variables {
    code_signing_config_arn = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/notify"
  }

  expect_failures = [var.code_signing_config_arn]
}
