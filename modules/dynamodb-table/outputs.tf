output "table_name" {
  description = "Name of the table."
  value       = try(aws_dynamodb_table.this[0].name, null)
}

output "table_arn" {
  description = "ARN of the table."
  value       = try(aws_dynamodb_table.this[0].arn, null)
}

output "stream_arn" {
  description = "ARN of the table's stream (null without stream_view_type)."
  value       = var.create && var.stream_view_type != null ? try(aws_dynamodb_table.this[0].stream_arn, null) : null
}

output "index_arns" {
  description = "Map of global secondary index name to index ARN (<table ARN>/index/<name>), for IAM policies."
  value       = var.create ? { for g in var.global_secondary_indexes : g.name => "${aws_dynamodb_table.this[0].arn}/index/${g.name}" } : null
}

output "hash_key" {
  description = "Name of the partition key."
  value       = var.create ? var.hash_key.name : null
}

output "range_key" {
  description = "Name of the sort key (null when the table has none)."
  value       = var.create ? try(var.range_key.name, null) : null
}

output "ttl_attribute" {
  description = "Name of the TTL attribute (null when TTL is off)."
  value       = var.create ? var.ttl_attribute : null
}

output "kms_key_arn" {
  description = "KMS key that encrypts the table (as configured)."
  value       = try(aws_dynamodb_table.this[0].server_side_encryption[0].kms_key_arn, null)
}
