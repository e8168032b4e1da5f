variable "create" {
  description = "Whether to create any resources. When false the module is a no-op and every output is null."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Base name of every resource (topic, key alias, function, role, rules <name>-<pattern key>, DLQ <name>-dlq)."
  type        = string
  default     = "root-activity-monitor"
  nullable    = false

  validation {
    # 40 leaves room for the suffixes while staying under the 64-character Lambda/IAM/EventBridge limits.
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", var.name))
    error_message = "name must be 1-40 characters of letters, digits, '-' or '_', starting with a letter or digit."
  }
}

variable "tags" {
  description = "Tags applied to every taggable resource (validated by the building-block modules that apply them)."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "sns_topic_display_name" {
  description = "Display name of the alert topic (sender name of the emails; at most 100 characters, checked by the sns-topic module)."
  type        = string
  default     = "AWS root activity"
  nullable    = false
}

variable "event_rule_description" {
  description = "Description of the EventBridge rule(s) (at most 512 characters, checked by the event-rule module)."
  type        = string
  default     = "Root user activity (console sign-in and API calls) reported by CloudTrail"
  nullable    = false
}

variable "event_patterns" {
  description = "EventBridge event patterns (JSON strings) keyed by a short label; one rule <name>-<label> each. The default matches every root sign-in and API call."
  type        = map(string)
  default = {
    root-activity = <<-EOT
      {
        "detail-type": ["AWS Console Sign In via CloudTrail", "AWS API Call via CloudTrail"],
        "detail": {
          "userIdentity": {
            "type": ["Root"]
          }
        }
      }
    EOT
  }
  nullable = false

  validation {
    condition     = length(var.event_patterns) > 0
    error_message = "event_patterns needs at least one pattern."
  }

  validation {
    condition     = alltrue([for k in keys(var.event_patterns) : can(regex("^[A-Za-z0-9_-]{1,20}$", k))])
    error_message = "event_patterns keys must be 1-20 characters of letters, digits, '-' or '_' (they suffix the rule name)."
  }

  validation {
    condition     = alltrue([for p in values(var.event_patterns) : can(keys(jsondecode(p)))])
    error_message = "Each event_patterns value must be a JSON object string, e.g. jsonencode({ \"detail-type\" = [\"AWS Console Sign In via CloudTrail\"] })."
  }

  validation {
    condition     = alltrue([for p in values(var.event_patterns) : length(p) <= 4096])
    error_message = "Each event pattern must be at most 4096 characters."
  }
}

variable "event_rule_state" {
  description = "State of the rules: ENABLED, DISABLED or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS (checked by the event-rule module). The last also matches read-only (Get/List/Describe) root API calls, which ENABLED skips."
  type        = string
  default     = "ENABLED"
  nullable    = false
}

variable "subscriptions" {
  description = "Alert subscriptions keyed by endpoint, e.g. { \"security@example.com\" = {} }. Email endpoints must confirm the subscription. The sns-topic module checks each endpoint against its protocol."
  type = map(object({
    protocol = optional(string, "email")
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : contains(["email", "email-json", "https"], s.protocol)])
    error_message = "subscriptions[*].protocol must be email, email-json or https."
  }
}

variable "kms_key" {
  description = "The module's CMK, passed to the kms-key module, which validates it: aliases (without \"alias/\"; null = [name]) and deletion_window_in_days (7-30, default 30)."
  type        = object({ aliases = optional(list(string)), deletion_window_in_days = optional(number) })
  default     = {}
  nullable    = false
}

variable "lambda" {
  description = <<-EOT
    The handler function. Each attribute goes to the lambda-function module, which validates it; a null
    attribute takes that module's default (modules/lambda-function/README.md):
      function_name                   - the function, its role and log group; null = name
      runtime, architecture           - python3.12 and arm64. The package ships python3.12 bytecode; on 3.11 or
                                        3.13 every cold start compiles the sources (about 35-60 ms more)
      timeout, memory_size            - 30 s and 256 MB
      log_retention_in_days           - 365; log_level (POWERTOOLS_LOG_LEVEL) INFO
      code_signing_config_arn         - null = no code signing; with an Enforce policy, package must be signed
      reserved_concurrent_executions  - null = unreserved, else at least 1 (0 would disable the monitor)
      package                         - null = the repository's dist/lambda.zip (see lambda-function's package)
  EOT
  type = object({
    function_name                  = optional(string)
    runtime                        = optional(string)
    architecture                   = optional(string)
    timeout                        = optional(number)
    memory_size                    = optional(number)
    log_retention_in_days          = optional(number)
    log_level                      = optional(string, "INFO")
    code_signing_config_arn        = optional(string)
    reserved_concurrent_executions = optional(number)
    package = optional(object({
      filename          = optional(string)
      s3_bucket         = optional(string)
      s3_key            = optional(string)
      s3_object_version = optional(string)
      source_code_hash  = optional(string)
    }))
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.lambda.reserved_concurrent_executions == null || try(var.lambda.reserved_concurrent_executions >= 1, false)
    error_message = "lambda.reserved_concurrent_executions must be null (unreserved) or at least 1: 0 would disable the monitor."
  }
}

variable "account_alias" {
  description = "Friendly account name shown in the notifications (empty = account ID only)."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = length(var.account_alias) <= 63 && can(regex("^[A-Za-z0-9 ._-]*$", var.account_alias))
    error_message = "account_alias must be at most 63 characters of letters, digits, spaces, '.', '_' or '-'."
  }
}

variable "non_root_events" {
  description = "What the handler does with events whose identity is not the root user (possible with custom patterns): \"ignore\" or \"notify\"."
  type        = string
  default     = "ignore"
  nullable    = false

  validation {
    condition     = contains(["ignore", "notify"], var.non_root_events)
    error_message = "non_root_events must be \"ignore\" or \"notify\"."
  }
}
