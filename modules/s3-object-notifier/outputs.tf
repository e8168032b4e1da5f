output "bucket_name" {
  description = "Name of the watched bucket (created or existing)."
  value       = var.create ? local.bucket_name : null
}

output "bucket_arn" {
  description = "ARN of the watched bucket."
  value       = var.create ? local.bucket_arn : null
}

output "bucket_created" {
  description = "Whether the module created the bucket (false = an existing bucket is watched)."
  value       = var.create ? local.create_bucket : null
}

output "bucket_policy" {
  description = "The created bucket's policy (TLS only); null for an existing bucket."
  value       = try(aws_s3_bucket_policy.this[0].policy, null)
}

output "notification_events" {
  description = "Map of notification configuration id to the S3 events it sends to the function."
  value       = var.create ? { for k, n in var.notifications : k => n.events } : null
}

output "notification_filters" {
  description = "Map of notification configuration id to its { prefix, suffix } key filter (null = none)."
  value       = var.create ? { for k, n in var.notifications : k => { prefix = n.filter_prefix, suffix = n.filter_suffix } } : null
}

output "kms_key_arn" {
  description = "ARN of the CMK (bucket default encryption, function environment, logs, DLQ). Uploaders need kms:GenerateDataKey on it."
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

output "lambda_permission_source_arn" {
  description = "Bucket ARN the S3 invoke permission is scoped to."
  value       = try(aws_lambda_permission.s3[0].source_arn, null)
}

output "lambda_permission_source_account" {
  description = "Account the S3 invoke permission is scoped to."
  value       = try(aws_lambda_permission.s3[0].source_account, null)
}

output "dead_letter_queue_arn" {
  description = "ARN of the DLQ receiving events that failed every attempt."
  value       = module.lambda_function.dead_letter_queue_arn
}

output "dead_letter_queue_url" {
  description = "URL of the DLQ."
  value       = module.lambda_function.dead_letter_queue_url
}

output "dead_letter_queue_name" {
  description = "Name of the DLQ."
  value       = module.lambda_function.dead_letter_queue_name
}

output "ses_identity" {
  description = "The SES identity the function sends from (email address or domain)."
  value       = var.create ? local.ses_identity : null
}

output "ses_identity_arn" {
  description = "ARN of the SES identity (the only identity the function may send from)."
  value       = var.create ? local.ses_identity_arn : null
}

output "ses_identity_created" {
  description = "Whether the module created the SES identity."
  value       = var.create ? var.ses_identity.create : null
}

output "ses_identity_dkim_tokens" {
  description = "DKIM tokens of a module-created domain identity: publish <token>._domainkey.<domain> CNAME <token>.dkim.amazonses.com."
  value       = try(aws_sesv2_email_identity.this[0].dkim_signing_attributes[0].tokens, null)
}

output "ses_configuration_set_arn" {
  description = "ARN of the configuration set the function sends with (null = none)."
  value       = var.create ? local.configuration_set_arn : null
}

output "ses_send_resources" {
  description = "The only resources the function's role may call ses:SendEmail on."
  value       = var.create ? local.ses_send_resources : null
}

output "sender_email" {
  description = "From address of the notifications."
  value       = var.create ? var.sender_email : null
}

output "recipients" {
  description = "Addresses every notification is sent to."
  value       = var.create ? var.recipients : null
}
