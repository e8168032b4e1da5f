# The email channel: the SES identity and configuration set (the email queue worker, which sends through SES v2,
# is one of main.tf's channel_workers), and the bounce/complaint feedback loop into the suppressions table.

locals {
  ses_identity = var.email.identity_arn != null ? element(split(":identity/", var.email.identity_arn), 1) : coalesce(var.email.identity, var.email.from_address)
  ses_identity_arn = var.email.identity_arn != null ? var.email.identity_arn : (
    "${local.arn_prefix}:ses:${local.region}:${local.account_id}:identity/${local.ses_identity}"
  )
  create_configuration_set = var.create && var.email.configuration_set_name == null
  configuration_set_name   = coalesce(var.email.configuration_set_name, var.name)
  configuration_set_arn    = "${local.arn_prefix}:ses:${local.region}:${local.account_id}:configuration-set/${local.configuration_set_name}"

  # Verification code mail (registration API) has its own configuration set, always module-created: its bounces
  # and complaints reach the same feedback function, which blocks verification mail to the address for a while
  # instead of suppressing it for every notification (anyone with an account can make the service mail a code
  # to any address). Its events carry tags["ses:configuration-set"] = this name.
  verification_configuration_set_name = "${local.configuration_set_name}-verification"
  verification_configuration_set_arn  = "${local.arn_prefix}:ses:${local.region}:${local.account_id}:configuration-set/${local.verification_configuration_set_name}"

  # The configuration sets whose events SES may publish to the SES events topic.
  ses_event_source_arns = concat([local.configuration_set_arn], local.registration_api_enabled ? [local.verification_configuration_set_arn] : [])

  # The From address must be the identity or belong to its domain (or a subdomain): SES refuses anything else.
  sender_domain          = lower(element(split("@", var.email.from_address), length(split("@", var.email.from_address)) - 1))
  identity_allows_sender = lower(local.ses_identity) == lower(var.email.from_address) || local.sender_domain == lower(local.ses_identity) || endswith(local.sender_domain, ".${lower(local.ses_identity)}")

  # Environment of the two email functions (docs/notification-service.md, section 6).
  email_worker_environment = merge(
    {
      SENDER_ADDRESS            = var.email.from_address
      SES_IDENTITY_ARN          = local.ses_identity_arn
      SES_CONFIGURATION_SET     = local.configuration_set_name
      EMAIL_SUBSCRIPTIONS_TABLE = module.tables["email_subscriptions"].table_name
      EMAIL_SUPPRESSIONS_TABLE  = module.tables["email_suppressions"].table_name
      DELIVERY_LOG_TABLE        = module.tables["delivery_log"].table_name
      DELIVERY_LOG_TTL_DAYS     = tostring(var.delivery_log_ttl_days)
      IDEMPOTENCY_TABLE         = module.tables["idempotency"].table_name
      IDEMPOTENCY_TTL_SECONDS   = tostring(var.idempotency_ttl_seconds)
      POWERTOOLS_SERVICE_NAME   = "${var.name}-email-worker"
      POWERTOOLS_LOG_LEVEL      = var.log_level
    },
    var.email.unsubscribe_url_template == null ? {} : { UNSUBSCRIBE_URL_TEMPLATE = var.email.unsubscribe_url_template },
  )

  email_feedback_environment = merge(
    {
      EMAIL_SUPPRESSIONS_TABLE = module.tables["email_suppressions"].table_name
      POWERTOOLS_SERVICE_NAME  = "${var.name}-email-feedback"
      POWERTOOLS_LOG_LEVEL     = var.log_level
    },
    # Reports about verification mail block the address for verification mail only (limits table, with TTL).
    !local.registration_api_enabled ? {} : {
      VERIFICATION_CONFIGURATION_SET = local.verification_configuration_set_name
      LIMITS_TABLE                   = module.tables["limits"].table_name
      VERIFICATION_BLOCK_DAYS        = tostring(var.registration_api.verification.block_days_after_feedback)
    },
  )
}

resource "aws_sesv2_email_identity" "this" {
  count = var.create && var.email.create_identity ? 1 : 0

  email_identity = local.ses_identity

  tags = var.tags
}

resource "aws_sesv2_configuration_set" "this" {
  count = local.create_configuration_set ? 1 : 0

  configuration_set_name = local.configuration_set_name

  # REQUIRE: SES refuses to hand a message to a receiving server that cannot do TLS, instead of sending it in
  # clear text (notifications carry personal data).
  delivery_options {
    tls_policy = var.email.require_tls ? "REQUIRE" : "OPTIONAL"
  }

  reputation_options {
    reputation_metrics_enabled = true
  }

  sending_options {
    sending_enabled = true
  }

  # SES's account-level suppression list as a second line behind the service's own suppressions table.
  suppression_options {
    suppressed_reasons = ["BOUNCE", "COMPLAINT"]
  }

  tags = var.tags
}

resource "aws_sesv2_configuration_set_event_destination" "feedback" {
  count = var.create ? 1 : 0

  configuration_set_name = local.create_configuration_set ? aws_sesv2_configuration_set.this[0].configuration_set_name : local.configuration_set_name
  event_destination_name = "${var.name}-feedback"

  event_destination {
    enabled              = true
    matching_event_types = ["BOUNCE", "COMPLAINT"]

    sns_destination {
      topic_arn = module.ses_events_topic.topic_arn
    }
  }

  # SES checks that it may publish to the topic (topic policy and key) when the destination is created.
  depends_on = [module.ses_events_topic, module.kms_key]

  lifecycle {
    precondition {
      condition     = local.identity_allows_sender
      error_message = "email.from_address must be the SES identity itself or an address of the identity's domain (identity = \"${local.ses_identity}\")."
    }
  }
}

# The configuration set of verification code mail (registration API only). Same TLS and reputation settings; no
# address is added to SES's account-level suppression list from this set (empty suppressed_reasons): a complaint
# about a code someone else requested must not stop the address's notifications. The feedback function blocks
# verification mail to the address instead (limits table, bounded in time).
resource "aws_sesv2_configuration_set" "verification" {
  count = local.registration_api_enabled ? 1 : 0

  configuration_set_name = local.verification_configuration_set_name

  delivery_options {
    tls_policy = var.email.require_tls ? "REQUIRE" : "OPTIONAL"
  }

  reputation_options {
    reputation_metrics_enabled = true
  }

  sending_options {
    sending_enabled = true
  }

  suppression_options {
    suppressed_reasons = []
  }

  tags = var.tags
}

resource "aws_sesv2_configuration_set_event_destination" "verification_feedback" {
  count = local.registration_api_enabled ? 1 : 0

  configuration_set_name = aws_sesv2_configuration_set.verification[0].configuration_set_name
  event_destination_name = "${var.name}-verification-feedback"

  event_destination {
    enabled              = true
    matching_event_types = ["BOUNCE", "COMPLAINT"]

    sns_destination {
      topic_arn = module.ses_events_topic.topic_arn
    }
  }

  depends_on = [module.ses_events_topic, module.kms_key]
}

module "ses_events_topic" {
  source = "./modules/sns-topic"

  create      = var.create
  name        = "${var.name}-ses-events"
  kms_key_arn = local.key_arn

  # Only SES, for the service's configuration sets (notifications; verification codes), in this account.
  publisher_services = !var.create ? {} : {
    SesEvents = {
      service     = "ses.amazonaws.com"
      source_arns = local.ses_event_source_arns
    }
  }

  subscriptions = !var.create ? {} : {
    feedback = {
      protocol = "lambda"
      endpoint = module.email_feedback.function_arn
    }
  }

  tags = var.tags
}

resource "aws_lambda_permission" "email_feedback" {
  count = var.create ? 1 : 0

  statement_id   = "AllowSesEventsTopic"
  action         = "lambda:InvokeFunction"
  function_name  = module.email_feedback.function_name
  principal      = "sns.amazonaws.com"
  source_arn     = module.ses_events_topic.topic_arn
  source_account = local.account_id
}

module "email_feedback" {
  source = "./modules/lambda-function"

  create       = var.create
  name         = local.function_names.email_feedback
  description  = "Adds bounced and complaining addresses of ${var.name} to the suppressions table"
  handler      = "notification_handlers.service.email_feedback.handler"
  runtime      = var.lambda_runtime
  architecture = var.lambda_architecture
  timeout      = 30
  memory_size  = 256
  package      = var.lambda_package
  kms_key_arn  = local.key_arn
  tracing_mode = "Active"

  code_signing_config_arn = var.lambda_code_signing_config_arn
  log_retention_in_days   = var.log_retention_in_days

  environment_variables = local.email_feedback_environment

  # SNS invokes asynchronously: a failing notification is retried twice by Lambda, then kept in the function's
  # own DLQ (<name>-email-feedback-dlq; a separate queue because its messages are SNS notifications, not
  # channel messages).
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 21600
  create_dead_letter_queue     = true

  policy_statements = var.create ? local.email_feedback_policy_statements : []

  tags = var.tags
}
