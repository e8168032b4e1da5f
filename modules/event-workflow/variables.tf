variable "create" {
  description = "Whether to create any resources. When false the module is a no-op and every output is null."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Base name of every resource: state machine, rule, key alias, roles <name>-sfn and <name>-events, DLQ <name>-dlq, log group /aws/vendedlogs/states/<name>."
  type        = string
  default     = "event-workflow"
  nullable    = false

  validation {
    # 40 leaves room for the role and queue suffixes under the 64-character IAM/EventBridge limits.
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

variable "kms_key" {
  description = "The module's CMK, passed to the kms-key module, which validates it: aliases (without \"alias/\"; null = [name]) and deletion_window_in_days (7-30, default 30)."
  type        = object({ aliases = optional(list(string)), deletion_window_in_days = optional(number) })
  default     = {}
  nullable    = false
}

variable "event_bus_name" {
  description = "Name of the (existing) event bus the rule listens on: \"default\" or a custom bus name."
  type        = string
  default     = "default"
  nullable    = false

  validation {
    condition     = can(regex("^[/.A-Za-z0-9_-]{1,256}$", var.event_bus_name)) && !startswith(var.event_bus_name, "arn:")
    error_message = "event_bus_name must be an event bus NAME (1-256 characters of letters, digits, '.', '-', '_', '/'), not an ARN."
  }
}

variable "event_pattern" {
  description = <<-EOT
    What the rule matches. Every attribute set is ANDed; each list matches any of its values.
      source      - event sources (default ["demo.sfn"])
      detail_type - detail-type values (null = any)
      account     - source accounts; null (default) = this account only, [] = no account filter
      resources   - resource ARNs (null = any)
      detail      - a JSON object string matched against the event detail, e.g. jsonencode({ Path = ["A", "B"] })
    The default matches {"source":["demo.sfn"],"account":[<this account>]}.
  EOT
  type = object({
    source      = optional(list(string), ["demo.sfn"])
    detail_type = optional(list(string))
    account     = optional(list(string))
    resources   = optional(list(string))
    detail      = optional(string)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.event_pattern.source != null && try(length(var.event_pattern.source) > 0, false) && alltrue([for s in coalesce(var.event_pattern.source, []) : length(s) >= 1 && length(s) <= 256])
    error_message = "event_pattern.source must be a non-empty list of sources (1-256 characters each)."
  }

  validation {
    condition     = var.event_pattern.account == null || alltrue([for a in coalesce(var.event_pattern.account, []) : can(regex("^[0-9]{12}$", a))])
    error_message = "event_pattern.account must be null (this account), [] (any account) or a list of 12-digit account IDs."
  }

  validation {
    condition     = var.event_pattern.detail_type == null || try(length(var.event_pattern.detail_type) > 0, false)
    error_message = "event_pattern.detail_type must be null (any) or a non-empty list (an empty list would match nothing)."
  }

  validation {
    condition     = var.event_pattern.resources == null || try(length(var.event_pattern.resources) > 0, false)
    error_message = "event_pattern.resources must be null (any) or a non-empty list (an empty list would match nothing)."
  }

  validation {
    condition     = var.event_pattern.detail == null || can(keys(jsondecode(var.event_pattern.detail)))
    error_message = "event_pattern.detail must be a JSON object string, e.g. jsonencode({ Path = [\"A\"] })."
  }
}

variable "event_rule_description" {
  description = "Description of the EventBridge rule (at most 512 characters, checked by the event-rule module)."
  type        = string
  default     = "Starts the workflow for matching events"
  nullable    = false
}

variable "event_rule_state" {
  description = "State of the rule: ENABLED or DISABLED."
  type        = string
  default     = "ENABLED"
  nullable    = false

  validation {
    condition     = contains(["ENABLED", "DISABLED"], var.event_rule_state)
    error_message = "event_rule_state must be ENABLED or DISABLED."
  }
}

variable "retry_policy" {
  description = "How long and how often EventBridge retries StartExecution before dead-lettering the event."
  type = object({
    maximum_event_age_in_seconds = optional(number, 3600)
    maximum_retry_attempts       = optional(number, 24)
  })
  default  = {}
  nullable = false

  validation {
    condition = (
      var.retry_policy.maximum_event_age_in_seconds >= 60 && var.retry_policy.maximum_event_age_in_seconds <= 86400 &&
      var.retry_policy.maximum_retry_attempts >= 0 && var.retry_policy.maximum_retry_attempts <= 185 &&
      floor(var.retry_policy.maximum_event_age_in_seconds) == var.retry_policy.maximum_event_age_in_seconds &&
      floor(var.retry_policy.maximum_retry_attempts) == var.retry_policy.maximum_retry_attempts
    )
    error_message = "retry_policy: maximum_event_age_in_seconds must be a whole number 60-86400 and maximum_retry_attempts a whole number 0-185."
  }
}

variable "dead_letter_queue_message_retention_seconds" {
  description = "Retention of the DLQ for events EventBridge could not deliver (default 14 days, the SQS maximum)."
  type        = number
  default     = 1209600
  nullable    = false

  validation {
    condition     = var.dead_letter_queue_message_retention_seconds >= 60 && var.dead_letter_queue_message_retention_seconds <= 1209600
    error_message = "dead_letter_queue_message_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

# --- State machine --------------------------------------------------------------------------------------

variable "definition_json" {
  description = "Amazon States Language definition as a JSON string (e.g. jsonencode({...})). Set at most one of definition_json and definition_file; neither = the built-in router (Choice on $.detail.Path: A -> PathA, B -> PathB, else Fail)."
  type        = string
  default     = null

  validation {
    condition     = var.definition_json == null || (can(tostring(jsondecode(var.definition_json).StartAt)) && can(keys(jsondecode(var.definition_json).States)))
    error_message = "definition_json must be a JSON object with \"StartAt\" (a state name) and \"States\" (an object), i.e. an Amazon States Language definition."
  }
}

variable "definition_file" {
  description = "Path of an Amazon States Language JSON file, e.g. \"$${path.module}/workflow.asl.json\". Set at most one of definition_json and definition_file."
  type        = string
  default     = null

  validation {
    condition     = var.definition_file == null || try(fileexists(var.definition_file), false)
    error_message = "definition_file must be the path of an existing file (use \"$${path.module}/...\" for a file next to your configuration)."
  }

  validation {
    condition     = var.definition_file == null || try(can(tostring(jsondecode(file(var.definition_file)).StartAt)) && can(keys(jsondecode(file(var.definition_file)).States)), false)
    error_message = "definition_file must contain an Amazon States Language JSON object with \"StartAt\" and \"States\"."
  }
}

variable "state_machine_type" {
  description = "STANDARD (durable, exactly-once, execution history kept 90 days) or EXPRESS (high-volume, at-least-once, history only in the logs)."
  type        = string
  default     = "STANDARD"
  nullable    = false

  validation {
    condition     = contains(["STANDARD", "EXPRESS"], var.state_machine_type)
    error_message = "state_machine_type must be STANDARD or EXPRESS."
  }
}

variable "encrypt_state_machine" {
  description = "Encrypt the definition and execution history with the module's CMK (a second layer over the AWS-owned key). The execution role gets kms:Decrypt/GenerateDataKey scoped to this state machine's encryption context."
  type        = bool
  default     = true
  nullable    = false
}

variable "kms_data_key_reuse_period_seconds" {
  description = "How long Step Functions reuses a data key before calling KMS again (60-900 s), when encrypt_state_machine is true."
  type        = number
  default     = 300
  nullable    = false

  validation {
    condition     = var.kms_data_key_reuse_period_seconds >= 60 && var.kms_data_key_reuse_period_seconds <= 900 && floor(var.kms_data_key_reuse_period_seconds) == var.kms_data_key_reuse_period_seconds
    error_message = "kms_data_key_reuse_period_seconds must be a whole number between 60 and 900."
  }
}

variable "tracing_enabled" {
  description = "Send X-Ray traces of every execution."
  type        = bool
  default     = true
  nullable    = false
}

variable "log_level" {
  description = "Execution logging level: ALL, ERROR, FATAL or OFF (OFF creates no log group and grants no log-delivery permissions)."
  type        = string
  default     = "ALL"
  nullable    = false

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.log_level)
    error_message = "log_level must be ALL, ERROR, FATAL or OFF."
  }
}

variable "log_include_execution_data" {
  description = "Include execution input, output and state data in the logs. Off by default: events may carry personal or secret data."
  type        = bool
  default     = false
  nullable    = false
}

variable "log_retention_in_days" {
  description = "Retention of the execution log group (a CloudWatch Logs allowed value; 0 = never expire)."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "policy_statements" {
  description = "Extra inline IAM statements for the state machine role, for the Task states of your definition (the built-in router needs none). Actions must be explicit (no '*')."
  type = list(object({
    sid       = optional(string)
    effect    = optional(string, "Allow")
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default  = []
  nullable = false

  validation {
    condition = alltrue(flatten([
      for s in var.policy_statements : [for a in s.actions : can(regex("^[a-z0-9-]+:[A-Za-z0-9]+$", a))]
    ])) && alltrue([for s in var.policy_statements : length(s.actions) > 0])
    error_message = "policy_statements[*].actions must be non-empty lists of explicit service:Action names; wildcards ('*') are not allowed."
  }

  validation {
    condition     = alltrue([for s in var.policy_statements : length(s.resources) > 0])
    error_message = "policy_statements[*].resources must not be empty."
  }

  validation {
    condition     = alltrue([for s in var.policy_statements : contains(["Allow", "Deny"], s.effect)])
    error_message = "policy_statements[*].effect must be Allow or Deny."
  }

  validation {
    condition     = alltrue([for s in var.policy_statements : s.sid == null || can(regex("^[A-Za-z0-9]+$", coalesce(s.sid, "x")))])
    error_message = "policy_statements[*].sid may only contain letters and digits."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of a permissions boundary policy for the state machine role and the events role."
  type        = string
  default     = null

  validation {
    condition     = var.role_permissions_boundary == null || can(regex("^arn:aws[a-zA-Z-]*:iam::([0-9]{12}|aws):policy/.+$", coalesce(var.role_permissions_boundary, "x")))
    error_message = "role_permissions_boundary must be an IAM policy ARN."
  }
}
