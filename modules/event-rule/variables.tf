variable "create" {
  description = "Whether to create any resources. When false the module is a no-op and every output is null."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Name prefix: rules are named <name>-<rule key> unless a rule sets its own name; the DLQ is <name>-dlq and the events role <name>-events."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.name))
    error_message = "name must be 1-56 characters of letters, digits, '-' or '_' (it prefixes rule, queue and role names)."
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

variable "event_bus_name" {
  description = "Name of the event bus the rules attach to. AWS service events (CloudTrail etc.) arrive on \"default\"."
  type        = string
  default     = "default"
  nullable    = false

  validation {
    condition     = can(regex("^[/.A-Za-z0-9_-]{1,256}$", var.event_bus_name)) && !startswith(var.event_bus_name, "arn:")
    error_message = "event_bus_name must be an event bus NAME (1-256 characters of letters, digits, '.', '-', '_', '/'), not an ARN."
  }
}

variable "rules" {
  description = <<-EOT
    Rules keyed by a short label. Exactly one of event_pattern (JSON string) or schedule_expression.
    state: ENABLED, DISABLED or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS (also matches read-only
    CloudTrail management events).
  EOT
  type = map(object({
    name                = optional(string)
    description         = optional(string)
    event_pattern       = optional(string)
    schedule_expression = optional(string)
    state               = optional(string, "ENABLED")
  }))
  nullable = false

  validation {
    condition     = alltrue([for k in keys(var.rules) : can(regex("^[A-Za-z0-9_-]{1,64}$", k))])
    error_message = "rules keys must be 1-64 characters of letters, digits, '-' or '_'."
  }

  validation {
    condition     = alltrue([for r in values(var.rules) : (r.event_pattern == null) != (r.schedule_expression == null)])
    error_message = "Each rule needs exactly one of event_pattern or schedule_expression."
  }

  validation {
    condition     = alltrue([for r in values(var.rules) : r.event_pattern == null || can(keys(jsondecode(r.event_pattern)))])
    error_message = "rules[*].event_pattern must be a JSON object string, e.g. jsonencode({ source = [\"aws.signin\"] })."
  }

  validation {
    condition     = alltrue([for r in values(var.rules) : r.event_pattern == null || try(length(r.event_pattern) <= 4096, false)])
    error_message = "rules[*].event_pattern must be at most 4096 characters."
  }

  validation {
    condition     = alltrue([for r in values(var.rules) : r.schedule_expression == null || can(regex("^(rate|cron)\\(.+\\)$", coalesce(r.schedule_expression, "x")))])
    error_message = "rules[*].schedule_expression must be rate(...) or cron(...)."
  }

  validation {
    condition     = alltrue([for r in values(var.rules) : contains(["ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"], r.state)])
    error_message = "rules[*].state must be ENABLED, DISABLED or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS."
  }

  validation {
    condition     = alltrue([for r in values(var.rules) : r.name == null || can(regex("^[.A-Za-z0-9_-]{1,64}$", coalesce(r.name, "x")))])
    error_message = "rules[*].name must be 1-64 characters of letters, digits, '.', '-' or '_'."
  }

  validation {
    condition     = alltrue([for r in values(var.rules) : r.description == null || try(length(r.description) <= 512, false)])
    error_message = "rules[*].description must be at most 512 characters."
  }
}

variable "targets" {
  description = <<-EOT
    Targets keyed by a label (used as the EventBridge target ID, 1-64 chars).
      rule              - key in `rules`
      type              - lambda | sqs | sfn | sns
      arn               - target ARN
      input / input_path / input_transformer - at most one, to reshape the event
      retry_policy      - defaults: 3600 s maximum event age, 24 retries
      dead_letter_arn   - per-target DLQ; falls back to var.dead_letter_arn, then the module DLQ
      message_group_id  - for FIFO SQS targets
    The module grants lambda targets (aws_lambda_permission scoped to the rule ARN) and sfn targets (an events
    role limited to states:StartExecution). SQS and SNS targets need a resource policy on the target allowing
    events.amazonaws.com with aws:SourceArn = the rule ARN (see rule_arns).
  EOT
  type = map(object({
    rule       = string
    type       = string
    arn        = string
    input      = optional(string)
    input_path = optional(string)
    input_transformer = optional(object({
      input_paths    = optional(map(string), {})
      input_template = string
    }))
    retry_policy = optional(object({
      maximum_event_age_in_seconds = optional(number, 3600)
      maximum_retry_attempts       = optional(number, 24)
    }), {})
    dead_letter_arn  = optional(string)
    message_group_id = optional(string)
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for k in keys(var.targets) : can(regex("^[.A-Za-z0-9_-]{1,64}$", k))])
    error_message = "targets keys become target IDs: 1-64 characters of letters, digits, '.', '-' or '_'."
  }

  validation {
    condition     = alltrue([for t in values(var.targets) : contains(["lambda", "sqs", "sfn", "sns"], t.type)])
    error_message = "targets[*].type must be one of lambda, sqs, sfn, sns."
  }

  validation {
    condition = alltrue([
      for t in values(var.targets) : can(regex(
        t.type == "lambda" ? "^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9$_-]+)?$" :
        t.type == "sqs" ? "^arn:aws[a-zA-Z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+$" :
        t.type == "sns" ? "^arn:aws[a-zA-Z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+$" :
        "^arn:aws[a-zA-Z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]+$",
        t.arn
      ))
    ])
    error_message = "targets[*].arn must be an ARN of the given type (lambda function, sqs queue, sns topic or sfn stateMachine)."
  }

  validation {
    condition     = alltrue([for t in values(var.targets) : length([for x in [t.input, t.input_path, t.input_transformer] : x if x != null]) <= 1])
    error_message = "Set at most one of input, input_path and input_transformer per target."
  }

  validation {
    condition     = alltrue([for t in values(var.targets) : t.input == null || can(jsondecode(t.input))])
    error_message = "targets[*].input must be a JSON string."
  }

  validation {
    condition = alltrue([
      for t in values(var.targets) : t.retry_policy.maximum_event_age_in_seconds >= 60 && t.retry_policy.maximum_event_age_in_seconds <= 86400 && t.retry_policy.maximum_retry_attempts >= 0 && t.retry_policy.maximum_retry_attempts <= 185
    ])
    error_message = "targets[*].retry_policy: maximum_event_age_in_seconds must be 60-86400 and maximum_retry_attempts 0-185."
  }

  validation {
    condition     = alltrue([for t in values(var.targets) : t.dead_letter_arn == null || can(regex("^arn:aws[a-zA-Z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+$", coalesce(t.dead_letter_arn, "x")))])
    error_message = "targets[*].dead_letter_arn must be an SQS queue ARN (EventBridge DLQs are SQS queues)."
  }
}

variable "create_dead_letter_queue" {
  description = "Create a CMK-encrypted SQS DLQ (<name>-dlq) used by every target without its own dead_letter_arn. The queue policy lets events.amazonaws.com send only on behalf of this module's rules."
  type        = bool
  default     = true
  nullable    = false
}

variable "dead_letter_arn" {
  description = "Existing SQS DLQ ARN used by targets without their own dead_letter_arn (requires create_dead_letter_queue = false). Its queue policy and key policy must allow events.amazonaws.com."
  type        = string
  default     = null

  validation {
    condition     = var.dead_letter_arn == null || can(regex("^arn:aws[a-zA-Z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+$", coalesce(var.dead_letter_arn, "x")))
    error_message = "dead_letter_arn must be an SQS queue ARN."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key ARN for the module-created DLQ. Its key policy must grant events.amazonaws.com kms:GenerateDataKey and kms:Decrypt (kms-key module: service_grants)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/.+$", coalesce(var.kms_key_arn, "x")))
    error_message = "kms_key_arn must be a KMS key or alias ARN."
  }
}

variable "dead_letter_queue_message_retention_seconds" {
  description = "Retention of the module-created DLQ (default 14 days, the SQS maximum)."
  type        = number
  default     = 1209600
  nullable    = false

  validation {
    condition     = var.dead_letter_queue_message_retention_seconds >= 60 && var.dead_letter_queue_message_retention_seconds <= 1209600
    error_message = "dead_letter_queue_message_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of a permissions boundary policy for the events role (created only for sfn targets)."
  type        = string
  default     = null

  validation {
    condition     = var.role_permissions_boundary == null || can(regex("^arn:aws[a-zA-Z-]*:iam::([0-9]{12}|aws):policy/.+$", coalesce(var.role_permissions_boundary, "x")))
    error_message = "role_permissions_boundary must be an IAM policy ARN."
  }
}
