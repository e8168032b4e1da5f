data "aws_caller_identity" "current" {
  count = var.create ? 1 : 0
}

data "aws_partition" "current" {
  count = var.create ? 1 : 0
}

data "aws_region" "current" {
  count = var.create ? 1 : 0
}

locals {
  account_id = try(data.aws_caller_identity.current[0].account_id, "")
  partition  = try(data.aws_partition.current[0].partition, "")
  # `id` is the region name on provider 5.x and 6.x (6.x deprecates `name`).
  region = try(data.aws_region.current[0].id, "")

  create_bucket = var.create && var.bucket.create != null
  bucket_name = var.bucket.create != null ? coalesce(
    try(var.bucket.create.name, null), "${var.name}-${local.account_id}-${local.region}"
  ) : var.bucket.existing.name
  # S3 bucket ARNs carry neither region nor account.
  bucket_arn = "arn:${local.partition}:s3:::${local.bucket_name}"

  function_name = coalesce(var.lambda.function_name, var.name)
  # Built from the name: the key policy must exist before the log group it protects (no cycle).
  log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${local.function_name}"

  ses_identity           = coalesce(var.ses_identity.name, var.sender_email)
  ses_identity_arn       = "arn:${local.partition}:ses:${local.region}:${local.account_id}:identity/${local.ses_identity}"
  configuration_set_arn  = var.ses_configuration_set_name == null ? null : "arn:${local.partition}:ses:${local.region}:${local.account_id}:configuration-set/${var.ses_configuration_set_name}"
  sender_domain          = lower(split("@", var.sender_email)[1])
  identity_allows_sender = lower(local.ses_identity) == lower(var.sender_email) || local.sender_domain == lower(local.ses_identity) || endswith(local.sender_domain, ".${lower(local.ses_identity)}")

  # SES v2 SendEmail is authorized on the identity and, when one is used, on the configuration set.
  ses_send_resources = compact([local.ses_identity_arn, local.configuration_set_arn])

  environment = merge(
    {
      SENDER                  = var.sender_email
      RECIPIENTS              = jsonencode(var.recipients)
      SES_IDENTITY_ARN        = local.ses_identity_arn
      POWERTOOLS_SERVICE_NAME = var.name
    },
    var.ses_configuration_set_name == null ? {} : { CONFIGURATION_SET = var.ses_configuration_set_name },
    var.subject_prefix == "" ? {} : { SUBJECT_PREFIX = var.subject_prefix },
  )
}

# One CMK for the bucket, the function's environment and log group, and the dead-letter queue.
module "kms_key" {
  source = "../kms-key"

  create                  = var.create
  name                    = var.name
  description             = "Encrypts the ${var.name} bucket objects, logs and dead letters"
  aliases                 = coalesce(var.kms_key.aliases, [var.name])
  deletion_window_in_days = var.kms_key.deletion_window_in_days

  cloudwatch_logs_log_group_arns = var.create ? [local.log_group_arn] : []
  # No service grant for S3: SSE-KMS uses the permissions of whoever reads or writes an object (IAM, enabled by
  # the key policy's account statement). S3 event delivery to Lambda is not encrypted with the key, and the
  # function never reads objects.

  tags = var.tags
}

# --- the bucket (when created) -------------------------------------------------------

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18: server access logging is opt-in (bucket.create.access_logging): it needs a separate SSE-S3 log bucket that the caller owns; every object creation and removal is already notified by this pattern.
  # checkov:skip=CKV_AWS_144: cross-region replication is a disaster-recovery choice (second-region bucket, key and role), not a control for a notification bucket; objects are versioned and stored across availability zones.
  count = local.create_bucket ? 1 : 0

  bucket        = local.bucket_name
  force_destroy = var.bucket.create.force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    # ACLs disabled: the bucket owner owns every object, access is decided by policies only.
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  count = local.create_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.this[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.kms_key.key_arn
    }
    # One data key per bucket instead of one KMS call per object: cheaper, fewer KMS throttles.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "this" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_logging" "this" {
  count = local.create_bucket && try(var.bucket.create.access_logging, null) != null ? 1 : 0

  bucket        = aws_s3_bucket.this[0].id
  target_bucket = var.bucket.create.access_logging.target_bucket
  target_prefix = coalesce(var.bucket.create.access_logging.target_prefix, "${local.bucket_name}/")
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    id     = "housekeeping"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.bucket.create.abort_incomplete_multipart_days
    }

    dynamic "noncurrent_version_expiration" {
      for_each = var.bucket.create.noncurrent_version_expiration_days == null ? [] : [1]

      content {
        noncurrent_days = var.bucket.create.noncurrent_version_expiration_days
      }
    }
  }

  # Lifecycle rules on noncurrent versions need versioning first.
  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_policy" "this" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  policy = data.aws_iam_policy_document.bucket[0].json

  # S3 rejects policy changes while the public access block is being applied.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

# --- SES ------------------------------------------------------------------------------

resource "aws_sesv2_email_identity" "this" {
  count = var.create && var.ses_identity.create ? 1 : 0

  email_identity = local.ses_identity

  tags = var.tags
}

# --- the function ---------------------------------------------------------------------

module "lambda_function" {
  source = "../lambda-function"

  create       = var.create
  name         = local.function_name
  description  = "Emails ${var.name} recipients about objects created in or removed from s3://${local.bucket_name}"
  handler      = "notification_handlers.s3_object_notifier.handler"
  kms_key_arn  = module.kms_key.key_arn
  tracing_mode = "Active"
  publish      = false

  # The caller's settings, validated by the lambda-function module (null = its default).
  runtime                        = var.lambda.runtime
  architecture                   = var.lambda.architecture
  timeout                        = var.lambda.timeout
  memory_size                    = var.lambda.memory_size
  package                        = var.lambda.package
  code_signing_config_arn        = var.lambda.code_signing_config_arn
  reserved_concurrent_executions = var.lambda.reserved_concurrent_executions
  log_retention_in_days          = var.lambda.log_retention_in_days
  log_level                      = var.lambda.log_level
  environment_variables          = local.environment

  # S3 invokes asynchronously: a failing event is retried twice by Lambda, then sent to the module's
  # CMK-encrypted SQS dead-letter queue <function>-dlq.
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 21600
  create_dead_letter_queue     = true

  # The message is built from the event (key, size, requester, ...): no s3:GetObject, no use of the bucket's key.
  policy_statements = [
    {
      sid       = "SendFromTheIdentityOnly"
      actions   = ["ses:SendEmail"]
      resources = local.ses_send_resources
    },
  ]

  tags = var.tags
}

resource "aws_lambda_permission" "s3" {
  count = var.create ? 1 : 0

  statement_id   = "AllowS3BucketNotifications"
  action         = "lambda:InvokeFunction"
  function_name  = module.lambda_function.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = local.bucket_arn
  source_account = local.account_id # bucket ARNs hold no account: this stops another account's same-named bucket

  lifecycle {
    precondition {
      condition     = local.identity_allows_sender
      error_message = "sender_email must be the SES identity itself or an address of the identity's domain (ses_identity.name = \"${local.ses_identity}\")."
    }
  }
}

resource "aws_s3_bucket_notification" "this" {
  count = var.create ? 1 : 0

  bucket = local.create_bucket ? aws_s3_bucket.this[0].id : local.bucket_name

  dynamic "lambda_function" {
    for_each = var.notifications

    content {
      id                  = lambda_function.key
      lambda_function_arn = module.lambda_function.function_arn
      events              = lambda_function.value.events
      filter_prefix       = lambda_function.value.filter_prefix
      filter_suffix       = lambda_function.value.filter_suffix
    }
  }

  # S3 checks that it may invoke the function when the configuration is saved.
  depends_on = [aws_lambda_permission.s3]
}
