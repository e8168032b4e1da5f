# One queue worker: a work queue with its DLQ, the function that consumes it through an event source mapping
# with partial batch responses, and the queue settings that rule requires.

locals {
  # AWS guidance for an SQS event source: visibility timeout >= 6 x function timeout + batching window, so a
  # batch that is retried inside the function is never handed to a second invocation meanwhile.
  visibility_timeout_seconds = 6 * var.tuning.timeout + var.tuning.maximum_batching_window_in_seconds

  # What the event source mapping does with the function's role.
  policy_statements = concat(
    [
      {
        sid        = "ReceiveQueue"
        effect     = "Allow"
        actions    = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
        resources  = [module.queue.queue_arn]
        conditions = []
      },
    ],
    var.function.policy_statements,
  )
}

module "queue" {
  source = "../sqs-queue"

  create                     = var.create
  name                       = var.queue_name
  kms_key_arn                = var.kms_key_arn
  visibility_timeout_seconds = local.visibility_timeout_seconds

  redrive_policy = !var.create ? null : {
    dead_letter_target_arn = module.dlq.queue_arn
    max_receive_count      = var.tuning.max_receive_count
  }

  service_senders = var.queue_service_senders

  tags = var.tags
}

module "dlq" {
  source = "../sqs-queue"

  create      = var.create
  name        = "${var.queue_name}-dlq"
  kms_key_arn = var.kms_key_arn

  service_senders = var.dlq_service_senders

  tags = var.tags
}

module "function" {
  source = "../lambda-function"

  create       = var.create
  name         = var.function.name
  description  = var.function.description
  handler      = var.function.handler
  runtime      = var.function.runtime
  architecture = var.function.architecture
  timeout      = var.tuning.timeout
  memory_size  = var.tuning.memory_size
  package      = var.function.package
  kms_key_arn  = var.kms_key_arn
  tracing_mode = var.function.tracing_mode

  code_signing_config_arn = var.function.code_signing_config_arn
  log_retention_in_days   = var.function.log_retention_in_days

  environment_variables = var.function.environment_variables

  # Invoked only by its event source mapping: failed records go back to the queue and on to the DLQ through
  # the redrive policy. The async DLQ only catches a stray asynchronous invoke and reuses the same DLQ.
  create_dead_letter_queue = false
  dead_letter_target_arn   = module.dlq.queue_arn

  policy_statements = var.create ? local.policy_statements : []

  tags = var.tags
}

resource "aws_lambda_event_source_mapping" "this" {
  count = var.create ? 1 : 0

  event_source_arn                   = module.queue.queue_arn
  function_name                      = module.function.function_arn
  batch_size                         = var.tuning.batch_size
  maximum_batching_window_in_seconds = var.tuning.maximum_batching_window_in_seconds
  # The function reports the records it could not process (batchItemFailures); only those are retried.
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.tuning.maximum_concurrency
  }
}
