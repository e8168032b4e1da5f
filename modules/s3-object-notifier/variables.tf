variable "create" {
  description = "Whether to create any resources. When false the module is a no-op and every output is null."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Base name of every resource (key alias, function, role, log group, DLQ <name>-dlq, default bucket name)."
  type        = string
  default     = "s3-object-notifier"
  nullable    = false

  validation {
    # Lowercase because it also seeds the default bucket name; 40 leaves room for suffixes under the
    # 63-character S3 and 64-character Lambda/IAM limits.
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,39}$", var.name))
    error_message = "name must be 1-40 characters of lowercase letters, digits or '-', starting with a letter or digit."
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

variable "bucket" {
  description = <<-EOT
    The watched bucket: set exactly one of
      create   - a new bucket with secure defaults (public access blocked, SSE-KMS with the module's CMK and
                 an S3 bucket key, versioning, TLS-only policy, BucketOwnerEnforced):
                   name                               - null (default) = "<name>-<account id>-<region>"
                   force_destroy                      - let destroy delete every object version (default false)
                   noncurrent_version_expiration_days - delete old versions after N days (default 90, null = keep)
                   abort_incomplete_multipart_days    - abort unfinished uploads after N days (default 7)
                   access_logging                     - S3 server access logging (default off):
                     { target_bucket = "my-log-bucket", target_prefix = "s3/" } (prefix default "<bucket name>/").
                     The target bucket must be another bucket in the same account and region, encrypted with
                     SSE-S3 (server access logs cannot be written with SSE-KMS) and its policy must allow
                     logging.s3.amazonaws.com to s3:PutObject, scoped by aws:SourceArn / aws:SourceAccount.
      existing - { name = "my-bucket" }: an existing bucket in this account and region. The module then manages
                 its notification configuration, which REPLACES any the bucket already has.
  EOT
  type = object({
    create = optional(object({
      name                               = optional(string)
      force_destroy                      = optional(bool, false)
      noncurrent_version_expiration_days = optional(number, 90)
      abort_incomplete_multipart_days    = optional(number, 7)
      access_logging = optional(object({
        target_bucket = string
        target_prefix = optional(string)
      }))
    }))
    existing = optional(object({
      name = string
    }))
  })
  default  = { create = {} }
  nullable = false

  validation {
    condition     = (var.bucket.create == null) != (var.bucket.existing == null)
    error_message = "bucket needs exactly one of create = { ... } (a new bucket) or existing = { name = \"...\" }."
  }

  validation {
    condition = alltrue([
      for n in compact([try(var.bucket.create.name, null), try(var.bucket.existing.name, null)]) :
      can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", n)) && !can(regex("\\.\\.|^\\d+\\.\\d+\\.\\d+\\.\\d+$|^xn--|-s3alias$|--ol-s3$", n))
    ])
    error_message = "bucket name must be a valid S3 bucket name: 3-63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit, not an IP address."
  }

  validation {
    condition = var.bucket.create == null ? true : (
      try(var.bucket.create.noncurrent_version_expiration_days == null, true) ||
      try(var.bucket.create.noncurrent_version_expiration_days >= 1 && floor(var.bucket.create.noncurrent_version_expiration_days) == var.bucket.create.noncurrent_version_expiration_days, false)
    )
    error_message = "bucket.create.noncurrent_version_expiration_days must be null (keep old versions) or a whole number of days >= 1."
  }

  validation {
    condition = var.bucket.create == null ? true : try(
      var.bucket.create.abort_incomplete_multipart_days >= 1 && floor(var.bucket.create.abort_incomplete_multipart_days) == var.bucket.create.abort_incomplete_multipart_days,
      false
    )
    error_message = "bucket.create.abort_incomplete_multipart_days must be a whole number of days >= 1."
  }

  validation {
    condition = try(var.bucket.create.access_logging, null) == null ? true : (
      can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket.create.access_logging.target_bucket))
      && try(var.bucket.create.access_logging.target_bucket != var.bucket.create.name, true)
      && try(length(var.bucket.create.access_logging.target_prefix) <= 512, true)
    )
    error_message = "bucket.create.access_logging.target_bucket must be a valid S3 bucket name other than the watched bucket (logging a bucket into itself loops), and target_prefix at most 512 characters."
  }
}

variable "notifications" {
  description = <<-EOT
    S3 event notifications to the function, keyed by configuration id (shown in the emails' records as
    s3.configurationId). events are S3 event names (not IAM actions): s3:ObjectCreated:* / :Put / :Post /
    :Copy / :CompleteMultipartUpload, s3:ObjectRemoved:* / :Delete / :DeleteMarkerCreated. S3 rejects two
    entries whose events and prefix/suffix filters overlap.
  EOT
  type = map(object({
    events        = optional(list(string), ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    filter_prefix = optional(string)
    filter_suffix = optional(string)
  }))
  default  = { objects = {} }
  nullable = false

  validation {
    condition     = length(var.notifications) > 0
    error_message = "notifications needs at least one entry, e.g. { objects = {} }."
  }

  validation {
    condition     = alltrue([for k in keys(var.notifications) : can(regex("^[A-Za-z0-9_-]{1,64}$", k))])
    error_message = "notifications keys (configuration ids) must be 1-64 characters of letters, digits, '-' or '_'."
  }

  validation {
    condition = alltrue(flatten([
      for n in values(var.notifications) : [
        for e in n.events : contains([
          "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
          "s3:ObjectCreated:CompleteMultipartUpload",
          "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
        ], e)
      ]
    ]))
    error_message = "notifications[*].events must be S3 event names: s3:ObjectCreated:* (or :Put, :Post, :Copy, :CompleteMultipartUpload), s3:ObjectRemoved:* (or :Delete, :DeleteMarkerCreated)."
  }

  validation {
    condition     = alltrue([for n in values(var.notifications) : length(n.events) > 0 && length(distinct(n.events)) == length(n.events)])
    error_message = "notifications[*].events must be a non-empty list without duplicates."
  }

  validation {
    # A wildcard already covers its specific events; S3 answers "Configurations overlap" otherwise.
    condition = alltrue([
      for n in values(var.notifications) : !(
        (contains(n.events, "s3:ObjectCreated:*") && length([for e in n.events : e if startswith(e, "s3:ObjectCreated:")]) > 1) ||
        (contains(n.events, "s3:ObjectRemoved:*") && length([for e in n.events : e if startswith(e, "s3:ObjectRemoved:")]) > 1)
      )
    ])
    error_message = "notifications[*].events must not list a specific event together with its wildcard (s3:ObjectCreated:* already covers s3:ObjectCreated:Put)."
  }

  validation {
    condition = alltrue(flatten([
      for n in values(var.notifications) : [
        for f in compact([n.filter_prefix, n.filter_suffix]) : length(f) <= 1024
      ]
    ]))
    error_message = "notifications[*].filter_prefix and filter_suffix must be at most 1024 characters (empty strings: use null)."
  }
}

variable "sender_email" {
  description = "From address of the emails. It must be a verified SES identity, or belong to a verified domain identity (see ses_identity)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[^@\\s,;<>\"]+@[^@\\s,;<>\"]+\\.[A-Za-z]{2,}$", var.sender_email))
    error_message = "sender_email must be an email address (alerts@example.com)."
  }
}

variable "recipients" {
  description = "Email addresses every notification is sent to (one message per S3 record, all recipients in To; at most 50, the SES limit)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.recipients) >= 1 && length(var.recipients) <= 50
    error_message = "recipients must hold 1-50 email addresses (SES accepts at most 50 per message)."
  }

  validation {
    condition     = alltrue([for e in var.recipients : can(regex("^[^@\\s,;<>\"]+@[^@\\s,;<>\"]+\\.[A-Za-z]{2,}$", e))])
    error_message = "recipients must be email addresses (name@example.com)."
  }

  validation {
    condition     = length(distinct(var.recipients)) == length(var.recipients)
    error_message = "recipients must not contain duplicates."
  }
}

variable "ses_identity" {
  description = <<-EOT
    The SES (v2) identity that authorizes sender_email.
      name   - the identity: an email address or a domain. null (default) = sender_email. A domain identity
               authorizes every address of that domain (and its subdomains).
      create - true: the module creates it (aws_sesv2_email_identity; an email identity receives a verification
               link, a domain identity needs the DKIM CNAMEs in the output ses_identity_dkim_tokens).
               false (default): it already exists and is verified.
    The function may send only from this identity (ses:SendEmail on its ARN).
  EOT
  type = object({
    name   = optional(string)
    create = optional(bool, false)
  })
  default  = {}
  nullable = false

  validation {
    condition = var.ses_identity.name == null ? true : (
      can(regex("^[^@\\s,;<>\"]+@[^@\\s,;<>\"]+\\.[A-Za-z]{2,}$", var.ses_identity.name)) ||
      can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.ses_identity.name))
    )
    error_message = "ses_identity.name must be an email address or a lowercase domain name (example.com)."
  }
}

variable "ses_configuration_set_name" {
  description = "Existing SES configuration set to send with (event publishing, suppression, dedicated IPs). null = none. The function is granted ses:SendEmail on it too."
  type        = string
  default     = null

  validation {
    condition     = var.ses_configuration_set_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", coalesce(var.ses_configuration_set_name, "x")))
    error_message = "ses_configuration_set_name must be 1-64 characters of letters, digits, '-' or '_'."
  }
}

variable "subject_prefix" {
  description = "Text put before every subject, e.g. \"[prod]\". Empty = none."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = length(var.subject_prefix) <= 40 && !can(regex("[\\r\\n]", var.subject_prefix))
    error_message = "subject_prefix must be at most 40 characters on one line."
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

variable "lambda_function_name" {
  description = "Name of the Lambda function (and its role and log group). null (default) = name."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_function_name == null || can(regex("^[A-Za-z0-9_-]{1,60}$", coalesce(var.lambda_function_name, "x")))
    error_message = "lambda_function_name must be 1-60 characters of letters, digits, '-' or '_' (the DLQ adds \"-dlq\")."
  }
}

variable "lambda_runtime" {
  description = "Python runtime of the function. The packaged handlers ship python3.12 bytecode; on python3.11 or python3.13 every cold start compiles the sources instead (about 35-60 ms more, docs/benchmarks.md)."
  type        = string
  default     = "python3.12"
  nullable    = false

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be one of python3.11, python3.12, python3.13."
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

variable "lambda_timeout" {
  description = "Function timeout in seconds (1-900). An event holds few records; each is one SES call."
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
  description = "Reserved concurrency of the function (caps the SES send rate under bursts of uploads). null = unreserved."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency, false)
    error_message = "reserved_concurrency must be null or a whole number >= 1 (0 would disable the notifier)."
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
