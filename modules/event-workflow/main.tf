data "aws_caller_identity" "current" {
  count = var.create ? 1 : 0
}

data "aws_partition" "current" {
  count = var.create ? 1 : 0
}

data "aws_region" "current" {
  count = var.create ? 1 : 0
}

locals {
  account_id = try(data.aws_caller_identity.current[0].account_id, "")
  partition  = try(data.aws_partition.current[0].partition, "")
  # `id` is the region name in provider 5.x and 6.x alike (6.x deprecates `name`).
  region = try(data.aws_region.current[0].id, "")

  logging_enabled = var.log_level != "OFF"
  log_group_name  = "/aws/vendedlogs/states/${var.name}"

  # ARNs are built from names rather than taken from the resources: the key policy must exist before the
  # log group, the DLQ and the state machine it protects, so referencing them would be a dependency cycle.
  log_group_arn     = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"
  state_machine_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${var.name}"
  # Rules on a custom bus have the bus name in their ARN; rules on the default bus do not.
  rule_arn = var.event_bus_name == "default" ? "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${var.name}" : "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${var.event_bus_name}/${var.name}"

  # The classic router: Choice on $.detail.Path. "A" and "B" succeed through their Pass state; anything
  # else, a missing Path included, ends in the Fail state (IsPresent/IsString guard the comparison so a
  # missing or non-string Path fails as UnknownPath rather than as a States.Runtime error).
  default_definition = jsonencode({
    Comment = "Routes events on $.detail.Path: A -> PathA, B -> PathB, anything else -> UnknownPath (fails)"
    StartAt = "Route"
    States = {
      Route = {
        Type = "Choice"
        Choices = [
          {
            And = [
              { Variable = "$.detail.Path", IsPresent = true },
              { Variable = "$.detail.Path", IsString = true },
              { Variable = "$.detail.Path", StringEquals = "A" },
            ]
            Next = "PathA"
          },
          {
            And = [
              { Variable = "$.detail.Path", IsPresent = true },
              { Variable = "$.detail.Path", IsString = true },
              { Variable = "$.detail.Path", StringEquals = "B" },
            ]
            Next = "PathB"
          },
        ]
        Default = "UnknownPath"
      }
      PathA = {
        Type       = "Pass"
        Parameters = { path = "A", "event_id.$" = "$.id" }
        End        = true
      }
      PathB = {
        Type       = "Pass"
        Parameters = { path = "B", "event_id.$" = "$.id" }
        End        = true
      }
      UnknownPath = {
        Type  = "Fail"
        Error = "UnknownPath"
        Cause = "detail.Path must be \"A\" or \"B\""
      }
    }
  })

  definition = (
    var.definition_json != null ? var.definition_json :
    var.definition_file != null ? file(var.definition_file) :
    local.default_definition
  )

  event_pattern = jsonencode(merge(
    { source = var.event_pattern.source },
    var.event_pattern.account == null ? { account = [local.account_id] } : {},
    try(length(var.event_pattern.account) > 0, false) ? { account = var.event_pattern.account } : {},
    var.event_pattern.detail_type == null ? {} : { "detail-type" = var.event_pattern.detail_type },
    var.event_pattern.resources == null ? {} : { resources = var.event_pattern.resources },
    var.event_pattern.detail == null ? {} : { detail = jsondecode(var.event_pattern.detail) },
  ))
}

# One CMK for the execution logs, the state machine (definition and history) and the dead-letter queue.
module "kms_key" {
  source = "../kms-key"

  create                  = var.create
  name                    = var.name
  description             = "Encrypts the ${var.name} workflow: execution logs, state machine data and dead letters"
  aliases                 = coalesce(var.kms_key.aliases, [var.name])
  deletion_window_in_days = var.kms_key.deletion_window_in_days

  cloudwatch_logs_log_group_arns = var.create && local.logging_enabled ? [local.log_group_arn] : []

  service_grants = !var.create ? {} : merge(
    {
      # EventBridge encrypts events it could not deliver into the CMK-encrypted DLQ, for this rule only.
      events-dlq = {
        service     = "events.amazonaws.com"
        actions     = ["kms:Decrypt", "kms:GenerateDataKey"]
        source_arns = [local.rule_arn]
      }
    },
    var.encrypt_state_machine && local.logging_enabled ? {
      # CloudWatch Logs' vended-log delivery reads the encrypted execution history to write it to the log
      # group, on behalf of this account's log deliveries only.
      log-delivery = {
        service     = "delivery.logs.amazonaws.com"
        actions     = ["kms:Decrypt"]
        source_arns = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:*"]
      }
    } : {},
  )

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  count = var.create && local.logging_enabled ? 1 : 0

  # The /aws/vendedlogs/ prefix keeps the CloudWatch Logs resource policy that log delivery writes small.
  name              = local.log_group_name
  retention_in_days = var.log_retention_in_days
  kms_key_id        = module.kms_key.key_arn

  tags = var.tags
}

resource "aws_sfn_state_machine" "this" {
  count = var.create ? 1 : 0

  name       = var.name
  role_arn   = aws_iam_role.state_machine[0].arn
  definition = local.definition
  type       = var.state_machine_type
  publish    = false

  logging_configuration {
    level                  = var.log_level
    include_execution_data = local.logging_enabled ? var.log_include_execution_data : false
    log_destination        = local.logging_enabled ? "${aws_cloudwatch_log_group.this[0].arn}:*" : null
  }

  tracing_configuration {
    enabled = var.tracing_enabled
  }

  dynamic "encryption_configuration" {
    for_each = var.encrypt_state_machine ? [1] : []

    content {
      type                              = "CUSTOMER_MANAGED_KMS_KEY"
      kms_key_id                        = module.kms_key.key_arn
      kms_data_key_reuse_period_seconds = var.kms_data_key_reuse_period_seconds
    }
  }

  tags = var.tags

  # Step Functions checks at creation that the role can deliver logs and use the key.
  depends_on = [aws_iam_role_policy.state_machine]

  lifecycle {
    precondition {
      condition     = var.definition_json == null || var.definition_file == null
      error_message = "Set at most one of definition_json and definition_file (neither = the built-in router)."
    }
  }
}

module "event_rule" {
  source = "../event-rule"

  create         = var.create
  name           = var.name
  event_bus_name = var.event_bus_name

  rules = {
    workflow = {
      name          = var.name
      description   = var.event_rule_description
      event_pattern = local.event_pattern
      state         = var.event_rule_state
    }
  }

  # The module gives sfn targets an events role that may only states:StartExecution on this state machine,
  # assumable only by events.amazonaws.com for this rule (aws:SourceArn) in this account.
  targets = !var.create ? {} : {
    workflow = {
      rule         = "workflow"
      type         = "sfn"
      arn          = aws_sfn_state_machine.this[0].arn
      retry_policy = var.retry_policy
    }
  }

  create_dead_letter_queue                    = true
  kms_key_arn                                 = module.kms_key.key_arn
  dead_letter_queue_message_retention_seconds = var.dead_letter_queue_message_retention_seconds
  role_permissions_boundary                   = var.role_permissions_boundary

  tags = var.tags
}
