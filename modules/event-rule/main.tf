data "aws_caller_identity" "current" {
  count = var.create ? 1 : 0
}

locals {
  account_id = try(data.aws_caller_identity.current[0].account_id, null)

  rule_names = { for k, r in var.rules : k => coalesce(r.name, "${var.name}-${k}") }

  lambda_targets = { for k, t in var.targets : k => t if t.type == "lambda" }
  sfn_targets    = { for k, t in var.targets : k => t if t.type == "sfn" }

  create_dlq  = var.create && var.create_dead_letter_queue
  create_role = var.create && length(local.sfn_targets) > 0

  # Fallback DLQ for targets without their own dead_letter_arn.
  default_dead_letter_arn = local.create_dlq ? module.dead_letter_queue.queue_arn : var.dead_letter_arn
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each = var.create ? var.rules : {}

  name                = local.rule_names[each.key]
  description         = each.value.description
  event_bus_name      = var.event_bus_name
  event_pattern       = each.value.event_pattern
  schedule_expression = each.value.schedule_expression
  state               = each.value.state

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(local.rule_names[each.key]) <= 64
      error_message = "Rule name \"${local.rule_names[each.key]}\" is longer than 64 characters: shorten var.name or the rule key, or set rules[\"${each.key}\"].name."
    }

    precondition {
      condition     = each.value.schedule_expression == null || var.event_bus_name == "default"
      error_message = "Rule \"${each.key}\": schedule expressions are only supported on the default event bus."
    }

    precondition {
      condition     = !(var.create_dead_letter_queue && var.dead_letter_arn != null)
      error_message = "Set create_dead_letter_queue = false when passing dead_letter_arn."
    }
  }
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = var.create ? var.targets : {}

  # try(): an unknown rule key is reported by the precondition below instead of an index error.
  rule           = try(aws_cloudwatch_event_rule.this[each.value.rule].name, null)
  event_bus_name = var.event_bus_name
  target_id      = each.key
  arn            = each.value.arn
  role_arn       = each.value.type == "sfn" ? aws_iam_role.events[0].arn : null
  input          = each.value.input
  input_path     = each.value.input_path

  dynamic "input_transformer" {
    for_each = each.value.input_transformer != null ? [each.value.input_transformer] : []

    content {
      input_paths    = input_transformer.value.input_paths
      input_template = input_transformer.value.input_template
    }
  }

  retry_policy {
    maximum_event_age_in_seconds = each.value.retry_policy.maximum_event_age_in_seconds
    maximum_retry_attempts       = each.value.retry_policy.maximum_retry_attempts
  }

  dead_letter_config {
    arn = each.value.dead_letter_arn != null ? each.value.dead_letter_arn : local.default_dead_letter_arn
  }

  dynamic "sqs_target" {
    for_each = each.value.message_group_id != null ? [1] : []

    content {
      message_group_id = each.value.message_group_id
    }
  }

  lifecycle {
    precondition {
      condition     = contains(keys(var.rules), each.value.rule)
      error_message = "Target \"${each.key}\" references rule \"${each.value.rule}\", which is not a key of var.rules."
    }

    precondition {
      condition     = each.value.dead_letter_arn != null || var.create_dead_letter_queue || var.dead_letter_arn != null
      error_message = "Target \"${each.key}\" has no dead-letter queue: set its dead_letter_arn, var.dead_letter_arn, or create_dead_letter_queue = true."
    }
  }
}

resource "aws_lambda_permission" "this" {
  for_each = var.create ? local.lambda_targets : {}

  statement_id = "${try(local.rule_names[each.value.rule], each.value.rule)}-${each.key}"
  action       = "lambda:InvokeFunction"
  # Split a qualified ARN (function:name:alias) into the function ARN and the qualifier.
  function_name = join(":", slice(split(":", each.value.arn), 0, 7))
  qualifier     = length(split(":", each.value.arn)) > 7 ? split(":", each.value.arn)[7] : null
  principal     = "events.amazonaws.com"
  source_arn    = try(aws_cloudwatch_event_rule.this[each.value.rule].arn, null)

  lifecycle {
    precondition {
      condition     = contains(keys(var.rules), each.value.rule)
      error_message = "Target \"${each.key}\" references rule \"${each.value.rule}\", which is not a key of var.rules."
    }

    precondition {
      condition     = length("${try(local.rule_names[each.value.rule], each.value.rule)}-${each.key}") <= 100
      error_message = "Lambda permission statement ID for target \"${each.key}\" exceeds 100 characters: shorten the rule name or target key."
    }
  }
}

# Targets without their own dead_letter_arn share this queue. EventBridge may send to it only on behalf of
# this module's rules.
module "dead_letter_queue" {
  source = "../sqs-queue"

  create                    = local.create_dlq
  name                      = "${var.name}-dlq"
  kms_key_arn               = var.kms_key_arn
  message_retention_seconds = var.dead_letter_queue_message_retention_seconds

  service_senders = !local.create_dlq || length(var.rules) == 0 ? {} : {
    EventBridgeRules = {
      service     = "events.amazonaws.com"
      source_arns = [for r in aws_cloudwatch_event_rule.this : r.arn]
    }
  }

  tags = var.tags
}
