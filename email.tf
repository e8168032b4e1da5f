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

  # Environment of the feedback function (docs/notification-service.md, section 6; the worker's: channels.tf).
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

# The configuration sets the module creates: the notifications' (unless email.configuration_set_name names an
# existing one) and, with the registration API, verification code mail's. Both deliver only over TLS when
# email.require_tls (REQUIRE: SES refuses to hand a message to a receiving server that cannot do TLS, instead of
# sending it in clear text; notifications carry personal data) and keep reputation metrics.
#   notifications: SES's account-level suppression list as a second line behind the service's own suppressions
#                  table (BOUNCE, COMPLAINT).
#   verification:  no address is added to the account-level list (empty suppressed_reasons): a complaint about a
#                  code someone else requested must not stop the address's notifications. The feedback function
#                  blocks verification mail to the address instead (limits table, bounded in time).
resource "aws_sesv2_configuration_set" "this" {
  for_each = merge(
    local.create_configuration_set ? { notifications = { name = local.configuration_set_name, suppressed_reasons = ["BOUNCE", "COMPLAINT"] } } : {},
    local.registration_api_enabled ? { verification = { name = local.verification_configuration_set_name, suppressed_reasons = [] } } : {},
  )

  configuration_set_name = each.value.name

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
    suppressed_reasons = each.value.suppressed_reasons
  }

  tags = var.tags
}

# Bounces and complaints of each configuration set go to the SES events topic, and so to the feedback function.
# The notifications' destination is added to the caller's set when email.configuration_set_name names one.
resource "aws_sesv2_configuration_set_event_destination" "feedback" {
  for_each = merge(
    var.create ? { notifications = "${var.name}-feedback" } : {},
    local.registration_api_enabled ? { verification = "${var.name}-verification-feedback" } : {},
  )

  configuration_set_name = each.key == "notifications" && !local.create_configuration_set ? local.configuration_set_name : aws_sesv2_configuration_set.this[each.key].configuration_set_name
  event_destination_name = each.value

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
      endpoint = module.lambda_functions["email_feedback"].function_arn
    }
  }

  tags = var.tags
}

resource "aws_lambda_permission" "email_feedback" {
  count = var.create ? 1 : 0

  statement_id   = "AllowSesEventsTopic"
  action         = "lambda:InvokeFunction"
  function_name  = module.lambda_functions["email_feedback"].function_name
  principal      = "sns.amazonaws.com"
  source_arn     = module.ses_events_topic.topic_arn
  source_account = local.account_id
}
