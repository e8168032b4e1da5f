locals {
  # KMS keys of the stream's table: the module's CMK for a created table, the given key for an existing one.
  stream_kms_key_arns = compact([local.create_table ? local.key_arn : try(var.existing_stream.kms_key_arn, null)])
}

data "aws_iam_policy_document" "pipe_assume_role" {
  count = var.create ? 1 : 0

  statement {
    sid     = "PipesAssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["pipes.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    # Only this pipe may use the role (its ARN is built from the name: the pipe itself needs the role).
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.pipe_arn]
    }
  }
}

resource "aws_iam_role" "pipe" {
  count = var.create ? 1 : 0

  name                 = coalesce(var.role_name, "${var.name}-pipe")
  description          = "Execution role of the ${local.pipe_name} pipe: reads one table stream, publishes to one topic"
  assume_role_policy   = data.aws_iam_policy_document.pipe_assume_role[0].json
  permissions_boundary = var.role_permissions_boundary

  tags = var.tags
}

data "aws_iam_policy_document" "pipe" {
  count = var.create ? 1 : 0

  statement {
    sid       = "ReadTableStream"
    effect    = "Allow"
    actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
    resources = [local.stream_arn]
  }

  statement {
    # Listed by AWS among the permissions a DynamoDB-stream pipe needs. ListStreams has no resource-level
    # permissions (AWS requires "*"); it only lists stream ARNs and table names, no data.
    sid       = "ListStreams"
    effect    = "Allow"
    actions   = ["dynamodb:ListStreams"]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = length(local.stream_kms_key_arns) > 0 ? [1] : []

    content {
      # Stream records of a CMK-encrypted table are decrypted with the table's key, through DynamoDB only.
      sid       = "DecryptTableStream"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = local.stream_kms_key_arns

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["dynamodb.${local.region}.${local.dns_suffix}"]
      }
    }
  }

  statement {
    sid       = "PublishAlerts"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [module.sns_topic.topic_arn]
  }

  statement {
    # Publishing to the CMK-encrypted topic needs the key, but only through SNS (the gap public modules leave:
    # without it every publish fails with KMS.AccessDeniedException and records end up in the DLQ).
    sid       = "UseKeyForAlertTopic"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sns.${local.region}.${local.dns_suffix}"]
    }
  }

  statement {
    sid       = "DeadLetterFailedRecords"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [module.dead_letter_queue.queue_arn]
  }

  statement {
    sid       = "UseKeyForDeadLetterQueue"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sqs.${local.region}.${local.dns_suffix}"]
    }
  }

  dynamic "statement" {
    for_each = var.encrypt_pipe_data ? [1] : []

    content {
      sid       = "DescribePipeKey"
      effect    = "Allow"
      actions   = ["kms:DescribeKey"]
      resources = [local.key_arn]
    }
  }

  dynamic "statement" {
    for_each = var.encrypt_pipe_data ? [1] : []

    content {
      # The pipe's filter and template are encrypted with the CMK, bound to the pipe's ARN.
      sid       = "UseKeyForPipeData"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [local.key_arn]

      condition {
        test     = "StringEquals"
        variable = "kms:EncryptionContext:aws:pipes:arn"
        values   = [local.pipe_arn]
      }
    }
  }
}

resource "aws_iam_role_policy" "pipe" {
  count = var.create ? 1 : 0

  name   = "pipe"
  role   = aws_iam_role.pipe[0].id
  policy = data.aws_iam_policy_document.pipe[0].json
}
