mock_provider "aws" {
  source = "../../tests/terraform_mocks/aws"
}

variables {
  name    = "test-key"
  aliases = ["test-key", "team/test"]
  service_grants = {
    events = {
      service     = "events.amazonaws.com"
      actions     = ["kms:GenerateDataKey", "kms:Decrypt"]
      source_arns = ["arn:aws:events:us-east-1:123456789012:rule/test"]
    }
  }
}

run "defaults" {
  command = plan

  assert {
    condition     = aws_kms_key.this[0].enable_key_rotation && aws_kms_key.this[0].deletion_window_in_days == 30
    error_message = "Rotation must be on and the deletion window default to 30 days."
  }

  assert {
    condition     = toset([for a in aws_kms_alias.this : a.name]) == toset(["alias/test-key", "alias/team/test"])
    error_message = "Aliases must get the alias/ prefix."
  }
}

run "create_false" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition     = output.key_arn == null && output.alias_arns == null && length(aws_kms_alias.this) == 0
    error_message = "create = false must create nothing."
  }
}

run "rejects_short_deletion_window" {
  command = plan
  variables {
    deletion_window_in_days = 6
  }
  expect_failures = [var.deletion_window_in_days]
}

run "rejects_alias_prefix" {
  command = plan
  variables {
    aliases = ["alias/test"]
  }
  expect_failures = [var.aliases]
}

run "rejects_wildcard_action" {
  command = plan
  variables {
    service_grants = {
      events = { service = "events.amazonaws.com", actions = ["kms:GenerateDataKey*"] }
    }
  }
  expect_failures = [var.service_grants]
}

run "rejects_bad_log_group_arn" {
  command = plan
  variables {
    cloudwatch_logs_log_group_arns = ["arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x:*"]
  }
  expect_failures = [var.cloudwatch_logs_log_group_arns]
}

# --- Bad inputs: each run feeds one realistic mistake and expects that input's validation to refuse it. ---

run "rejects_alias_as_name" {
  command = plan

  variables {
    name = "alias/test-key"
  }

  expect_failures = [var.name]
}

run "rejects_overlong_description" {
  command = plan

  variables {
    description = "${join("", [for i in range(1024) : "Key for!"])}x" # 8193 characters
  }

  expect_failures = [var.description]
}

run "rejects_account_id_as_administrator" {
  command = plan

  variables {
    key_administrator_arns = ["123456789012"]
  }

  expect_failures = [var.key_administrator_arns]
}

run "rejects_group_as_key_user" {
  command = plan

  variables {
    key_user_arns = ["arn:aws:iam::123456789012:group/ops"]
  }

  expect_failures = [var.key_user_arns]
}

run "rejects_reserved_aws_tag_prefix" {
  command = plan

  variables {
    tags = { "AWS:Owner" = "security" }
  }

  expect_failures = [var.tags]
}
