output "event_bus_name" {
  description = "Put events here (PutEvents with EventBusName = this)."
  value       = module.notification_service.event_bus_name
}

output "event_bus_arn" {
  description = "ARN of the service's event bus."
  value       = module.notification_service.event_bus_arn
}

output "producer_policy_documents" {
  description = "Event source -> IAM policy (JSON) for that producer's role: PutEvents on the bus for its own source and types only."
  value       = module.notification_service.producer_policy_documents
}

output "event_archive_arn" {
  description = "ARN of the bus archive."
  value       = module.notification_service.event_archive_arn
}

output "event_schema_path" {
  description = "JSON Schema of the events' detail."
  value       = module.notification_service.event_schema_path
}

output "queue_urls" {
  description = "Map of queue worker (router: the ingest queue; email, websocket, push: the channel queues) to its queue URL."
  value       = module.notification_service.queue_urls
}

output "queue_arns" {
  description = "Map of queue worker to its queue ARN."
  value       = module.notification_service.queue_arns
}

output "dlq_urls" {
  description = "Map of queue worker to its DLQ URL (router: the ingest DLQ of rejected and undeliverable events)."
  value       = module.notification_service.dlq_urls
}

output "dlq_arns" {
  description = "Map of queue worker to its DLQ ARN."
  value       = module.notification_service.dlq_arns
}

output "email_feedback_dlq_url" {
  description = "URL of the email feedback function's DLQ."
  value       = module.notification_service.email_feedback_dlq_url
}

output "table_names" {
  description = "Map of table role to table name."
  value       = module.notification_service.table_names
}

output "table_arns" {
  description = "Map of table role to table ARN."
  value       = module.notification_service.table_arns
}

output "function_names" {
  description = "Map of function role (router, email_worker, email_feedback) to function name."
  value       = module.notification_service.function_names
}

output "function_arns" {
  description = "Map of function role to function ARN."
  value       = module.notification_service.function_arns
}

output "function_role_names" {
  description = "Map of function role to execution role name."
  value       = module.notification_service.function_role_names
}

output "event_source_mapping_uuids" {
  description = "Map of function role to its SQS event source mapping UUID."
  value       = module.notification_service.event_source_mapping_uuids
}

output "ses_identity_arn" {
  description = "ARN of the SES identity the emails are sent from."
  value       = module.notification_service.ses_identity_arn
}

output "ses_configuration_set_name" {
  description = "SES configuration set of every email."
  value       = module.notification_service.ses_configuration_set_name
}

output "ses_events_topic_arn" {
  description = "ARN of the topic of SES bounce and complaint events."
  value       = module.notification_service.ses_events_topic_arn
}

output "ops_topic_arn" {
  description = "ARN of the topic the alarms notify."
  value       = module.notification_service.ops_topic_arn
}

output "alarm_names" {
  description = "Map of alarm key to alarm name."
  value       = module.notification_service.alarm_names
}

output "kms_key_arn" {
  description = "ARN of the service CMK."
  value       = module.notification_service.kms_key_arn
}

output "schedule_group_name" {
  description = "EventBridge Scheduler group of the scheduled notifications."
  value       = module.notification_service.schedule_group_name
}

output "schedule_group_arn" {
  description = "ARN of the schedule group of the scheduled notifications."
  value       = module.notification_service.schedule_group_arn
}

output "scheduler_role_arn" {
  description = "Execution role of the schedules (sends due notifications to the ingest queue)."
  value       = module.notification_service.scheduler_role_arn
}

output "websocket_url" {
  description = "wss:// URL browsers connect to, offering the subprotocols [\"notifications\", <JWT>]."
  value       = module.notification_service.websocket_url
}

output "websocket_management_endpoint" {
  description = "https:// endpoint of the API Gateway management API the WebSocket worker posts through."
  value       = module.notification_service.websocket_management_endpoint
}

output "registration_api_url" {
  description = "Base URL of the registration API (JWT bearer tokens of jwt_issuer)."
  value       = module.notification_service.registration_api_url
}

output "push_platform_application_arns" {
  description = "SNS platform applications created from the given credentials, by platform."
  value       = module.notification_service.push_platform_application_arns
}

output "jwt_issuer" {
  description = "Issuer the registration API trusts."
  value       = local.jwt_issuer
}

output "jwt_audience" {
  description = "Audiences the registration API accepts."
  value       = local.jwt_audience
}

output "cognito_user_pool_id" {
  description = "The example's Cognito user pool (null when jwt_issuer is given)."
  value       = one(aws_cognito_user_pool.users[*].id)
}

output "channel_switch_commands" {
  description = "The exact AWS CLI commands that switch a channel off and back on, for every type or for one (no apply needed)."
  value       = module.notification_service.channel_switch_commands
}

output "channel_switch_operator_policy_json" {
  description = "IAM policy (JSON) for the operators who may flip the channel switches, and nothing else."
  value       = module.notification_service.channel_switch_operator_policy_json
}
