output "state_machine_arn" {
  description = "ARN of the state machine."
  value       = module.event_workflow.state_machine_arn
}

output "state_machine_name" {
  description = "Name of the state machine."
  value       = module.event_workflow.state_machine_name
}

output "state_machine_definition" {
  description = "The Amazon States Language definition in effect."
  value       = module.event_workflow.state_machine_definition
}

output "state_machine_role_arn" {
  description = "ARN of the state machine's execution role."
  value       = module.event_workflow.state_machine_role_arn
}

output "state_machine_kms_key_id" {
  description = "Key that encrypts the state machine's data."
  value       = module.event_workflow.state_machine_kms_key_id
}

output "log_group_name" {
  description = "Name of the execution log group."
  value       = module.event_workflow.log_group_name
}

output "log_group_arn" {
  description = "ARN of the execution log group."
  value       = module.event_workflow.log_group_arn
}

output "rule_arn" {
  description = "ARN of the EventBridge rule."
  value       = module.event_workflow.rule_arn
}

output "rule_name" {
  description = "Name of the EventBridge rule."
  value       = module.event_workflow.rule_name
}

output "event_pattern" {
  description = "The rule's event pattern."
  value       = module.event_workflow.event_pattern
}

output "event_bus_name" {
  description = "Event bus the rule listens on."
  value       = module.event_workflow.event_bus_name
}

output "events_role_arn" {
  description = "ARN of the role EventBridge assumes to start executions."
  value       = module.event_workflow.events_role_arn
}

output "dead_letter_queue_arn" {
  description = "ARN of the DLQ for undeliverable events."
  value       = module.event_workflow.dead_letter_queue_arn
}

output "dead_letter_queue_url" {
  description = "URL of the DLQ."
  value       = module.event_workflow.dead_letter_queue_url
}

output "kms_key_arn" {
  description = "ARN of the CMK."
  value       = module.event_workflow.kms_key_arn
}
