output "queue_arn" {
  description = "ARN of the queue."
  value       = try(aws_sqs_queue.this[0].arn, null)
}

output "queue_url" {
  description = "URL of the queue."
  value       = try(aws_sqs_queue.this[0].url, null)
}

output "queue_name" {
  description = "Name of the queue."
  value       = try(aws_sqs_queue.this[0].name, null)
}

output "queue_policy" {
  description = "The queue policy JSON (TLS-only, plus the allowed service senders)."
  value       = try(aws_sqs_queue_policy.this[0].policy, null)
}
