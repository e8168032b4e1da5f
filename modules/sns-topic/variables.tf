variable "create" {
  description = "Whether to create any resources. When false the module is a no-op and every output is null."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Topic name. For FIFO topics the \".fifo\" suffix is added by the module."
  type        = string
  nullable    = false

  validation {
    # 256 is the SNS limit including ".fifo"; keeping 251 leaves room for the suffix.
    condition     = can(regex("^[A-Za-z0-9_-]{1,251}$", var.name))
    error_message = "name must be 1-251 characters of letters, digits, '-' or '_' (do not add \".fifo\"; set fifo_topic instead)."
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

variable "display_name" {
  description = "Display name of the topic (shown as the sender of email and SMS notifications). null (default) = none."
  type        = string
  default     = null

  validation {
    condition     = var.display_name == null || try(length(var.display_name) >= 1 && length(var.display_name) <= 100, false)
    error_message = "display_name must be 1-100 characters (null = none)."
  }
}

variable "kms_key_arn" {
  description = "Required (null is accepted only with create = false). ARN (or alias ARN) of the customer-managed KMS key that encrypts the topic at rest."
  type        = string

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/.+$", coalesce(var.kms_key_arn, "x")))
    error_message = "kms_key_arn must be a KMS key or alias ARN, e.g. arn:aws:kms:us-east-1:123456789012:key/1234abcd-..."
  }
}

variable "fifo_topic" {
  description = "Create a FIFO topic (name gets the \".fifo\" suffix). Email subscriptions are not supported on FIFO topics."
  type        = bool
  default     = false
  nullable    = false
}

variable "content_based_deduplication" {
  description = "Enable content-based deduplication (FIFO topics only)."
  type        = bool
  default     = false
  nullable    = false
}

variable "publisher_iam_arns" {
  description = "IAM role/user ARNs allowed to sns:Publish through the topic policy."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.publisher_iam_arns : can(regex("^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:(role|user)/.+$", a))])
    error_message = "publisher_iam_arns must be IAM role or user ARNs (arn:aws:iam::123456789012:role/name)."
  }
}

variable "publisher_services" {
  description = <<-EOT
    AWS service principals allowed to sns:Publish, keyed by a label. Each is scoped to this account
    (aws:SourceAccount) and, when given, to the listed aws:SourceArn values (e.g. an EventBridge rule ARN).
  EOT
  type = map(object({
    service     = string
    source_arns = optional(list(string), [])
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for p in values(var.publisher_services) : can(regex("^[a-z0-9.-]+\\.amazonaws\\.com(\\.cn)?$", p.service))])
    error_message = "publisher_services[*].service must be a service principal such as \"events.amazonaws.com\"."
  }

  validation {
    condition = alltrue(flatten([
      for p in values(var.publisher_services) : [for a in p.source_arns : can(regex("^arn:aws[a-zA-Z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{0,12}:.+$", a))]
    ]))
    error_message = "publisher_services[*].source_arns must be ARNs."
  }
}

variable "deny_unlisted_publishers" {
  description = <<-EOT
    Add an explicit Deny of sns:Publish for every IAM principal not in publisher_iam_arns (AWS service principals
    are unaffected). Without it, any identity in the account with an IAM policy allowing sns:Publish could publish.
    Only takes effect when publisher_iam_arns is non-empty.
  EOT
  type        = bool
  default     = true
  nullable    = false
}

variable "subscriptions" {
  description = <<-EOT
    Subscriptions keyed by endpoint (an email address, queue/function ARN or HTTPS URL). Set `endpoint`
    explicitly when the endpoint is not known at plan time (e.g. the ARN of a queue created in the same apply)
    and use a static label as the key.
  EOT
  type = map(object({
    protocol             = string
    endpoint             = optional(string)
    raw_message_delivery = optional(bool, false)
    filter_policy        = optional(string)
    filter_policy_scope  = optional(string, "MessageAttributes")
    redrive_policy       = optional(string)
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : contains(["email", "email-json", "sqs", "lambda", "https"], s.protocol)])
    error_message = "subscriptions[*].protocol must be one of: email, email-json, sqs, lambda, https."
  }

  validation {
    condition = alltrue([
      for k, s in var.subscriptions : !contains(["email", "email-json"], s.protocol) || can(regex("^[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}$", coalesce(s.endpoint, k)))
    ])
    error_message = "Email subscriptions need an endpoint that looks like an email address (name@example.com)."
  }

  validation {
    condition = alltrue([
      for k, s in var.subscriptions : !contains(["sqs", "lambda"], s.protocol) || can(regex("^arn:aws[a-zA-Z-]*:(sqs|lambda):", coalesce(s.endpoint, k)))
    ])
    error_message = "sqs and lambda subscriptions need the queue or function ARN as endpoint."
  }

  validation {
    condition = alltrue([
      for k, s in var.subscriptions : s.protocol != "https" || startswith(coalesce(s.endpoint, k), "https://")
    ])
    error_message = "https subscriptions need an endpoint starting with https://."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : s.filter_policy == null || can(jsondecode(s.filter_policy))])
    error_message = "subscriptions[*].filter_policy must be a JSON string."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : s.redrive_policy == null || can(jsondecode(s.redrive_policy))])
    error_message = "subscriptions[*].redrive_policy must be a JSON string."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : contains(["MessageAttributes", "MessageBody"], s.filter_policy_scope)])
    error_message = "subscriptions[*].filter_policy_scope must be MessageAttributes or MessageBody."
  }

  validation {
    # raw delivery is only meaningful (and only accepted by SNS) for these protocols.
    condition     = alltrue([for s in values(var.subscriptions) : !s.raw_message_delivery || contains(["sqs", "https"], s.protocol)])
    error_message = "raw_message_delivery can only be enabled for sqs and https subscriptions."
  }
}
