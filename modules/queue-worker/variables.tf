variable "create" {
  description = "Whether to create any resources. When false the module is a no-op and every output is null."
  type        = bool
  default     = true
  nullable    = false
}

variable "queue_name" {
  description = "Name of the work queue; its dead-letter queue is \"<queue_name>-dlq\"."
  type        = string
  nullable    = false

  validation {
    # 71 + "-dlq" stays within the 75 characters modules/sqs-queue accepts.
    condition     = can(regex("^[A-Za-z0-9_-]{1,71}$", var.queue_name))
    error_message = "queue_name must be 1-71 characters of letters, digits, '-' or '_' (the DLQ adds \"-dlq\"; SQS allows 80)."
  }
}

variable "function" {
  description = <<-EOT
    The worker function, passed through to modules/lambda-function (which validates every field): name,
    description, handler, runtime, architecture, package, code_signing_config_arn, log_retention_in_days,
    tracing_mode, environment_variables and policy_statements (the module adds the statement that lets the
    function consume its queue). Timeout and memory come from `tuning`.
  EOT
  type = object({
    name                    = string
    description             = optional(string)
    handler                 = string
    runtime                 = optional(string, "python3.12")
    architecture            = optional(string, "arm64")
    code_signing_config_arn = optional(string)
    log_retention_in_days   = optional(number, 365)
    tracing_mode            = optional(string, "Active")
    environment_variables   = optional(map(string), {})
    package = optional(object({
      filename          = optional(string)
      s3_bucket         = optional(string)
      s3_key            = optional(string)
      s3_object_version = optional(string)
      source_code_hash  = optional(string)
    }))
    policy_statements = optional(list(object({
      sid       = optional(string)
      effect    = optional(string, "Allow")
      actions   = list(string)
      resources = list(string)
      conditions = optional(list(object({
        test     = string
        variable = string
        values   = list(string)
      })), [])
    })), [])
  })
  nullable = false
}

variable "tuning" {
  description = <<-EOT
    The event source mapping and the function.
      batch_size / maximum_batching_window_in_seconds - records per invocation and how long SQS gathers them
                            (a batch above 10 needs a window of at least 1 s)
      maximum_concurrency - at most this many concurrent invocations from the queue (2-1000)
      max_receive_count   - receives before a message moves to the DLQ
      timeout / memory_size - of the function; the queue's visibility timeout is 6 x timeout + the window
  EOT
  type = object({
    batch_size                         = optional(number, 10)
    maximum_batching_window_in_seconds = optional(number, 0)
    maximum_concurrency                = optional(number, 5)
    max_receive_count                  = optional(number, 5)
    timeout                            = optional(number, 60)
    memory_size                        = optional(number, 256)
  })
  default  = {}
  nullable = false

  validation {
    condition = (
      var.tuning.batch_size >= 1 && var.tuning.batch_size <= 10000 && floor(var.tuning.batch_size) == var.tuning.batch_size &&
      var.tuning.maximum_batching_window_in_seconds >= 0 && var.tuning.maximum_batching_window_in_seconds <= 300 &&
      (var.tuning.batch_size <= 10 || var.tuning.maximum_batching_window_in_seconds >= 1)
    )
    error_message = "tuning: batch_size must be a whole number 1-10000 and maximum_batching_window_in_seconds 0-300; a batch_size above 10 needs a window of at least 1 second (SQS event source rule)."
  }

  validation {
    condition = (
      var.tuning.maximum_concurrency >= 2 && var.tuning.maximum_concurrency <= 1000 && floor(var.tuning.maximum_concurrency) == var.tuning.maximum_concurrency &&
      var.tuning.max_receive_count >= 1 && var.tuning.max_receive_count <= 1000 && floor(var.tuning.max_receive_count) == var.tuning.max_receive_count
    )
    error_message = "tuning: maximum_concurrency must be a whole number 2-1000 (SQS event source limits) and max_receive_count 1-1000."
  }

  validation {
    # 6 x 900 + 300 stays within SQS's 12-hour visibility limit; 900 s is also Lambda's maximum.
    condition = (
      var.tuning.timeout >= 1 && var.tuning.timeout <= 900 && floor(var.tuning.timeout) == var.tuning.timeout &&
      var.tuning.memory_size >= 128 && var.tuning.memory_size <= 10240 && floor(var.tuning.memory_size) == var.tuning.memory_size
    )
    error_message = "tuning: timeout must be 1-900 seconds and memory_size 128-10240 MB (whole numbers)."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed key of both queues, the function's environment and its log group. Required when create = true."
  type        = string
  default     = null
}

variable "queue_service_senders" {
  description = "AWS services allowed to send to the work queue (modules/sqs-queue service_senders), e.g. an EventBridge rule. Roles of this account need no entry."
  type = map(object({
    service     = string
    source_arns = list(string)
  }))
  default  = {}
  nullable = false
}

variable "dlq_service_senders" {
  description = "AWS services allowed to send to the dead-letter queue (modules/sqs-queue service_senders), e.g. a rule's or a bus's DLQ."
  type = map(object({
    service     = string
    source_arns = list(string)
  }))
  default  = {}
  nullable = false
}

variable "tags" {
  description = "Tags applied to every taggable resource (modules/sqs-queue and modules/lambda-function validate them)."
  type        = map(string)
  default     = {}
  nullable    = false
}
