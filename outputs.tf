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

output "queue_urls" {
  description = "Map of queue worker (router: the ingest queue, fed by the bus; email, websocket, push, chat: the channel queues, fed by the router) to its queue URL."
  value       = !var.create ? null : { for k, w in local.queue_workers : k => w.queue_url }
}

output "queue_arns" {
  description = "Map of queue worker to its queue ARN (same keys as queue_urls)."
  value       = !var.create ? null : { for k, w in local.queue_workers : k => w.queue_arn }
}

output "dlq_urls" {
  description = "Map of queue worker to its DLQ URL. router: the ingest DLQ (rejected events with message attributes reason and error_type, events the router gave up on, events the rule or the bus could not deliver); a channel: messages its worker gave up on."
  value       = !var.create ? null : { for k, w in local.queue_workers : k => w.dlq_url }
}

output "dlq_arns" {
  description = "Map of queue worker to its DLQ ARN."
  value       = !var.create ? null : { for k, w in local.queue_workers : k => w.dlq_arn }
}

output "email_feedback_dlq_url" {
  description = "URL of the email feedback function's DLQ (SES events it could not process)."
  value       = module.lambda_functions["email_feedback"].dead_letter_queue_url
}

output "email_feedback_dlq_arn" {
  description = "ARN of the email feedback function's DLQ."
  value       = module.lambda_functions["email_feedback"].dead_letter_queue_arn
}

output "table_names" {
  description = "Map of table role (catalog, users, preferences, email_subscriptions, email_suppressions, delivery_log, idempotency, with the WebSocket channel connections, with push or the registration API device_tokens and device_owners, with the registration API or a frequency cap limits, with a digest type digests) to table name. users is the existing table's name with enrichment.users_table_arn, absent with a custom enrichment function."
  value       = var.create ? local.table_names : null
}

output "table_arns" {
  description = "Map of table role to table ARN (same keys as table_names)."
  value       = var.create ? local.table_arns : null
}

output "users_table_created" {
  description = "Whether the module created the built-in users table."
  value       = var.create ? local.create_users_table : null
}

output "catalog_definitions" {
  description = "Map of notification type to the definition JSON written to its catalog item."
  value       = var.create ? local.catalog_definitions : null
}

output "channel_switch_commands" {
  description = "The operators' channel kill switch (docs/notification-service.md): list = the switches in force; switches = scope (<channel>: every type, <channel>#<type>: one type) -> the exact AWS CLI command that turns it off (disable) and back on (enable). Takes effect within channel_switch_refresh_seconds, in the router and in the channel workers; no apply, and an apply never reverts it."
  value = !var.create ? null : {
    list = "aws dynamodb query ${local.channel_switch_table} --consistent-read --key-condition-expression 'catalog_id = :p' --expression-attribute-values '${jsonencode({ ":p" = { S = local.channel_switch_partition } })}'"
    switches = {
      for scope, key in local.channel_switch_key : scope => {
        disable = "aws dynamodb put-item ${local.channel_switch_table} --item '${jsonencode(merge(key, { disabled = { BOOL = true } }))}'"
        enable  = "aws dynamodb delete-item ${local.channel_switch_table} --key '${jsonencode(key)}'"
      }
    }
  }
}

output "channel_switch_operator_policy_json" {
  description = "IAM policy document (JSON) that lets an operator flip the channel switches and nothing else: write and read the catalog table's channel-switches partition, decrypt through DynamoDB. The service's own roles only read that partition."
  value       = try(data.aws_iam_policy_document.channel_switch_operator[0].json, null)
}

output "function_names" {
  description = "Map of function role (router, email_worker, email_feedback, and with the channels and the API websocket_connections, websocket_worker, websocket_authorizer (the built-in $connect authorizer), push_worker, push_platforms, chat_worker, registration_api) to function name."
  value       = !var.create ? null : { for k, f in local.functions : k => f.function_name }
}

output "function_arns" {
  description = "Map of function role to function ARN."
  value       = !var.create ? null : { for k, f in local.functions : k => f.function_arn }
}

output "function_role_names" {
  description = "Map of function role to the name of its execution role."
  value       = !var.create ? null : { for k, f in local.functions : k => f.role_name }
}

output "function_role_arns" {
  description = "Map of function role to the ARN of its execution role."
  value       = !var.create ? null : { for k, f in local.functions : k => f.role_arn }
}

output "log_group_names" {
  description = "Map of function role to its log group name."
  value       = !var.create ? null : { for k, f in local.functions : k => f.log_group_name }
}

output "event_source_mapping_uuids" {
  description = "Map of function role to the UUID of its SQS event source mapping (router, email_worker, and websocket_worker / push_worker / chat_worker when enabled)."
  value       = !var.create ? null : { for k, w in local.queue_workers : (k == "router" ? k : "${k}_worker") => w.event_source_mapping_uuid }
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
  description = "Map of alarm key (ingest-dlq, email-dlq, email-feedback-dlq, router-errors, email-worker-errors, email-feedback-errors, ingest-age; with the channels websocket-dlq, push-dlq, chat-dlq and <function>-errors of each new function) to alarm name."
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

# --- WebSocket, push and the registration API (null while the input is not set) ---

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
