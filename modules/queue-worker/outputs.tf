output "queue_arn" {
  description = "ARN of the work queue (grant producers sqs:SendMessage on it)."
  value       = module.queue.queue_arn
}

output "queue_url" {
  description = "URL of the work queue."
  value       = module.queue.queue_url
}

output "queue_name" {
  description = "Name of the work queue."
  value       = module.queue.queue_name
}

output "visibility_timeout_seconds" {
  description = "Visibility timeout of the work queue: 6 x the function timeout + the batching window."
  value       = var.create ? local.visibility_timeout_seconds : null
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue (records the function gave up on; a stray asynchronous invoke)."
  value       = module.dlq.queue_arn
}

output "dlq_url" {
  description = "URL of the dead-letter queue."
  value       = module.dlq.queue_url
}

output "dlq_name" {
  description = "Name of the dead-letter queue."
  value       = module.dlq.queue_name
}

output "function_arn" {
  description = "ARN of the worker function."
  value       = module.function.function_arn
}

output "function_name" {
  description = "Name of the worker function."
  value       = module.function.function_name
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = module.function.role_arn
}

output "role_name" {
  description = "Name of the function's execution role."
  value       = module.function.role_name
}

output "log_group_name" {
  description = "Name of the function's log group."
  value       = module.function.log_group_name
}

output "log_group_arn" {
  description = "ARN of the function's log group."
  value       = module.function.log_group_arn
}

output "event_source_mapping_uuid" {
  description = "UUID of the SQS event source mapping."
  value       = try(aws_lambda_event_source_mapping.this[0].uuid, null)
}

output "policy_statements" {
  description = "Inline statements of the function's role: consuming the queue, then function.policy_statements."
  value       = var.create ? local.policy_statements : null
}

output "event_source_mapping" {
  description = "Settings of the SQS event source mapping: event_source_arn, batch_size, maximum_batching_window_in_seconds, function_response_types, maximum_concurrency (known at plan, unlike its uuid)."
  value = !var.create ? null : {
    event_source_arn                   = aws_lambda_event_source_mapping.this[0].event_source_arn
    batch_size                         = aws_lambda_event_source_mapping.this[0].batch_size
    maximum_batching_window_in_seconds = aws_lambda_event_source_mapping.this[0].maximum_batching_window_in_seconds
    function_response_types            = aws_lambda_event_source_mapping.this[0].function_response_types
    maximum_concurrency                = aws_lambda_event_source_mapping.this[0].scaling_config[0].maximum_concurrency
  }
}
