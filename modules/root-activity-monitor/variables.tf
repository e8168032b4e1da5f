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

variable "kms_key_aliases" {
  description = "KMS alias names without the \"alias/\" prefix. null (default) = [name]."
  type        = list(string)
  default     = null

  validation {
    condition     = var.kms_key_aliases == null ? true : alltrue([for a in var.kms_key_aliases : can(regex("^[A-Za-z0-9/_-]{1,250}$", a)) && !startswith(a, "alias/") && !startswith(lower(a), "aws/")])
    error_message = "kms_key_aliases entries must be 1-250 characters of letters, digits, '/', '_' or '-', without the \"alias/\" prefix and not starting with \"aws/\"."
  }
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period (7-30 days) before the CMK is deleted after destroy."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30 && floor(var.kms_key_deletion_window_in_days) == var.kms_key_deletion_window_in_days
    error_message = "kms_key_deletion_window_in_days must be a whole number between 7 and 30."
  }
}

variable "sns_topic_display_name" {
  description = "Display name of the alert topic (sender name of the emails)."
  type        = string
  default     = "AWS root activity"
  nullable    = false

  validation {
    condition     = length(var.sns_topic_display_name) >= 1 && length(var.sns_topic_display_name) <= 100
    error_message = "sns_topic_display_name must be 1-100 characters."
  }
}

variable "event_rule_description" {
  description = "Description of the EventBridge rule(s)."
  type        = string
  default     = "Root user activity (console sign-in and API calls) reported by CloudTrail"
  nullable    = false

  validation {
    condition     = length(var.event_rule_description) <= 512
    error_message = "event_rule_description must be at most 512 characters."
  }
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
  description = "State of the rules. ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS also matches read-only (Get/List/Describe) root API calls, which ENABLED skips."
  type        = string
  default     = "ENABLED"
  nullable    = false

  validation {
    condition     = contains(["ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"], var.event_rule_state)
    error_message = "event_rule_state must be ENABLED, DISABLED or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS."
  }
}

variable "subscriptions" {
  description = "Alert subscriptions keyed by endpoint, e.g. { \"security@example.com\" = {} }. Email endpoints must confirm the subscription."
  type = map(object({
    protocol = optional(string, "email")
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : contains(["email", "email-json", "https"], s.protocol)])
    error_message = "subscriptions[*].protocol must be email, email-json or https."
  }

  validation {
    condition = alltrue([
      for endpoint, s in var.subscriptions : s.protocol == "https" ? startswith(endpoint, "https://") : can(regex("^[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}$", endpoint))
    ])
    error_message = "subscriptions keys must be email addresses (name@example.com) for email/email-json, or https:// URLs for https."
  }
}

variable "lambda_function_name" {
  description = "Name of the Lambda function (and its role and log group). null (default) = name."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_function_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", coalesce(var.lambda_function_name, "x")))
    error_message = "lambda_function_name must be 1-64 characters of letters, digits, '-' or '_'."
  }
}

variable "lambda_runtime" {
  description = "Python runtime of the function. The packaged handlers ship python3.12 bytecode; on python3.11 or python3.13 every cold start compiles the sources instead (about 35-60 ms more, docs/benchmarks.md)."
  type        = string
  default     = "python3.12"
  nullable    = false

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be one of (the handlers need 3.11+) python3.11, python3.12, python3.13."
  }
}

variable "lambda_timeout" {
  description = "Function timeout in seconds (1-900)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.lambda_timeout >= 1 && var.lambda_timeout <= 900 && floor(var.lambda_timeout) == var.lambda_timeout
    error_message = "lambda_timeout must be a whole number of seconds between 1 and 900."
  }
}

variable "lambda_memory_size" {
  description = "Function memory in MB (128-10240)."
  type        = number
  default     = 256
  nullable    = false

  validation {
    condition     = var.lambda_memory_size >= 128 && var.lambda_memory_size <= 10240 && floor(var.lambda_memory_size) == var.lambda_memory_size
    error_message = "lambda_memory_size must be a whole number of MB between 128 and 10240."
  }
}

variable "lambda_architecture" {
  description = "Function architecture: arm64 or x86_64."
  type        = string
  default     = "arm64"
  nullable    = false

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "lambda_package" {
  description = "Override of the deployment package (see the lambda-function module's `package`). null = the repository's dist/lambda.zip."
  type = object({
    filename          = optional(string)
    s3_bucket         = optional(string)
    s3_key            = optional(string)
    s3_object_version = optional(string)
    source_code_hash  = optional(string)
  })
  default = null

  validation {
    condition = var.lambda_package == null ? true : (
      (var.lambda_package.filename != null) != (var.lambda_package.s3_bucket != null || var.lambda_package.s3_key != null)
      && (var.lambda_package.s3_bucket == null) == (var.lambda_package.s3_key == null)
      && (var.lambda_package.s3_object_version == null || var.lambda_package.s3_key != null)
    )
    error_message = "lambda_package needs exactly one source: either filename, or s3_bucket together with s3_key (s3_object_version only with S3)."
  }

  validation {
    condition     = var.lambda_package == null ? true : (var.lambda_package.filename == null || endswith(coalesce(var.lambda_package.filename, "x"), ".zip"))
    error_message = "lambda_package.filename must point to a .zip file."
  }
}

variable "lambda_code_signing_config_arn" {
  description = "ARN of a Lambda code signing configuration for the function (see the lambda-function module's `code_signing_config_arn`). With an `Enforce` policy, `lambda_package` must point to a signed package. null = no code signing."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_code_signing_config_arn == null || can(regex("^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:code-signing-config:csc-[a-z0-9]{17}$", coalesce(var.lambda_code_signing_config_arn, "x")))
    error_message = "lambda_code_signing_config_arn must be a Lambda code signing config ARN like arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-0123456789abcdef0."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrency of the function. null = unreserved."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency, false)
    error_message = "reserved_concurrency must be null or a whole number >= 1 (0 would disable the monitor)."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the function's log group (a CloudWatch Logs allowed value; 0 = never expire)."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_level" {
  description = "Log level of the handler (POWERTOOLS_LOG_LEVEL)."
  type        = string
  default     = "INFO"
  nullable    = false

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL."
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
