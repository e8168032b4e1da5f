# Offline plan-mode tests: `terraform test` in modules/dynamodb-table (Terraform >= 1.11 for override_during).

mock_provider "aws" {
  source = "../../tests/terraform_mocks/aws"
}

variables {
  name        = "orders"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  hash_key    = { name = "order_id" }
}

run "secure_defaults" {
  command = plan

  assert {
    condition = (
      aws_dynamodb_table.this[0].billing_mode == "PAY_PER_REQUEST" &&
      aws_dynamodb_table.this[0].point_in_time_recovery[0].enabled &&
      aws_dynamodb_table.this[0].server_side_encryption[0].enabled &&
      aws_dynamodb_table.this[0].server_side_encryption[0].kms_key_arn == var.kms_key_arn &&
      aws_dynamodb_table.this[0].deletion_protection_enabled
    )
    error_message = "The table must be on-demand, PITR-protected, encrypted with the given CMK and deletion-protected by default."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].hash_key == "order_id" && aws_dynamodb_table.this[0].range_key == null
    error_message = "Only the hash key is set."
  }

  assert {
    condition     = [for a in aws_dynamodb_table.this[0].attribute : "${a.name}=${a.type}"] == ["order_id=S"]
    error_message = "Only the key attribute is declared, as a string by default."
  }

  assert {
    condition     = length(aws_dynamodb_table.this[0].ttl) == 0 && !aws_dynamodb_table.this[0].stream_enabled
    error_message = "TTL and streams are off unless asked for."
  }

  assert {
    condition     = output.index_arns == {} && output.stream_arn == null
    error_message = "No index and no stream by default."
  }
}

run "keys_ttl_index_and_stream" {
  command = plan

  variables {
    hash_key      = { name = "notification_id" }
    range_key     = { name = "sent_at", type = "N" }
    ttl_attribute = "expires_at"
    global_secondary_indexes = [
      { name = "by-user", hash_key = { name = "user_id" }, range_key = { name = "sent_at", type = "N" } },
      { name = "by-connection", hash_key = { name = "connection_id" }, projection_type = "INCLUDE", non_key_attributes = ["user_id"] },
    ]
    stream_view_type            = "NEW_AND_OLD_IMAGES"
    deletion_protection_enabled = false
  }

  override_resource {
    target          = aws_dynamodb_table.this
    override_during = plan
    values = {
      arn        = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
      stream_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-05-14T09:10:02.112"
    }
  }

  assert {
    condition = toset([for a in aws_dynamodb_table.this[0].attribute : "${a.name}=${a.type}"]) == toset([
      "notification_id=S", "sent_at=N", "user_id=S", "connection_id=S",
    ])
    error_message = "Every table and index key attribute is declared exactly once with its type."
  }

  assert {
    condition     = one(aws_dynamodb_table.this[0].ttl).enabled && one(aws_dynamodb_table.this[0].ttl).attribute_name == "expires_at"
    error_message = "TTL must be enabled on the given attribute."
  }

  assert {
    condition = {
      for g in aws_dynamodb_table.this[0].global_secondary_index : g.name => [g.hash_key, coalesce(g.range_key, "-"), g.projection_type, join(",", coalesce(g.non_key_attributes, []))]
      } == {
      "by-user"       = ["user_id", "sent_at", "ALL", ""]
      "by-connection" = ["connection_id", "-", "INCLUDE", "user_id"]
    }
    error_message = "Indexes must carry their keys and projection."
  }

  assert {
    condition = output.index_arns == {
      "by-user"       = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/index/by-user"
      "by-connection" = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/index/by-connection"
    }
    error_message = "index_arns must map each index to <table ARN>/index/<name>."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].stream_enabled && aws_dynamodb_table.this[0].stream_view_type == "NEW_AND_OLD_IMAGES" && output.stream_arn == "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-05-14T09:10:02.112"
    error_message = "The stream must be on with the given view type, and its ARN output."
  }

  assert {
    condition     = !aws_dynamodb_table.this[0].deletion_protection_enabled
    error_message = "deletion_protection_enabled = false must reach the table."
  }
}

run "conflicting_key_types_are_refused" {
  command = plan

  variables {
    range_key = { name = "created_at", type = "N" }
    global_secondary_indexes = [
      { name = "by-created", hash_key = { name = "created_at", type = "S" } },
    ]
  }

  expect_failures = [aws_dynamodb_table.this]
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create      = false
    kms_key_arn = null
  }

  assert {
    condition = length(aws_dynamodb_table.this) == 0 && alltrue([for v in [
      output.table_name, output.table_arn, output.stream_arn, output.index_arns, output.hash_key, output.kms_key_arn,
    ] : v == null])
    error_message = "With create = false nothing is created and every output is null."
  }
}

run "missing_key_is_refused" {
  command = plan

  variables {
    kms_key_arn = null
  }

  expect_failures = [aws_dynamodb_table.this]
}

# --- Bad inputs: each run feeds one realistic mistake and expects that input's validation to refuse it. ---

run "rejects_short_name" {
  command = plan

  variables {
    name = "ab"
  }

  expect_failures = [var.name]
}

run "rejects_reserved_tag_key" {
  command = plan

  variables {
    tags = { "aws:owner" = "me" }
  }

  expect_failures = [var.tags]
}

run "rejects_alias_arn_as_key" {
  command = plan

  variables {
    kms_key_arn = "alias/orders"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_unknown_hash_key_type" {
  command = plan

  variables {
    hash_key = { name = "order_id", type = "STRING" }
  }

  expect_failures = [var.hash_key]
}

run "rejects_bool_range_key" {
  command = plan

  variables {
    range_key = { name = "flag", type = "BOOL" }
  }

  expect_failures = [var.range_key]
}

run "rejects_ttl_attribute_with_spaces" {
  command = plan

  variables {
    ttl_attribute = "expires at"
  }

  expect_failures = [var.ttl_attribute]
}

run "rejects_include_projection_without_attributes" {
  command = plan

  variables {
    global_secondary_indexes = [
      { name = "by-user", hash_key = { name = "user_id" }, projection_type = "INCLUDE" },
    ]
  }

  expect_failures = [var.global_secondary_indexes]
}

run "rejects_duplicate_index_names" {
  command = plan

  variables {
    global_secondary_indexes = [
      { name = "by-user", hash_key = { name = "user_id" } },
      { name = "by-user", hash_key = { name = "email" } },
    ]
  }

  expect_failures = [var.global_secondary_indexes]
}

run "rejects_unknown_stream_view_type" {
  command = plan

  variables {
    stream_view_type = "FULL"
  }

  expect_failures = [var.stream_view_type]
}
