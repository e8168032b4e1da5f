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
  description = "Tags applied to every taggable resource (validated by the building-block modules that apply them)."
  type        = map(string)
  default     = {}
  nullable    = false
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

variable "kms_key" {
  description = "The module's CMK, passed to the kms-key module, which validates it: aliases (without \"alias/\"; null = [name]) and deletion_window_in_days (7-30, default 30)."
  type        = object({ aliases = optional(list(string)), deletion_window_in_days = optional(number) })
  default     = {}
  nullable    = false
}

variable "lambda" {
  description = <<-EOT
    The notifier function. Each attribute goes to the lambda-function module, which validates it; a null
    attribute takes that module's default (modules/lambda-function/README.md):
      function_name                   - the function, its role and log group; null = name
      runtime, architecture           - python3.12 and arm64. The package ships python3.12 bytecode; on 3.11 or
                                        3.13 every cold start compiles the sources (about 35-60 ms more)
      timeout, memory_size            - 30 s and 256 MB (an event holds few records; each is one SES call)
      log_retention_in_days           - 365; log_level (POWERTOOLS_LOG_LEVEL) INFO
      code_signing_config_arn         - null = no code signing; with an Enforce policy, package must be signed
      reserved_concurrent_executions  - null = unreserved, else at least 1 (0 would disable the notifier)
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
    error_message = "lambda.reserved_concurrent_executions must be null (unreserved) or at least 1: 0 would disable the notifier."
  }
}
