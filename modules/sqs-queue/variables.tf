variable "create" {
  description = "Whether to create any resources. When false the module is a no-op and every output is null."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Queue name (a FIFO queue gets the required .fifo suffix appended)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,75}$", var.name))
    error_message = "name must be 1-75 characters of letters, digits, '-' or '_' (SQS allows 80, including a .fifo suffix)."
  }
}

variable "tags" {
  description = "Tags applied to the queue."
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
  description = "ARN of the customer-managed KMS key that encrypts the queue. Required when create = true."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key or alias ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "kms_data_key_reuse_period_seconds" {
  description = "How long SQS reuses a data key before calling KMS again (fewer KMS calls, same key)."
  type        = number
  default     = 300
  nullable    = false

  validation {
    condition     = var.kms_data_key_reuse_period_seconds >= 60 && var.kms_data_key_reuse_period_seconds <= 86400
    error_message = "kms_data_key_reuse_period_seconds must be between 60 and 86400."
  }
}

variable "fifo_queue" {
  description = "Create a FIFO queue."
  type        = bool
  default     = false
  nullable    = false
}

variable "message_retention_seconds" {
  description = "How long messages are kept (default 14 days, the SQS maximum: a dead-letter queue wants all of it)."
  type        = number
  default     = 1209600
  nullable    = false

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

variable "visibility_timeout_seconds" {
  description = "Visibility timeout. For a Lambda event source, at least 6x the function timeout (AWS guidance)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200
    error_message = "visibility_timeout_seconds must be between 0 and 43200 (12 hours)."
  }
}

variable "receive_wait_time_seconds" {
  description = "Long-polling wait of ReceiveMessage."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.receive_wait_time_seconds >= 0 && var.receive_wait_time_seconds <= 20
    error_message = "receive_wait_time_seconds must be between 0 and 20."
  }
}

variable "redrive_policy" {
  description = "Send messages received more than max_receive_count times to this dead-letter queue."
  type = object({
    dead_letter_target_arn = string
    max_receive_count      = optional(number, 5)
  })
  default = null

  validation {
    condition     = var.redrive_policy == null || can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:.+$", var.redrive_policy.dead_letter_target_arn))
    error_message = "redrive_policy.dead_letter_target_arn must be an SQS queue ARN."
  }

  validation {
    condition     = var.redrive_policy == null || try(var.redrive_policy.max_receive_count >= 1 && var.redrive_policy.max_receive_count <= 1000, false)
    error_message = "redrive_policy.max_receive_count must be between 1 and 1000."
  }
}

variable "service_senders" {
  description = <<-EOT
    AWS services allowed to send to the queue, keyed by a short label (used as the statement id), each
    scoped to the ARNs of the resources that send (aws:SourceArn), e.g.
    { rules = { service = "events.amazonaws.com", source_arns = [aws_cloudwatch_event_rule.x.arn] } }.
    IAM principals of this account need no entry: their identity policies grant sqs:SendMessage.
  EOT
  type = map(object({
    service     = string
    source_arns = list(string)
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for k in keys(var.service_senders) : can(regex("^[A-Za-z0-9]{1,64}$", k))])
    error_message = "service_senders keys must be 1-64 letters or digits (they become policy statement ids)."
  }

  validation {
    condition     = alltrue([for s in values(var.service_senders) : can(regex("^[a-z0-9.-]+\\.amazonaws\\.com$", s.service))])
    error_message = "service_senders[*].service must be a service principal such as events.amazonaws.com."
  }

  validation {
    condition     = alltrue([for s in values(var.service_senders) : length(s.source_arns) > 0])
    error_message = "service_senders[*].source_arns must name at least one ARN: an unscoped service principal is a confused-deputy risk."
  }
}
