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

output "kms_key_arn" {
  description = "ARN of the CMK."
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

output "lambda_function" {
  description = "The handler function, as the lambda-function module reports it: function_arn, function_name, invoke_arn, qualified_arn, version, role_arn, role_name (the execution role), log_group_name, log_group_arn, log_group_kms_key_id (the module's CMK), log_group_retention_in_days and the dead_letter_* attributes. Every attribute is null with create = false."
  value       = module.lambda_function
}

output "event_rule_arns" {
  description = "Map of pattern key to EventBridge rule ARN."
  value       = module.event_rule.rule_arns
}

output "event_rule_names" {
  description = "Map of pattern key to EventBridge rule name."
  value       = module.event_rule.rule_names
}

output "event_rule_patterns" {
  description = "Map of pattern key to the event pattern in effect."
  value       = module.event_rule.rule_event_patterns
}

output "lambda_permission_source_arns" {
  description = "Map of pattern key to the rule ARN the function's invoke permission is scoped to."
  value       = module.event_rule.lambda_permission_source_arns
}

output "dead_letter_queue_arn" {
  description = "ARN of the DLQ shared by the EventBridge targets and the function's asynchronous invocations."
  value       = module.event_rule.dead_letter_queue_arn
}

output "dead_letter_queue_url" {
  description = "URL of the shared DLQ."
  value       = module.event_rule.dead_letter_queue_url
}

output "dead_letter_queue_name" {
  description = "Name of the shared DLQ."
  value       = module.event_rule.dead_letter_queue_name
}

output "event_bus_name" {
  description = "Event bus the rules are attached to."
  value       = module.event_rule.event_bus_name
}
