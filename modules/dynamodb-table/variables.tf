variable "create" {
  description = "Whether to create any resources. When false the module is a no-op and every output is null."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Table name."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.name))
    error_message = "name must be 3-255 characters of letters, digits, '_', '-' or '.' (DynamoDB table naming rules)."
  }
}

variable "tags" {
  description = "Tags applied to the table."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    # AWS tagging rules shared by every service these modules tag; "aws:" keys are reserved for AWS.
    condition = alltrue([
      for k, v in var.tags : can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]{1,128}$", k)) && !startswith(lower(k), "aws:") &&
      can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]{0,256}$", v))
    ])
    error_message = "tags: keys must be 1-128 and values at most 256 characters of letters, digits, spaces and _ . : / = + - @, and keys must not start with the reserved \"aws:\" prefix."
  }
}

variable "kms_key_arn" {
  description = "Required (null is accepted only with create = false). ARN of the customer-managed KMS key that encrypts the table, its indexes, stream and backups. Readers and writers need kms:Decrypt on it through DynamoDB (kms:ViaService = dynamodb.<region>.amazonaws.com)."
  type        = string

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", coalesce(var.kms_key_arn, "x")))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "hash_key" {
  description = "Partition key: attribute name and type (S = string, N = number, B = binary)."
  type = object({
    name = string
    type = optional(string, "S")
  })
  nullable = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,255}$", var.hash_key.name)) && contains(["S", "N", "B"], var.hash_key.type)
    error_message = "hash_key.name must be 1-255 characters of letters, digits, '_', '-' or '.', and hash_key.type one of S, N, B."
  }
}

variable "range_key" {
  description = "Sort key (optional): attribute name and type (S, N or B)."
  type = object({
    name = string
    type = optional(string, "S")
  })
  default = null

  validation {
    condition     = var.range_key == null || try(can(regex("^[A-Za-z0-9_.-]{1,255}$", var.range_key.name)) && contains(["S", "N", "B"], var.range_key.type), false)
    error_message = "range_key.name must be 1-255 characters of letters, digits, '_', '-' or '.', and range_key.type one of S, N, B."
  }
}

variable "ttl_attribute" {
  description = "Name of the attribute holding each item's expiry (Unix epoch seconds, type N). DynamoDB deletes expired items within a few days, at no cost. null = no TTL."
  type        = string
  default     = null

  validation {
    condition     = var.ttl_attribute == null || can(regex("^[A-Za-z0-9_.-]{1,255}$", coalesce(var.ttl_attribute, "x")))
    error_message = "ttl_attribute must be 1-255 characters of letters, digits, '_', '-' or '.'."
  }
}

variable "global_secondary_indexes" {
  description = <<-EOT
    Global secondary indexes (on-demand, like the table; encrypted with the table's key).
      name               - index name
      hash_key           - { name, type } of the index partition key
      range_key          - optional { name, type } of the index sort key
      projection_type    - ALL (default), KEYS_ONLY or INCLUDE
      non_key_attributes - attributes projected with INCLUDE (required for INCLUDE, empty otherwise)
  EOT
  type = list(object({
    name = string
    hash_key = object({
      name = string
      type = optional(string, "S")
    })
    range_key = optional(object({
      name = string
      type = optional(string, "S")
    }))
    projection_type    = optional(string, "ALL")
    non_key_attributes = optional(list(string), [])
  }))
  default  = []
  nullable = false

  validation {
    condition     = alltrue([for g in var.global_secondary_indexes : can(regex("^[A-Za-z0-9_.-]{3,255}$", g.name))])
    error_message = "global_secondary_indexes[*].name must be 3-255 characters of letters, digits, '_', '-' or '.'."
  }

  validation {
    condition     = length(distinct([for g in var.global_secondary_indexes : g.name])) == length(var.global_secondary_indexes)
    error_message = "global_secondary_indexes names must be unique."
  }

  validation {
    condition = alltrue([
      for g in var.global_secondary_indexes : contains(["S", "N", "B"], g.hash_key.type) && (g.range_key == null || try(contains(["S", "N", "B"], g.range_key.type), false))
    ])
    error_message = "global_secondary_indexes[*].hash_key.type and range_key.type must be S, N or B."
  }

  validation {
    condition = alltrue([
      for g in var.global_secondary_indexes : contains(["ALL", "KEYS_ONLY", "INCLUDE"], g.projection_type) &&
      (g.projection_type == "INCLUDE") == (length(g.non_key_attributes) > 0)
    ])
    error_message = "global_secondary_indexes[*].projection_type must be ALL, KEYS_ONLY or INCLUDE; non_key_attributes are required with INCLUDE and not allowed otherwise."
  }

  validation {
    condition     = length(var.global_secondary_indexes) <= 20
    error_message = "A table has at most 20 global secondary indexes."
  }
}

variable "stream_view_type" {
  description = "Enable DynamoDB Streams with this view type (KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES). null = no stream."
  type        = string
  default     = null

  validation {
    condition     = var.stream_view_type == null || contains(["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"], coalesce(var.stream_view_type, "x"))
    error_message = "stream_view_type must be null, KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES."
  }
}

variable "deletion_protection_enabled" {
  description = "Refuse DeleteTable (including terraform destroy) until this is set to false and applied."
  type        = bool
  default     = true
  nullable    = false
}
