variable "create" {
  description = "Whether to create any resources. When false the module is a no-op and every output is null."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Name of the key. Used in the description and the Name tag (aliases are set with `aliases`)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", var.name))
    error_message = "name must be 1-128 characters of letters, digits, '.', '_' or '-', starting with a letter or digit."
  }
}

variable "tags" {
  description = "Tags applied to every taggable resource."
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

variable "description" {
  description = "Key description. Defaults to \"Customer-managed key for <name>\"."
  type        = string
  default     = null

  validation {
    condition     = var.description == null || try(length(var.description) <= 8192, false)
    error_message = "description must be at most 8192 characters."
  }
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled key deletion completes (7-30 days)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30 && floor(var.deletion_window_in_days) == var.deletion_window_in_days
    error_message = "deletion_window_in_days must be a whole number between 7 and 30 (AWS KMS limits)."
  }
}

variable "multi_region" {
  description = "Create a multi-Region primary key."
  type        = bool
  default     = false
  nullable    = false
}

variable "aliases" {
  description = "Alias names WITHOUT the \"alias/\" prefix (the module adds it), e.g. [\"root-activity-monitor\"]."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition = alltrue([
      for a in var.aliases : can(regex("^[A-Za-z0-9/_-]{1,250}$", a)) && !startswith(a, "alias/") && !startswith(lower(a), "aws/")
    ])
    error_message = "Each alias must be 1-250 characters of letters, digits, '/', '_' or '-', must NOT start with \"alias/\" (the module adds it) and must not start with the reserved \"aws/\" prefix."
  }

  validation {
    condition     = length(distinct(var.aliases)) == length(var.aliases)
    error_message = "aliases must not contain duplicates."
  }
}

variable "key_administrator_arns" {
  description = "IAM principal ARNs allowed to administer (but not use) the key, in addition to the account's IAM policies."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.key_administrator_arns : can(regex("^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:(root|role/.+|user/.+)$", a))])
    error_message = "key_administrator_arns must be IAM role, user or account-root ARNs (arn:aws:iam::123456789012:role/name)."
  }
}

variable "key_user_arns" {
  description = "IAM principal ARNs allowed to use the key for cryptographic operations, in addition to the account's IAM policies."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.key_user_arns : can(regex("^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:(root|role/.+|user/.+)$", a))])
    error_message = "key_user_arns must be IAM role, user or account-root ARNs (arn:aws:iam::123456789012:role/name)."
  }
}

variable "cloudwatch_logs_log_group_arns" {
  description = <<-EOT
    Log group ARNs (without a trailing ":*") that CloudWatch Logs may encrypt with this key. Grants
    logs.<region>.<dns-suffix> the key, conditioned on kms:EncryptionContext:aws:logs:arn. Pass ARNs built
    from the log group name: referencing the log group resource would create a cycle (the log group needs the key).
  EOT
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.cloudwatch_logs_log_group_arns : can(regex("^arn:aws[a-zA-Z-]*:logs:[a-z0-9-]+:[0-9]{12}:log-group:[^:]+$", a))])
    error_message = "cloudwatch_logs_log_group_arns must be log group ARNs like arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/name (no trailing \":*\")."
  }
}

variable "service_grants" {
  description = <<-EOT
    Key-policy grants for AWS service principals, keyed by a label (becomes part of the statement Sid).
      service            - service principal, e.g. "events.amazonaws.com"
      actions            - explicit KMS actions (no wildcards), e.g. ["kms:GenerateDataKey", "kms:Decrypt"]
      source_arns        - aws:SourceArn values (ArnLike); empty = no SourceArn condition
      source_accounts    - aws:SourceAccount values; null (default) = this account, [] = no SourceAccount condition
      via_services       - kms:ViaService values; empty = no condition
      encryption_context - map of encryption-context key => allowed values (StringEquals kms:EncryptionContext:<key>)
  EOT
  type = map(object({
    service            = string
    actions            = list(string)
    source_arns        = optional(list(string), [])
    source_accounts    = optional(list(string))
    via_services       = optional(list(string), [])
    encryption_context = optional(map(list(string)), {})
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for g in values(var.service_grants) : can(regex("^[a-z0-9.-]+\\.amazonaws\\.com(\\.cn)?$", g.service))])
    error_message = "service_grants[*].service must be a service principal such as \"events.amazonaws.com\"."
  }

  validation {
    condition = alltrue(flatten([
      for g in values(var.service_grants) : [for a in g.actions : can(regex("^kms:[A-Za-z]+$", a))]
    ])) && alltrue([for g in values(var.service_grants) : length(g.actions) > 0])
    error_message = "service_grants[*].actions must be a non-empty list of explicit KMS actions such as \"kms:Decrypt\"; wildcards (\"kms:*\", \"kms:GenerateDataKey*\") are not allowed."
  }

  validation {
    condition = alltrue(flatten([
      for g in values(var.service_grants) : [for a in g.source_arns : can(regex("^arn:aws[a-zA-Z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{0,12}:.+$", a))]
    ]))
    error_message = "service_grants[*].source_arns must be ARNs (arn:<partition>:<service>:<region>:<account>:<resource>)."
  }

  validation {
    condition = alltrue(flatten([
      for g in values(var.service_grants) : [for a in(g.source_accounts == null ? [] : g.source_accounts) : can(regex("^[0-9]{12}$", a))]
    ]))
    error_message = "service_grants[*].source_accounts must be 12-digit AWS account IDs."
  }
}
