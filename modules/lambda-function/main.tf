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
  account_id = try(data.aws_caller_identity.current[0].account_id, null)
  partition  = try(data.aws_partition.current[0].partition, null)
  dns_suffix = try(data.aws_partition.current[0].dns_suffix, null)
  # `id` is the region name in provider 5.x and 6.x alike; 6.x deprecates `name` and adds `region`, which
  # 5.x lacks. tests/unit/test_versions.py rejects `.name`.
  region = try(data.aws_region.current[0].id, null)

  # The committed package built by the repository (make/CI writes dist/lambda.zip).
  default_package = {
    filename          = "${path.module}/../../dist/lambda.zip"
    s3_bucket         = null
    s3_key            = null
    s3_object_version = null
    source_code_hash  = null
  }
  package = var.package == null ? local.default_package : var.package

  # Only hash local files, and only when creating (so create = false never needs the file).
  source_code_hash = !var.create ? null : (
    local.package.source_code_hash != null ? local.package.source_code_hash : (
      local.package.filename != null ? filebase64sha256(local.package.filename) : null
    )
  )

  environment_variables = merge(var.environment_variables, var.log_level == null ? {} : { POWERTOOLS_LOG_LEVEL = var.log_level })

  log_group_name = "/aws/lambda/${var.name}"
  role_name      = coalesce(var.role_name, var.name)

  create_dlq = var.create && var.create_dead_letter_queue
  # Either the module's queue or the caller's target (may be unknown until apply).
  dead_letter_target_arn = local.create_dlq ? module.dead_letter_queue.queue_arn : var.dead_letter_target_arn
  has_dead_letter_target = var.create_dead_letter_queue || var.dead_letter_target_arn != null
}

resource "aws_cloudwatch_log_group" "this" {
  count = var.create ? 1 : 0

  name              = local.log_group_name
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

# Asynchronous invocations that fail every attempt land here. The function's role writes to it (identity
# policy), so the queue policy admits no service: it only refuses non-TLS access.
module "dead_letter_queue" {
  source = "../sqs-queue"

  create                    = local.create_dlq
  name                      = "${var.name}-dlq"
  kms_key_arn               = var.kms_key_arn
  message_retention_seconds = var.dead_letter_queue_message_retention_seconds

  tags = var.tags
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_117: every handler of this toolkit only calls public AWS APIs (SNS, SES, SQS, KMS, X-Ray, CloudWatch Logs) over TLS with IAM-signed requests and reaches no private resource; a VPC would add NAT or interface endpoints without reducing exposure.
  # checkov:skip=CKV_AWS_272: code signing is opt-in (code_signing_config_arn): it needs an AWS Signer profile owned by the caller's organisation and a signed package, and the committed dist/lambda.zip is unsigned.
  count = var.create ? 1 : 0

  function_name = var.name
  description   = var.description
  role          = aws_iam_role.this[0].arn
  handler       = var.handler
  runtime       = var.runtime
  architectures = [var.architecture]
  timeout       = var.timeout
  memory_size   = var.memory_size
  publish       = var.publish
  kms_key_arn   = var.kms_key_arn

  code_signing_config_arn = var.code_signing_config_arn

  filename          = local.package.filename
  s3_bucket         = local.package.s3_bucket
  s3_key            = local.package.s3_key
  s3_object_version = local.package.s3_object_version
  source_code_hash  = local.source_code_hash

  # -1 is the provider's value for "unreserved".
  reserved_concurrent_executions = var.reserved_concurrent_executions == null ? -1 : var.reserved_concurrent_executions

  tracing_config {
    mode = var.tracing_mode
  }

  dynamic "environment" {
    for_each = length(local.environment_variables) > 0 ? [1] : []

    content {
      variables = local.environment_variables
    }
  }

  dynamic "dead_letter_config" {
    for_each = local.has_dead_letter_target ? [1] : []

    content {
      target_arn = local.dead_letter_target_arn
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.kms_key_arn != null
      error_message = "kms_key_arn is required: environment variables, logs and the DLQ are encrypted with a customer-managed key."
    }

    precondition {
      condition     = !(var.create_dead_letter_queue && var.dead_letter_target_arn != null)
      error_message = "Set create_dead_letter_queue = false when passing dead_letter_target_arn."
    }
  }

  # The log group must exist (with its CMK and retention) before Lambda can auto-create an unencrypted one,
  # and the role's policies must be attached before the first invocation.
  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
  ]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  count = var.create ? 1 : 0

  function_name                = aws_lambda_function.this[0].function_name
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = var.maximum_event_age_in_seconds
}
