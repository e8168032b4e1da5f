# The WebSocket channel (docs/notification-service.md, section 7): an API Gateway WebSocket API whose $connect,
# $disconnect and $default routes keep the connections table up to date, and a worker that posts each channel
# message to every open connection of its user. Off until var.websocket is set.

locals {
  websocket_stage_name = try(var.websocket.stage_name, "live")

  # Who may connect, and so what a connection's user id is (docs/notification-service.md, section 7):
  #   "jwt"    (default) the built-in authorizer: the same JWT the registration API accepts; user id = its sub.
  #   "lambda" the caller's Lambda REQUEST authorizer (websocket.authorizer); user id = its principalId.
  #   "iam"    explicit opt-in (websocket.iam_authorization): SigV4; user id = the Cognito identity id, which is
  #            NOT the JWT sub the other channels use.
  websocket_authorization = !local.websocket_enabled ? null : (
    try(var.websocket.authorizer, null) != null ? "lambda" : (try(var.websocket.iam_authorization, false) ? "iam" : "jwt")
  )
  websocket_builtin_authorizer = local.websocket_authorization == "jwt"

  # The issuer and audience: websocket.jwt when given, else the registration API's, so one token serves both.
  websocket_jwt = !local.websocket_builtin_authorizer ? null : (
    try(var.websocket.jwt, null) != null ? {
      issuer   = var.websocket.jwt.issuer
      audience = var.websocket.jwt.audience
      scopes   = var.websocket.jwt.scopes
      jwks_uri = var.websocket.jwt.jwks_uri
      } : var.registration_api == null ? null : {
      issuer   = var.registration_api.jwt_issuer
      audience = var.registration_api.jwt_audience
      scopes   = var.registration_api.authorization_scopes
      jwks_uri = null
    }
  )
  websocket_jwks_uri = try(coalesce(local.websocket_jwt.jwks_uri, "${trimsuffix(local.websocket_jwt.issuer, "/")}/.well-known/jwks.json"), null)

  # The authorizer API Gateway calls on $connect: the built-in function, or the caller's.
  websocket_authorizer = local.websocket_builtin_authorizer ? {
    function_arn      = module.lambda_functions["websocket_authorizer"].function_arn
    identity_sources  = ["route.request.header.Sec-WebSocket-Protocol"]
    create_permission = true
  } : try(var.websocket.authorizer, null)

  # A Lambda authorizer given with a qualifier (version or alias) is invoked and permitted with that qualifier.
  websocket_authorizer_function = try(var.websocket.authorizer, null) == null ? null : regex(
    "^(?P<arn>arn:[^:]+:lambda:[^:]+:[0-9]{12}:function:[^:]+)(?::(?P<qualifier>.+))?$", var.websocket.authorizer.function_arn
  )

  # API Gateway closes every WebSocket connection after 2 hours: a connection item outlives it only by its TTL lag.
  websocket_connection_ttl_seconds = 7200

  websocket_api_id        = try(aws_apigatewayv2_api.websocket[0].id, null)
  websocket_execution_arn = try(aws_apigatewayv2_api.websocket[0].execution_arn, null)
  # The management (@connections) API of the stage: the API's endpoint with https instead of wss.
  websocket_management_endpoint = try("${replace(aws_apigatewayv2_api.websocket[0].api_endpoint, "wss://", "https://")}/${local.websocket_stage_name}", null)

  websocket_connections_environment = {
    CONNECTIONS_TABLE       = module.tables["connections"].table_name
    CONNECTION_TTL_SECONDS  = tostring(local.websocket_connection_ttl_seconds)
    USER_ID_SOURCE          = local.websocket_authorization == "iam" ? "iam" : "authorizer"
    POWERTOOLS_SERVICE_NAME = "${var.name}-websocket-connections"
    POWERTOOLS_LOG_LEVEL    = var.log_level
  }

  websocket_authorizer_environment = local.websocket_jwt == null ? {} : {
    JWT_ISSUER              = local.websocket_jwt.issuer
    JWT_AUDIENCE            = jsonencode(local.websocket_jwt.audience)
    JWT_SCOPES              = jsonencode(local.websocket_jwt.scopes)
    JWKS_URI                = local.websocket_jwks_uri
    POWERTOOLS_SERVICE_NAME = "${var.name}-websocket-authorizer"
    POWERTOOLS_LOG_LEVEL    = var.log_level
  }

  # One JSON line per connect, disconnect and message: who (connection), what (route, event), the outcome and
  # why a connection was refused (authorizer error) or failed (integration error). No user id, no body.
  websocket_access_log_format = jsonencode({
    requestId        = "$context.requestId"
    connectionId     = "$context.connectionId"
    eventType        = "$context.eventType"
    routeKey         = "$context.routeKey"
    status           = "$context.status"
    requestTime      = "$context.requestTime"
    sourceIp         = "$context.identity.sourceIp"
    errorMessage     = "$context.error.message"
    authorizerError  = "$context.authorizer.error"
    integrationError = "$context.integration.error"
  })
}

resource "aws_apigatewayv2_api" "websocket" {
  count = local.websocket_enabled ? 1 : 0

  name                       = "${var.name}-websocket"
  description                = "Real-time notifications of ${var.name}: connect, then receive {notification_id, type, body} frames"
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.action"

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.websocket_authorization != "jwt" || local.websocket_jwt != null
      error_message = "websocket: the built-in $connect authorizer needs the JWT issuer and audience of your users' tokens: set registration_api (its jwt_issuer/jwt_audience are reused) or websocket.jwt; or bring your own websocket.authorizer, or opt in to websocket.iam_authorization = true (its user ids are not the JWT sub)."
    }
  }
}

resource "aws_apigatewayv2_integration" "websocket" {
  count = local.websocket_enabled ? 1 : 0

  api_id             = aws_apigatewayv2_api.websocket[0].id
  description        = "$connect, $disconnect and $default -> the connections function (Lambda proxy)"
  integration_type   = "AWS_PROXY"
  integration_method = "POST"
  integration_uri    = module.lambda_functions["websocket_connections"].invoke_arn
}

resource "aws_apigatewayv2_authorizer" "websocket" {
  count = local.websocket_enabled && local.websocket_authorizer != null ? 1 : 0

  api_id           = aws_apigatewayv2_api.websocket[0].id
  name             = "${var.name}-websocket-connect"
  authorizer_type  = "REQUEST"
  authorizer_uri   = "${local.arn_prefix}:apigateway:${local.region}:lambda:path/2015-03-31/functions/${local.websocket_authorizer.function_arn}/invocations"
  identity_sources = local.websocket_authorizer.identity_sources
}

# API Gateway may invoke the authorizer (built-in or the caller's) for this API's authorizer only.
resource "aws_lambda_permission" "websocket_authorizer" {
  count = local.websocket_enabled && try(local.websocket_authorizer.create_permission, false) ? 1 : 0

  # The built-in function's name is known at plan (its ARN is not): the permission's function_name is either.

  statement_id   = "${var.name}-websocket-authorizer"
  action         = "lambda:InvokeFunction"
  function_name  = local.websocket_builtin_authorizer ? module.lambda_functions["websocket_authorizer"].function_name : local.websocket_authorizer_function.arn
  qualifier      = local.websocket_builtin_authorizer ? null : local.websocket_authorizer_function.qualifier
  principal      = "apigateway.amazonaws.com"
  source_arn     = "${aws_apigatewayv2_api.websocket[0].execution_arn}/authorizers/${aws_apigatewayv2_authorizer.websocket[0].id}"
  source_account = local.account_id
}

# Only $connect can be authorised on a WebSocket API: $disconnect and $default run on a connection that $connect
# admitted, and API Gateway refuses an authorizer on them.
resource "aws_apigatewayv2_route" "websocket" {
  # checkov:skip=CKV_AWS_309: only $connect can carry authorisation on a WebSocket API (the JWT authorizer, a caller's Lambda authorizer or IAM, never NONE); $disconnect and $default run on a connection $connect admitted, and API Gateway rejects an authorization type on them.
  for_each = local.websocket_enabled ? toset(["$connect", "$disconnect", "$default"]) : toset([])

  api_id             = aws_apigatewayv2_api.websocket[0].id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.websocket[0].id}"
  authorization_type = each.key != "$connect" ? "NONE" : (local.websocket_authorizer == null ? "AWS_IAM" : "CUSTOM")
  authorizer_id      = each.key == "$connect" && local.websocket_authorizer != null ? aws_apigatewayv2_authorizer.websocket[0].id : null
}

# WebSocket stages cannot auto-deploy: a new deployment whenever a route, the integration or the authorizer changes.
resource "aws_apigatewayv2_deployment" "websocket" {
  count = local.websocket_enabled ? 1 : 0

  api_id      = aws_apigatewayv2_api.websocket[0].id
  description = "Routes $connect, $disconnect, $default of ${var.name}-websocket"

  triggers = {
    redeployment = sha1(jsonencode([
      [for r in aws_apigatewayv2_route.websocket : [r.route_key, r.authorization_type, r.authorizer_id, r.target]],
      aws_apigatewayv2_integration.websocket[0].integration_uri,
      try(aws_apigatewayv2_authorizer.websocket[0].identity_sources, null),
      try(aws_apigatewayv2_authorizer.websocket[0].authorizer_uri, null),
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [aws_apigatewayv2_route.websocket]
}

resource "aws_cloudwatch_log_group" "websocket_access" {
  count = local.websocket_enabled ? 1 : 0

  name              = local.access_log_group_names.websocket
  retention_in_days = var.log_retention_in_days
  kms_key_id        = local.key_arn

  tags = var.tags

  # CloudWatch Logs checks the key policy (logs grant for this log group) when the group is created.
  depends_on = [module.kms_key]
}

resource "aws_apigatewayv2_stage" "websocket" {
  # checkov:skip=CKV2_AWS_51: a stage client certificate authenticates API Gateway to an HTTP backend; the only integration is a Lambda proxy (invoked with IAM), so it would never be presented. Clients are authenticated at $connect (IAM or the Lambda authorizer) over TLS.
  count = local.websocket_enabled ? 1 : 0

  api_id        = aws_apigatewayv2_api.websocket[0].id
  name          = local.websocket_stage_name
  description   = "Stage of ${var.name}-websocket"
  deployment_id = aws_apigatewayv2_deployment.websocket[0].id

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.websocket_access[0].arn
    format          = local.websocket_access_log_format
  }

  # Execution logs (logging_level) stay off: API Gateway would write them to a log group it creates itself,
  # without the service CMK. Access logs and metrics cover operations.
  default_route_settings {
    throttling_burst_limit   = var.websocket.throttling_burst_limit
    throttling_rate_limit    = var.websocket.throttling_rate_limit
    detailed_metrics_enabled = true
    data_trace_enabled       = false
  }

  tags = var.tags
}

# Only this API's stage may invoke the connections function (its three routes).
resource "aws_lambda_permission" "websocket_connections" {
  count = local.websocket_enabled ? 1 : 0

  statement_id   = "AllowWebSocketApi"
  action         = "lambda:InvokeFunction"
  function_name  = module.lambda_functions["websocket_connections"].function_name
  principal      = "apigateway.amazonaws.com"
  source_arn     = "${aws_apigatewayv2_api.websocket[0].execution_arn}/${local.websocket_stage_name}/*"
  source_account = local.account_id
}
