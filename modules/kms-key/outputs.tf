output "key_arn" {
  description = "ARN of the KMS key."
  value       = try(aws_kms_key.this[0].arn, null)
}

output "key_id" {
  description = "ID of the KMS key."
  value       = try(aws_kms_key.this[0].key_id, null)
}

output "key_policy" {
  description = "The key policy document (JSON)."
  value       = try(data.aws_iam_policy_document.key[0].json, null)
}

output "alias_arns" {
  description = "Map of alias name (without \"alias/\") to alias ARN."
  value       = var.create ? { for k, v in aws_kms_alias.this : k => v.arn } : null
}

output "alias_names" {
  description = "Map of alias name (without \"alias/\") to full alias name (\"alias/...\")."
  value       = var.create ? { for k, v in aws_kms_alias.this : k => v.name } : null
}
