variable "create" {
  description = "Whether to create any resources. When false the module is a no-op and every output is null."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Function name. Also names the log group (/aws/lambda/<name>), the IAM role (unless role_name is set) and the DLQ (<name>-dlq)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1-64 characters of letters, digits, '-' or '_' (Lambda function naming rules)."
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
  description = "Function description."
  type        = string
  default     = null

  validation {
    condition     = var.description == null || try(length(var.description) <= 256, false)
    error_message = "description must be at most 256 characters."
  }
}

variable "package" {
  description = <<-EOT
    Deployment package. null (default) uses the repository's committed package dist/lambda.zip.
    Otherwise give exactly one source: `filename` (local zip) or `s3_bucket` + `s3_key` (+ optional
    `s3_object_version`). `source_code_hash` defaults to filebase64sha256(filename) for local packages.
  EOT
  type = object({
    filename          = optional(string)
    s3_bucket         = optional(string)
    s3_key            = optional(string)
    s3_object_version = optional(string)
    source_code_hash  = optional(string)
  })
  default = null

  validation {
    condition = var.package == null ? true : (
      (var.package.filename != null) != (var.package.s3_bucket != null || var.package.s3_key != null)
      && (var.package.s3_bucket == null) == (var.package.s3_key == null)
      && (var.package.s3_object_version == null || var.package.s3_key != null)
    )
    error_message = "package needs exactly one source: either filename, or s3_bucket together with s3_key (s3_object_version only with S3)."
  }

  validation {
    condition     = var.package == null ? true : (var.package.filename == null || endswith(coalesce(var.package.filename, "x"), ".zip"))
    error_message = "package.filename must point to a .zip file."
  }
}

variable "handler" {
  description = "Function entry point, module.function (e.g. notification_handlers.root_activity.handler)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+$", var.handler)) && length(var.handler) <= 128
    error_message = "handler must look like package.module.function (dotted Python identifiers, at most 128 characters)."
  }
}

variable "runtime" {
  description = "Python runtime. The packaged handlers ship python3.12 bytecode; on python3.11 or python3.13 every cold start compiles the sources instead (about 35-60 ms more, docs/benchmarks.md)."
  type        = string
  default     = "python3.12"
  nullable    = false

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.runtime)
    error_message = "runtime must be one of the supported Python runtimes (the handlers need 3.11+): python3.11, python3.12, python3.13."
  }
}

variable "architecture" {
  description = "Instruction set architecture: arm64 (default, cheaper) or x86_64."
  type        = string
  default     = "arm64"
  nullable    = false

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "timeout" {
  description = "Function timeout in seconds (1-900)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds between 1 and 900."
  }
}

variable "memory_size" {
  description = "Memory in MB (128-10240)."
  type        = number
  default     = 256
  nullable    = false

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB between 128 and 10240."
  }
}

variable "environment_variables" {
  description = "Environment variables (encrypted at rest with kms_key_arn)."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k in keys(var.environment_variables) : can(regex("^[A-Za-z][A-Za-z0-9_]*$", k)) && !startswith(k, "AWS_")])
    error_message = "Environment variable names must start with a letter, contain only letters, digits and '_', and must not use the reserved AWS_ prefix."
  }
}

variable "log_level" {
  description = "Log level of the handler: sets POWERTOOLS_LOG_LEVEL, read by this project's handlers and by Powertools ones (over any in environment_variables). null (default) = leave the environment as given."
  type        = string
  default     = null

  validation {
    condition     = var.log_level == null || contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], coalesce(var.log_level, "x"))
    error_message = "log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL (Python logging levels; not WARN or TRACE)."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency. null = unreserved (uses the account pool); 0 disables the function."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrent_executions == null || try(var.reserved_concurrent_executions >= 0 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions, false)
    error_message = "reserved_concurrent_executions must be null (unreserved) or a whole number >= 0."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing mode."
  type        = string
  default     = "Active"
  nullable    = false

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough."
  }
}

variable "publish" {
  description = "Publish a new version on every change."
  type        = bool
  default     = false
  nullable    = false
}

variable "code_signing_config_arn" {
  description = "ARN of a Lambda code signing configuration (`aws_lambda_code_signing_config`) whose allowed AWS Signer profiles must have signed the package. With an `Enforce` policy, pass a signed package (`package` = the S3 object an `aws_signer_signing_job` wrote): the committed dist/lambda.zip is unsigned. null = no code signing."
  type        = string
  default     = null

  validation {
    condition     = var.code_signing_config_arn == null || can(regex("^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:code-signing-config:csc-[a-z0-9]{17}$", coalesce(var.code_signing_config_arn, "x")))
    error_message = "code_signing_config_arn must be a Lambda code signing config ARN like arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-0123456789abcdef0."
  }
}

variable "kms_key_arn" {
  description = "Required (null is accepted only with create = false). Customer-managed KMS key ARN for the environment variables, the log group and the module-created DLQ. Its key policy must let logs.<region>.amazonaws.com use it for /aws/lambda/<name> (see the kms-key module's cloudwatch_logs_log_group_arns)."
  type        = string

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", coalesce(var.kms_key_arn, "x")))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); CloudWatch Logs does not accept alias ARNs."
  }
}

variable "log_retention_in_days" {
  description = "Log retention in days. Must be a value CloudWatch Logs accepts; 0 means never expire."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "maximum_retry_attempts" {
  description = "Retries for asynchronous invocations that fail (0-2) before the event goes to the DLQ."
  type        = number
  default     = 2
  nullable    = false

  validation {
    condition     = contains([0, 1, 2], var.maximum_retry_attempts)
    error_message = "maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "maximum_event_age_in_seconds" {
  description = "Maximum age of an asynchronous event before it is discarded/dead-lettered (60-21600)."
  type        = number
  default     = 21600
  nullable    = false

  validation {
    condition     = var.maximum_event_age_in_seconds >= 60 && var.maximum_event_age_in_seconds <= 21600 && floor(var.maximum_event_age_in_seconds) == var.maximum_event_age_in_seconds
    error_message = "maximum_event_age_in_seconds must be a whole number between 60 and 21600."
  }
}

variable "create_dead_letter_queue" {
  description = "Create a CMK-encrypted SQS queue (<name>-dlq) as the asynchronous-invocation dead-letter target. Set to false when passing dead_letter_target_arn or to run without a DLQ."
  type        = bool
  default     = true
  nullable    = false
}

variable "dead_letter_target_arn" {
  description = "Existing SQS queue or SNS topic ARN to use as the dead-letter target (requires create_dead_letter_queue = false). The function role gets sqs:SendMessage / sns:Publish on it; its CMK must be kms_key_arn or be granted via policy_statements."
  type        = string
  default     = null

  validation {
    condition     = var.dead_letter_target_arn == null || can(regex("^arn:aws[a-zA-Z-]*:(sqs|sns):[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+$", var.dead_letter_target_arn))
    error_message = "dead_letter_target_arn must be an SQS queue or SNS topic ARN."
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

variable "policy_statements" {
  description = "Extra inline IAM statements for the function role. Actions must be explicit (no '*')."
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

variable "role_name" {
  description = "IAM role name. Defaults to the function name. IAM names are global per account: override it when deploying the same function name in several regions."
  type        = string
  default     = null

  validation {
    condition     = var.role_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", coalesce(var.role_name, "x")))
    error_message = "role_name must be 1-64 characters of letters, digits and +=,.@_-."
  }
}

variable "role_path" {
  description = "IAM role path."
  type        = string
  default     = "/"
  nullable    = false

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.role_path))
    error_message = "role_path must start and end with '/' (e.g. \"/\" or \"/service/\")."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of a permissions boundary policy for the role."
  type        = string
  default     = null

  validation {
    condition     = var.role_permissions_boundary == null || can(regex("^arn:aws[a-zA-Z-]*:iam::([0-9]{12}|aws):policy/.+$", coalesce(var.role_permissions_boundary, "x")))
    error_message = "role_permissions_boundary must be an IAM policy ARN."
  }
}
