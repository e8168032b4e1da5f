output "state_machine_arn" {
  description = "ARN of the state machine."
  value       = try(aws_sfn_state_machine.this[0].arn, null)
}

output "state_machine_name" {
  description = "Name of the state machine."
  value       = try(aws_sfn_state_machine.this[0].name, null)
}

output "state_machine_type" {
  description = "STANDARD or EXPRESS."
  value       = try(aws_sfn_state_machine.this[0].type, null)
}

output "state_machine_definition" {
  description = "The Amazon States Language definition in effect (JSON)."
  value       = try(aws_sfn_state_machine.this[0].definition, null)
}

output "state_machine_role_arn" {
  description = "ARN of the state machine's execution role."
  value       = try(aws_iam_role.state_machine[0].arn, null)
}

output "state_machine_role_name" {
  description = "Name of the state machine's execution role."
  value       = try(aws_iam_role.state_machine[0].name, null)
}

output "state_machine_kms_key_id" {
  description = "Key that encrypts the state machine's definition and execution history (null when encrypt_state_machine is false)."
  value       = try(aws_sfn_state_machine.this[0].encryption_configuration[0].kms_key_id, null)
}

output "log_group_name" {
  description = "Name of the execution log group (null when log_level is OFF)."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}

output "log_group_arn" {
  description = "ARN of the execution log group (null when log_level is OFF)."
  value       = try(aws_cloudwatch_log_group.this[0].arn, null)
}

output "log_group_kms_key_id" {
  description = "Key that encrypts the execution log group (the module's CMK)."
  value       = try(aws_cloudwatch_log_group.this[0].kms_key_id, null)
}

output "log_group_retention_in_days" {
  description = "Retention of the execution log group."
  value       = try(aws_cloudwatch_log_group.this[0].retention_in_days, null)
}

output "log_destination" {
  description = "Log destination the state machine writes to (<log group ARN>:*), null when logging is OFF."
  value       = try(aws_sfn_state_machine.this[0].logging_configuration[0].log_destination, null)
}

output "rule_arn" {
  description = "ARN of the EventBridge rule."
  value       = try(module.event_rule.rule_arns["workflow"], null)
}

output "rule_name" {
  description = "Name of the EventBridge rule."
  value       = try(module.event_rule.rule_names["workflow"], null)
}

output "event_pattern" {
  description = "The rule's event pattern (JSON)."
  value       = try(module.event_rule.rule_event_patterns["workflow"], null)
}

output "event_bus_name" {
  description = "Event bus the rule listens on."
  value       = module.event_rule.event_bus_name
}

output "events_role_arn" {
  description = "ARN of the role EventBridge assumes to start executions."
  value       = module.event_rule.role_arn
}

output "events_role_name" {
  description = "Name of the role EventBridge assumes to start executions."
  value       = module.event_rule.role_name
}

output "dead_letter_queue_arn" {
  description = "ARN of the DLQ for events EventBridge could not deliver to the state machine."
  value       = module.event_rule.dead_letter_queue_arn
}

output "dead_letter_queue_url" {
  description = "URL of the DLQ."
  value       = module.event_rule.dead_letter_queue_url
}

output "dead_letter_queue_name" {
  description = "Name of the DLQ."
  value       = module.event_rule.dead_letter_queue_name
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
