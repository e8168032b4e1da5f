data "aws_iam_policy_document" "assume_role" {
  count = var.create ? 1 : 0

  statement {
    sid     = "LambdaAssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    # Confused-deputy protection: only Lambda acting for this account may assume the role.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name                 = local.role_name
  path                 = var.role_path
  description          = "Execution role of the ${var.name} Lambda function"
  assume_role_policy   = data.aws_iam_policy_document.assume_role[0].json
  permissions_boundary = var.role_permissions_boundary

  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  count = var.create ? 1 : 0

  statement {
    sid       = "WriteOwnLogGroup"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this[0].arn}:log-stream:*"]
  }

  statement {
    # X-Ray's PutTraceSegments/PutTelemetryRecords do not support resource-level permissions: "*" is required.
    sid       = "XRayWrite"
    effect    = "Allow"
    actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    resources = ["*"]
  }

  statement {
    # kms:Decrypt for the CMK-encrypted environment (via Lambda); kms:GenerateDataKey + kms:Decrypt to send to
    # the CMK-encrypted DLQ (via SQS). Callers add other uses of the key through policy_statements.
    sid       = "UseFunctionKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["lambda.${local.region}.${local.dns_suffix}", "sqs.${local.region}.${local.dns_suffix}"]
    }
  }

  dynamic "statement" {
    for_each = local.has_dead_letter_target ? [1] : []

    content {
      # Lambda delivers failed asynchronous events to the DLQ with the function's execution role.
      sid       = "SendToDeadLetterTarget"
      effect    = "Allow"
      actions   = can(regex("^arn:[^:]+:sns:", local.dead_letter_target_arn)) ? ["sns:Publish"] : ["sqs:SendMessage"]
      resources = [local.dead_letter_target_arn]
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

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "${var.name}-permissions"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.this[0].json
}
