output "bucket_name" {
  description = "Name of the watched bucket."
  value       = module.s3_object_notifier.bucket_name
}

output "bucket_arn" {
  description = "ARN of the watched bucket."
  value       = module.s3_object_notifier.bucket_arn
}

output "notification_events" {
  description = "Map of notification id to the S3 events sent to the function."
  value       = module.s3_object_notifier.notification_events
}

output "kms_key_arn" {
  description = "ARN of the CMK (bucket encryption, logs, environment, DLQ)."
  value       = module.s3_object_notifier.kms_key_arn
}

output "kms_key_id" {
  description = "ID of the CMK."
  value       = module.s3_object_notifier.kms_key_id
}

output "kms_alias_arns" {
  description = "Map of alias name to alias ARN."
  value       = module.s3_object_notifier.kms_alias_arns
}

output "lambda_function_arn" {
  description = "ARN of the handler function."
  value       = module.s3_object_notifier.lambda_function.function_arn
}

output "lambda_function_name" {
  description = "Name of the handler function."
  value       = module.s3_object_notifier.lambda_function.function_name
}

output "lambda_role_arn" {
  description = "ARN of the handler's execution role."
  value       = module.s3_object_notifier.lambda_function.role_arn
}

output "lambda_role_name" {
  description = "Name of the handler's execution role."
  value       = module.s3_object_notifier.lambda_function.role_name
}

output "log_group_name" {
  description = "Name of the handler's log group."
  value       = module.s3_object_notifier.lambda_function.log_group_name
}

output "log_group_arn" {
  description = "ARN of the handler's log group."
  value       = module.s3_object_notifier.lambda_function.log_group_arn
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue."
  value       = module.s3_object_notifier.dead_letter_queue_arn
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue."
  value       = module.s3_object_notifier.dead_letter_queue_url
}

output "dead_letter_queue_name" {
  description = "Name of the dead-letter queue."
  value       = module.s3_object_notifier.dead_letter_queue_name
}

output "ses_identity" {
  description = "The SES identity the function sends from."
  value       = module.s3_object_notifier.ses_identity
}

output "ses_identity_arn" {
  description = "ARN of the SES identity."
  value       = module.s3_object_notifier.ses_identity_arn
}

output "sender_email" {
  description = "From address of the notifications."
  value       = module.s3_object_notifier.sender_email
}

output "recipients" {
  description = "Addresses every notification is sent to."
  value       = module.s3_object_notifier.recipients
}
