output "rule_arns" {
  description = "Map of rule key to rule ARN."
  value       = var.create ? { for k, r in aws_cloudwatch_event_rule.this : k => r.arn } : null
}

output "rule_names" {
  description = "Map of rule key to rule name."
  value       = var.create ? { for k, r in aws_cloudwatch_event_rule.this : k => r.name } : null
}

output "rule_event_patterns" {
  description = "Map of rule key to event pattern (null for scheduled rules)."
  value       = var.create ? { for k, r in aws_cloudwatch_event_rule.this : k => r.event_pattern } : null
}

output "event_bus_name" {
  description = "Event bus the rules are attached to."
  value       = var.create ? var.event_bus_name : null
}

output "target_dead_letter_arns" {
  description = "Map of target key to the DLQ ARN it uses."
  value       = var.create ? { for k, t in aws_cloudwatch_event_target.this : k => t.dead_letter_config[0].arn } : null
}

output "lambda_permission_source_arns" {
  description = "Map of lambda target key to the source_arn its invoke permission is scoped to."
  value       = var.create ? { for k, p in aws_lambda_permission.this : k => p.source_arn } : null
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

output "role_arn" {
  description = "ARN of the events role used by sfn targets (null when there are none)."
  value       = try(aws_iam_role.events[0].arn, null)
}

output "role_name" {
  description = "Name of the events role used by sfn targets (null when there are none)."
  value       = try(aws_iam_role.events[0].name, null)
}
