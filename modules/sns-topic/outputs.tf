output "topic_arn" {
  description = "ARN of the SNS topic."
  value       = try(aws_sns_topic.this[0].arn, null)
}

output "topic_name" {
  description = "Name of the SNS topic."
  value       = try(aws_sns_topic.this[0].name, null)
}

output "topic_kms_master_key_id" {
  description = "KMS key that encrypts the topic (as configured)."
  value       = try(aws_sns_topic.this[0].kms_master_key_id, null)
}

output "topic_policy" {
  description = "The topic policy document (JSON)."
  value       = try(data.aws_iam_policy_document.topic[0].json, null)
}

output "subscription_arns" {
  description = "Map of subscription key to subscription ARN (\"pending confirmation\" until an email is confirmed)."
  value       = var.create ? { for k, v in aws_sns_topic_subscription.this : k => v.arn } : null
}
