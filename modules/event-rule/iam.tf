data "aws_iam_policy_document" "events_assume_role" {
  count = local.create_role ? 1 : 0

  statement {
    sid     = "EventBridgeAssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    # Only the rules that actually have Step Functions targets may use the role.
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = distinct(compact([for t in values(local.sfn_targets) : try(aws_cloudwatch_event_rule.this[t.rule].arn, "")]))
    }
  }
}

resource "aws_iam_role" "events" {
  count = local.create_role ? 1 : 0

  name                 = "${var.name}-events"
  description          = "Lets EventBridge rules of ${var.name} start their Step Functions targets"
  assume_role_policy   = data.aws_iam_policy_document.events_assume_role[0].json
  permissions_boundary = var.role_permissions_boundary

  tags = var.tags
}

data "aws_iam_policy_document" "events" {
  count = local.create_role ? 1 : 0

  statement {
    sid       = "StartTargetStateMachines"
    effect    = "Allow"
    actions   = ["states:StartExecution"]
    resources = distinct([for t in values(local.sfn_targets) : t.arn])
  }
}

resource "aws_iam_role_policy" "events" {
  count = local.create_role ? 1 : 0

  name   = "${var.name}-start-executions"
  role   = aws_iam_role.events[0].id
  policy = data.aws_iam_policy_document.events[0].json
}
