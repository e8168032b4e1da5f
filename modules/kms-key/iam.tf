locals {
  # Key-management actions, listed explicitly instead of the AWS console default "kms:*".
  # kms:PutKeyPolicy must stay on the account root statement, or KMS rejects the policy (lockout check).
  key_admin_actions = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
  ]

  key_usage_actions = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
  ]

  # Grants let AWS services (Lambda environment encryption, for instance) use the key on a caller's behalf.
  key_grant_actions = [
    "kms:CreateGrant",
    "kms:ListGrants",
    "kms:RetireGrant",
    "kms:RevokeGrant",
  ]

  cloudwatch_logs_actions = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
  ]
}

data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_111: this is a KMS key policy: its Resource can only be "*" (= this key), and every principal is named (account root, listed ARNs, or scoped service principals).
  # checkov:skip=CKV_AWS_356: this is a KMS key policy: KMS accepts no Resource but "*", which means the key the policy is attached to.
  count = var.create ? 1 : 0

  # In a key policy "Resource" can only be "*", which means "this key"; no other value is accepted by KMS.

  # Delegates access control to the account's IAM policies (the AWS default key-policy behaviour),
  # with the action list spelled out instead of "kms:*".
  statement {
    sid       = "AccountRootAdministrationAndUsage"
    effect    = "Allow"
    actions   = distinct(concat(local.key_admin_actions, local.key_usage_actions, local.key_grant_actions))
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  dynamic "statement" {
    for_each = length(var.key_administrator_arns) > 0 ? [1] : []

    content {
      sid       = "KeyAdministrators"
      effect    = "Allow"
      actions   = local.key_admin_actions
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = var.key_administrator_arns
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.key_user_arns) > 0 ? [1] : []

    content {
      sid       = "KeyUsers"
      effect    = "Allow"
      actions   = local.key_usage_actions
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = var.key_user_arns
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.key_user_arns) > 0 ? [1] : []

    content {
      sid       = "KeyUsersGrantsForAwsResources"
      effect    = "Allow"
      actions   = local.key_grant_actions
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = var.key_user_arns
      }

      condition {
        test     = "Bool"
        variable = "kms:GrantIsForAWSResource"
        values   = ["true"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.cloudwatch_logs_log_group_arns) > 0 ? [1] : []

    content {
      sid       = "CloudWatchLogsLogGroups"
      effect    = "Allow"
      actions   = local.cloudwatch_logs_actions
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = ["logs.${local.region}.${local.dns_suffix}"]
      }

      condition {
        test     = "ArnLike"
        variable = "kms:EncryptionContext:aws:logs:arn"
        values   = var.cloudwatch_logs_log_group_arns
      }
    }
  }

  dynamic "statement" {
    for_each = var.service_grants

    content {
      # Sids may only contain [0-9A-Za-z].
      sid       = "Service${replace(statement.key, "/[^0-9A-Za-z]/", "")}"
      effect    = "Allow"
      actions   = statement.value.actions
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = [statement.value.service]
      }

      dynamic "condition" {
        for_each = length(statement.value.source_arns) > 0 ? [1] : []

        content {
          test     = "ArnLike"
          variable = "aws:SourceArn"
          values   = statement.value.source_arns
        }
      }

      dynamic "condition" {
        for_each = statement.value.source_accounts == null ? [[local.account_id]] : (length(statement.value.source_accounts) > 0 ? [statement.value.source_accounts] : [])

        content {
          test     = "StringEquals"
          variable = "aws:SourceAccount"
          values   = condition.value
        }
      }

      dynamic "condition" {
        for_each = length(statement.value.via_services) > 0 ? [1] : []

        content {
          test     = "StringEquals"
          variable = "kms:ViaService"
          values   = statement.value.via_services
        }
      }

      dynamic "condition" {
        for_each = statement.value.encryption_context

        content {
          test     = "StringEquals"
          variable = "kms:EncryptionContext:${condition.key}"
          values   = condition.value
        }
      }
    }
  }
}
