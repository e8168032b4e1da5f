# Offline plan-mode tests: `terraform test` in modules/event-workflow (Terraform >= 1.11 for override_during).

mock_provider "aws" {
  source = "../../tests/terraform_mocks/aws"
}

variables {
  name = "orders-flow"
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
    target          = aws_cloudwatch_log_group.this
    override_during = plan
    values = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/orders-flow"
    }
  }

  override_resource {
    target          = aws_sfn_state_machine.this
    override_during = plan
    values = {
      arn = "arn:aws:states:us-east-1:123456789012:stateMachine:orders-flow"
    }
  }

  override_resource {
    target          = module.event_rule.aws_cloudwatch_event_rule.this
    override_during = plan
    values = {
      arn = "arn:aws:events:us-east-1:123456789012:rule/orders-flow"
    }
  }

  override_resource {
    target          = module.event_rule.module.dead_letter_queue.aws_sqs_queue.this
    override_during = plan
    values = {
      arn  = "arn:aws:sqs:us-east-1:123456789012:orders-flow-dlq"
      name = "orders-flow-dlq"
    }
  }

  # The default definition is the router: Choice on $.detail.Path, A -> PathA, B -> PathB, else Fail.
  assert {
    condition     = jsondecode(aws_sfn_state_machine.this[0].definition).StartAt == "Route"
    error_message = "The default definition must start at the Route Choice state."
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this[0].definition).States.Route.Type == "Choice"
    error_message = "Route must be a Choice state."
  }

  assert {
    condition = jsonencode([
      for c in jsondecode(aws_sfn_state_machine.this[0].definition).States.Route.Choices : {
        next   = c.Next
        equals = [for r in c.And : r.StringEquals if can(r.StringEquals)]
        vars   = distinct([for r in c.And : r.Variable])
      }
      ]) == jsonencode([
      { next = "PathA", equals = ["A"], vars = ["$.detail.Path"] },
      { next = "PathB", equals = ["B"], vars = ["$.detail.Path"] },
    ])
    error_message = "The Choice rules must send $.detail.Path == \"A\" to PathA and \"B\" to PathB."
  }

  assert {
    condition = alltrue([
      for c in jsondecode(aws_sfn_state_machine.this[0].definition).States.Route.Choices :
      contains([for r in c.And : try(r.IsPresent, null)], true) && contains([for r in c.And : try(r.IsString, null)], true)
    ])
    error_message = "Each Choice rule must guard the comparison with IsPresent and IsString."
  }

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.this[0].definition).States.PathA.Type == "Pass" &&
      jsondecode(aws_sfn_state_machine.this[0].definition).States.PathA.End == true &&
      jsondecode(aws_sfn_state_machine.this[0].definition).States.PathB.Type == "Pass" &&
      jsondecode(aws_sfn_state_machine.this[0].definition).States.PathB.End == true
    )
    error_message = "PathA and PathB must be terminal Pass states (they succeed)."
  }

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.this[0].definition).States[jsondecode(aws_sfn_state_machine.this[0].definition).States.Route.Default].Type == "Fail"
    )
    error_message = "Any other Path (the Choice Default) must end in a Fail state."
  }

  assert {
    condition     = aws_sfn_state_machine.this[0].type == "STANDARD"
    error_message = "The state machine must default to STANDARD."
  }

  # Logging to the CMK-encrypted vended-logs group, X-Ray on, CMK encryption of the state machine.
  assert {
    condition     = aws_sfn_state_machine.this[0].logging_configuration[0].log_destination == "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/orders-flow:*"
    error_message = "Execution logs must go to the module's log group (<arn>:*)."
  }

  assert {
    condition     = aws_sfn_state_machine.this[0].logging_configuration[0].level == "ALL" && aws_sfn_state_machine.this[0].logging_configuration[0].include_execution_data == false
    error_message = "Logging must default to level ALL without execution data."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this[0].name == "/aws/vendedlogs/states/orders-flow" && aws_cloudwatch_log_group.this[0].kms_key_id == output.kms_key_arn && aws_cloudwatch_log_group.this[0].retention_in_days == 365
    error_message = "The log group must be /aws/vendedlogs/states/<name>, encrypted with the CMK, 365-day retention."
  }

  assert {
    condition     = aws_sfn_state_machine.this[0].tracing_configuration[0].enabled == true
    error_message = "X-Ray tracing must be on."
  }

  assert {
    condition     = aws_sfn_state_machine.this[0].encryption_configuration[0].type == "CUSTOMER_MANAGED_KMS_KEY" && aws_sfn_state_machine.this[0].encryption_configuration[0].kms_key_id == output.kms_key_arn
    error_message = "The state machine must be encrypted with the module's CMK."
  }

  # The rule: default pattern on the default bus, targeting the state machine with retries and the DLQ.
  assert {
    condition     = jsondecode(output.event_pattern) == { source = ["demo.sfn"], account = ["123456789012"] }
    error_message = "The default pattern must be source demo.sfn from this account."
  }

  assert {
    condition     = output.event_bus_name == "default" && output.rule_name == "orders-flow"
    error_message = "The rule must be <name> on the default bus."
  }

  assert {
    condition     = module.event_rule.target_dead_letter_arns == { workflow = output.dead_letter_queue_arn }
    error_message = "The rule's only target must dead-letter to the module's DLQ."
  }

  assert {
    condition     = output.dead_letter_queue_name == "orders-flow-dlq"
    error_message = "The DLQ must be named <name>-dlq."
  }

  # Role policies: "*" only for log delivery and X-Ray; the key only for this state machine's context.
  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.state_machine[0].statement : s.actions if contains(s.resources, "*")
      ])) == toset([
      "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
      "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
    ])
    error_message = "Only the log-delivery and X-Ray actions may use Resource \"*\"."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.state_machine[0].statement :
      s.resources == toset([output.kms_key_arn]) if anytrue([for a in s.actions : startswith(a, "kms:")])
    ])
    error_message = "KMS statements must name the module's key only."
  }

  assert {
    condition = jsonencode(one([
      for s in data.aws_iam_policy_document.state_machine[0].statement : s.condition if s.sid == "StateMachineEncryption"
      ])) == jsonencode([{
      test     = "StringEquals"
      values   = ["arn:aws:states:us-east-1:123456789012:stateMachine:orders-flow"]
      variable = "kms:EncryptionContext:aws:states:stateMachineArn"
    }])
    error_message = "The role may use the key only in this state machine's encryption context."
  }

  assert {
    condition = jsonencode(one([
      for s in data.aws_iam_policy_document.state_machine_assume_role[0].statement : s.condition
      ])) == jsonencode([
      {
        test     = "ArnLike"
        values   = ["arn:aws:states:us-east-1:123456789012:stateMachine:orders-flow", "arn:aws:states:us-east-1:123456789012:stateMachine:orders-flow:*"]
        variable = "aws:SourceArn"
      },
      { test = "StringEquals", values = ["123456789012"], variable = "aws:SourceAccount" },
    ])
    error_message = "Only this state machine in this account may assume its role."
  }

  # The events role's policy and trust, the target's retry policy and the key policy are asserted against the
  # deployed resources in tests/terraform/test_event_workflow.py (child-module resources are not visible here).
}

run "named_bus_and_custom_pattern" {
  command = plan

  variables {
    event_bus_name = "orders"
    event_pattern = {
      source      = ["shop.orders"]
      detail_type = ["OrderPlaced"]
      account     = []
      detail      = "{\"Path\":[\"A\",\"B\"]}"
    }
  }

  assert {
    condition = jsondecode(output.event_pattern) == {
      source        = ["shop.orders"]
      "detail-type" = ["OrderPlaced"]
      detail        = { Path = ["A", "B"] }
    }
    error_message = "A typed pattern must render every attribute set, and account = [] must drop the account filter."
  }

  assert {
    condition     = output.event_bus_name == "orders"
    error_message = "The rule must attach to the named bus."
  }

  assert {
    condition     = local.rule_arn == "arn:aws:events:us-east-1:123456789012:rule/orders/orders-flow"
    error_message = "On a named bus the rule ARN (used in the key-policy condition) must contain the bus name."
  }

  assert {
    condition     = output.rule_name == "orders-flow"
    error_message = "The rule keeps its name on a named bus."
  }
}

run "definition_json_logging_off_express" {
  command = plan

  variables {
    definition_json    = "{\"StartAt\":\"Done\",\"States\":{\"Done\":{\"Type\":\"Succeed\"}}}"
    log_level          = "OFF"
    state_machine_type = "EXPRESS"
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this[0].definition) == { StartAt = "Done", States = { Done = { Type = "Succeed" } } }
    error_message = "definition_json must be deployed as given."
  }

  assert {
    condition     = length(aws_cloudwatch_log_group.this) == 0 && aws_sfn_state_machine.this[0].logging_configuration[0].level == "OFF"
    error_message = "log_level OFF must create no log group."
  }

  assert {
    condition = length([
      for s in data.aws_iam_policy_document.state_machine[0].statement : s if anytrue([for a in s.actions : startswith(a, "logs:")])
    ]) == 0
    error_message = "log_level OFF must grant no log-delivery permissions."
  }

  assert {
    condition     = aws_sfn_state_machine.this[0].type == "EXPRESS"
    error_message = "state_machine_type must be passed through."
  }
}

run "definition_file" {
  command = plan

  variables {
    definition_file = "tests/fixtures/succeed.asl.json"
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this[0].definition).States.Ok.Type == "Succeed"
    error_message = "definition_file must be read and deployed."
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition = alltrue([for v in [
      output.state_machine_arn, output.state_machine_name, output.state_machine_role_arn, output.log_group_name,
      output.log_group_arn, output.rule_arn, output.rule_name, output.dead_letter_queue_arn,
      output.dead_letter_queue_url, output.kms_key_arn, output.event_bus_name, output.events_role_arn,
    ] : v == null])
    error_message = "With create = false every output must be null."
  }
}

run "rejects_both_definitions" {
  command = plan

  variables {
    definition_json = "{\"StartAt\":\"Done\",\"States\":{\"Done\":{\"Type\":\"Succeed\"}}}"
    definition_file = "tests/fixtures/succeed.asl.json"
  }

  expect_failures = [aws_sfn_state_machine.this]
}

run "rejects_definition_json_without_states" {
  command = plan

  variables {
    definition_json = "{\"Comment\":\"no states\"}"
  }

  expect_failures = [var.definition_json]
}

run "rejects_missing_definition_file" {
  command = plan

  variables {
    definition_file = "tests/fixtures/does-not-exist.json"
  }

  expect_failures = [var.definition_file]
}

run "rejects_bad_log_level" {
  command = plan

  variables {
    log_level = "DEBUG"
  }

  expect_failures = [var.log_level]
}

run "rejects_bad_type" {
  command = plan

  variables {
    state_machine_type = "SYNC"
  }

  expect_failures = [var.state_machine_type]
}

run "rejects_bad_retention" {
  command = plan

  variables {
    log_retention_in_days = 10
  }

  expect_failures = [var.log_retention_in_days]
}

run "rejects_empty_source" {
  command = plan

  variables {
    event_pattern = { source = [] }
  }

  expect_failures = [var.event_pattern]
}

run "rejects_bad_detail" {
  command = plan

  variables {
    event_pattern = { detail = "[\"not an object\"]" }
  }

  expect_failures = [var.event_pattern]
}

run "rejects_bad_account" {
  command = plan

  variables {
    event_pattern = { account = ["12345"] }
  }

  expect_failures = [var.event_pattern]
}

run "rejects_bad_retry_policy" {
  command = plan

  variables {
    retry_policy = { maximum_retry_attempts = 200 }
  }

  expect_failures = [var.retry_policy]
}

run "rejects_wildcard_task_action" {
  command = plan

  variables {
    policy_statements = [{ actions = ["lambda:*"], resources = ["arn:aws:lambda:us-east-1:123456789012:function:x"] }]
  }

  expect_failures = [var.policy_statements]
}

run "rejects_bad_name" {
  command = plan

  variables {
    name = "orders flow!"
  }

  expect_failures = [var.name]
}

# --- Bad inputs: each run feeds one realistic mistake and expects that input's validation to refuse it. ---

run "rejects_event_bus_arn_as_name" {
  command = plan

  variables {
    event_bus_name = "arn:aws:events:us-east-1:123456789012:event-bus/orders"
  }

  expect_failures = [var.event_bus_name]
}

run "rejects_lowercase_rule_state" {
  command = plan

  variables {
    event_rule_state = "enabled"
  }

  expect_failures = [var.event_rule_state]
}

run "rejects_dead_letter_retention_of_fifteen_days" {
  command = plan

  variables {
    dead_letter_queue_message_retention_seconds = 1296000
  }

  expect_failures = [var.dead_letter_queue_message_retention_seconds]
}

run "rejects_data_key_reuse_over_fifteen_minutes" {
  command = plan

  variables {
    kms_data_key_reuse_period_seconds = 3600
  }

  expect_failures = [var.kms_data_key_reuse_period_seconds]
}

run "rejects_role_arn_as_permissions_boundary" {
  command = plan

  variables {
    role_permissions_boundary = "arn:aws:iam::123456789012:role/boundary"
  }

  expect_failures = [var.role_permissions_boundary]
}

# Values the building blocks refuse (a bad alias, deletion window, tag, rule description) are proven refused through this
# module by tests/unit/test_pattern_passthrough.py: `expect_failures` cannot name a child module's variable
# (hashicorp/terraform#34951).
