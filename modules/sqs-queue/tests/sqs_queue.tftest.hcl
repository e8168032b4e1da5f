mock_provider "aws" {
  override_data {
    target = data.aws_iam_policy_document.this
    values = { json = "{}" }
  }
}

variables {
  name        = "orders-dlq"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
}

run "encrypted_with_the_key_and_fourteen_days_retention" {
  command = plan

  assert {
    condition     = aws_sqs_queue.this[0].kms_master_key_id == var.kms_key_arn
    error_message = "The queue must be encrypted with the given CMK."
  }

  assert {
    condition     = aws_sqs_queue.this[0].message_retention_seconds == 1209600
    error_message = "Default retention must be the SQS maximum (14 days)."
  }
}

run "fifo_queue_gets_the_suffix" {
  command = plan

  variables {
    fifo_queue = true
  }

  assert {
    condition     = aws_sqs_queue.this[0].name == "orders-dlq.fifo"
    error_message = "A FIFO queue name must end in .fifo."
  }
}

run "redrive_policy_is_rendered" {
  command = plan

  variables {
    redrive_policy = { dead_letter_target_arn = "arn:aws:sqs:us-east-1:123456789012:orders-dlq", max_receive_count = 3 }
  }

  assert {
    condition     = jsondecode(aws_sqs_queue.this[0].redrive_policy) == { deadLetterTargetArn = "arn:aws:sqs:us-east-1:123456789012:orders-dlq", maxReceiveCount = 3 }
    error_message = "Redrive policy must name the DLQ and the receive count."
  }
}

run "create_false_builds_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition     = length(aws_sqs_queue.this) == 0 && output.queue_arn == null
    error_message = "create = false must build nothing."
  }
}

run "rejects_unscoped_service_sender" {
  command = plan

  variables {
    service_senders = { rules = { service = "events.amazonaws.com", source_arns = [] } }
  }

  expect_failures = [var.service_senders]
}

run "rejects_bad_retention" {
  command = plan

  variables {
    message_retention_seconds = 30
  }

  expect_failures = [var.message_retention_seconds]
}

run "rejects_bad_kms_key" {
  command = plan

  variables {
    kms_key_arn = "not-an-arn"
  }

  expect_failures = [var.kms_key_arn]
}

run "requires_a_key" {
  command = plan

  variables {
    kms_key_arn = null
  }

  expect_failures = [aws_sqs_queue.this]
}

# --- Bad inputs: each run feeds one realistic mistake and expects that input's validation to refuse it. ---

run "rejects_fifo_suffix_in_name" {
  command = plan

  variables {
    name = "orders-dlq.fifo"
  }

  expect_failures = [var.name]
}

run "rejects_data_key_reuse_below_a_minute" {
  command = plan

  variables {
    kms_data_key_reuse_period_seconds = 30
  }

  expect_failures = [var.kms_data_key_reuse_period_seconds]
}

run "rejects_visibility_timeout_over_twelve_hours" {
  command = plan

  variables {
    visibility_timeout_seconds = 43201
  }

  expect_failures = [var.visibility_timeout_seconds]
}

run "rejects_long_poll_over_twenty_seconds" {
  command = plan

  variables {
    receive_wait_time_seconds = 30
  }

  expect_failures = [var.receive_wait_time_seconds]
}

run "rejects_queue_url_as_redrive_target" {
  command = plan

  variables {
    redrive_policy = { dead_letter_target_arn = "https://sqs.us-east-1.amazonaws.com/123456789012/orders-dlq" }
  }

  expect_failures = [var.redrive_policy]
}

run "rejects_zero_max_receive_count" {
  command = plan

  variables {
    redrive_policy = { dead_letter_target_arn = "arn:aws:sqs:us-east-1:123456789012:orders-dlq", max_receive_count = 0 }
  }

  expect_failures = [var.redrive_policy]
}

run "rejects_overlong_tag_key" {
  command = plan

  variables {
    tags = { (join("", [for i in range(129) : "k"])) = "v" }
  }

  expect_failures = [var.tags]
}
