output "table_name" {
  description = "Name of the created table (null when existing_stream is used)."
  value       = try(aws_dynamodb_table.this[0].name, null)
}

output "table_arn" {
  description = "ARN of the created table (null when existing_stream is used)."
  value       = try(aws_dynamodb_table.this[0].arn, null)
}

output "stream_arn" {
  description = "ARN of the stream the pipe reads."
  value       = var.create ? local.stream_arn : null
}

output "pipe_arn" {
  description = "ARN of the pipe."
  value       = try(aws_pipes_pipe.this[0].arn, null)
}

output "pipe_name" {
  description = "Name of the pipe."
  value       = try(aws_pipes_pipe.this[0].name, null)
}

output "pipe_filter_patterns" {
  description = "The pipe's filter patterns in effect (JSON strings)."
  value       = var.create ? local.filter_patterns : null
}

output "pipe_input_template" {
  description = "The pipe's input template in effect."
  value       = var.create ? local.input_template : null
}

output "pipe_role_arn" {
  description = "ARN of the pipe's execution role (the topic's only IAM publisher)."
  value       = try(aws_iam_role.pipe[0].arn, null)
}

output "pipe_role_name" {
  description = "Name of the pipe's execution role."
  value       = try(aws_iam_role.pipe[0].name, null)
}

output "pipe_role_policy" {
  description = "The pipe role's inline policy (JSON)."
  value       = try(data.aws_iam_policy_document.pipe[0].json, null)
}

output "sns_topic_arn" {
  description = "ARN of the alert topic."
  value       = module.sns_topic.topic_arn
}

output "sns_topic_name" {
  description = "Name of the alert topic."
  value       = module.sns_topic.topic_name
}

output "sns_topic_kms_master_key_id" {
  description = "Key that encrypts the alert topic (the module's CMK)."
  value       = module.sns_topic.topic_kms_master_key_id
}

output "subscription_arns" {
  description = "Map of endpoint to subscription ARN (\"pending confirmation\" until the email is confirmed)."
  value       = module.sns_topic.subscription_arns
}

output "dead_letter_queue_arn" {
  description = "ARN of the DLQ that receives stream records the pipe could not deliver."
  value       = module.dead_letter_queue.queue_arn
}

output "dead_letter_queue_url" {
  description = "URL of the DLQ."
  value       = module.dead_letter_queue.queue_url
}

output "dead_letter_queue_name" {
  description = "Name of the DLQ."
  value       = module.dead_letter_queue.queue_name
}

output "kms_key_arn" {
  description = "ARN of the CMK (table, topic, DLQ and pipe data)."
  value       = module.kms_key.key_arn
}

output "kms_key_id" {
  description = "ID of the CMK."
  value       = module.kms_key.key_id
}

output "kms_alias_arns" {
  description = "Map of alias name to alias ARN."
  value       = module.kms_key.alias_arns
}
