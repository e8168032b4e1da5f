output "sns_topic_arn" {
  description = "ARN of the alert topic."
  value       = module.root_activity_monitor.sns_topic_arn
}

output "sns_topic_name" {
  description = "Name of the alert topic."
  value       = module.root_activity_monitor.sns_topic_name
}

output "subscription_arns" {
  description = "Map of endpoint to subscription ARN."
  value       = module.root_activity_monitor.subscription_arns
}

output "kms_key_arn" {
  description = "ARN of the CMK."
  value       = module.root_activity_monitor.kms_key_arn
}

output "kms_key_id" {
  description = "ID of the CMK."
  value       = module.root_activity_monitor.kms_key_id
}

output "kms_alias_arns" {
  description = "Map of alias name to alias ARN."
  value       = module.root_activity_monitor.kms_alias_arns
}

output "lambda_function_arn" {
  description = "ARN of the handler function."
  value       = module.root_activity_monitor.lambda_function.function_arn
}

output "lambda_function_name" {
  description = "Name of the handler function."
  value       = module.root_activity_monitor.lambda_function.function_name
}

output "lambda_role_arn" {
  description = "ARN of the handler's execution role."
  value       = module.root_activity_monitor.lambda_function.role_arn
}

output "lambda_role_name" {
  description = "Name of the handler's execution role."
  value       = module.root_activity_monitor.lambda_function.role_name
}

output "log_group_name" {
  description = "Name of the handler's log group."
  value       = module.root_activity_monitor.lambda_function.log_group_name
}

output "log_group_arn" {
  description = "ARN of the handler's log group."
  value       = module.root_activity_monitor.lambda_function.log_group_arn
}

output "event_rule_arns" {
  description = "Map of pattern key to EventBridge rule ARN."
  value       = module.root_activity_monitor.event_rule_arns
}

output "event_rule_names" {
  description = "Map of pattern key to EventBridge rule name."
  value       = module.root_activity_monitor.event_rule_names
}

output "dead_letter_queue_arn" {
  description = "ARN of the shared dead-letter queue."
  value       = module.root_activity_monitor.dead_letter_queue_arn
}

output "dead_letter_queue_url" {
  description = "URL of the shared dead-letter queue."
  value       = module.root_activity_monitor.dead_letter_queue_url
}

output "dead_letter_queue_name" {
  description = "Name of the shared dead-letter queue."
  value       = module.root_activity_monitor.dead_letter_queue_name
}

output "event_bus_name" {
  description = "Event bus the rules are attached to."
  value       = module.root_activity_monitor.event_bus_name
}
