output "function_arn" {
  description = "Unqualified ARN of the function."
  value       = try(aws_lambda_function.this[0].arn, null)
}

output "function_name" {
  description = "Name of the function."
  value       = try(aws_lambda_function.this[0].function_name, null)
}

output "invoke_arn" {
  description = "ARN for invoking the function from API Gateway."
  value       = try(aws_lambda_function.this[0].invoke_arn, null)
}

output "qualified_arn" {
  description = "ARN of the latest published version (\":$LATEST\" when publish = false)."
  value       = try(aws_lambda_function.this[0].qualified_arn, null)
}

output "version" {
  description = "Latest published version."
  value       = try(aws_lambda_function.this[0].version, null)
}

output "role_arn" {
  description = "ARN of the execution role."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "role_name" {
  description = "Name of the execution role."
  value       = try(aws_iam_role.this[0].name, null)
}

output "log_group_name" {
  description = "Name of the function's log group."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}

output "log_group_arn" {
  description = "ARN of the function's log group."
  value       = try(aws_cloudwatch_log_group.this[0].arn, null)
}

output "log_group_kms_key_id" {
  description = "KMS key that encrypts the log group (as configured)."
  value       = try(aws_cloudwatch_log_group.this[0].kms_key_id, null)
}

output "log_group_retention_in_days" {
  description = "Retention of the log group."
  value       = try(aws_cloudwatch_log_group.this[0].retention_in_days, null)
}

output "dead_letter_target_arn" {
  description = "ARN of the asynchronous-invocation dead-letter target (module-created or caller-supplied)."
  value       = var.create ? local.dead_letter_target_arn : null
}

output "dead_letter_queue_arn" {
  description = "ARN of the module-created DLQ (null when not created)."
  value       = module.dead_letter_queue.queue_arn
}

output "dead_letter_queue_url" {
  description = "URL of the module-created DLQ (null when not created)."
  value       = module.dead_letter_queue.queue_url
}

output "dead_letter_queue_name" {
  description = "Name of the module-created DLQ (null when not created)."
  value       = module.dead_letter_queue.queue_name
}
