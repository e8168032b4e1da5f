output "event_bus_name" {
  description = "Name of the service's event bus: producers call PutEvents with EventBusName = this."
  value       = try(aws_cloudwatch_event_bus.this[0].name, null)
}

output "event_bus_arn" {
  description = "ARN of the service's event bus (grant each producer events:PutEvents on it with its document of producer_policy_documents)."
  value       = try(aws_cloudwatch_event_bus.this[0].arn, null)
}

output "producer_policy_documents" {
  description = "Event source -> IAM policy document (JSON) allowing events:PutEvents on the bus only for events of that source (events:source) and of the notification types it may send (events:detail-type). Attach each to that producer's role alone: the router trusts an event's source only as far as these permissions go. One per source in allowed_sources or event_sources."
  value       = var.create ? { for source, document in data.aws_iam_policy_document.producer : source => document.json } : null
}

output "event_archive_arn" {
  description = "ARN of the bus archive (replay with StartReplay)."
  value       = try(aws_cloudwatch_event_archive.this[0].arn, null)
}

output "event_schema_path" {
  description = "Path of the JSON Schema every event's detail must satisfy (draft-07)."
  value       = var.create ? local.event_schema_path : null
}

output "ingest_rule_arn" {
  description = "ARN of the rule that forwards the bus's events to the ingest queue."
  value       = try(module.ingest_rule.rule_arns["ingest"], null)
}

output "ingest_rule_event_pattern" {
  description = "Event pattern of the ingest rule."
  value       = try(module.ingest_rule.rule_event_patterns["ingest"], null)
}

output "ingest_queue_url" {
  description = "URL of the ingest queue (bus -> router)."
  value       = module.ingest_queue.queue_url
}

output "ingest_queue_arn" {
  description = "ARN of the ingest queue."
  value       = module.ingest_queue.queue_arn
}

output "ingest_dlq_url" {
  description = "URL of the ingest DLQ: rejected events (message attributes reason, error_type), events the router gave up on, events the rule or the bus could not deliver."
  value       = module.ingest_dlq.queue_url
}

output "ingest_dlq_arn" {
  description = "ARN of the ingest DLQ."
  value       = module.ingest_dlq.queue_arn
}

output "email_queue_url" {
  description = "URL of the email queue (router -> email worker)."
  value       = module.email_queue.queue_url
}

output "email_queue_arn" {
  description = "ARN of the email queue."
  value       = module.email_queue.queue_arn
}

output "email_dlq_url" {
  description = "URL of the email DLQ: channel messages the email worker gave up on."
  value       = module.email_dlq.queue_url
}

output "email_dlq_arn" {
  description = "ARN of the email DLQ."
  value       = module.email_dlq.queue_arn
}

output "email_feedback_dlq_url" {
  description = "URL of the email feedback function's DLQ (SES events it could not process)."
  value       = module.email_feedback.dead_letter_queue_url
}

output "email_feedback_dlq_arn" {
  description = "ARN of the email feedback function's DLQ."
  value       = module.email_feedback.dead_letter_queue_arn
}

output "table_names" {
  description = "Map of table role (catalog, users, preferences, email_subscriptions, email_suppressions, delivery_log, idempotency, with the WebSocket channel connections, with push or the registration API device_tokens and device_owners, with the registration API limits) to table name. users is the existing table's name with enrichment.users_table_arn, absent with a custom enrichment function."
  value = !var.create ? null : merge(
    {
      catalog             = module.catalog_table.table_name
      preferences         = module.preferences_table.table_name
      email_subscriptions = module.email_subscriptions_table.table_name
      email_suppressions  = module.email_suppressions_table.table_name
      delivery_log        = module.delivery_log_table.table_name
      idempotency         = module.idempotency_table.table_name
    },
    var.enrichment.function_arn == null ? { users = local.users_table_name } : {},
    local.websocket_enabled ? { connections = module.connections_table.table_name } : {},
    local.push_enabled || local.registration_api_enabled ? { device_tokens = module.device_tokens_table.table_name, device_owners = module.device_owners_table.table_name } : {},
    local.registration_api_enabled ? { limits = module.limits_table.table_name } : {},
  )
}

output "table_arns" {
  description = "Map of table role to table ARN (same keys as table_names)."
  value = !var.create ? null : merge(
    {
      catalog             = module.catalog_table.table_arn
      preferences         = module.preferences_table.table_arn
      email_subscriptions = module.email_subscriptions_table.table_arn
      email_suppressions  = module.email_suppressions_table.table_arn
      delivery_log        = module.delivery_log_table.table_arn
      idempotency         = module.idempotency_table.table_arn
    },
    var.enrichment.function_arn == null ? { users = local.users_table_arn } : {},
    local.websocket_enabled ? { connections = module.connections_table.table_arn } : {},
    local.push_enabled || local.registration_api_enabled ? { device_tokens = module.device_tokens_table.table_arn, device_owners = module.device_owners_table.table_arn } : {},
    local.registration_api_enabled ? { limits = module.limits_table.table_arn } : {},
  )
}

output "users_table_created" {
  description = "Whether the module created the built-in users table."
  value       = var.create ? local.create_users_table : null
}

output "catalog_definitions" {
  description = "Map of notification type to the definition JSON written to its catalog item."
  value       = var.create ? local.catalog_definitions : null
}

output "function_names" {
  description = "Map of function role (router, email_worker, email_feedback, and with part 2 websocket_connections, websocket_worker, websocket_authorizer (the built-in $connect authorizer), push_worker, push_platforms, registration_api) to function name."
  value = !var.create ? null : merge(
    {
      router         = module.router.function_name
      email_worker   = module.email_worker.function_name
      email_feedback = module.email_feedback.function_name
    },
    { for k, m in local.part2_functions : k => m.function_name if contains(keys(local.function_names), k) },
  )
}

output "function_arns" {
  description = "Map of function role to function ARN."
  value = !var.create ? null : merge(
    {
      router         = module.router.function_arn
      email_worker   = module.email_worker.function_arn
      email_feedback = module.email_feedback.function_arn
    },
    { for k, m in local.part2_functions : k => m.function_arn if contains(keys(local.function_names), k) },
  )
}

output "function_role_names" {
  description = "Map of function role to the name of its execution role."
  value = !var.create ? null : merge(
    {
      router         = module.router.role_name
      email_worker   = module.email_worker.role_name
      email_feedback = module.email_feedback.role_name
    },
    { for k, m in local.part2_functions : k => m.role_name if contains(keys(local.function_names), k) },
  )
}

output "function_role_arns" {
  description = "Map of function role to the ARN of its execution role."
  value = !var.create ? null : merge(
    {
      router         = module.router.role_arn
      email_worker   = module.email_worker.role_arn
      email_feedback = module.email_feedback.role_arn
    },
    { for k, m in local.part2_functions : k => m.role_arn if contains(keys(local.function_names), k) },
  )
}

output "log_group_names" {
  description = "Map of function role to its log group name."
  value = !var.create ? null : merge(
    {
      router         = module.router.log_group_name
      email_worker   = module.email_worker.log_group_name
      email_feedback = module.email_feedback.log_group_name
    },
    { for k, m in local.part2_functions : k => m.log_group_name if contains(keys(local.function_names), k) },
  )
}

output "event_source_mapping_uuids" {
  description = "Map of function role to the UUID of its SQS event source mapping (router, email_worker, and websocket_worker / push_worker when enabled)."
  value = !var.create ? null : merge(
    {
      router       = aws_lambda_event_source_mapping.router[0].uuid
      email_worker = aws_lambda_event_source_mapping.email_worker[0].uuid
    },
    { for k, m in { websocket_worker = aws_lambda_event_source_mapping.websocket_worker, push_worker = aws_lambda_event_source_mapping.push_worker } : k => m[0].uuid if length(m) > 0 },
  )
}

output "ses_identity" {
  description = "SES identity the worker sends from (domain or address)."
  value       = var.create ? local.ses_identity : null
}

output "ses_identity_arn" {
  description = "ARN of that identity (the worker may call ses:SendEmail on it and the configuration set only)."
  value       = var.create ? local.ses_identity_arn : null
}

output "ses_identity_created" {
  description = "Whether the module created the SES identity."
  value       = var.create ? var.email.create_identity : null
}

output "ses_identity_dkim_tokens" {
  description = "DKIM tokens of a module-created domain identity: publish <token>._domainkey.<domain> CNAME <token>.dkim.amazonses.com."
  value       = try(aws_sesv2_email_identity.this[0].dkim_signing_attributes[0].tokens, null)
}

output "ses_configuration_set_name" {
  description = "SES configuration set every email is sent with (bounce and complaint events -> the SES events topic)."
  value       = var.create ? local.configuration_set_name : null
}

output "ses_verification_configuration_set_name" {
  description = "SES configuration set of verification code mail (registration API; its bounces and complaints block verification mail only). null without the registration API."
  value       = local.registration_api_enabled ? local.verification_configuration_set_name : null
}

output "ses_verification_configuration_set_arn" {
  description = "ARN of the SES configuration set of verification code mail; null without the registration API."
  value       = local.registration_api_enabled ? local.verification_configuration_set_arn : null
}

output "ses_events_topic_arn" {
  description = "ARN of the CMK-encrypted topic SES publishes bounce and complaint events to."
  value       = module.ses_events_topic.topic_arn
}

output "ops_topic_arn" {
  description = "ARN of the topic the alarms notify (module-created or alarm_topic_arn)."
  value       = var.create ? local.alarm_topic_arn : null
}

output "alarm_names" {
  description = "Map of alarm key (ingest-dlq, email-dlq, email-feedback-dlq, router-errors, email-worker-errors, email-feedback-errors, ingest-age; with part 2 websocket-dlq, push-dlq and <function>-errors of each new function) to alarm name."
  value       = var.create ? { for k, a in aws_cloudwatch_metric_alarm.this : k => a.alarm_name } : null
}

output "kms_key_arn" {
  description = "ARN of the service CMK (producers need no access to it: EventBridge encrypts on their behalf)."
  value       = module.kms_key.key_arn
}

output "kms_key_id" {
  description = "ID of the service CMK."
  value       = module.kms_key.key_id
}

output "kms_alias_arns" {
  description = "Map of alias name to alias ARN of the service CMK."
  value       = module.kms_key.alias_arns
}

# --- Part 2 (null while the channel's input is not set) ---

output "websocket_api_id" {
  description = "ID of the WebSocket API."
  value       = local.websocket_api_id
}

output "websocket_api_execution_arn" {
  description = "Execution ARN of the WebSocket API (with websocket.iam_authorization, grant clients execute-api:Invoke on <arn>/<stage>/$connect)."
  value       = local.websocket_execution_arn
}

output "websocket_url" {
  description = "wss:// URL clients connect to (the stage's invoke URL)."
  value       = try(aws_apigatewayv2_stage.websocket[0].invoke_url, null)
}

output "websocket_management_endpoint" {
  description = "https:// endpoint of the stage's @connections management API (WEBSOCKET_MANAGEMENT_ENDPOINT of the worker)."
  value       = local.websocket_enabled ? local.websocket_management_endpoint : null
}

output "websocket_stage_name" {
  description = "Stage of the WebSocket API."
  value       = try(aws_apigatewayv2_stage.websocket[0].name, null)
}

output "websocket_access_log_group_name" {
  description = "CMK-encrypted log group of the WebSocket stage's access logs."
  value       = try(aws_cloudwatch_log_group.websocket_access[0].name, null)
}

output "websocket_queue_url" {
  description = "URL of the websocket queue (router -> websocket worker)."
  value       = module.websocket_queue.queue_url
}

output "websocket_queue_arn" {
  description = "ARN of the websocket queue."
  value       = module.websocket_queue.queue_arn
}

output "websocket_dlq_url" {
  description = "URL of the websocket DLQ: channel messages the websocket worker gave up on."
  value       = module.websocket_dlq.queue_url
}

output "websocket_dlq_arn" {
  description = "ARN of the websocket DLQ."
  value       = module.websocket_dlq.queue_arn
}

output "push_queue_url" {
  description = "URL of the push queue (router -> push worker)."
  value       = module.push_queue.queue_url
}

output "push_queue_arn" {
  description = "ARN of the push queue."
  value       = module.push_queue.queue_arn
}

output "push_dlq_url" {
  description = "URL of the push DLQ: channel messages the push worker gave up on."
  value       = module.push_dlq.queue_url
}

output "push_dlq_arn" {
  description = "ARN of the push DLQ."
  value       = module.push_dlq.queue_arn
}

output "push_platform_application_arns" {
  description = "Map of platform (apns, apns_sandbox, fcm) to SNS platform application ARN (module-created or given)."
  value       = local.push_enabled ? local.push_platform_application_arns_created : null
}

output "registration_api_id" {
  description = "ID of the registration HTTP API."
  value       = try(aws_apigatewayv2_api.registration[0].id, null)
}

output "registration_api_execution_arn" {
  description = "Execution ARN of the registration API."
  value       = try(aws_apigatewayv2_api.registration[0].execution_arn, null)
}

output "registration_api_url" {
  description = "Base https:// URL of the registration API (the stage's invoke URL)."
  value       = try(aws_apigatewayv2_stage.registration[0].invoke_url, null)
}

output "registration_api_stage_name" {
  description = "Stage of the registration API."
  value       = try(aws_apigatewayv2_stage.registration[0].name, null)
}

output "registration_api_access_log_group_name" {
  description = "CMK-encrypted log group of the registration API's access logs."
  value       = try(aws_cloudwatch_log_group.registration_access[0].name, null)
}
