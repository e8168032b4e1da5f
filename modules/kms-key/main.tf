data "aws_caller_identity" "current" {
  count = var.create ? 1 : 0
}

data "aws_partition" "current" {
  count = var.create ? 1 : 0
}

data "aws_region" "current" {
  count = var.create ? 1 : 0
}

locals {
  account_id = try(data.aws_caller_identity.current[0].account_id, null)
  partition  = try(data.aws_partition.current[0].partition, null)
  dns_suffix = try(data.aws_partition.current[0].dns_suffix, null)
  # `id` is the region name in provider 5.x and 6.x alike; 6.x deprecates `name` and adds `region`, which
  # 5.x lacks. tests/unit/test_versions.py rejects `.name`.
  region = try(data.aws_region.current[0].id, null)
}

resource "aws_kms_key" "this" {
  count = var.create ? 1 : 0

  description              = coalesce(var.description, "Customer-managed key for ${var.name}")
  key_usage                = "ENCRYPT_DECRYPT"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  # Rotation is not optional in this toolkit: every symmetric CMK rotates yearly.
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  multi_region            = var.multi_region
  policy                  = data.aws_iam_policy_document.key[0].json

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_kms_alias" "this" {
  for_each = var.create ? toset(var.aliases) : toset([])

  name          = "alias/${each.value}"
  target_key_id = aws_kms_key.this[0].key_id
}
