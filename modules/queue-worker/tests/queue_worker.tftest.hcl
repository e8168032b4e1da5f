# Offline plan-mode tests: `terraform test` in modules/queue-worker (Terraform >= 1.11 for override_during).

mock_provider "aws" {
  source = "../../tests/terraform_mocks/aws"
}

variables {
  queue_name  = "notify-email"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  function = {
    name    = "notify-email-worker"
    handler = "notification_handlers.service.email_worker.handler"
    # The committed dist/lambda.zip may not be built yet; an S3 package keeps the tests self-contained.
    package = { s3_bucket = "example-artifacts", s3_key = "lambda.zip" }
    policy_statements = [
      { sid = "SendEmail", actions = ["ses:SendEmail"], resources = ["arn:aws:ses:us-east-1:123456789012:identity/example.com"] },
    ]
  }
}

run "queue_dlq_function_and_mapping" {
  command = plan

  override_resource {
    target          = module.queue.aws_sqs_queue.this
    override_during = plan
    values          = { arn = "arn:aws:sqs:us-east-1:123456789012:notify-email" }
  }

  override_resource {
    target          = module.dlq.aws_sqs_queue.this
    override_during = plan
    values          = { arn = "arn:aws:sqs:us-east-1:123456789012:notify-email-dlq" }
  }

  override_resource {
    target          = module.function.aws_lambda_function.this
    override_during = plan
    values          = { arn = "arn:aws:lambda:us-east-1:123456789012:function:notify-email-worker" }
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.this[0].event_source_arn == "arn:aws:sqs:us-east-1:123456789012:notify-email" &&
      aws_lambda_event_source_mapping.this[0].function_name == "arn:aws:lambda:us-east-1:123456789012:function:notify-email-worker" &&
      aws_lambda_event_source_mapping.this[0].function_response_types == toset(["ReportBatchItemFailures"])
    )
    error_message = "The function consumes its queue with partial batch responses (only failed records are retried)."
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.this[0].batch_size == 10 &&
      aws_lambda_event_source_mapping.this[0].maximum_batching_window_in_seconds == 0 &&
      aws_lambda_event_source_mapping.this[0].scaling_config[0].maximum_concurrency == 5 &&
      output.event_source_mapping.batch_size == 10
    )
    error_message = "Default tuning: 10 records, no window, at most 5 concurrent invocations."
  }

  assert {
    condition     = output.visibility_timeout_seconds == 360 && output.dlq_name == "notify-email-dlq" && output.queue_name == "notify-email"
    error_message = "Visibility timeout 6 x 60 s + 0 s; the DLQ is <queue_name>-dlq."
  }

  assert {
    condition = { for s in output.policy_statements : s.sid => [join(",", sort(s.actions)), join(",", s.resources)] } == {
      ReceiveQueue = ["sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:123456789012:notify-email"]
      SendEmail    = ["ses:SendEmail", "arn:aws:ses:us-east-1:123456789012:identity/example.com"]
    }
    error_message = "The role consumes exactly its own queue, plus the caller's statements."
  }
}

run "tuning_reaches_mapping_queue_and_function" {
  command = plan

  variables {
    tuning = {
      batch_size                         = 100
      maximum_batching_window_in_seconds = 5
      maximum_concurrency                = 50
      max_receive_count                  = 3
      timeout                            = 30
      memory_size                        = 512
    }
  }

  override_resource {
    target          = module.dlq.aws_sqs_queue.this
    override_during = plan
    values          = { arn = "arn:aws:sqs:us-east-1:123456789012:notify-email-dlq" }
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.this[0].batch_size == 100 &&
      aws_lambda_event_source_mapping.this[0].maximum_batching_window_in_seconds == 5 &&
      aws_lambda_event_source_mapping.this[0].scaling_config[0].maximum_concurrency == 50 &&
      output.visibility_timeout_seconds == 185
    )
    error_message = "Tuning must reach the mapping and the visibility timeout (6 x 30 + 5)."
  }
}

run "create_false_builds_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition = (
      length(aws_lambda_event_source_mapping.this) == 0 && output.queue_arn == null && output.dlq_arn == null &&
      output.function_arn == null && output.event_source_mapping == null && output.policy_statements == null
    )
    error_message = "create = false must build nothing."
  }
}

# --- Bad inputs: each run feeds one realistic mistake and expects that input's validation to refuse it. ---

run "rejects_large_batch_without_window" {
  command = plan

  variables {
    tuning = { batch_size = 100 }
  }

  expect_failures = [var.tuning]
}

run "rejects_concurrency_of_one" {
  command = plan

  variables {
    tuning = { maximum_concurrency = 1 }
  }

  expect_failures = [var.tuning]
}

run "rejects_zero_receive_count" {
  command = plan

  variables {
    tuning = { max_receive_count = 0 }
  }

  expect_failures = [var.tuning]
}

run "rejects_timeout_over_lambda_limit" {
  command = plan

  variables {
    tuning = { timeout = 901 }
  }

  expect_failures = [var.tuning]
}

run "rejects_queue_name_with_fifo_suffix" {
  command = plan

  variables {
    queue_name = "notify-email.fifo"
  }

  expect_failures = [var.queue_name]
}
