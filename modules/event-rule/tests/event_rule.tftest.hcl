mock_provider "aws" {
  source = "../../tests/terraform_mocks/aws"
}

variables {
  name        = "test"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  rules = {
    signin = {
      event_pattern = "{\"detail-type\":[\"AWS Console Sign In via CloudTrail\"]}"
    }
    nightly = {
      schedule_expression = "rate(1 day)"
    }
  }
  targets = {
    notify = {
      rule = "signin"
      type = "lambda"
      arn  = "arn:aws:lambda:us-east-1:123456789012:function:notify"
    }
    workflow = {
      rule = "nightly"
      type = "sfn"
      arn  = "arn:aws:states:us-east-1:123456789012:stateMachine:nightly"
    }
  }
}

run "wiring" {
  command = plan

  override_resource {
    target          = aws_cloudwatch_event_rule.this
    override_during = plan
    values          = { arn = "arn:aws:events:us-east-1:123456789012:rule/test-signin" }
  }

  override_module {
    target  = module.dead_letter_queue
    outputs = { queue_arn = "arn:aws:sqs:us-east-1:123456789012:test-dlq" }
  }

  assert {
    condition     = aws_lambda_permission.this["notify"].source_arn == aws_cloudwatch_event_rule.this["signin"].arn
    error_message = "The invoke permission must be scoped to the rule ARN."
  }

  assert {
    condition     = aws_lambda_permission.this["notify"].principal == "events.amazonaws.com"
    error_message = "The invoke permission must be for EventBridge."
  }

  assert {
    condition     = alltrue([for t in aws_cloudwatch_event_target.this : t.dead_letter_config[0].arn == "arn:aws:sqs:us-east-1:123456789012:test-dlq"])
    error_message = "Every target must dead-letter into the module DLQ."
  }

  assert {
    condition     = aws_cloudwatch_event_target.this["notify"].retry_policy[0].maximum_retry_attempts == 24
    error_message = "Targets must get the default retry policy."
  }

  assert {
    condition     = length(aws_iam_role.events) == 1 && aws_cloudwatch_event_target.this["notify"].role_arn == null
    error_message = "Only sfn targets get the events role."
  }

  assert {
    condition     = aws_cloudwatch_event_rule.this["signin"].name == "test-signin" && aws_cloudwatch_event_rule.this["signin"].event_bus_name == "default"
    error_message = "Rules must be named <name>-<key> on the default bus."
  }
}

run "create_false" {
  command = plan
  variables {
    create = false
  }
  assert {
    condition     = output.rule_arns == null && output.dead_letter_queue_arn == null && output.role_arn == null
    error_message = "create = false must create nothing."
  }
}

run "rejects_bad_json" {
  command = plan
  variables {
    rules = { bad = { event_pattern = "{not json" } }
  }
  expect_failures = [var.rules]
}

run "rejects_pattern_and_schedule" {
  command = plan
  variables {
    rules = { both = { event_pattern = "{\"source\":[\"aws.s3\"]}", schedule_expression = "rate(1 hour)" } }
  }
  expect_failures = [var.rules]
}

run "rejects_bad_target_type" {
  command = plan
  variables {
    targets = { t = { rule = "signin", type = "ecs", arn = "arn:aws:ecs:us-east-1:123456789012:cluster/x" } }
  }
  expect_failures = [var.targets]
}

run "rejects_unknown_rule_key" {
  command = plan
  variables {
    targets = { t = { rule = "missing", type = "lambda", arn = "arn:aws:lambda:us-east-1:123456789012:function:notify" } }
  }
  expect_failures = [aws_cloudwatch_event_target.this, aws_lambda_permission.this]
}

run "requires_dead_letter_queue" {
  command = plan
  variables {
    create_dead_letter_queue = false
  }
  expect_failures = [aws_cloudwatch_event_target.this]
}

# --- Bad inputs: each run feeds one realistic mistake and expects that input's validation to refuse it. ---

run "rejects_name_with_spaces" {
  command = plan

  variables {
    name = "signin alerts"
  }

  expect_failures = [var.name]
}

run "rejects_event_bus_arn_as_name" {
  command = plan

  variables {
    event_bus_name = "arn:aws:events:us-east-1:123456789012:event-bus/security"
  }

  expect_failures = [var.event_bus_name]
}

run "rejects_topic_as_dead_letter" {
  command = plan

  variables {
    dead_letter_arn = "arn:aws:sns:us-east-1:123456789012:failed-events"
  }

  expect_failures = [var.dead_letter_arn]
}

run "rejects_bare_alias_as_key" {
  command = plan

  variables {
    kms_key_arn = "alias/events"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_dead_letter_retention_below_a_minute" {
  command = plan

  variables {
    dead_letter_queue_message_retention_seconds = 30
  }

  expect_failures = [var.dead_letter_queue_message_retention_seconds]
}

run "rejects_policy_name_as_permissions_boundary" {
  command = plan

  variables {
    role_permissions_boundary = "PowerUserBoundary"
  }

  expect_failures = [var.role_permissions_boundary]
}

run "rejects_tag_key_with_hash" {
  command = plan

  variables {
    tags = { "team#1" = "security" }
  }

  expect_failures = [var.tags]
}
