# Offline plan-mode tests: `terraform test` in modules/dynamodb-stream-alerts (Terraform >= 1.11 for override_during).

mock_provider "aws" {
  source = "../../tests/terraform_mocks/aws"
}

variables {
  name = "payments"
  subscriptions = {
    "payments-team@example.com" = {}
  }
}

run "default_plan" {
  command = plan

  override_resource {
    target          = module.kms_key.aws_kms_key.this
    override_during = plan
    values = {
      arn    = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
      key_id = "11111111-2222-3333-4444-555555555555"
    }
  }

  override_resource {
    target          = aws_dynamodb_table.this
    override_during = plan
    values = {
      arn        = "arn:aws:dynamodb:us-east-1:123456789012:table/payments"
      stream_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/payments/stream/2024-05-14T09:10:02.112"
    }
  }

  override_resource {
    target          = module.dead_letter_queue.aws_sqs_queue.this
    override_during = plan
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:payments-dlq"
    }
  }

  override_resource {
    target          = aws_iam_role.pipe
    override_during = plan
    values = {
      arn = "arn:aws:iam::123456789012:role/payments-pipe"
    }
  }

  override_resource {
    target          = module.sns_topic.aws_sns_topic.this
    override_during = plan
    values = {
      arn = "arn:aws:sns:us-east-1:123456789012:payments"
    }
  }

  assert {
    condition = [for p in output.pipe_filter_patterns : jsondecode(p)] == [{
      eventName = ["INSERT", "MODIFY"]
      dynamodb  = { NewImage = { status = { S = ["Not Authorised"] } } }
    }]
    error_message = "The default filter must pass inserted or modified items whose status is \"Not Authorised\" (DynamoDB JSON)."
  }

  assert {
    condition     = jsonencode([for f in aws_pipes_pipe.this[0].source_parameters[0].filter_criteria[0].filter : f.pattern]) == jsonencode(output.pipe_filter_patterns)
    error_message = "The pipe must be configured with the filter patterns in effect."
  }

  assert {
    condition = alltrue([for line in [
      "Payment ID: <$.dynamodb.NewImage.paymentId.S>",
      "Amount: <$.dynamodb.NewImage.amount.N>",
      "Status: <$.dynamodb.NewImage.status.S>",
      "<$.dynamodb.ApproximateCreationDateTime>",
    ] : strcontains(aws_pipes_pipe.this[0].target_parameters[0].input_template, line)])
    error_message = "The default template must show the payment ID, amount, status and time."
  }

  assert {
    condition     = aws_pipes_pipe.this[0].source == output.stream_arn && output.stream_arn == "arn:aws:dynamodb:us-east-1:123456789012:table/payments/stream/2024-05-14T09:10:02.112"
    error_message = "The pipe's source must be the created table's stream."
  }

  assert {
    condition     = aws_pipes_pipe.this[0].target == "arn:aws:sns:us-east-1:123456789012:payments" && aws_pipes_pipe.this[0].kms_key_identifier == output.kms_key_arn
    error_message = "The pipe must target the alert topic and encrypt its data with the CMK."
  }

  assert {
    condition = (
      aws_pipes_pipe.this[0].source_parameters[0].dynamodb_stream_parameters[0].starting_position == "LATEST" &&
      aws_pipes_pipe.this[0].source_parameters[0].dynamodb_stream_parameters[0].batch_size == 10 &&
      aws_pipes_pipe.this[0].source_parameters[0].dynamodb_stream_parameters[0].maximum_retry_attempts == 10 &&
      aws_pipes_pipe.this[0].source_parameters[0].dynamodb_stream_parameters[0].maximum_record_age_in_seconds == 86400 &&
      aws_pipes_pipe.this[0].source_parameters[0].dynamodb_stream_parameters[0].on_partial_batch_item_failure == "AUTOMATIC_BISECT" &&
      aws_pipes_pipe.this[0].source_parameters[0].dynamodb_stream_parameters[0].dead_letter_config[0].arn == "arn:aws:sqs:us-east-1:123456789012:payments-dlq"
    )
    error_message = "Stream source parameters must use the validated defaults and dead-letter to the module's DLQ."
  }

  assert {
    condition = (
      aws_dynamodb_table.this[0].billing_mode == "PAY_PER_REQUEST" &&
      aws_dynamodb_table.this[0].hash_key == "paymentId" &&
      aws_dynamodb_table.this[0].stream_enabled &&
      aws_dynamodb_table.this[0].stream_view_type == "NEW_IMAGE" &&
      aws_dynamodb_table.this[0].point_in_time_recovery[0].enabled &&
      aws_dynamodb_table.this[0].server_side_encryption[0].enabled &&
      aws_dynamodb_table.this[0].server_side_encryption[0].kms_key_arn == output.kms_key_arn &&
      aws_dynamodb_table.this[0].deletion_protection_enabled
    )
    error_message = "The table must be on-demand, streamed, PITR-protected, CMK-encrypted and deletion-protected by default."
  }

  assert {
    condition     = output.sns_topic_kms_master_key_id == output.kms_key_arn
    error_message = "The topic must be encrypted with the module's CMK (the DLQ module asserts its own encryption)."
  }

  assert {
    condition     = aws_iam_role.pipe[0].name == "payments-pipe"
    error_message = "The role must be named <name>-pipe."
  }
}

# The role policy document, checked statement by statement (the real provider renders it here).
run "role_policy_statements" {
  command = plan

  override_resource {
    target          = module.kms_key.aws_kms_key.this
    override_during = plan
    values = {
      arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    }
  }

  override_resource {
    target          = aws_dynamodb_table.this
    override_during = plan
    values = {
      stream_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/payments/stream/2024-05-14T09:10:02.112"
    }
  }

  override_resource {
    target          = module.dead_letter_queue.aws_sqs_queue.this
    override_during = plan
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:payments-dlq"
    }
  }

  override_resource {
    target          = module.sns_topic.aws_sns_topic.this
    override_during = plan
    values = {
      arn = "arn:aws:sns:us-east-1:123456789012:payments"
    }
  }

  assert {
    condition = jsonencode({ for s in data.aws_iam_policy_document.pipe[0].statement : s.sid => sort(tolist(s.actions)) }) == jsonencode({
      ReadTableStream          = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
      ListStreams              = ["dynamodb:ListStreams"]
      DecryptTableStream       = ["kms:Decrypt"]
      PublishAlerts            = ["sns:Publish"]
      UseKeyForAlertTopic      = ["kms:Decrypt", "kms:GenerateDataKey"]
      DeadLetterFailedRecords  = ["sqs:SendMessage"]
      UseKeyForDeadLetterQueue = ["kms:Decrypt", "kms:GenerateDataKey"]
      DescribePipeKey          = ["kms:DescribeKey"]
      UseKeyForPipeData        = ["kms:Decrypt", "kms:GenerateDataKey"]
    })
    error_message = "The pipe role must hold exactly the stream, topic, DLQ and KMS statements."
  }

  assert {
    condition = jsonencode({ for s in data.aws_iam_policy_document.pipe[0].statement : s.sid => tolist(s.resources) }) == jsonencode({
      ReadTableStream          = ["arn:aws:dynamodb:us-east-1:123456789012:table/payments/stream/2024-05-14T09:10:02.112"]
      ListStreams              = ["*"]
      DecryptTableStream       = ["arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"]
      PublishAlerts            = ["arn:aws:sns:us-east-1:123456789012:payments"]
      UseKeyForAlertTopic      = ["arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"]
      DeadLetterFailedRecords  = ["arn:aws:sqs:us-east-1:123456789012:payments-dlq"]
      UseKeyForDeadLetterQueue = ["arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"]
      DescribePipeKey          = ["arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"]
      UseKeyForPipeData        = ["arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"]
    })
    error_message = "Every statement but ListStreams must name its resource."
  }

  assert {
    condition = { for s in data.aws_iam_policy_document.pipe[0].statement : s.sid => [for c in s.condition : "${c.test} ${c.variable}=${join(",", c.values)}"] if length(s.condition) > 0 } == {
      DecryptTableStream       = ["StringEquals kms:ViaService=dynamodb.us-east-1.amazonaws.com"]
      UseKeyForAlertTopic      = ["StringEquals kms:ViaService=sns.us-east-1.amazonaws.com"]
      UseKeyForDeadLetterQueue = ["StringEquals kms:ViaService=sqs.us-east-1.amazonaws.com"]
      UseKeyForPipeData        = ["StringEquals kms:EncryptionContext:aws:pipes:arn=arn:aws:pipes:us-east-1:123456789012:pipe/payments"]
    }
    error_message = "KMS use must be limited to DynamoDB, SNS, SQS and this pipe's encryption context."
  }

  assert {
    condition = jsonencode(sort([for c in data.aws_iam_policy_document.pipe_assume_role[0].statement[0].condition : "${c.test} ${c.variable}=${join(",", c.values)}"])) == jsonencode([
      "ArnEquals aws:SourceArn=arn:aws:pipes:us-east-1:123456789012:pipe/payments",
      "StringEquals aws:SourceAccount=123456789012",
    ])
    error_message = "Only this pipe in this account may assume the role."
  }
}

run "existing_stream_without_table" {
  command = plan

  variables {
    table = null
    existing_stream = {
      arn         = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-05-14T09:10:02.112"
      kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/99999999-2222-3333-4444-555555555555"
    }
    filter_patterns = [
      "{\"dynamodb\":{\"NewImage\":{\"state\":{\"S\":[\"FAILED\"]}}}}",
      "{\"eventName\":[\"REMOVE\"]}",
    ]
    input_template = "Order <$.dynamodb.Keys.orderId.S> needs attention"
  }

  assert {
    condition     = output.table_name == null && output.table_arn == null && length(aws_dynamodb_table.this) == 0
    error_message = "With existing_stream no table is created."
  }

  assert {
    condition     = aws_pipes_pipe.this[0].source == "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-05-14T09:10:02.112"
    error_message = "The pipe must read the given stream."
  }

  assert {
    condition     = length(aws_pipes_pipe.this[0].source_parameters[0].filter_criteria[0].filter) == 2 && output.pipe_input_template == "Order <$.dynamodb.Keys.orderId.S> needs attention"
    error_message = "Custom filters and template must be used as given."
  }

  assert {
    condition     = jsonencode([for s in data.aws_iam_policy_document.pipe[0].statement : tolist(s.resources) if s.sid == "DecryptTableStream"]) == jsonencode([["arn:aws:kms:us-east-1:123456789012:key/99999999-2222-3333-4444-555555555555"]])
    error_message = "The role must be able to decrypt the existing table's stream with its key."
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition = alltrue([for v in [
      output.table_name, output.table_arn, output.stream_arn, output.pipe_arn, output.pipe_name, output.pipe_role_arn,
      output.sns_topic_arn, output.subscription_arns, output.dead_letter_queue_arn, output.dead_letter_queue_url,
      output.kms_key_arn, output.pipe_filter_patterns, output.pipe_input_template,
    ] : v == null])
    error_message = "With create = false every output must be null."
  }
}

run "rejects_table_and_stream_together" {
  command = plan

  variables {
    existing_stream = {
      arn = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-05-14T09:10:02.112"
    }
  }

  expect_failures = [aws_pipes_pipe.this]
}

run "rejects_neither_table_nor_stream" {
  command = plan

  variables {
    table = null
  }

  expect_failures = [aws_pipes_pipe.this]
}

run "rejects_bad_stream_arn" {
  command = plan

  variables {
    table           = null
    existing_stream = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/orders" }
  }

  expect_failures = [var.existing_stream]
}

run "rejects_six_filters" {
  command = plan

  variables {
    filter_patterns = [for i in range(6) : "{\"eventName\":[\"INSERT\"]}"]
  }

  expect_failures = [var.filter_patterns]
}

run "rejects_filter_that_is_not_json" {
  command = plan

  variables {
    filter_patterns = ["{\"eventName\": ["]
  }

  expect_failures = [var.filter_patterns]
}

run "rejects_bad_starting_position" {
  command = plan

  variables {
    source_parameters = { starting_position = "AT_TIMESTAMP" }
  }

  expect_failures = [var.source_parameters]
}

run "rejects_batch_size_over_the_sns_limit" {
  command = plan

  variables {
    source_parameters = { batch_size = 11 }
  }

  expect_failures = [var.source_parameters]
}

run "rejects_record_age_below_60" {
  command = plan

  variables {
    source_parameters = { maximum_record_age_in_seconds = 30 }
  }

  expect_failures = [var.source_parameters]
}

run "rejects_retry_attempts_below_minus_one" {
  command = plan

  variables {
    source_parameters = { maximum_retry_attempts = -2 }
  }

  expect_failures = [var.source_parameters]
}

run "rejects_old_image_stream" {
  command = plan

  variables {
    table = { stream_view_type = "KEYS_ONLY" }
  }

  expect_failures = [var.table]
}

run "rejects_bad_alert_attribute" {
  command = plan

  variables {
    alert_attribute = "status code"
  }

  expect_failures = [var.alert_attribute]
}

run "rejects_bad_event_name" {
  command = plan

  variables {
    alert_event_names = ["UPSERT"]
  }

  expect_failures = [var.alert_event_names]
}

run "rejects_empty_input_template" {
  command = plan

  variables {
    input_template = ""
  }

  expect_failures = [var.input_template]
}

run "rejects_bad_name" {
  command = plan

  variables {
    name = "payment alerts!"
  }

  expect_failures = [var.name]
}

# --- Bad inputs: each run feeds one realistic mistake and expects that input's validation to refuse it. ---

run "rejects_empty_alert_value" {
  command = plan

  variables {
    alert_values = [""]
  }

  expect_failures = [var.alert_values]
}

run "rejects_markup_in_alert_title" {
  command = plan

  variables {
    alert_message = { title = "<b>Payment not authorised</b>" }
  }

  expect_failures = [var.alert_message]
}

run "rejects_json_path_as_id_attribute" {
  command = plan

  variables {
    alert_message = { id_attribute = "dynamodb.NewImage.paymentId" }
  }

  expect_failures = [var.alert_message]
}

run "rejects_empty_alert_title" {
  command = plan

  variables {
    alert_message = { title = "" }
  }

  expect_failures = [var.alert_message]
}

run "rejects_pipe_name_with_spaces" {
  command = plan

  variables {
    pipe_name = "payments alerts"
  }

  expect_failures = [var.pipe_name]
}

run "rejects_overlong_pipe_description" {
  command = plan

  variables {
    pipe_description = join("", [for i in range(513) : "x"])
  }

  expect_failures = [var.pipe_description]
}

run "rejects_lowercase_pipe_state" {
  command = plan

  variables {
    pipe_desired_state = "running"
  }

  expect_failures = [var.pipe_desired_state]
}

run "rejects_role_name_with_slash" {
  command = plan

  variables {
    role_name = "pipes/payments"
  }

  expect_failures = [var.role_name]
}

run "rejects_role_arn_as_permissions_boundary" {
  command = plan

  variables {
    role_permissions_boundary = "arn:aws:iam::123456789012:role/boundary"
  }

  expect_failures = [var.role_permissions_boundary]
}

run "rejects_dead_letter_retention_over_fourteen_days" {
  command = plan

  variables {
    dead_letter_queue_message_retention_seconds = 1209601
  }

  expect_failures = [var.dead_letter_queue_message_retention_seconds]
}

run "rejects_sqs_subscription" {
  command = plan

  variables {
    subscriptions = { "arn:aws:sqs:us-east-1:123456789012:payments" = { protocol = "sqs" } }
  }

  expect_failures = [var.subscriptions]
}

# Values the building blocks refuse (a bad alias, deletion window, tag, email endpoint, topic display name) are proven refused through this
# module by tests/unit/test_pattern_passthrough.py: `expect_failures` cannot name a child module's variable
# (hashicorp/terraform#34951).
