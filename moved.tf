# Resource addresses before the queue workers (modules/queue-worker): an existing deployment moves into the new
# layout in place, without a replacement (tests/terraform/test_notification_service_upgrade.py plans that upgrade).

moved {
  from = module.ingest_queue
  to   = module.router_worker.module.queue
}

moved {
  from = module.ingest_dlq
  to   = module.router_worker.module.dlq
}

moved {
  from = module.router
  to   = module.router_worker.module.function
}

moved {
  from = aws_lambda_event_source_mapping.router
  to   = module.router_worker.aws_lambda_event_source_mapping.this
}

moved {
  from = module.email_queue
  to   = module.channel_workers["email"].module.queue
}

moved {
  from = module.email_dlq
  to   = module.channel_workers["email"].module.dlq
}

moved {
  from = module.email_worker
  to   = module.channel_workers["email"].module.function
}

moved {
  from = aws_lambda_event_source_mapping.email_worker
  to   = module.channel_workers["email"].aws_lambda_event_source_mapping.this
}

moved {
  from = module.websocket_queue
  to   = module.channel_workers["websocket"].module.queue
}

moved {
  from = module.websocket_dlq
  to   = module.channel_workers["websocket"].module.dlq
}

moved {
  from = module.websocket_worker
  to   = module.channel_workers["websocket"].module.function
}

moved {
  from = aws_lambda_event_source_mapping.websocket_worker
  to   = module.channel_workers["websocket"].aws_lambda_event_source_mapping.this
}

moved {
  from = module.push_queue
  to   = module.channel_workers["push"].module.queue
}

moved {
  from = module.push_dlq
  to   = module.channel_workers["push"].module.dlq
}

moved {
  from = module.push_worker
  to   = module.channel_workers["push"].module.function
}

moved {
  from = aws_lambda_event_source_mapping.push_worker
  to   = module.channel_workers["push"].aws_lambda_event_source_mapping.this
}

# One dynamodb-table instance per role (tables.tf).

moved {
  from = module.catalog_table
  to   = module.tables["catalog"]
}

moved {
  from = module.users_table
  to   = module.tables["users"]
}

moved {
  from = module.preferences_table
  to   = module.tables["preferences"]
}

moved {
  from = module.email_subscriptions_table
  to   = module.tables["email_subscriptions"]
}

moved {
  from = module.email_suppressions_table
  to   = module.tables["email_suppressions"]
}

moved {
  from = module.delivery_log_table
  to   = module.tables["delivery_log"]
}

moved {
  from = module.idempotency_table
  to   = module.tables["idempotency"]
}

moved {
  from = module.connections_table
  to   = module.tables["connections"]
}

moved {
  from = module.device_tokens_table
  to   = module.tables["device_tokens"]
}

moved {
  from = module.limits_table
  to   = module.tables["limits"]
}

# Not in the layout of cf7b2c2: the device-ownership fix added module.device_owners_table on main before the
# tables became one for_each. A deployment of that main keeps its table (and its ownership items) too.
moved {
  from = module.device_owners_table
  to   = module.tables["device_owners"]
}

# The functions that are not queue workers: one modules/lambda-function instance per role (functions.tf).

moved {
  from = module.email_feedback
  to   = module.lambda_functions["email_feedback"]
}

moved {
  from = module.websocket_connections
  to   = module.lambda_functions["websocket_connections"]
}

moved {
  from = module.push_platforms
  to   = module.lambda_functions["push_platforms"]
}

# Not in the layout of cf7b2c2: the built-in WebSocket authorizer was added on main before the functions became
# one for_each. A deployment of that main keeps its function.
moved {
  from = module.websocket_authorizer
  to   = module.lambda_functions["websocket_authorizer"]
}

# The SES configuration sets and their event destinations: one resource each for both sets (email.tf).

moved {
  from = aws_sesv2_configuration_set.this[0]
  to   = aws_sesv2_configuration_set.this["notifications"]
}

# Not in the layout of cf7b2c2: the verification configuration set was added on main before the two sets became
# one for_each.
moved {
  from = aws_sesv2_configuration_set.verification[0]
  to   = aws_sesv2_configuration_set.this["verification"]
}

moved {
  from = aws_sesv2_configuration_set_event_destination.feedback[0]
  to   = aws_sesv2_configuration_set_event_destination.feedback["notifications"]
}

moved {
  from = aws_sesv2_configuration_set_event_destination.verification_feedback[0]
  to   = aws_sesv2_configuration_set_event_destination.feedback["verification"]
}
