variable "create" {
  description = "Whether to create any resources. When false the module is a no-op and every output is null."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Base name of every resource (table, topic, key alias, pipe, role <name>-pipe, DLQ <name>-dlq)."
  type        = string
  default     = "dynamodb-stream-alerts"
  nullable    = false

  validation {
    # 40 leaves room for the suffixes while staying under the 64-character pipe/IAM limits.
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

variable "table" {
  description = <<-EOT
    The table the module creates (on-demand, point-in-time recovery, encrypted with the module's CMK, stream on).
    Set to null and set existing_stream instead to alert on a table you manage.
      name                - table name; null = var.name
      hash_key            - partition key attribute (default "paymentId"), hash_key_type S, N or B
      range_key           - optional sort key attribute, range_key_type S, N or B
      stream_view_type    - NEW_IMAGE (default) or NEW_AND_OLD_IMAGES (the filter reads the new image)
      deletion_protection - default true; set false for throwaway environments so destroy can delete it
  EOT
  type = object({
    name                = optional(string)
    hash_key            = optional(string, "paymentId")
    hash_key_type       = optional(string, "S")
    range_key           = optional(string)
    range_key_type      = optional(string, "S")
    stream_view_type    = optional(string, "NEW_IMAGE")
    deletion_protection = optional(bool, true)
  })
  default = {}

  validation {
    condition     = var.table == null || try(var.table.name == null || can(regex("^[A-Za-z0-9_.-]{3,255}$", var.table.name)), false)
    error_message = "table.name must be 3-255 characters of letters, digits, '_', '-' or '.'."
  }

  validation {
    condition = var.table == null || try(
      length(var.table.hash_key) >= 1 && length(var.table.hash_key) <= 255 && (var.table.range_key == null || try(length(var.table.range_key) >= 1 && length(var.table.range_key) <= 255, false)),
      false
    )
    error_message = "table.hash_key and table.range_key must be 1-255 characters."
  }

  validation {
    condition     = var.table == null || try(contains(["S", "N", "B"], var.table.hash_key_type) && contains(["S", "N", "B"], var.table.range_key_type), false)
    error_message = "table.hash_key_type and table.range_key_type must be S, N or B."
  }

  validation {
    condition     = var.table == null || try(contains(["NEW_IMAGE", "NEW_AND_OLD_IMAGES"], var.table.stream_view_type), false)
    error_message = "table.stream_view_type must be NEW_IMAGE or NEW_AND_OLD_IMAGES (the alert filter reads the new image)."
  }
}

variable "existing_stream" {
  description = <<-EOT
    The stream of a table you manage (instead of `table`; set table = null). The stream must include new images.
      arn         - the table's latest stream ARN (aws_dynamodb_table.x.stream_arn)
      kms_key_arn - the table's customer-managed key, if any: the pipe role gets kms:Decrypt on it via DynamoDB
  EOT
  type = object({
    arn         = string
    kms_key_arn = optional(string)
  })
  default = null

  validation {
    condition     = var.existing_stream == null || try(can(regex("^arn:aws[a-zA-Z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}/stream/.+$", var.existing_stream.arn)), false)
    error_message = "existing_stream.arn must be a DynamoDB stream ARN (arn:aws:dynamodb:us-east-1:123456789012:table/name/stream/2024-01-01T00:00:00.000)."
  }

  validation {
    condition     = var.existing_stream == null || try(var.existing_stream.kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.existing_stream.kms_key_arn)), false)
    error_message = "existing_stream.kms_key_arn must be a KMS key ARN (arn:aws:kms:us-east-1:123456789012:key/...)."
  }
}

variable "alert_attribute" {
  description = "String attribute of the new image the default filter and message read (the payment status)."
  type        = string
  default     = "status"
  nullable    = false

  validation {
    # Also keeps the attribute usable as a JSON path segment in the input template.
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.alert_attribute))
    error_message = "alert_attribute must be 1-255 characters of letters, digits, '_' or '-'."
  }
}

variable "alert_values" {
  description = "Values of alert_attribute that raise an alert (default filter)."
  type        = list(string)
  default     = ["Not Authorised"]
  nullable    = false

  validation {
    condition     = length(var.alert_values) > 0 && alltrue([for v in var.alert_values : length(v) > 0])
    error_message = "alert_values must be a non-empty list of non-empty strings."
  }
}

variable "alert_event_names" {
  description = "Stream event names the default filter passes: INSERT, MODIFY and/or REMOVE."
  type        = list(string)
  default     = ["INSERT", "MODIFY"]
  nullable    = false

  validation {
    condition     = length(var.alert_event_names) > 0 && alltrue([for e in var.alert_event_names : contains(["INSERT", "MODIFY", "REMOVE"], e)])
    error_message = "alert_event_names must be a non-empty list of INSERT, MODIFY and REMOVE."
  }
}

variable "filter_patterns" {
  description = <<-EOT
    Pipe filter patterns (JSON strings, at most 5, matched against the stream record in DynamoDB JSON,
    e.g. {"dynamodb":{"NewImage":{"status":{"S":["Not Authorised"]}}}}). null (default) = one pattern built
    from alert_event_names, alert_attribute and alert_values. A record passes if any pattern matches.
  EOT
  type        = list(string)
  default     = null

  validation {
    condition     = var.filter_patterns == null || try(length(var.filter_patterns) >= 1 && length(var.filter_patterns) <= 5, false)
    error_message = "filter_patterns must hold 1-5 patterns (the Pipes limit), or be null for the default."
  }

  validation {
    condition     = var.filter_patterns == null || try(alltrue([for p in var.filter_patterns : can(keys(jsondecode(p))) && length(p) <= 4096]), false)
    error_message = "Each filter_patterns entry must be a JSON object string of at most 4096 characters, e.g. jsonencode({ eventName = [\"INSERT\"] })."
  }
}

variable "alert_message" {
  description = <<-EOT
    Wording of the default input template (ignored when input_template is set).
      title            - first line of the alert
      id_label         - label of the item identifier line
      id_attribute     - string attribute shown as the identifier; null = the table's hash key (or paymentId)
      amount_attribute - number attribute shown as the amount
  EOT
  type = object({
    title            = optional(string, "Payment not authorised")
    id_label         = optional(string, "Payment ID")
    id_attribute     = optional(string)
    amount_attribute = optional(string, "amount")
  })
  default  = {}
  nullable = false

  validation {
    condition = alltrue([
      for a in [coalesce(var.alert_message.id_attribute, "x"), var.alert_message.amount_attribute] : can(regex("^[A-Za-z0-9_-]{1,255}$", a))
    ])
    error_message = "alert_message.id_attribute and amount_attribute must be 1-255 characters of letters, digits, '_' or '-' (JSON path segments)."
  }

  validation {
    condition     = length(var.alert_message.title) > 0 && length(var.alert_message.title) <= 200 && length(var.alert_message.id_label) > 0 && length(var.alert_message.id_label) <= 100
    error_message = "alert_message.title must be 1-200 and alert_message.id_label 1-100 characters."
  }

  validation {
    # "<" and ">" delimit template placeholders.
    condition     = !can(regex("[<>]", "${var.alert_message.title}${var.alert_message.id_label}"))
    error_message = "alert_message.title and id_label must not contain '<' or '>'."
  }
}

variable "input_template" {
  description = <<-EOT
    Pipes input template that turns a stream record into the alert text (target_parameters.input_template),
    e.g. "Payment <$.dynamodb.NewImage.paymentId.S> was declined". null (default) = a readable message with
    the item ID, amount, status and time. Strings are inserted without quotes; quote them yourself in JSON.
  EOT
  type        = string
  default     = null

  validation {
    condition     = var.input_template == null || try(length(var.input_template) >= 1 && length(var.input_template) <= 8192, false)
    error_message = "input_template must be 1-8192 characters."
  }
}

variable "source_parameters" {
  description = <<-EOT
    How the pipe reads the stream.
      starting_position                  - LATEST (default) or TRIM_HORIZON
      batch_size                         - 1-10 records per batch (default 10; SNS targets take at most 10)
      maximum_batching_window_in_seconds - 0-300 (default 0: no waiting)
      maximum_record_age_in_seconds      - -1 (infinite) or 60-604800 (default 86400); older records are dead-lettered
      maximum_retry_attempts             - -1 (infinite) or 0-10000 (default 10); then the record is dead-lettered
      bisect_batch_on_failure            - split a failing batch in two and retry each half (default true)
      parallelization_factor             - 1-10 concurrent batches per shard (default 1)
  EOT
  type = object({
    starting_position                  = optional(string, "LATEST")
    batch_size                         = optional(number, 10)
    maximum_batching_window_in_seconds = optional(number, 0)
    maximum_record_age_in_seconds      = optional(number, 86400)
    maximum_retry_attempts             = optional(number, 10)
    bisect_batch_on_failure            = optional(bool, true)
    parallelization_factor             = optional(number, 1)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["LATEST", "TRIM_HORIZON"], var.source_parameters.starting_position)
    error_message = "source_parameters.starting_position must be LATEST or TRIM_HORIZON."
  }

  validation {
    # A DynamoDB stream source allows 1-10000, but a pipe's batch size cannot exceed its target's: SNS takes 10.
    condition     = var.source_parameters.batch_size >= 1 && var.source_parameters.batch_size <= 10 && floor(var.source_parameters.batch_size) == var.source_parameters.batch_size
    error_message = "source_parameters.batch_size must be a whole number between 1 and 10 (stream sources allow up to 10000, but an SNS target takes at most 10 per batch)."
  }

  validation {
    condition     = var.source_parameters.maximum_batching_window_in_seconds >= 0 && var.source_parameters.maximum_batching_window_in_seconds <= 300 && floor(var.source_parameters.maximum_batching_window_in_seconds) == var.source_parameters.maximum_batching_window_in_seconds
    error_message = "source_parameters.maximum_batching_window_in_seconds must be a whole number between 0 and 300."
  }

  validation {
    condition     = floor(var.source_parameters.maximum_record_age_in_seconds) == var.source_parameters.maximum_record_age_in_seconds && (var.source_parameters.maximum_record_age_in_seconds == -1 || (var.source_parameters.maximum_record_age_in_seconds >= 60 && var.source_parameters.maximum_record_age_in_seconds <= 604800))
    error_message = "source_parameters.maximum_record_age_in_seconds must be -1 (infinite) or a whole number between 60 and 604800."
  }

  validation {
    condition     = var.source_parameters.maximum_retry_attempts >= -1 && var.source_parameters.maximum_retry_attempts <= 10000 && floor(var.source_parameters.maximum_retry_attempts) == var.source_parameters.maximum_retry_attempts
    error_message = "source_parameters.maximum_retry_attempts must be -1 (infinite) or a whole number between 0 and 10000."
  }

  validation {
    condition     = var.source_parameters.parallelization_factor >= 1 && var.source_parameters.parallelization_factor <= 10 && floor(var.source_parameters.parallelization_factor) == var.source_parameters.parallelization_factor
    error_message = "source_parameters.parallelization_factor must be a whole number between 1 and 10."
  }
}

variable "pipe_name" {
  description = "Name of the pipe. null (default) = name."
  type        = string
  default     = null

  validation {
    condition     = var.pipe_name == null || can(regex("^[.\\-_A-Za-z0-9]{1,64}$", coalesce(var.pipe_name, "x")))
    error_message = "pipe_name must be 1-64 characters of letters, digits, '.', '-' or '_'."
  }
}

variable "pipe_description" {
  description = "Description of the pipe."
  type        = string
  default     = "DynamoDB stream records that match the alert filter, published to the alert topic"
  nullable    = false

  validation {
    condition     = length(var.pipe_description) <= 512
    error_message = "pipe_description must be at most 512 characters."
  }
}

variable "pipe_desired_state" {
  description = "RUNNING (default) or STOPPED."
  type        = string
  default     = "RUNNING"
  nullable    = false

  validation {
    condition     = contains(["RUNNING", "STOPPED"], var.pipe_desired_state)
    error_message = "pipe_desired_state must be RUNNING or STOPPED."
  }
}

variable "encrypt_pipe_data" {
  description = "Encrypt the pipe's stored configuration (filter patterns, input template) with the module's CMK instead of an AWS-owned key."
  type        = bool
  default     = true
  nullable    = false
}

variable "role_name" {
  description = "Name of the pipe's execution role. null (default) = <name>-pipe."
  type        = string
  default     = null

  validation {
    condition     = var.role_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", coalesce(var.role_name, "x")))
    error_message = "role_name must be 1-64 characters of letters, digits or +=,.@_-."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of a permissions boundary for the pipe's role (null = none)."
  type        = string
  default     = null

  validation {
    condition     = var.role_permissions_boundary == null || can(regex("^arn:aws[a-zA-Z-]*:iam::([0-9]{12}|aws):policy/.+$", coalesce(var.role_permissions_boundary, "x")))
    error_message = "role_permissions_boundary must be an IAM policy ARN."
  }
}

variable "kms_key" {
  description = "The module's CMK, passed to the kms-key module, which validates it: aliases (without \"alias/\"; null = [name]) and deletion_window_in_days (7-30, default 30)."
  type        = object({ aliases = optional(list(string)), deletion_window_in_days = optional(number) })
  default     = {}
  nullable    = false
}

variable "dead_letter_queue_message_retention_seconds" {
  description = "How long records that could not be delivered stay in the DLQ (60-1209600 seconds; default 14 days)."
  type        = number
  default     = 1209600
  nullable    = false

  validation {
    condition     = var.dead_letter_queue_message_retention_seconds >= 60 && var.dead_letter_queue_message_retention_seconds <= 1209600 && floor(var.dead_letter_queue_message_retention_seconds) == var.dead_letter_queue_message_retention_seconds
    error_message = "dead_letter_queue_message_retention_seconds must be a whole number between 60 and 1209600."
  }
}

variable "sns_topic_display_name" {
  description = "Display name of the alert topic (sender name of the emails; at most 100 characters, checked by the sns-topic module)."
  type        = string
  default     = "Payment alerts"
  nullable    = false
}

variable "subscriptions" {
  description = "Alert subscriptions keyed by endpoint, e.g. { \"payments-team@example.com\" = {} }. Email endpoints must confirm the subscription. The sns-topic module checks each endpoint against its protocol."
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
