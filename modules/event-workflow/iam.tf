locals {
  # Known at plan time, so the role policy's count never depends on an apply-time value.
  has_role_statements = local.logging_enabled || var.tracing_enabled || var.encrypt_state_machine || length(var.policy_statements) > 0
}

data "aws_iam_policy_document" "state_machine_assume_role" {
  count = var.create ? 1 : 0

  statement {
    sid     = "StepFunctionsAssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    # Only this state machine (and its versions and aliases) in this account may use the role.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.state_machine_arn, "${local.state_machine_arn}:*"]
    }
  }
}

resource "aws_iam_role" "state_machine" {
  count = var.create ? 1 : 0

  name                 = "${var.name}-sfn"
  description          = "Execution role of the ${var.name} state machine"
  assume_role_policy   = data.aws_iam_policy_document.state_machine_assume_role[0].json
  permissions_boundary = var.role_permissions_boundary

  tags = var.tags
}

data "aws_iam_policy_document" "state_machine" {
  count = var.create && local.has_role_statements ? 1 : 0

  dynamic "statement" {
    for_each = local.logging_enabled ? [1] : []

    content {
      # Execution logging goes through CloudWatch Logs vended-log delivery. These actions have no
      # resource-level permissions: AWS requires Resource "*" for them
      # (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy).
      sid    = "ExecutionLogDelivery"
      effect = "Allow"
      actions = [
        "logs:CreateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:DescribeLogGroups",
        "logs:DescribeResourcePolicies",
        "logs:GetLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:UpdateLogDelivery",
      ]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.tracing_enabled ? [1] : []

    content {
      # X-Ray has no resource-level permissions: these actions only accept Resource "*"
      # (https://docs.aws.amazon.com/step-functions/latest/dg/xray-iam.html).
      sid    = "XRayTracing"
      effect = "Allow"
      actions = [
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
      ]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.encrypt_state_machine ? [1] : []

    content {
      # Step Functions encrypts and decrypts this state machine's definition and execution data with the
      # execution role; the encryption context pins the key use to this state machine.
      sid       = "StateMachineEncryption"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [module.kms_key.key_arn]

      condition {
        test     = "StringEquals"
        variable = "kms:EncryptionContext:aws:states:stateMachineArn"
        values   = [local.state_machine_arn]
      }
    }
  }

  dynamic "statement" {
    for_each = var.encrypt_state_machine && local.logging_enabled ? [1] : []

    content {
      # Delivering the encrypted execution history to CloudWatch Logs needs a data key whose encryption
      # context names this account's CloudWatch Logs.
      sid       = "EncryptedLogDelivery"
      effect    = "Allow"
      actions   = ["kms:GenerateDataKey"]
      resources = [module.kms_key.key_arn]

      condition {
        test     = "StringLike"
        variable = "kms:EncryptionContext:SourceArn"
        values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:*"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.policy_statements

    content {
      sid       = statement.value.sid
      effect    = statement.value.effect
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions

        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_iam_role_policy" "state_machine" {
  count = var.create && local.has_role_statements ? 1 : 0

  name   = "${var.name}-sfn-permissions"
  role   = aws_iam_role.state_machine[0].id
  policy = data.aws_iam_policy_document.state_machine[0].json
}
