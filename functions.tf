# The functions that are not queue workers and not behind the registration API: the email feedback loop
# (email.tf), the WebSocket connections function and built-in $connect authorizer (websocket.tf) and the push
# platforms provisioner (push.tf). One modules/lambda-function call for all four: they share the runtime, the
# package, the service key, X-Ray and log retention, and differ only in what local.lambda_functions states.
#
# A role that is off keeps its module instance with create = false (outputs null), so every reference to it stays
# valid. The registration API's function stays its own call (registration_api.tf): its environment holds the
# push platform applications' ARNs, which the provisioner here reports (a cycle through this call).

locals {
  # Which of them exist, apart from their settings below: these names feed the service key's policy (log groups,
  # alarms: main.tf, local.function_names), while the settings depend on the tables, which depend on the key.
  lambda_functions_enabled = {
    email_feedback        = var.create
    websocket_connections = local.websocket_enabled
    websocket_authorizer  = local.websocket_builtin_authorizer
    push_platforms        = local.push_enabled && length(local.provisioned_platforms) > 0
  }

  lambda_functions = {
    email_feedback = {
      description = "Adds bounced and complaining addresses of ${var.name} to the suppressions table"
      handler     = "notification_handlers.service.email_feedback.handler"
      timeout     = 30
      environment = local.email_feedback_environment
      # SNS invokes asynchronously: a failing notification is retried twice by Lambda (the module's default
      # maximum_retry_attempts), then kept in the function's own DLQ (<name>-email-feedback-dlq; a separate queue
      # because its messages are SNS notifications, not channel messages).
      create_dead_letter_queue = true
      dead_letter_target_arn   = null
      policy_statements        = local.lambda_functions_enabled.email_feedback ? local.email_feedback_policy_statements : []
    }

    websocket_connections = {
      description = "Records ${var.name} WebSocket connections of authorised users ($connect, $disconnect, $default)"
      handler     = "notification_handlers.service.websocket_connections.handler"
      timeout     = 10
      environment = local.websocket_enabled ? local.websocket_connections_environment : {}
      # API Gateway invokes synchronously; a stray asynchronous invoke is dead-lettered to the websocket DLQ.
      create_dead_letter_queue = false
      dead_letter_target_arn   = try(module.channel_workers["websocket"].dlq_arn, null)
      policy_statements        = local.websocket_enabled ? local.websocket_connections_policy_statements : []
    }

    # The built-in $connect authorizer: checks the token the registration API accepts and answers its sub as the
    # principalId. It calls no AWS API: no policy_statements, only the module's base (its log group, X-Ray, the
    # CMK through Lambda for its environment, the websocket DLQ that only a stray asynchronous invoke could reach).
    websocket_authorizer = {
      description              = "Admits ${var.name} WebSocket connections whose JWT the registration API would accept; principalId = sub"
      handler                  = "notification_handlers.service.websocket_authorizer.handler"
      timeout                  = 10 # a cold JWKS fetch times out after 3 s
      environment              = local.websocket_authorizer_environment
      create_dead_letter_queue = false
      dead_letter_target_arn   = local.lambda_functions_enabled.websocket_authorizer ? try(module.channel_workers["websocket"].dlq_arn, null) : null
      policy_statements        = []
    }

    push_platforms = {
      description = "Creates, updates and deletes the ${var.name} SNS platform applications from credentials in Secrets Manager"
      handler     = "notification_handlers.service.push_platforms.handler"
      timeout     = 60
      environment = local.push_enabled ? local.push_platforms_environment : {}
      # Terraform invokes it synchronously; a stray asynchronous invoke is dead-lettered to the push DLQ.
      create_dead_letter_queue = false
      dead_letter_target_arn   = try(module.channel_workers["push"].dlq_arn, null)
      policy_statements        = local.lambda_functions_enabled.push_platforms ? local.push_platforms_policy_statements : []
    }
  }
}

module "lambda_functions" {
  source   = "./modules/lambda-function"
  for_each = local.lambda_functions

  create       = local.lambda_functions_enabled[each.key]
  name         = "${var.name}-${replace(each.key, "_", "-")}"
  description  = each.value.description
  handler      = each.value.handler
  runtime      = var.lambda_runtime
  architecture = var.lambda_architecture
  timeout      = each.value.timeout
  memory_size  = 256
  package      = var.lambda_package
  kms_key_arn  = local.key_arn
  tracing_mode = "Active"

  code_signing_config_arn = var.lambda_code_signing_config_arn
  log_retention_in_days   = var.log_retention_in_days

  environment_variables = each.value.environment

  create_dead_letter_queue = each.value.create_dead_letter_queue
  dead_letter_target_arn   = each.value.dead_letter_target_arn

  policy_statements = each.value.policy_statements

  tags = var.tags
}
