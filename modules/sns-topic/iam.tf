locals {
  # Topic-management actions the owning account may perform. sns:Publish is deliberately absent:
  # publishing is granted only to the named publishers below.
  owner_actions = [
    "sns:AddPermission",
    "sns:DeleteTopic",
    "sns:GetTopicAttributes",
    "sns:ListSubscriptionsByTopic",
    "sns:RemovePermission",
    "sns:SetTopicAttributes",
    "sns:Subscribe",
  ]

  # Every topic action, listed explicitly (no "sns:*"), for the TLS-only deny.
  all_topic_actions = concat(local.owner_actions, ["sns:Publish"])
}

data "aws_iam_policy_document" "topic" {
  count = var.create ? 1 : 0

  statement {
    sid       = "OwnerAccountManagement"
    effect    = "Allow"
    actions   = local.owner_actions
    resources = [aws_sns_topic.this[0].arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  dynamic "statement" {
    for_each = length(var.publisher_iam_arns) > 0 ? [1] : []

    content {
      sid       = "AllowIamPublishers"
      effect    = "Allow"
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.this[0].arn]

      principals {
        type        = "AWS"
        identifiers = var.publisher_iam_arns
      }
    }
  }

  dynamic "statement" {
    for_each = var.publisher_services

    content {
      sid       = "AllowService${replace(statement.key, "/[^0-9A-Za-z]/", "")}"
      effect    = "Allow"
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.this[0].arn]

      principals {
        type        = "Service"
        identifiers = [statement.value.service]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }

      dynamic "condition" {
        for_each = length(statement.value.source_arns) > 0 ? [1] : []

        content {
          test     = "ArnLike"
          variable = "aws:SourceArn"
          values   = statement.value.source_arns
        }
      }
    }
  }

  dynamic "statement" {
    for_each = var.deny_unlisted_publishers && length(var.publisher_iam_arns) > 0 ? [1] : []

    content {
      # Same-account IAM policies could otherwise grant sns:Publish on their own. Service principals carry
      # aws:PrincipalIsAWSService = true and are therefore not matched by this deny.
      sid       = "DenyUnlistedIamPublishers"
      effect    = "Deny"
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.this[0].arn]

      principals {
        type        = "AWS"
        identifiers = ["*"]
      }

      condition {
        test     = "ArnNotEquals"
        variable = "aws:PrincipalArn"
        values   = var.publisher_iam_arns
      }

      condition {
        test     = "BoolIfExists"
        variable = "aws:PrincipalIsAWSService"
        values   = ["false"]
      }
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = local.all_topic_actions
    resources = [aws_sns_topic.this[0].arn]

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
