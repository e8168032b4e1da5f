output "table_name" {
  description = "Name of the payments table."
  value       = module.dynamodb_stream_alerts.table_name
}

output "table_arn" {
  description = "ARN of the payments table."
  value       = module.dynamodb_stream_alerts.table_arn
}

output "stream_arn" {
  description = "ARN of the table's stream (the pipe's source)."
  value       = module.dynamodb_stream_alerts.stream_arn
}

output "pipe_arn" {
  description = "ARN of the pipe."
  value       = module.dynamodb_stream_alerts.pipe_arn
}

output "pipe_name" {
  description = "Name of the pipe."
  value       = module.dynamodb_stream_alerts.pipe_name
}

output "pipe_filter_patterns" {
  description = "The pipe's filter patterns in effect."
  value       = module.dynamodb_stream_alerts.pipe_filter_patterns
}

output "pipe_input_template" {
  description = "The pipe's input template in effect."
  value       = module.dynamodb_stream_alerts.pipe_input_template
}

output "pipe_role_arn" {
  description = "ARN of the pipe's execution role."
  value       = module.dynamodb_stream_alerts.pipe_role_arn
}

output "pipe_role_name" {
  description = "Name of the pipe's execution role."
  value       = module.dynamodb_stream_alerts.pipe_role_name
}

output "sns_topic_arn" {
  description = "ARN of the alert topic."
  value       = module.dynamodb_stream_alerts.sns_topic_arn
}

output "sns_topic_name" {
  description = "Name of the alert topic."
  value       = module.dynamodb_stream_alerts.sns_topic_name
}

output "subscription_arns" {
  description = "Map of endpoint to subscription ARN."
  value       = module.dynamodb_stream_alerts.subscription_arns
}

output "dead_letter_queue_arn" {
  description = "ARN of the pipe's dead-letter queue."
  value       = module.dynamodb_stream_alerts.dead_letter_queue_arn
}

output "dead_letter_queue_url" {
  description = "URL of the pipe's dead-letter queue."
  value       = module.dynamodb_stream_alerts.dead_letter_queue_url
}

output "kms_key_arn" {
  description = "ARN of the CMK."
  value       = module.dynamodb_stream_alerts.kms_key_arn
}

output "kms_key_id" {
  description = "ID of the CMK."
  value       = module.dynamodb_stream_alerts.kms_key_id
}

output "kms_alias_arns" {
  description = "Map of alias name to alias ARN."
  value       = module.dynamodb_stream_alerts.kms_alias_arns
}
