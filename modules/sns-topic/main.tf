data "aws_caller_identity" "current" {
  count = var.create ? 1 : 0
}

data "aws_partition" "current" {
  count = var.create ? 1 : 0
}

locals {
  account_id = try(data.aws_caller_identity.current[0].account_id, null)
  partition  = try(data.aws_partition.current[0].partition, null)
  topic_name = var.fifo_topic ? "${var.name}.fifo" : var.name
}

resource "aws_sns_topic" "this" {
  count = var.create ? 1 : 0

  name                        = local.topic_name
  display_name                = var.display_name
  kms_master_key_id           = var.kms_key_arn
  fifo_topic                  = var.fifo_topic
  content_based_deduplication = var.fifo_topic ? var.content_based_deduplication : null

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.kms_key_arn != null
      error_message = "kms_key_arn is required: the topic is always encrypted with a customer-managed key."
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  count = var.create ? 1 : 0

  arn    = aws_sns_topic.this[0].arn
  policy = data.aws_iam_policy_document.topic[0].json
}

resource "aws_sns_topic_subscription" "this" {
  for_each = var.create ? var.subscriptions : {}

  topic_arn            = aws_sns_topic.this[0].arn
  protocol             = each.value.protocol
  endpoint             = coalesce(each.value.endpoint, each.key)
  raw_message_delivery = contains(["sqs", "https"], each.value.protocol) ? each.value.raw_message_delivery : null
  filter_policy        = each.value.filter_policy
  filter_policy_scope  = each.value.filter_policy != null ? each.value.filter_policy_scope : null
  redrive_policy       = each.value.redrive_policy

  lifecycle {
    precondition {
      condition     = !(var.fifo_topic && contains(["email", "email-json", "https"], each.value.protocol))
      error_message = "FIFO topics only support sqs and lambda subscriptions; subscription \"${each.key}\" uses ${each.value.protocol}."
    }
  }
}
