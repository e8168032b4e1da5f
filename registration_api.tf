# The registration API (docs/notification-service.md, section 7): an HTTP API with a JWT authorizer through which
# signed-in users register devices, manage their email subscriptions and preferences, and read the delivery log
# of their notifications. The user id is the token's `sub` claim, never a path or body field. Off until
# var.registration_api is set.

locals {
  registration_stage_name = try(var.registration_api.stage_name, "$default")

  # Every route of the contract; each needs a valid JWT. The inbox routes exist with the inbox channel (inbox.tf).
  registration_routes = setunion(local.inbox_registration_routes, [
    "PUT /devices/{platform}/{token}",
    "DELETE /devices/{platform}/{token}",
    "PUT /email-subscriptions/{address}",
    "POST /email-subscriptions/{address}/verify",
    "DELETE /email-subscriptions/{address}",
    "GET /preferences",
    "PUT /preferences",
    "GET /notifications/{notification_id}/deliveries",
  ])

  # Platform -> application ARN: existing ones as given, module-created ones as the provisioner reported them
  # (which also orders the function after the applications).
  push_platform_application_arns_created = merge(
    { for k, p in local.push_platforms : k => p.platform_application_arn if p.platform_application_arn != null },
    { for k, inv in aws_lambda_invocation.push_platform : k => jsondecode(inv.result).platform_application_arn },
  )

  registration_api_environment = {
    DEVICE_TOKENS_TABLE       = module.tables["device_tokens"].table_name
    PLATFORM_APPLICATION_ARNS = jsonencode(local.push_platform_application_arns_created)
    EMAIL_SUBSCRIPTIONS_TABLE = module.tables["email_subscriptions"].table_name
    PREFERENCES_TABLE         = module.tables["preferences"].table_name
    DELIVERY_LOG_TABLE        = module.tables["delivery_log"].table_name
    DEVICE_OWNERS_TABLE       = module.tables["device_owners"].table_name
    LIMITS_TABLE              = module.tables["limits"].table_name
    MAX_DEVICES_PER_USER      = tostring(try(var.registration_api.max_devices_per_user, 10))
    # Per-user ceiling (service/rate_limit.py); the stage throttle below is shared by all users.
    REQUESTS_PER_USER_PER_MINUTE = tostring(try(var.registration_api.requests_per_user_per_minute, 60))
    CATALOG_TABLE                = module.tables["catalog"].table_name
    SENDER_ADDRESS               = var.email.from_address
    SES_CONFIGURATION_SET        = local.verification_configuration_set_name
    SES_IDENTITY_ARN             = local.ses_identity_arn
    POWERTOOLS_SERVICE_NAME      = "${var.name}-registration-api"
    POWERTOOLS_LOG_LEVEL         = var.log_level
  }

  # Verification limits (docs/notification-service.md, section 7, email verification): counted in the limits
  # table; suppressed addresses (suppressions table) get no code.
  registration_verification_environment = !local.registration_api_enabled ? {} : {
    EMAIL_SUPPRESSIONS_TABLE           = module.tables["email_suppressions"].table_name
    VERIFY_CODES_PER_ADDRESS_PER_DAY   = tostring(var.registration_api.verification.codes_per_address_per_day)
    VERIFY_CODES_PER_USER_PER_DAY      = tostring(var.registration_api.verification.codes_per_user_per_day)
    VERIFY_GUESSES_PER_ADDRESS_PER_DAY = tostring(var.registration_api.verification.guesses_per_address_per_day)
    VERIFY_RESEND_COOLDOWN_SECONDS     = tostring(var.registration_api.verification.resend_cooldown_seconds)
  }

  # One JSON line per request: the route, the outcome and why a request was refused (authorizer error) or failed
  # (integration error). No token, no user id, no body.
  registration_access_log_format = jsonencode({
    requestId        = "$context.requestId"
    routeKey         = "$context.routeKey"
    status           = "$context.status"
    requestTime      = "$context.requestTime"
    sourceIp         = "$context.identity.sourceIp"
    protocol         = "$context.protocol"
    responseLength   = "$context.responseLength"
    errorMessage     = "$context.error.message"
    authorizerError  = "$context.authorizer.error"
    integrationError = "$context.integrationErrorMessage"
  })
}

resource "aws_apigatewayv2_api" "registration" {
  count = local.registration_api_enabled ? 1 : 0

  name          = "${var.name}-registration"
  description   = "Devices, email subscriptions, preferences and deliveries of the signed-in ${var.name} user"
  protocol_type = "HTTP"

  # Browsers only from the listed origins (none by default: no CORS headers at all).
  dynamic "cors_configuration" {
    for_each = length(var.registration_api.cors_allowed_origins) > 0 ? [1] : []

    content {
      allow_origins = var.registration_api.cors_allowed_origins
      allow_methods = ["DELETE", "GET", "POST", "PUT"]
      allow_headers = ["authorization", "content-type"]
      max_age       = 3600
    }
  }

  tags = var.tags
}

resource "aws_apigatewayv2_authorizer" "registration" {
  count = local.registration_api_enabled ? 1 : 0

  api_id           = aws_apigatewayv2_api.registration[0].id
  name             = "${var.name}-jwt"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = var.registration_api.jwt_issuer
    audience = var.registration_api.jwt_audience
  }
}

resource "aws_apigatewayv2_integration" "registration" {
  count = local.registration_api_enabled ? 1 : 0

  api_id                 = aws_apigatewayv2_api.registration[0].id
  description            = "Every route -> the registration function (Lambda proxy, payload 2.0)"
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = module.registration_api.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = (var.registration_api.timeout + 1) * 1000
}

resource "aws_apigatewayv2_route" "registration" {
  for_each = local.registration_api_enabled ? local.registration_routes : toset([])

  api_id               = aws_apigatewayv2_api.registration[0].id
  route_key            = each.key
  target               = "integrations/${aws_apigatewayv2_integration.registration[0].id}"
  authorization_type   = "JWT"
  authorizer_id        = aws_apigatewayv2_authorizer.registration[0].id
  authorization_scopes = length(var.registration_api.authorization_scopes) > 0 ? var.registration_api.authorization_scopes : null
}

resource "aws_cloudwatch_log_group" "registration_access" {
  count = local.registration_api_enabled ? 1 : 0

  name              = local.access_log_group_names.registration_api
  retention_in_days = var.log_retention_in_days
  kms_key_id        = local.key_arn

  tags = var.tags

  # CloudWatch Logs checks the key policy (logs grant for this log group) when the group is created.
  depends_on = [module.kms_key]
}

resource "aws_apigatewayv2_stage" "registration" {
  count = local.registration_api_enabled ? 1 : 0

  api_id      = aws_apigatewayv2_api.registration[0].id
  name        = local.registration_stage_name
  description = "Stage of ${var.name}-registration"
  auto_deploy = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.registration_access[0].arn
    format          = local.registration_access_log_format
  }

  default_route_settings {
    throttling_burst_limit   = var.registration_api.throttling_burst_limit
    throttling_rate_limit    = var.registration_api.throttling_rate_limit
    detailed_metrics_enabled = true
  }

  tags = var.tags
}

module "registration_api" {
  source = "./modules/lambda-function"

  create       = local.registration_api_enabled
  name         = "${var.name}-registration-api"
  description  = "Registration API of ${var.name}: devices, email subscriptions, preferences, deliveries"
  handler      = "notification_handlers.service.registration_api.handler"
  runtime      = var.lambda_runtime
  architecture = var.lambda_architecture
  timeout      = try(var.registration_api.timeout, 10)
  memory_size  = try(var.registration_api.memory_size, 256)
  package      = var.lambda_package
  kms_key_arn  = local.key_arn
  tracing_mode = "Active"

  code_signing_config_arn = var.lambda_code_signing_config_arn
  log_retention_in_days   = var.log_retention_in_days

  environment_variables = local.registration_api_enabled ? merge(local.registration_api_environment, local.registration_verification_environment, local.registration_sms_environment, local.inbox_registration_environment) : {}

  # API Gateway invokes synchronously; a stray asynchronous invoke is dead-lettered to the ingest DLQ, the queue
  # an operator already watches (the router does the same).
  create_dead_letter_queue = false
  dead_letter_target_arn   = module.router_worker.dlq_arn

  policy_statements = local.registration_api_enabled ? local.registration_api_policy_statements : []

  tags = var.tags
}

# Only this API's stage may invoke the function (any of its routes).
resource "aws_lambda_permission" "registration_api" {
  count = local.registration_api_enabled ? 1 : 0

  statement_id   = "AllowRegistrationApi"
  action         = "lambda:InvokeFunction"
  function_name  = module.registration_api.function_name
  principal      = "apigateway.amazonaws.com"
  source_arn     = "${aws_apigatewayv2_api.registration[0].execution_arn}/${local.registration_stage_name}/*"
  source_account = local.account_id
}
