# Offline plan-mode tests of the notification service's WebSocket, push and registration API (docs/notification-service.md, section 7): the
# WebSocket channel, mobile push and the registration API. Shared mock data: account 123456789012, us-east-1.

mock_provider "aws" {
  source = "./tests/terraform_mocks/aws"
}

variables {
  name = "notify"
  notification_types = {
    order_shipped = {
      channels        = ["email", "websocket", "push"]
      fallback_locale = "en"
      templates = {
        en = {
          email     = { subject = "Order {{order_id}} shipped", text = "Hi {{user.display_name}}" }
          websocket = { body = "Order {{order_id}} shipped" }
          push      = { title = "Shipped", body = "Order {{order_id}} is on its way" }
        }
      }
    }
  }
  email = {
    from_address = "notifications@example.com"
  }
  lambda_package = {
    s3_bucket = "example-artifacts"
    s3_key    = "lambda.zip"
  }
  table_deletion_protection = false
  websocket                 = {}
  push = {
    platforms = {
      apns = {
        credentials_secret_arn         = "arn:aws:secretsmanager:us-east-1:123456789012:secret:notify/apns-AbCdEf" # pragma: allowlist secret
        credentials_secret_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/77777777-2222-3333-4444-555555555555"
      }
      fcm = {
        platform_application_arn = "arn:aws:sns:us-east-1:123456789012:app/GCM/shop-android"
      }
    }
  }
  registration_api = {
    jwt_issuer           = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123"
    jwt_audience         = ["client-1"]
    cors_allowed_origins = ["https://app.example.com"]
  }
}

run "all_channels_plan" {
  command = plan

  override_resource {
    target          = module.kms_key.aws_kms_key.this
    override_during = plan
    values          = { arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555" }
  }

  override_resource {
    target          = module.router_worker.module.dlq.aws_sqs_queue.this
    override_during = plan
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:notify-ingest-dlq"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-ingest-dlq"
    }
  }

  override_resource {
    target          = module.router_worker.module.queue.aws_sqs_queue.this
    override_during = plan
    values          = { arn = "arn:aws:sqs:us-east-1:123456789012:notify-ingest" }
  }

  override_resource {
    target          = module.channel_workers["email"].module.queue.aws_sqs_queue.this
    override_during = plan
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:notify-email"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-email"
    }
  }

  override_resource {
    target          = module.channel_workers["websocket"].module.queue.aws_sqs_queue.this
    override_during = plan
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:notify-websocket"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-websocket"
    }
  }

  override_resource {
    target          = module.channel_workers["websocket"].module.dlq.aws_sqs_queue.this
    override_during = plan
    values          = { arn = "arn:aws:sqs:us-east-1:123456789012:notify-websocket-dlq" }
  }

  override_resource {
    target          = module.channel_workers["push"].module.queue.aws_sqs_queue.this
    override_during = plan
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:notify-push"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-push"
    }
  }

  override_resource {
    target          = module.channel_workers["push"].module.dlq.aws_sqs_queue.this
    override_during = plan
    values          = { arn = "arn:aws:sqs:us-east-1:123456789012:notify-push-dlq" }
  }

  override_resource {
    target          = module.tables["connections"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-connections" }
  }

  override_resource {
    target          = module.tables["device_tokens"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-device-tokens" }
  }

  override_resource {
    target          = module.tables["device_owners"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-device-owners" }
  }

  override_resource {
    target          = module.tables["limits"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-limits" }
  }

  override_resource {
    target          = module.tables["catalog"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-catalog" }
  }

  override_resource {
    target          = module.tables["preferences"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-preferences" }
  }

  override_resource {
    target          = module.tables["email_subscriptions"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-email-subscriptions" }
  }

  override_resource {
    target          = module.tables["delivery_log"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-delivery-log" }
  }

  override_resource {
    target          = module.tables["email_suppressions"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-email-suppressions" }
  }

  override_resource {
    target          = module.ses_events_topic.aws_sns_topic.this
    override_during = plan
    values          = { arn = "arn:aws:sns:us-east-1:123456789012:notify-ses-events" }
  }

  override_resource {
    target          = module.tables["idempotency"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-idempotency" }
  }

  override_resource {
    target          = aws_apigatewayv2_api.websocket
    override_during = plan
    values = {
      id            = "ws0123"
      execution_arn = "arn:aws:execute-api:us-east-1:123456789012:ws0123"
      api_endpoint  = "wss://ws0123.execute-api.us-east-1.amazonaws.com"
    }
  }

  override_resource {
    target          = aws_apigatewayv2_api.registration
    override_during = plan
    values = {
      id            = "http0123"
      execution_arn = "arn:aws:execute-api:us-east-1:123456789012:http0123"
    }
  }

  override_resource {
    target          = aws_apigatewayv2_integration.websocket
    override_during = plan
    values          = { id = "wsint1" }
  }

  override_resource {
    target          = aws_apigatewayv2_integration.registration
    override_during = plan
    values          = { id = "httpint1" }
  }

  override_resource {
    target          = aws_apigatewayv2_authorizer.registration
    override_during = plan
    values          = { id = "jwt1" }
  }

  override_resource {
    target          = aws_cloudwatch_log_group.websocket_access
    override_during = plan
    values          = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/notify-websocket" }
  }

  override_resource {
    target          = aws_cloudwatch_log_group.registration_access
    override_during = plan
    values          = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/notify-registration-api" }
  }

  override_resource {
    target          = module.lambda_functions["websocket_connections"].aws_lambda_function.this
    override_during = plan
    values          = { invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:notify-websocket-connections/invocations" }
  }

  override_resource {
    target          = module.lambda_functions["websocket_authorizer"].aws_lambda_function.this
    override_during = plan
    values          = { arn = "arn:aws:lambda:us-east-1:123456789012:function:notify-websocket-authorizer" }
  }

  override_resource {
    target          = aws_apigatewayv2_authorizer.websocket
    override_during = plan
    values          = { id = "wsauth1" }
  }

  override_resource {
    target          = aws_lambda_invocation.push_platform
    override_during = plan
    values          = { result = "{\"platform_application_arn\":\"arn:aws:sns:us-east-1:123456789012:app/APNS/notify-apns\"}" }
  }

  # --- WebSocket API: routes, authorisation, integration, stage ---

  assert {
    condition = (
      aws_apigatewayv2_api.websocket[0].protocol_type == "WEBSOCKET" &&
      aws_apigatewayv2_api.websocket[0].route_selection_expression == "$request.body.action"
    )
    error_message = "The WebSocket API routes on the message's action field."
  }

  assert {
    condition = { for k, r in aws_apigatewayv2_route.websocket : k => [r.authorization_type, r.target] } == {
      "$connect"    = ["CUSTOM", "integrations/wsint1"]
      "$disconnect" = ["NONE", "integrations/wsint1"]
      "$default"    = ["NONE", "integrations/wsint1"]
    } && aws_apigatewayv2_route.websocket["$connect"].authorizer_id == "wsauth1"
    error_message = "Exactly $connect (the built-in JWT authorizer by default), $disconnect and $default, each to the connections function."
  }

  assert {
    condition = (
      aws_apigatewayv2_integration.websocket[0].integration_type == "AWS_PROXY" &&
      aws_apigatewayv2_integration.websocket[0].integration_uri == "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:notify-websocket-connections/invocations"
    )
    error_message = "Lambda proxy integration to the connections function."
  }

  # --- Finding 5: one identity across channels (the built-in JWT authorizer is the default) ---

  assert {
    condition = (
      aws_apigatewayv2_authorizer.websocket[0].authorizer_type == "REQUEST" &&
      aws_apigatewayv2_authorizer.websocket[0].identity_sources == toset(["route.request.header.Sec-WebSocket-Protocol"]) &&
      aws_apigatewayv2_authorizer.websocket[0].authorizer_uri == "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:notify-websocket-authorizer/invocations"
    )
    error_message = "$connect is authorised by the built-in function, the token read from Sec-WebSocket-Protocol (never the query string)."
  }

  assert {
    condition = local.websocket_authorizer_environment == tomap({
      JWT_ISSUER              = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123"
      JWT_AUDIENCE            = "[\"client-1\"]"
      JWT_SCOPES              = "[]"
      JWKS_URI                = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123/.well-known/jwks.json"
      POWERTOOLS_SERVICE_NAME = "notify-websocket-authorizer"
      POWERTOOLS_LOG_LEVEL    = "INFO"
    })
    error_message = "The built-in authorizer checks the registration API's issuer, audience and scopes, with the issuer's JWKS."
  }

  assert {
    condition = (
      local.websocket_connections_environment.USER_ID_SOURCE == "authorizer" &&
      aws_lambda_permission.websocket_authorizer[0].function_name == "notify-websocket-authorizer" &&
      aws_lambda_permission.websocket_authorizer[0].qualifier == null &&
      aws_lambda_permission.websocket_authorizer[0].principal == "apigateway.amazonaws.com" &&
      aws_lambda_permission.websocket_authorizer[0].source_arn == "arn:aws:execute-api:us-east-1:123456789012:ws0123/authorizers/wsauth1" &&
      aws_lambda_permission.websocket_authorizer[0].source_account == "123456789012"
    )
    error_message = "The connections function stores the authorizer's principalId only; API Gateway may invoke the authorizer for this API's authorizer only."
  }

  assert {
    condition = (
      aws_lambda_permission.websocket_connections[0].principal == "apigateway.amazonaws.com" &&
      aws_lambda_permission.websocket_connections[0].source_arn == "arn:aws:execute-api:us-east-1:123456789012:ws0123/live/*" &&
      aws_lambda_permission.websocket_connections[0].source_account == "123456789012"
    )
    error_message = "Only the live stage of this API may invoke the connections function."
  }

  assert {
    condition = (
      aws_apigatewayv2_stage.websocket[0].name == "live" &&
      aws_apigatewayv2_stage.websocket[0].access_log_settings[0].destination_arn == "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/notify-websocket" &&
      jsondecode(aws_apigatewayv2_stage.websocket[0].access_log_settings[0].format).connectionId == "$context.connectionId" &&
      jsondecode(aws_apigatewayv2_stage.websocket[0].access_log_settings[0].format).routeKey == "$context.routeKey" &&
      jsondecode(aws_apigatewayv2_stage.websocket[0].access_log_settings[0].format).status == "$context.status" &&
      jsondecode(aws_apigatewayv2_stage.websocket[0].access_log_settings[0].format).requestId == "$context.requestId" &&
      jsondecode(aws_apigatewayv2_stage.websocket[0].access_log_settings[0].format).authorizerError == "$context.authorizer.error" &&
      aws_apigatewayv2_stage.websocket[0].default_route_settings[0].throttling_burst_limit == 500 &&
      aws_apigatewayv2_stage.websocket[0].default_route_settings[0].throttling_rate_limit == 1000 &&
      !aws_apigatewayv2_stage.websocket[0].default_route_settings[0].data_trace_enabled
    )
    error_message = "The stage logs JSON access lines (request, connection, route, status, authorizer error) and throttles the default route."
  }

  assert {
    condition = (
      aws_cloudwatch_log_group.websocket_access[0].kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555" &&
      aws_cloudwatch_log_group.registration_access[0].kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555" &&
      contains(local.log_group_arns, "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/notify-websocket") &&
      contains(local.log_group_arns, "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/notify-registration-api") &&
      contains(local.log_group_arns, "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/notify-push-platforms") &&
      contains(local.log_group_arns, "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/notify-websocket-authorizer") &&
      length(local.log_group_arns) == 11
    )
    error_message = "Both access log groups use the CMK, and the key policy lets CloudWatch Logs use it for them and every function's log group."
  }

  # --- Tables ---

  assert {
    condition = (
      module.tables["connections"].hash_key == "connection_id" && module.tables["connections"].ttl_attribute == "expires_at" &&
      keys(module.tables["connections"].index_arns) == ["by_user"] &&
      local.connections_user_index.hash_key.name == "user_id" && local.connections_user_index.range_key.name == "connected_at" &&
      local.connections_user_index.projection_type == "KEYS_ONLY" &&
      module.tables["device_tokens"].hash_key == "user_id" && module.tables["device_tokens"].range_key == "device_key" &&
      output.table_names.connections == "notify-connections" && output.table_names.device_tokens == "notify-device-tokens" &&
      module.tables["device_owners"].hash_key == "device_key" && module.tables["device_owners"].range_key == null &&
      output.table_names.device_owners == "notify-device-owners" &&
      output.table_arns.device_owners == "arn:aws:dynamodb:us-east-1:123456789012:table/notify-device-owners"
    )
    error_message = "connections: connection_id, TTL expires_at, GSI by_user (user_id, connected_at, KEYS_ONLY); device_tokens: user_id + device_key; device_owners: device_key, in the table outputs."
  }

  # --- Environments ---

  assert {
    condition     = jsondecode(local.router_environment.CHANNEL_QUEUE_URLS) == { email = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-email", websocket = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-websocket", push = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-push" }
    error_message = "The router fans out to every enabled channel's queue."
  }

  assert {
    condition = local.channel_worker_environments["websocket"] == {
      CONNECTIONS_TABLE              = "notify-connections"
      CONNECTIONS_USER_INDEX         = "by_user"
      WEBSOCKET_MANAGEMENT_ENDPOINT  = "https://ws0123.execute-api.us-east-1.amazonaws.com/live"
      MAX_CONCURRENT_POSTS           = "16"
      CATALOG_TABLE                  = "notify-catalog"
      CHANNEL_SWITCH_REFRESH_SECONDS = "10"
      DELIVERY_LOG_TABLE             = "notify-delivery-log"
      DELIVERY_LOG_TTL_DAYS          = "90"
      IDEMPOTENCY_TABLE              = "notify-idempotency"
      IDEMPOTENCY_TTL_SECONDS        = "86400"
      POWERTOOLS_SERVICE_NAME        = "notify-websocket-worker"
      POWERTOOLS_LOG_LEVEL           = "INFO"
    }
    error_message = "The websocket worker's environment must match the design document."
  }

  assert {
    condition     = local.websocket_connections_environment.CONNECTIONS_TABLE == "notify-connections" && local.websocket_connections_environment.CONNECTION_TTL_SECONDS == "7200" && length(local.websocket_connections_environment) == 5
    error_message = "The connections function gets its table and the 2-hour TTL."
  }

  assert {
    condition = local.channel_worker_environments["push"] == {
      DEVICE_TOKENS_TABLE            = "notify-device-tokens"
      DEVICE_OWNERS_TABLE            = "notify-device-owners"
      LIMITS_TABLE                   = "notify-limits"
      CATALOG_TABLE                  = "notify-catalog"
      CHANNEL_SWITCH_REFRESH_SECONDS = "10"
      DELIVERY_LOG_TABLE             = "notify-delivery-log"
      DELIVERY_LOG_TTL_DAYS          = "90"
      IDEMPOTENCY_TABLE              = "notify-idempotency"
      IDEMPOTENCY_TTL_SECONDS        = "86400"
      POWERTOOLS_SERVICE_NAME        = "notify-push-worker"
      POWERTOOLS_LOG_LEVEL           = "INFO"
    }
    error_message = "The push worker's environment must match the design document."
  }

  assert {
    condition = local.registration_api_environment == {
      DEVICE_TOKENS_TABLE          = "notify-device-tokens"
      DEVICE_OWNERS_TABLE          = "notify-device-owners"
      LIMITS_TABLE                 = "notify-limits"
      MAX_DEVICES_PER_USER         = "10"
      REQUESTS_PER_USER_PER_MINUTE = "60"
      PLATFORM_APPLICATION_ARNS    = jsonencode({ apns = "arn:aws:sns:us-east-1:123456789012:app/APNS/notify-apns", fcm = "arn:aws:sns:us-east-1:123456789012:app/GCM/shop-android" })
      EMAIL_SUBSCRIPTIONS_TABLE    = "notify-email-subscriptions"
      PREFERENCES_TABLE            = "notify-preferences"
      DELIVERY_LOG_TABLE           = "notify-delivery-log"
      CATALOG_TABLE                = "notify-catalog"
      SENDER_ADDRESS               = "notifications@example.com"
      SES_CONFIGURATION_SET        = "notify-verification"
      SES_IDENTITY_ARN             = "arn:aws:ses:us-east-1:123456789012:identity/notifications@example.com"
      POWERTOOLS_SERVICE_NAME      = "notify-registration-api"
      POWERTOOLS_LOG_LEVEL         = "INFO"
    }
    error_message = "The registration function's environment must match the design document."
  }

  # --- Verification abuse: limits, suppressions, its own configuration set ---

  assert {
    condition = local.registration_verification_environment == tomap({
      EMAIL_SUPPRESSIONS_TABLE           = "notify-email-suppressions"
      VERIFY_CODES_PER_ADDRESS_PER_DAY   = "5"
      VERIFY_CODES_PER_USER_PER_DAY      = "10"
      VERIFY_GUESSES_PER_ADDRESS_PER_DAY = "10"
      VERIFY_RESEND_COOLDOWN_SECONDS     = "60"
    })
    error_message = "The registration function gets the verification limits (defaults: 5 codes per address, 10 per user, 10 guesses per address per day, 60 s cooldown) and the suppressions table."
  }

  assert {
    condition = (
      aws_sesv2_configuration_set.this["verification"].configuration_set_name == "notify-verification" &&
      aws_sesv2_configuration_set.this["verification"].delivery_options[0].tls_policy == "REQUIRE" &&
      length(aws_sesv2_configuration_set.this["verification"].suppression_options[0].suppressed_reasons) == 0 &&
      aws_sesv2_configuration_set_event_destination.feedback["verification"].configuration_set_name == "notify-verification" &&
      toset(aws_sesv2_configuration_set_event_destination.feedback["verification"].event_destination[0].matching_event_types) == toset(["BOUNCE", "COMPLAINT"]) &&
      aws_sesv2_configuration_set_event_destination.feedback["verification"].event_destination[0].sns_destination[0].topic_arn == "arn:aws:sns:us-east-1:123456789012:notify-ses-events" &&
      output.ses_verification_configuration_set_name == "notify-verification"
    )
    error_message = "Verification mail has its own configuration set: TLS required, nothing added to SES's account-level suppression list, bounces and complaints to the same SES events topic."
  }

  assert {
    condition = (
      local.email_feedback_environment.VERIFICATION_CONFIGURATION_SET == "notify-verification" &&
      local.email_feedback_environment.LIMITS_TABLE == "notify-limits" &&
      local.email_feedback_environment.VERIFICATION_BLOCK_DAYS == "30" &&
      { for s in local.email_feedback_policy_statements : s.sid => [join(",", sort(s.actions)), join(",", s.resources)] if s.sid == "WriteVerificationBlocks" } == {
        WriteVerificationBlocks = ["dynamodb:BatchWriteItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-limits"]
      }
    )
    error_message = "The feedback function knows the verification configuration set and may write verification blocks (30 days by default) to the limits table."
  }

  assert {
    condition     = local.ses_event_source_arns == ["arn:aws:ses:us-east-1:123456789012:configuration-set/notify", "arn:aws:ses:us-east-1:123456789012:configuration-set/notify-verification"]
    error_message = "SES may publish the verification configuration set's events to the SES events topic."
  }

  assert {
    condition = [
      for s in concat(local.channel_workers["email"].policy_statements, local.registration_api_policy_statements) : s.conditions if contains(s.actions, "ses:SendEmail") || contains(s.actions, "ses:SendRawEmail")
      ] == [
      [{ test = "StringEquals", variable = "ses:FromAddress", values = ["notifications@example.com"] }],
      [{ test = "StringEquals", variable = "ses:FromAddress", values = ["notifications@example.com"] }],
    ]
    error_message = "Every ses:SendEmail statement of the service (email worker, registration API) is limited to the configured sender (ses:FromAddress)."
  }

  # --- Least privilege of every new role ---

  assert {
    condition = { for s in local.router_policy_statements : s.sid => join(",", s.resources) if s.sid == "SendToChannelQueuesAndRejects" } == {
      SendToChannelQueuesAndRejects = "arn:aws:sqs:us-east-1:123456789012:notify-email,arn:aws:sqs:us-east-1:123456789012:notify-push,arn:aws:sqs:us-east-1:123456789012:notify-websocket,arn:aws:sqs:us-east-1:123456789012:notify-ingest-dlq"
    }
    error_message = "The router may send to the three channel queues and the ingest DLQ."
  }

  assert {
    condition = { for s in local.websocket_connections_policy_statements : s.sid => [join(",", sort(s.actions)), join(",", s.resources)] } == {
      RecordConnections = ["dynamodb:DeleteItem,dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-connections"]
      UseKeyForTables   = ["kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"]
    }
    error_message = "The connections function may only put and delete connection items."
  }

  assert {
    condition = { for s in module.channel_workers["websocket"].policy_statements : s.sid => [join(",", sort(s.actions)), join(",", s.resources)] } == {
      ReceiveQueue           = ["sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:123456789012:notify-websocket"]
      FindUserConnections    = ["dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-connections/index/by_user"]
      DeleteStaleConnections = ["dynamodb:BatchWriteItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-connections"]
      PostToConnections      = ["execute-api:ManageConnections", "arn:aws:execute-api:us-east-1:123456789012:ws0123/live/POST/@connections/*"]
      ReadChannelSwitches    = ["dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-catalog"]
      WriteDeliveryLog       = ["dynamodb:BatchWriteItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-delivery-log"]
      Idempotency            = ["dynamodb:DeleteItem,dynamodb:PutItem,dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-idempotency"]
      UseKeyForTables        = ["kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"]
    }
    error_message = "The websocket worker: Query on the by_user index only, deletes on the table, PostToConnection on this stage only."
  }

  assert {
    condition = { for s in module.channel_workers["push"].policy_statements : s.sid => [join(",", sort(s.actions)), join(",", s.resources)] } == {
      ReceiveQueue             = ["sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:123456789012:notify-push"]
      ReadAndPruneDeviceTokens = ["dynamodb:BatchWriteItem,dynamodb:DeleteItem,dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-device-tokens"]
      CheckDeviceOwners        = ["dynamodb:BatchGetItem,dynamodb:DeleteItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-device-owners"]
      CountDevices             = ["dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-limits"]
      ReadChannelSwitches      = ["dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-catalog"]
      WriteDeliveryLog         = ["dynamodb:BatchWriteItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-delivery-log"]
      Idempotency              = ["dynamodb:DeleteItem,dynamodb:PutItem,dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-idempotency"]
      UseKeyForTables          = ["kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"]
      PublishToDeviceEndpoints = ["sns:DeleteEndpoint,sns:GetEndpointAttributes,sns:Publish", "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/notify-apns/*,arn:aws:sns:us-east-1:123456789012:endpoint/GCM/shop-android/*"]
    }
    error_message = "The push worker: its tokens, owners and device counters, and Publish/DeleteEndpoint/GetEndpointAttributes only on endpoints of the two applications."
  }

  assert {
    condition = { for s in local.push_platforms_policy_statements : s.sid => [join(",", sort(s.actions)), join(",", s.resources), jsonencode(s.conditions)] } == {
      ReadPlatformCredentials    = ["secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:notify/apns-AbCdEf", "[]"]
      CreatePlatformApplications = ["sns:CreatePlatformApplication", "*", "[]"]
      ManagePlatformApplications = ["sns:DeletePlatformApplication,sns:GetPlatformApplicationAttributes,sns:SetPlatformApplicationAttributes", "arn:aws:sns:us-east-1:123456789012:app/APNS/notify-apns", "[]"]
      DecryptPlatformCredentials = ["kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/77777777-2222-3333-4444-555555555555", jsonencode([{ test = "StringEquals", variable = "kms:ViaService", values = ["secretsmanager.us-east-1.amazonaws.com"] }])]
    }
    error_message = "The provisioner reads exactly the configured secret (its CMK through Secrets Manager) and manages only its own application (the existing FCM one is not touched)."
  }

  assert {
    condition = { for s in local.registration_api_policy_statements : s.sid => [join(",", sort(s.actions)), join(",", s.resources)] } == {
      ManageDeviceTokens       = ["dynamodb:DeleteItem,dynamodb:GetItem,dynamodb:PutItem,dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-device-tokens"]
      ManageDeviceOwners       = ["dynamodb:DeleteItem,dynamodb:GetItem,dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-device-owners"]
      CountLimits              = ["dynamodb:GetItem,dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-limits"]
      ManageEmailSubscriptions = ["dynamodb:GetItem,dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-email-subscriptions"]
      ReadSuppressions         = ["dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-email-suppressions"]
      ManagePreferences        = ["dynamodb:GetItem,dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-preferences"]
      ReadDeliveryLog          = ["dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-delivery-log"]
      ReadCatalog              = ["dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-catalog"]
      SendVerificationEmail    = ["ses:SendEmail", "arn:aws:ses:us-east-1:123456789012:identity/notifications@example.com,arn:aws:ses:us-east-1:123456789012:configuration-set/notify-verification"]
      UseKeyForTables          = ["kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"]
      CreateDeviceEndpoints    = ["sns:CreatePlatformEndpoint", "arn:aws:sns:us-east-1:123456789012:app/APNS/notify-apns,arn:aws:sns:us-east-1:123456789012:app/GCM/shop-android"]
      ManageDeviceEndpoints    = ["sns:DeleteEndpoint,sns:GetEndpointAttributes,sns:SetEndpointAttributes", "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/notify-apns/*,arn:aws:sns:us-east-1:123456789012:endpoint/GCM/shop-android/*"]
    }
    error_message = "The registration function gets exactly its tables, SES identity and the platform applications' endpoints."
  }

  assert {
    condition = alltrue(flatten([
      for s in concat(local.websocket_connections_policy_statements, module.channel_workers["websocket"].policy_statements, module.channel_workers["push"].policy_statements, local.push_platforms_policy_statements, local.registration_api_policy_statements) :
      [for a in s.actions : !strcontains(a, "*")]
    ]))
    error_message = "No wildcard action in any new role."
  }

  # --- Push platforms: one CRUD invocation per platform with credentials ---

  assert {
    condition = (
      keys(aws_lambda_invocation.push_platform) == ["apns"] &&
      aws_lambda_invocation.push_platform["apns"].lifecycle_scope == "CRUD" &&
      jsondecode(aws_lambda_invocation.push_platform["apns"].input) == {
        platform               = "apns"
        sns_platform           = "APNS"
        name                   = "notify-apns"
        credentials_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:notify/apns-AbCdEf" # pragma: allowlist secret
      } &&
      aws_lambda_invocation.push_platform["apns"].function_name == "notify-push-platforms"
    )
    error_message = "APNs is provisioned from its secret's ARN (no credential in the input); the existing FCM application is used as is."
  }

  assert {
    condition     = output.push_platform_application_arns == { apns = "arn:aws:sns:us-east-1:123456789012:app/APNS/notify-apns", fcm = "arn:aws:sns:us-east-1:123456789012:app/GCM/shop-android" }
    error_message = "The output lists every platform's application."
  }

  # --- Workers and their queues ---

  assert {
    condition = (
      module.channel_workers["websocket"].event_source_mapping.event_source_arn == "arn:aws:sqs:us-east-1:123456789012:notify-websocket" &&
      module.channel_workers["websocket"].event_source_mapping.function_response_types == toset(["ReportBatchItemFailures"]) &&
      module.channel_workers["push"].event_source_mapping.event_source_arn == "arn:aws:sqs:us-east-1:123456789012:notify-push" &&
      module.channel_workers["push"].event_source_mapping.function_response_types == toset(["ReportBatchItemFailures"]) &&
      module.channel_workers["push"].event_source_mapping.maximum_concurrency == 5 &&
      module.channel_workers["websocket"].visibility_timeout_seconds == 360 && module.channel_workers["push"].visibility_timeout_seconds == 360
    )
    error_message = "Both workers read their queue with partial batch responses; visibility = 6 x timeout + window."
  }

  # --- Registration API ---

  assert {
    condition = (
      aws_apigatewayv2_api.registration[0].protocol_type == "HTTP" &&
      aws_apigatewayv2_api.registration[0].cors_configuration[0].allow_origins == toset(["https://app.example.com"]) &&
      aws_apigatewayv2_authorizer.registration[0].authorizer_type == "JWT" &&
      aws_apigatewayv2_authorizer.registration[0].jwt_configuration[0].issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123" &&
      aws_apigatewayv2_authorizer.registration[0].jwt_configuration[0].audience == toset(["client-1"]) &&
      aws_apigatewayv2_authorizer.registration[0].identity_sources == toset(["$request.header.Authorization"])
    )
    error_message = "HTTP API with CORS for the listed origin only and a JWT authorizer for the issuer and audience."
  }

  assert {
    condition = { for k, r in aws_apigatewayv2_route.registration : k => [r.authorization_type, r.authorizer_id, r.target] } == {
      for k in [
        "PUT /devices/{platform}/{token}", "DELETE /devices/{platform}/{token}", "PUT /email-subscriptions/{address}",
        "POST /email-subscriptions/{address}/verify", "DELETE /email-subscriptions/{address}", "GET /preferences",
        "PUT /preferences", "GET /notifications/{notification_id}/deliveries",
      ] : k => ["JWT", "jwt1", "integrations/httpint1"]
    }
    error_message = "Exactly the routes of the design document, every one behind the JWT authorizer."
  }

  assert {
    condition = (
      aws_apigatewayv2_integration.registration[0].integration_type == "AWS_PROXY" &&
      aws_apigatewayv2_integration.registration[0].payload_format_version == "2.0" &&
      aws_apigatewayv2_stage.registration[0].name == "$default" && aws_apigatewayv2_stage.registration[0].auto_deploy &&
      aws_apigatewayv2_stage.registration[0].access_log_settings[0].destination_arn == "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/notify-registration-api" &&
      jsondecode(aws_apigatewayv2_stage.registration[0].access_log_settings[0].format).authorizerError == "$context.authorizer.error" &&
      aws_apigatewayv2_stage.registration[0].default_route_settings[0].throttling_burst_limit == 100 &&
      aws_apigatewayv2_stage.registration[0].default_route_settings[0].throttling_rate_limit == 50 &&
      aws_lambda_permission.registration_api[0].source_arn == "arn:aws:execute-api:us-east-1:123456789012:http0123/$default/*"
    )
    error_message = "Payload 2.0 proxy, auto-deployed $default stage with access logs and throttling, invoke permission for this API only."
  }

  # --- Catalog, alarms, outputs ---

  assert {
    condition = jsondecode(jsondecode(aws_dynamodb_table_item.catalog["order_shipped"].item).definition.S).templates.en == {
      email     = { subject = "Order {{order_id}} shipped", text = "Hi {{user.display_name}}" }
      websocket = { body = "Order {{order_id}} shipped" }
      push      = { title = "Shipped", body = "Order {{order_id}} is on its way" }
    }
    error_message = "The catalog definition carries the websocket and push templates."
  }

  assert {
    condition     = alltrue([for k in ["websocket-dlq", "push-dlq", "websocket-connections-errors", "websocket-worker-errors", "websocket-authorizer-errors", "push-worker-errors", "push-platforms-errors", "registration-api-errors"] : contains(keys(aws_cloudwatch_metric_alarm.this), k)]) && length(aws_cloudwatch_metric_alarm.this) == 15 && aws_cloudwatch_metric_alarm.this["push-dlq"].dimensions["QueueName"] == "notify-push-dlq"
    error_message = "Every new DLQ and function has an alarm."
  }

  assert {
    condition = (
      output.websocket_management_endpoint == "https://ws0123.execute-api.us-east-1.amazonaws.com/live" &&
      output.websocket_api_id == "ws0123" && output.registration_api_id == "http0123" &&
      output.function_names.registration_api == "notify-registration-api" && output.function_names.push_platforms == "notify-push-platforms" &&
      output.function_names.websocket_authorizer == "notify-websocket-authorizer" &&
      length(output.function_names) == 9 && output.queue_urls.websocket == "https://sqs.us-east-1.amazonaws.com/123456789012/notify-websocket"
    )
    error_message = "Outputs name the APIs, the management endpoint, the new functions and queues."
  }
}

run "websocket_lambda_authorizer" {
  command = plan

  variables {
    websocket = {
      stage_name = "prod"
      authorizer = {
        function_arn     = "arn:aws:lambda:us-east-1:123456789012:function:ws-auth:live"
        identity_sources = ["route.request.querystring.token"]
      }
      throttling_burst_limit = 50
      throttling_rate_limit  = 20
    }
  }

  override_resource {
    target          = aws_apigatewayv2_api.websocket
    override_during = plan
    values          = { id = "ws0123", execution_arn = "arn:aws:execute-api:us-east-1:123456789012:ws0123" }
  }

  override_resource {
    target          = aws_apigatewayv2_authorizer.websocket
    override_during = plan
    values          = { id = "auth1" }
  }

  assert {
    condition = (
      aws_apigatewayv2_route.websocket["$connect"].authorization_type == "CUSTOM" &&
      aws_apigatewayv2_route.websocket["$connect"].authorizer_id == "auth1" &&
      aws_apigatewayv2_route.websocket["$default"].authorization_type == "NONE" &&
      aws_apigatewayv2_authorizer.websocket[0].authorizer_type == "REQUEST" &&
      aws_apigatewayv2_authorizer.websocket[0].identity_sources == toset(["route.request.querystring.token"]) &&
      aws_apigatewayv2_authorizer.websocket[0].authorizer_uri == "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:ws-auth:live/invocations"
    )
    error_message = "$connect uses the caller's REQUEST authorizer (with its alias) and its identity sources."
  }

  assert {
    condition = (
      aws_lambda_permission.websocket_authorizer[0].function_name == "arn:aws:lambda:us-east-1:123456789012:function:ws-auth" &&
      aws_lambda_permission.websocket_authorizer[0].qualifier == "live" &&
      aws_lambda_permission.websocket_authorizer[0].source_arn == "arn:aws:execute-api:us-east-1:123456789012:ws0123/authorizers/auth1" &&
      aws_lambda_permission.websocket_connections[0].source_arn == "arn:aws:execute-api:us-east-1:123456789012:ws0123/prod/*"
    )
    error_message = "API Gateway may invoke the authorizer alias for this authorizer only."
  }

  assert {
    condition = (
      aws_apigatewayv2_stage.websocket[0].name == "prod" &&
      aws_apigatewayv2_stage.websocket[0].default_route_settings[0].throttling_burst_limit == 50 &&
      aws_apigatewayv2_stage.websocket[0].default_route_settings[0].throttling_rate_limit == 20 &&
      [for s in local.channel_workers["websocket"].policy_statements : s.resources if s.sid == "PostToConnections"] == [["arn:aws:execute-api:us-east-1:123456789012:ws0123/prod/POST/@connections/*"]]
    )
    error_message = "Stage name and throttling come from the input; ManageConnections follows the stage."
  }
}

run "websocket_lambda_authorizer_replaces_the_builtin_one" {
  command = plan

  variables {
    websocket = { authorizer = { function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ws-auth" } }
  }

  assert {
    condition = (
      length(local.websocket_authorizer_environment) == 0 && !contains(keys(output.function_names), "websocket_authorizer") &&
      local.websocket_connections_environment.USER_ID_SOURCE == "authorizer"
    )
    error_message = "With the caller's authorizer the built-in function is not created; its principalId is the user id."
  }
}

run "websocket_iam_is_an_explicit_opt_in" {
  command = plan

  variables {
    websocket = { iam_authorization = true }
  }

  assert {
    condition = (
      aws_apigatewayv2_route.websocket["$connect"].authorization_type == "AWS_IAM" &&
      aws_apigatewayv2_route.websocket["$connect"].authorizer_id == null &&
      length(aws_apigatewayv2_authorizer.websocket) == 0 && length(aws_lambda_permission.websocket_authorizer) == 0 &&
      !contains(keys(output.function_names), "websocket_authorizer") &&
      local.websocket_connections_environment.USER_ID_SOURCE == "iam"
    )
    error_message = "IAM only when chosen: SigV4 on $connect, no authorizer, the Cognito identity id as user id."
  }
}

run "websocket_jwt_of_another_issuer_without_the_registration_api" {
  command = plan

  variables {
    registration_api = null
    websocket = {
      jwt = {
        issuer   = "https://login.example.com/"
        audience = ["web-app", "ios-app"]
        scopes   = ["notifications/self"]
        jwks_uri = "https://login.example.com/oauth2/v1/keys"
      }
    }
  }

  assert {
    condition = (
      local.websocket_authorizer_environment.JWT_ISSUER == "https://login.example.com/" &&
      jsondecode(local.websocket_authorizer_environment.JWT_AUDIENCE) == ["web-app", "ios-app"] &&
      jsondecode(local.websocket_authorizer_environment.JWT_SCOPES) == ["notifications/self"] &&
      local.websocket_authorizer_environment.JWKS_URI == "https://login.example.com/oauth2/v1/keys" &&
      aws_apigatewayv2_route.websocket["$connect"].authorization_type == "CUSTOM"
    )
    error_message = "websocket.jwt sets the built-in authorizer's issuer, audience, scopes and JWKS URI."
  }
}

run "websocket_jwks_uri_defaults_to_the_issuers_well_known_keys" {
  command = plan

  variables {
    registration_api = null
    websocket        = { jwt = { issuer = "https://auth.example.com/tenant-1/", audience = ["web-app"] } }
  }

  assert {
    condition     = local.websocket_authorizer_environment.JWKS_URI == "https://auth.example.com/tenant-1/.well-known/jwks.json"
    error_message = "Without jwks_uri the keys come from <issuer>/.well-known/jwks.json."
  }
}

run "rejects_builtin_websocket_authorizer_without_an_issuer" {
  command = plan

  variables {
    registration_api = null
    websocket        = {}
  }

  expect_failures = [aws_apigatewayv2_api.websocket]
}

run "rejects_two_websocket_authorisations" {
  command = plan

  variables {
    websocket = { iam_authorization = true, authorizer = { function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ws-auth" } }
  }

  expect_failures = [var.websocket]
}

run "rejects_websocket_jwt_with_iam" {
  command = plan

  variables {
    websocket = { iam_authorization = true, jwt = { issuer = "https://login.example.com", audience = ["web-app"] } }
  }

  expect_failures = [var.websocket]
}

run "rejects_websocket_jwt_http_issuer" {
  command = plan

  variables {
    websocket = { jwt = { issuer = "http://login.example.com", audience = ["web-app"] } }
  }

  expect_failures = [var.websocket]
}

run "rejects_websocket_jwt_empty_audience" {
  command = plan

  variables {
    websocket = { jwt = { issuer = "https://login.example.com", audience = [" "] } }
  }

  expect_failures = [var.websocket]
}

run "rejects_websocket_jwt_scope_with_space" {
  command = plan

  variables {
    websocket = { jwt = { issuer = "https://login.example.com", audience = ["web-app"], scopes = ["read write"] } }
  }

  expect_failures = [var.websocket]
}

run "rejects_websocket_jwks_uri_over_http" {
  command = plan

  variables {
    websocket = { jwt = { issuer = "https://login.example.com", audience = ["web-app"], jwks_uri = "http://login.example.com/jwks.json" } }
  }

  expect_failures = [var.websocket]
}

run "registration_api_without_push" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["email"], fallback_locale = "en", templates = { en = { email = { subject = "s", text = "t" } } } }
    }
    websocket = null
    push      = null
  }

  assert {
    condition = (
      local.registration_api_environment.PLATFORM_APPLICATION_ARNS == "{}" &&
      local.registration_api_environment.DEVICE_TOKENS_TABLE == "notify-device-tokens" &&
      local.registration_api_environment.DEVICE_OWNERS_TABLE == "notify-device-owners" &&
      length([for s in local.registration_api_policy_statements : s if startswith(s.sid, "CreateDevice") || s.sid == "ManageDeviceEndpoints"]) == 0
    )
    error_message = "Without push: the device tokens table exists, no platform application, no SNS permission."
  }

  assert {
    condition = (
      length(aws_apigatewayv2_api.websocket) == 0 && !contains(keys(module.channel_workers), "push") &&
      length(aws_lambda_invocation.push_platform) == 0 && output.push_platform_application_arns == null &&
      !contains(keys(output.function_names), "push_worker") && contains(keys(output.function_names), "registration_api") &&
      keys(local.channel_queue_urls) == ["email"] &&
      length(aws_apigatewayv2_api.registration[0].cors_configuration) == 1
    )
    error_message = "Only the registration API is added; the router still fans out to email only."
  }
}

run "channels_off_by_default" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["email"], fallback_locale = "en", templates = { en = { email = { subject = "s", text = "t" } } } }
    }
    websocket        = null
    push             = null
    registration_api = null
  }

  assert {
    condition = (
      length(aws_apigatewayv2_api.websocket) + length(aws_apigatewayv2_api.registration) + length(aws_lambda_invocation.push_platform) +
      length(setsubtract(keys(module.channel_workers), ["email"])) +
      length(aws_cloudwatch_log_group.websocket_access) + length(aws_cloudwatch_log_group.registration_access) == 0
    )
    error_message = "No part-2 resource exists unless its input is set."
  }

  assert {
    condition = alltrue([for v in [
      output.websocket_api_id, output.websocket_url, output.websocket_management_endpoint, output.push_platform_application_arns,
      output.registration_api_id, output.registration_api_url, module.tables["connections"].table_arn, module.tables["device_tokens"].table_arn,
      module.tables["device_owners"].table_arn,
    ] : v == null]) && keys(output.queue_urls) == ["email", "router"] && keys(output.dlq_urls) == ["email", "router"] && length(output.function_names) == 3 && length(local.log_group_arns) == 3 && length(aws_cloudwatch_metric_alarm.this) == 7
    error_message = "Part-2 outputs are null and the email-only service keeps its 3 functions, 3 log group grants and 7 alarms."
  }
}

# --- Refusals ---

run "rejects_websocket_type_when_channel_off" {
  command = plan

  variables {
    websocket = null
  }

  expect_failures = [aws_dynamodb_table_item.catalog]
}

run "rejects_push_type_when_channel_off" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["push"], fallback_locale = "en", templates = { en = { push = { title = "t", body = "b" } } } }
    }
    push = null
  }

  expect_failures = [aws_dynamodb_table_item.catalog]
}

run "rejects_empty_websocket_body" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["websocket"], fallback_locale = "en", templates = { en = { websocket = { body = " " } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_multiline_push_title" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["push"], fallback_locale = "en", templates = { en = { push = { title = "a\nb", body = "b" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_push_template_without_push_channel" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["email"], fallback_locale = "en", templates = { en = { email = { subject = "s", text = "t" }, push = { title = "t", body = "b" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_websocket_stage_with_slash" {
  command = plan

  variables {
    websocket = { stage_name = "v1/live" }
  }

  expect_failures = [var.websocket]
}

run "rejects_websocket_authorizer_name_instead_of_arn" {
  command = plan

  variables {
    websocket = { authorizer = { function_arn = "ws-auth" } }
  }

  expect_failures = [var.websocket]
}

run "rejects_websocket_identity_source_body" {
  command = plan

  variables {
    websocket = { authorizer = { function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ws-auth", identity_sources = ["$request.body.token"] } }
  }

  expect_failures = [var.websocket]
}

run "rejects_websocket_zero_rate_limit" {
  command = plan

  variables {
    websocket = { throttling_rate_limit = 0 }
  }

  expect_failures = [var.websocket]
}

run "rejects_websocket_worker_concurrency_of_one" {
  command = plan

  variables {
    workers = { websocket = { maximum_concurrency = 1 } }
  }

  expect_failures = [var.workers]
}

run "rejects_websocket_zero_concurrent_posts" {
  command = plan

  variables {
    websocket = { max_concurrent_posts = 0 }
  }

  expect_failures = [var.websocket]
}

run "rejects_unknown_push_platform" {
  command = plan

  variables {
    push = { platforms = { adm = { platform_application_arn = "arn:aws:sns:us-east-1:123456789012:app/ADM/shop" } } }
  }

  expect_failures = [var.push]
}

run "rejects_no_push_platform" {
  command = plan

  variables {
    push = { platforms = {} }
  }

  expect_failures = [var.push]
}

run "rejects_push_secret_and_existing_application" {
  command = plan

  variables {
    push = {
      platforms = {
        fcm = {
          credentials_secret_arn   = "arn:aws:secretsmanager:us-east-1:123456789012:secret:fcm-AbCdEf" # pragma: allowlist secret
          platform_application_arn = "arn:aws:sns:us-east-1:123456789012:app/GCM/shop"
        }
      }
    }
  }

  expect_failures = [var.push]
}

run "rejects_push_secret_name_instead_of_arn" {
  command = plan

  variables {
    push = { platforms = { fcm = { credentials_secret_arn = "notify/fcm" } } } # pragma: allowlist secret
  }

  expect_failures = [var.push]
}

run "rejects_push_application_of_other_platform" {
  command = plan

  variables {
    push = { platforms = { apns = { platform_application_arn = "arn:aws:sns:us-east-1:123456789012:app/APNS_SANDBOX/shop" } } }
  }

  expect_failures = [var.push]
}

run "rejects_push_worker_timeout_over_lambda_limit" {
  command = plan

  variables {
    workers = { push = { timeout = 901 } }
  }

  expect_failures = [var.workers]
}

run "rejects_http_jwt_issuer" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "http://issuer.example.com", jwt_audience = ["client-1"] }
  }

  expect_failures = [var.registration_api]
}

run "rejects_empty_jwt_audience" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "https://issuer.example.com", jwt_audience = [] }
  }

  expect_failures = [var.registration_api]
}

run "rejects_blank_jwt_audience" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "https://issuer.example.com", jwt_audience = [" "] }
  }

  expect_failures = [var.registration_api]
}

run "rejects_scope_with_space" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "https://issuer.example.com", jwt_audience = ["client-1"], authorization_scopes = ["read write"] }
  }

  expect_failures = [var.registration_api]
}

run "rejects_registration_stage_with_slash" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "https://issuer.example.com", jwt_audience = ["client-1"], stage_name = "v1/x" }
  }

  expect_failures = [var.registration_api]
}

run "rejects_cors_wildcard" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "https://issuer.example.com", jwt_audience = ["client-1"], cors_allowed_origins = ["*"] }
  }

  expect_failures = [var.registration_api]
}

run "rejects_registration_negative_burst" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "https://issuer.example.com", jwt_audience = ["client-1"], throttling_burst_limit = -1 }
  }

  expect_failures = [var.registration_api]
}

run "rejects_registration_zero_devices_per_user" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "https://issuer.example.com", jwt_audience = ["client-1"], max_devices_per_user = 0 }
  }

  expect_failures = [var.registration_api]
}

run "rejects_zero_requests_per_user_per_minute" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "https://issuer.example.com", jwt_audience = ["client-1"], requests_per_user_per_minute = 0 }
  }

  expect_failures = [var.registration_api]
}

run "rejects_registration_more_devices_per_user_than_a_push_batch_can_reach" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "https://issuer.example.com", jwt_audience = ["client-1"], max_devices_per_user = 101 }
  }

  expect_failures = [var.registration_api]
}

run "rejects_registration_fractional_devices_per_user" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "https://issuer.example.com", jwt_audience = ["client-1"], max_devices_per_user = 2.5 }
  }

  expect_failures = [var.registration_api]
}

run "rejects_fractional_requests_per_user_per_minute" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "https://issuer.example.com", jwt_audience = ["client-1"], requests_per_user_per_minute = 2.5 }
  }

  expect_failures = [var.registration_api]
}

run "rejects_registration_timeout_over_api_gateway_limit" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "https://issuer.example.com", jwt_audience = ["client-1"], timeout = 30 }
  }

  expect_failures = [var.registration_api]
}

# --- Verification limits: each input is validated with a message that says why ---

run "rejects_zero_codes_per_address_per_day" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "https://issuer.example.com", jwt_audience = ["client-1"], verification = { codes_per_address_per_day = 0 } }
  }

  expect_failures = [var.registration_api]
}

run "rejects_codes_per_user_per_day_that_allow_mail_bombing" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "https://issuer.example.com", jwt_audience = ["client-1"], verification = { codes_per_user_per_day = 1000 } }
  }

  expect_failures = [var.registration_api]
}

run "rejects_guesses_per_address_per_day_over_100" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "https://issuer.example.com", jwt_audience = ["client-1"], verification = { guesses_per_address_per_day = 101 } }
  }

  expect_failures = [var.registration_api]
}

run "rejects_fractional_resend_cooldown" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "https://issuer.example.com", jwt_audience = ["client-1"], verification = { resend_cooldown_seconds = 0.5 } }
  }

  expect_failures = [var.registration_api]
}

run "rejects_verification_block_longer_than_a_year" {
  command = plan

  variables {
    registration_api = { jwt_issuer = "https://issuer.example.com", jwt_audience = ["client-1"], verification = { block_days_after_feedback = 400 } }
  }

  expect_failures = [var.registration_api]
}
