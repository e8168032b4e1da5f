locals {
  # Every attribute that is a key of the table or of an index must be declared once, with its type.
  key_attributes = merge(
    { (var.hash_key.name) = var.hash_key.type },
    var.range_key == null ? {} : { (var.range_key.name) = var.range_key.type },
    merge([for gsi in var.global_secondary_indexes : merge(
      { (gsi.hash_key.name) = gsi.hash_key.type },
      gsi.range_key == null ? {} : { (gsi.range_key.name) = gsi.range_key.type },
    )]...),
  )

  # "name=type" of every key declaration: more pairs than names means one name has two types.
  key_attribute_pairs = distinct(concat(
    ["${var.hash_key.name}=${var.hash_key.type}"],
    var.range_key == null ? [] : ["${var.range_key.name}=${var.range_key.type}"],
    flatten([for gsi in var.global_secondary_indexes : concat(
      ["${gsi.hash_key.name}=${gsi.hash_key.type}"],
      gsi.range_key == null ? [] : ["${gsi.range_key.name}=${gsi.range_key.type}"],
    )]),
  ))
}

resource "aws_dynamodb_table" "this" {
  count = var.create ? 1 : 0

  name = var.name
  # On-demand: no capacity to plan, no throttling at the provisioned ceiling, nothing billed when idle.
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = var.hash_key.name
  range_key    = try(var.range_key.name, null)

  dynamic "attribute" {
    for_each = local.key_attributes

    content {
      name = attribute.key
      type = attribute.value
    }
  }

  dynamic "global_secondary_index" {
    for_each = { for gsi in var.global_secondary_indexes : gsi.name => gsi }

    content {
      name               = global_secondary_index.key
      hash_key           = global_secondary_index.value.hash_key.name
      range_key          = try(global_secondary_index.value.range_key.name, null)
      projection_type    = global_secondary_index.value.projection_type
      non_key_attributes = global_secondary_index.value.projection_type == "INCLUDE" ? global_secondary_index.value.non_key_attributes : null
    }
  }

  dynamic "ttl" {
    for_each = var.ttl_attribute == null ? [] : [var.ttl_attribute]

    content {
      enabled        = true
      attribute_name = ttl.value
    }
  }

  stream_enabled   = var.stream_view_type != null
  stream_view_type = var.stream_view_type

  # Not optional in this toolkit: continuous backups for 35 days.
  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  deletion_protection_enabled = var.deletion_protection_enabled

  tags = merge(var.tags, { Name = var.name })

  lifecycle {
    precondition {
      condition     = var.kms_key_arn != null
      error_message = "kms_key_arn is required: tables are encrypted with a customer-managed key."
    }

    precondition {
      condition     = length(local.key_attribute_pairs) == length(keys(local.key_attributes))
      error_message = "A key attribute is declared with two different types: the table's and the indexes' keys must agree on each attribute's type."
    }
  }
}
