locals {
  queue_name = var.fifo_queue ? "${var.name}.fifo" : var.name
}

resource "aws_sqs_queue" "this" {
  count = var.create ? 1 : 0

  name                              = local.queue_name
  fifo_queue                        = var.fifo_queue ? true : null
  message_retention_seconds         = var.message_retention_seconds
  visibility_timeout_seconds        = var.visibility_timeout_seconds
  receive_wait_time_seconds         = var.receive_wait_time_seconds
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_data_key_reuse_period_seconds

  redrive_policy = var.redrive_policy == null ? null : jsonencode({
    deadLetterTargetArn = var.redrive_policy.dead_letter_target_arn
    maxReceiveCount     = var.redrive_policy.max_receive_count
  })

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.kms_key_arn != null
      error_message = "kms_key_arn is required: queues are encrypted with a customer-managed key."
    }
  }
}

data "aws_iam_policy_document" "this" {
  count = var.create ? 1 : 0

  dynamic "statement" {
    for_each = var.service_senders

    content {
      sid       = "Allow${statement.key}"
      effect    = "Allow"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.this[0].arn]

      principals {
        type        = "Service"
        identifiers = [statement.value.service]
      }

      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = statement.value.source_arns
      }
    }
  }

  statement {
    sid    = "DenyInsecureTransport"
    effect = "Deny"
    actions = [
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:PurgeQueue",
      "sqs:ReceiveMessage",
      "sqs:SendMessage",
      "sqs:SetQueueAttributes",
    ]
    resources = [aws_sqs_queue.this[0].arn]

    # Everyone, including this account: a request without TLS is refused whoever makes it.
    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "this" {
  count = var.create ? 1 : 0

  queue_url = aws_sqs_queue.this[0].id
  policy    = data.aws_iam_policy_document.this[0].json
}
