# Offline plan-mode tests of the repository's root module (the notification service): `terraform test` in the
# repository root finds this file in tests/ (Terraform >= 1.11 for override_during). The shared mock data puts
# the fake account 123456789012 in us-east-1.

mock_provider "aws" {
  source = "./tests/terraform_mocks/aws"
}

variables {
  name = "notify"
  notification_types = {
    order_shipped = {
      channels        = ["email"]
      fallback_locale = "en"
      templates = {
        en = { email = { subject = "Order {{order_id}} shipped", text = "Hi {{user.display_name}}", html = "<p>Hi</p>" } }
        de = { email = { subject = "Bestellung {{order_id}} versandt", text = "Hallo {{user.display_name}}" } }
      }
    }
    security_alert = {
      critical        = true
      allowed_sources = ["com.example.identity"]
      channels        = ["email"]
      fallback_locale = "en"
      templates = {
        en = { email = { subject = "Security alert", text = "New sign-in" } }
      }
    }
  }
  email = {
    from_address    = "notifications@example.com"
    create_identity = true
    identity        = "example.com"
  }
  lambda_package = {
    s3_bucket = "example-artifacts"
    s3_key    = "lambda.zip"
  }
}

run "default_plan" {
  command = plan

  override_resource {
    target          = module.kms_key.aws_kms_key.this
    override_during = plan
    values = {
      arn    = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
      key_id = "11111111-2222-3333-4444-555555555555"
    }
  }

  override_resource {
    target          = module.router_worker.module.queue.aws_sqs_queue.this
    override_during = plan
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:notify-ingest"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-ingest"
    }
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
    target          = module.channel_workers["email"].module.queue.aws_sqs_queue.this
    override_during = plan
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:notify-email"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-email"
    }
  }

  override_resource {
    target          = module.tables["catalog"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-catalog" }
  }

  override_resource {
    target          = module.tables["users"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-users" }
  }

  override_resource {
    target          = module.tables["preferences"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-preferences" }
  }

  override_resource {
    target          = module.tables["delivery_log"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-delivery-log" }
  }

  override_resource {
    target          = module.tables["idempotency"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-idempotency" }
  }

  override_resource {
    target          = module.tables["email_subscriptions"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-email-subscriptions" }
  }

  override_resource {
    target          = module.tables["email_suppressions"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-email-suppressions" }
  }

  override_resource {
    target          = module.ops_topic.aws_sns_topic.this
    override_during = plan
    values          = { arn = "arn:aws:sns:us-east-1:123456789012:notify-ops" }
  }

  override_resource {
    target          = module.ses_events_topic.aws_sns_topic.this
    override_during = plan
    values          = { arn = "arn:aws:sns:us-east-1:123456789012:notify-ses-events" }
  }

  # --- The bus, its archive and the ingest rule ---

  assert {
    condition = (
      aws_cloudwatch_event_bus.this[0].name == "notify" &&
      aws_cloudwatch_event_bus.this[0].kms_key_identifier == "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555" &&
      aws_cloudwatch_event_bus.this[0].dead_letter_config[0].arn == "arn:aws:sqs:us-east-1:123456789012:notify-ingest-dlq"
    )
    error_message = "The bus must be encrypted with the service CMK and dead-letter to the ingest DLQ."
  }

  assert {
    condition     = aws_cloudwatch_event_archive.this[0].retention_days == 30
    error_message = "The archive keeps events 30 days by default."
  }

  assert {
    condition     = jsondecode(output.ingest_rule_event_pattern) == { source = [{ prefix = "" }] }
    error_message = "Without event_sources the rule must match every event on the bus."
  }

  # --- Key policy grants: one per service, each scoped to the resource it acts for ---

  assert {
    condition = {
      for k, g in local.kms_service_grants : k => [g.service, join(",", sort(g.actions)), join(",", sort(try(g.source_arns, [])))]
      } == {
      events-bus              = ["events.amazonaws.com", "kms:Decrypt,kms:GenerateDataKey", "arn:aws:events:us-east-1:123456789012:event-bus/notify"]
      events-bus-describe-key = ["events.amazonaws.com", "kms:DescribeKey", ""]
      events-queues           = ["events.amazonaws.com", "kms:Decrypt,kms:GenerateDataKey", "arn:aws:events:us-east-1:123456789012:event-bus/notify,arn:aws:events:us-east-1:123456789012:rule/notify/notify-ingest"]
      ses-events              = ["ses.amazonaws.com", "kms:Decrypt,kms:GenerateDataKey", "arn:aws:ses:us-east-1:123456789012:configuration-set/notify"]
      cloudwatch-alarms = ["cloudwatch.amazonaws.com", "kms:Decrypt,kms:GenerateDataKey", join(",", sort([
        for n in ["notify-ingest-dlq-not-empty", "notify-email-dlq-not-empty", "notify-email-feedback-dlq-not-empty", "notify-router-errors", "notify-email-worker-errors", "notify-email-feedback-errors", "notify-ingest-backlog"] :
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:${n}"
      ]))]
    }
    error_message = "Key grants must be exactly: EventBridge (bus, queues), SES (configuration set) and CloudWatch (these alarms)."
  }

  assert {
    condition     = local.kms_service_grants["events-bus"].encryption_context == { "aws:events:event-bus:arn" = ["arn:aws:events:us-east-1:123456789012:event-bus/notify"] }
    error_message = "The bus grant must be bound to the bus's encryption context."
  }

  # --- Event source mappings and queues ---

  assert {
    condition = (
      module.router_worker.event_source_mapping.event_source_arn == "arn:aws:sqs:us-east-1:123456789012:notify-ingest" &&
      module.router_worker.event_source_mapping.batch_size == 100 &&
      module.router_worker.event_source_mapping.maximum_batching_window_in_seconds == 1 &&
      module.router_worker.event_source_mapping.function_response_types == toset(["ReportBatchItemFailures"]) &&
      module.router_worker.event_source_mapping.maximum_concurrency == 10
    )
    error_message = "The router reads the ingest queue with partial batch responses, 100 per batch, a 1 s window, at most 10 at once."
  }

  assert {
    condition = (
      module.channel_workers["email"].event_source_mapping.event_source_arn == "arn:aws:sqs:us-east-1:123456789012:notify-email" &&
      module.channel_workers["email"].event_source_mapping.function_response_types == toset(["ReportBatchItemFailures"]) &&
      module.channel_workers["email"].event_source_mapping.maximum_concurrency == 5
    )
    error_message = "The email worker reads the email queue with partial batch responses, at most 5 at once."
  }

  assert {
    condition     = module.router_worker.visibility_timeout_seconds == 361 && module.channel_workers["email"].visibility_timeout_seconds == 361
    error_message = "Visibility timeouts must be 6 x the consumer's timeout + its batching window."
  }

  # --- Environment: exactly the variables of the design document ---

  assert {
    condition = local.router_environment == {
      CATALOG_TABLE           = "notify-catalog"
      CATALOG_REFRESH_SECONDS = "300"
      # No type has a fallback list: no reachability tables, only the switches' refresh.
      CHANNEL_SWITCH_REFRESH_SECONDS = "10"
      USERS_TABLE                    = "notify-users"
      PREFERENCES_TABLE              = "notify-preferences"
      DELIVERY_LOG_TABLE             = "notify-delivery-log"
      DELIVERY_LOG_TTL_DAYS          = "90"
      IDEMPOTENCY_TABLE              = "notify-idempotency"
      IDEMPOTENCY_TTL_SECONDS        = "86400"
      CHANNEL_QUEUE_URLS             = "{\"email\":\"https://sqs.us-east-1.amazonaws.com/123456789012/notify-email\"}"
      REJECTED_EVENTS_QUEUE_URL      = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-ingest-dlq"
      POWERTOOLS_SERVICE_NAME        = "notify-router"
      POWERTOOLS_LOG_LEVEL           = "INFO"
      # deferral (scheduling.tf; docs/notification-service.md, section 12)
      INGEST_QUEUE_URL     = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-ingest"
      SCHEDULE_GROUP_NAME  = "notify"
      SCHEDULE_TARGET_ARN  = "arn:aws:sqs:us-east-1:123456789012:notify-ingest"
      SCHEDULER_ROLE_ARN   = "arn:aws:iam::123456789012:role/notify-scheduler"
      SCHEDULE_DLQ_ARN     = "arn:aws:sqs:us-east-1:123456789012:notify-ingest-dlq"
      SCHEDULE_KMS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
      MAX_DELAY_DAYS       = "365"
    }
    error_message = "The router's environment must match the design document."
  }

  assert {
    condition = local.channel_worker_environments["email"] == {
      SENDER_ADDRESS                 = "notifications@example.com"
      SES_IDENTITY_ARN               = "arn:aws:ses:us-east-1:123456789012:identity/example.com"
      SES_CONFIGURATION_SET          = "notify"
      EMAIL_SUBSCRIPTIONS_TABLE      = "notify-email-subscriptions"
      EMAIL_SUPPRESSIONS_TABLE       = "notify-email-suppressions"
      CATALOG_TABLE                  = "notify-catalog"
      CHANNEL_SWITCH_REFRESH_SECONDS = "10"
      DELIVERY_LOG_TABLE             = "notify-delivery-log"
      DELIVERY_LOG_TTL_DAYS          = "90"
      IDEMPOTENCY_TABLE              = "notify-idempotency"
      IDEMPOTENCY_TTL_SECONDS        = "86400"
      POWERTOOLS_SERVICE_NAME        = "notify-email-worker"
      POWERTOOLS_LOG_LEVEL           = "INFO"
    }
    error_message = "The email worker's environment must match the design document (no UNSUBSCRIBE_URL_TEMPLATE unless set)."
  }

  assert {
    condition     = keys(local.email_feedback_environment) == ["EMAIL_SUPPRESSIONS_TABLE", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_SERVICE_NAME"]
    error_message = "The feedback function only needs the suppressions table."
  }

  # --- Least privilege: each role exactly its tables, queues and keys ---

  assert {
    condition = { for s in module.router_worker.policy_statements : s.sid => [join(",", sort(s.actions)), join(",", s.resources)] } == {
      ReceiveQueue                  = ["sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:123456789012:notify-ingest"]
      ReadCatalog                   = ["dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-catalog"]
      ReadPreferences               = ["dynamodb:BatchGetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-preferences"]
      ReadUsers                     = ["dynamodb:BatchGetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-users"]
      WriteDeliveryLog              = ["dynamodb:BatchWriteItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-delivery-log"]
      Idempotency                   = ["dynamodb:DeleteItem,dynamodb:PutItem,dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-idempotency"]
      SendToChannelQueuesAndRejects = ["sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:notify-email,arn:aws:sqs:us-east-1:123456789012:notify-ingest-dlq"]
      UseKeyForTables               = ["kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"]
      DelayOnIngestQueue            = ["sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:notify-ingest"]
      ManageSchedulesOfTheGroup     = ["scheduler:CreateSchedule,scheduler:DeleteSchedule", "arn:aws:scheduler:us-east-1:123456789012:schedule/notify/*"]
      PassSchedulerRole             = ["iam:PassRole", "arn:aws:iam::123456789012:role/notify-scheduler"]
      EncryptSchedules              = ["kms:Decrypt,kms:Encrypt", "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"]
    }
    error_message = "The router's role must hold exactly these statements (no enrichment function: the users table is read)."
  }

  assert {
    condition = { for s in module.channel_workers["email"].policy_statements : s.sid => [join(",", sort(s.actions)), join(",", s.resources)] } == {
      ReceiveQueue                     = ["sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:123456789012:notify-email"]
      ReadSubscriptionsAndSuppressions = ["dynamodb:BatchGetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-email-subscriptions,arn:aws:dynamodb:us-east-1:123456789012:table/notify-email-suppressions"]
      WriteDeliveryLog                 = ["dynamodb:BatchWriteItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-delivery-log"]
      Idempotency                      = ["dynamodb:DeleteItem,dynamodb:PutItem,dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-idempotency"]
      SendEmail                        = ["ses:SendEmail", "arn:aws:ses:us-east-1:123456789012:identity/example.com,arn:aws:ses:us-east-1:123456789012:configuration-set/notify"]
      ReadChannelSwitches              = ["dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-catalog"]
      UseKeyForTables                  = ["kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"]
    }
    error_message = "The email worker's role must hold exactly these statements."
  }

  assert {
    condition     = [for s in local.channel_workers["email"].policy_statements : s.conditions if s.sid == "SendEmail"] == [[{ test = "StringEquals", variable = "ses:FromAddress", values = ["notifications@example.com"] }]]
    error_message = "The email worker may send only from the configured sender (ses:FromAddress)."
  }

  assert {
    condition = { for s in local.email_feedback_policy_statements : s.sid => [join(",", sort(s.actions)), join(",", s.resources)] } == {
      WriteSuppressions = ["dynamodb:BatchWriteItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-email-suppressions"]
      UseKeyForTables   = ["kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"]
    }
    error_message = "The feedback function's role may only write suppressions."
  }

  assert {
    condition = alltrue(flatten([
      for s in concat(module.router_worker.policy_statements, module.channel_workers["email"].policy_statements, local.email_feedback_policy_statements) :
      [for a in s.actions : !strcontains(a, "*")]
    ])) && local.use_key_for_tables.conditions == [{ test = "StringEquals", variable = "kms:ViaService", values = ["dynamodb.us-east-1.amazonaws.com"] }]
    error_message = "No wildcard action anywhere, and table decryption only through DynamoDB."
  }

  # --- Tables: keys and TTL exactly as in the design document ---

  assert {
    condition = {
      for role, m in {
        catalog             = module.tables["catalog"], users = module.tables["users"], preferences = module.tables["preferences"],
        email_subscriptions = module.tables["email_subscriptions"], email_suppressions = module.tables["email_suppressions"],
        delivery_log        = module.tables["delivery_log"], idempotency = module.tables["idempotency"],
      } : role => [m.hash_key, coalesce(m.range_key, "-"), coalesce(m.ttl_attribute, "-")]
      } == {
      catalog             = ["catalog_id", "notification_type", "-"]
      users               = ["user_id", "-", "-"]
      preferences         = ["user_id", "-", "-"]
      email_subscriptions = ["user_id", "-", "-"]
      email_suppressions  = ["address", "-", "-"]
      delivery_log        = ["notification_id", "delivery_key", "expires_at"]
      idempotency         = ["id", "-", "expiration"]
    }
    error_message = "Table keys and TTL attributes must match the design document."
  }

  assert {
    condition     = output.users_table_created && output.table_names.users == "notify-users"
    error_message = "Without a custom enrichment the module creates the users table."
  }

  # --- Catalog items ---

  assert {
    condition = jsondecode(jsondecode(aws_dynamodb_table_item.catalog["order_shipped"].item).definition.S) == {
      critical        = false
      channels        = ["email"]
      fallback_locale = "en"
      templates = {
        en = { email = { subject = "Order {{order_id}} shipped", text = "Hi {{user.display_name}}", html = "<p>Hi</p>" } }
        de = { email = { subject = "Bestellung {{order_id}} versandt", text = "Hallo {{user.display_name}}" } }
      }
    }
    error_message = "The catalog item's definition must be the type's JSON, without null fields (de has no html)."
  }

  assert {
    condition = (
      jsondecode(aws_dynamodb_table_item.catalog["security_alert"].item).catalog_id.S == "notification-types" &&
      jsondecode(aws_dynamodb_table_item.catalog["security_alert"].item).notification_type.S == "security_alert" &&
      jsondecode(jsondecode(aws_dynamodb_table_item.catalog["security_alert"].item).definition.S).critical &&
      length(aws_dynamodb_table_item.catalog) == 2
    )
    error_message = "One catalog item per type, keyed catalog_id = notification-types, notification_type = <name>."
  }

  assert {
    condition = (
      jsondecode(jsondecode(aws_dynamodb_table_item.catalog["security_alert"].item).definition.S).allowed_sources == ["com.example.identity"] &&
      !can(jsondecode(jsondecode(aws_dynamodb_table_item.catalog["order_shipped"].item).definition.S).allowed_sources)
    )
    error_message = "allowed_sources reaches the catalog definition when set, and is left out for a type open to every source."
  }

  # --- Producers: one PutEvents policy per source, bound to that source and the types it may send ---

  assert {
    condition = (
      keys(data.aws_iam_policy_document.producer) == ["com.example.identity"] &&
      data.aws_iam_policy_document.producer["com.example.identity"].statement[0].actions == toset(["events:PutEvents"]) &&
      data.aws_iam_policy_document.producer["com.example.identity"].statement[0].resources == toset(["arn:aws:events:us-east-1:123456789012:event-bus/notify"]) &&
      { for c in data.aws_iam_policy_document.producer["com.example.identity"].statement[0].condition : "${c.test} ${c.variable}" => toset(c.values) } == {
        "ForAllValues:StringEquals events:source"      = toset(["com.example.identity"])
        "ForAllValues:StringEquals events:detail-type" = toset(["order_shipped", "security_alert", "cancel-notification"])
        "Null events:source"                           = toset(["false"])
        "Null events:detail-type"                      = toset(["false"])
      }
    )
    error_message = "The identity producer may put events of its own source only, for the critical type that lists it and the type open to every source."
  }

  # --- Email: identity, configuration set, feedback loop ---

  assert {
    condition     = aws_sesv2_email_identity.this[0].email_identity == "example.com"
    error_message = "The module creates the requested SES identity."
  }

  assert {
    condition = (
      aws_sesv2_configuration_set.this["notifications"].configuration_set_name == "notify" &&
      aws_sesv2_configuration_set.this["notifications"].delivery_options[0].tls_policy == "REQUIRE" &&
      toset(aws_sesv2_configuration_set.this["notifications"].suppression_options[0].suppressed_reasons) == toset(["BOUNCE", "COMPLAINT"])
    )
    error_message = "The configuration set requires TLS and suppresses bounces and complaints."
  }

  assert {
    condition = (
      toset(aws_sesv2_configuration_set_event_destination.feedback["notifications"].event_destination[0].matching_event_types) == toset(["BOUNCE", "COMPLAINT"]) &&
      aws_sesv2_configuration_set_event_destination.feedback["notifications"].event_destination[0].sns_destination[0].topic_arn == "arn:aws:sns:us-east-1:123456789012:notify-ses-events"
    )
    error_message = "Bounces and complaints must go to the SES events topic."
  }

  assert {
    condition     = aws_lambda_permission.email_feedback[0].source_arn == "arn:aws:sns:us-east-1:123456789012:notify-ses-events" && aws_lambda_permission.email_feedback[0].principal == "sns.amazonaws.com" && aws_lambda_permission.email_feedback[0].source_account == "123456789012"
    error_message = "Only the SES events topic of this account may invoke the feedback function."
  }

  # --- Alarms: every DLQ, every function, the ingest backlog ---

  assert {
    condition = {
      for k, a in aws_cloudwatch_metric_alarm.this : k => "${a.namespace}/${a.metric_name} ${a.comparison_operator} ${a.threshold} ${jsonencode(a.dimensions)}"
      } == {
      ingest-dlq            = "AWS/SQS/ApproximateNumberOfMessagesVisible GreaterThanOrEqualToThreshold 1 {\"QueueName\":\"notify-ingest-dlq\"}"
      email-dlq             = "AWS/SQS/ApproximateNumberOfMessagesVisible GreaterThanOrEqualToThreshold 1 {\"QueueName\":\"notify-email-dlq\"}"
      email-feedback-dlq    = "AWS/SQS/ApproximateNumberOfMessagesVisible GreaterThanOrEqualToThreshold 1 {\"QueueName\":\"notify-email-feedback-dlq\"}"
      router-errors         = "AWS/Lambda/Errors GreaterThanOrEqualToThreshold 1 {\"FunctionName\":\"notify-router\"}"
      email-worker-errors   = "AWS/Lambda/Errors GreaterThanOrEqualToThreshold 1 {\"FunctionName\":\"notify-email-worker\"}"
      email-feedback-errors = "AWS/Lambda/Errors GreaterThanOrEqualToThreshold 1 {\"FunctionName\":\"notify-email-feedback\"}"
      ingest-age            = "AWS/SQS/ApproximateAgeOfOldestMessage GreaterThanThreshold 300 {\"QueueName\":\"notify-ingest\"}"
    }
    error_message = "One alarm per DLQ (depth >= 1), per function (Errors >= 1), and the ingest backlog."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.alarm_actions == toset(["arn:aws:sns:us-east-1:123456789012:notify-ops"]) && a.treat_missing_data == "notBreaching"])
    error_message = "Every alarm notifies the ops topic; missing data is not an alarm."
  }

  assert {
    condition     = output.event_schema_path == "./lambda_src/notification_handlers/service/schemas/notification-event.schema.json"
    error_message = "The schema path output must point at the router's schema."
  }
}

run "custom_enrichment_function" {
  command = plan

  variables {
    enrichment = {
      function_arn = "arn:aws:lambda:us-east-1:123456789012:function:profiles:live"
    }
  }

  assert {
    condition     = !output.users_table_created && !contains(keys(output.table_names), "users") && length(module.tables["users"].table_name == null ? [] : [1]) == 0
    error_message = "With a custom enrichment function no users table is created."
  }

  assert {
    condition     = local.router_environment.ENRICHMENT_FUNCTION_ARN == "arn:aws:lambda:us-east-1:123456789012:function:profiles:live" && !contains(keys(local.router_environment), "USERS_TABLE")
    error_message = "The router gets ENRICHMENT_FUNCTION_ARN instead of USERS_TABLE."
  }

  assert {
    condition = (
      [for s in local.router_policy_statements : s.resources if s.sid == "InvokeEnrichment"] == [["arn:aws:lambda:us-east-1:123456789012:function:profiles:live"]] &&
      [for s in local.router_policy_statements : s.actions if s.sid == "InvokeEnrichment"] == [["lambda:InvokeFunction"]] &&
      length([for s in local.router_policy_statements : s if s.sid == "ReadUsers"]) == 0
    )
    error_message = "The router may invoke exactly the enrichment function and reads no users table."
  }
}

run "existing_users_table" {
  command = plan

  variables {
    enrichment = {
      users_table_arn         = "arn:aws:dynamodb:us-east-1:123456789012:table/crm-users"
      users_table_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/99999999-2222-3333-4444-555555555555"
    }
  }

  assert {
    condition     = !output.users_table_created && output.table_names.users == "crm-users" && local.router_environment.USERS_TABLE == "crm-users"
    error_message = "An existing users table is used by name, and none is created."
  }

  assert {
    condition = (
      [for s in local.router_policy_statements : s.resources if s.sid == "ReadUsers"] == [["arn:aws:dynamodb:us-east-1:123456789012:table/crm-users"]] &&
      [for s in local.router_policy_statements : s.resources if s.sid == "UseKeyForExistingUsersTable"] == [["arn:aws:kms:us-east-1:123456789012:key/99999999-2222-3333-4444-555555555555"]]
    )
    error_message = "The router reads the existing table and decrypts it with its key (through DynamoDB)."
  }
}

run "existing_alarm_topic_sources_and_tuning" {
  command = plan

  variables {
    alarm_topic_arn        = "arn:aws:sns:us-east-1:123456789012:central-ops"
    event_sources          = ["shop.orders", "com.example.identity"]
    archive_retention_days = 0
    workers = {
      router = {
        batch_size                         = 100
        maximum_batching_window_in_seconds = 5
        maximum_concurrency                = 50
        timeout                            = 30
      }
    }
    email = {
      from_address             = "alerts@mail.example.com"
      identity                 = "example.com"
      configuration_set_name   = "corporate"
      unsubscribe_url_template = "https://example.com/unsubscribe?token={token}"
    }
    delivery_log_ttl_days     = 30
    table_deletion_protection = false
  }

  assert {
    condition     = output.ops_topic_arn == "arn:aws:sns:us-east-1:123456789012:central-ops" && alltrue([for a in aws_cloudwatch_metric_alarm.this : a.alarm_actions == toset(["arn:aws:sns:us-east-1:123456789012:central-ops"])])
    error_message = "Alarms must notify the given topic."
  }

  assert {
    condition     = !contains(keys(local.kms_service_grants), "cloudwatch-alarms")
    error_message = "Without a module-created ops topic CloudWatch gets no key grant."
  }

  assert {
    condition     = jsondecode(output.ingest_rule_event_pattern) == { source = ["shop.orders", "com.example.identity"] } && aws_cloudwatch_event_archive.this[0].retention_days == 0
    error_message = "event_sources restrict the rule; archive retention 0 keeps events indefinitely."
  }

  assert {
    condition = (
      module.router_worker.event_source_mapping.batch_size == 100 &&
      module.router_worker.event_source_mapping.maximum_batching_window_in_seconds == 5 &&
      module.router_worker.event_source_mapping.maximum_concurrency == 50 &&
      module.router_worker.visibility_timeout_seconds == 185
    )
    error_message = "Router tuning must reach the mapping and the ingest queue's visibility timeout (6 x 30 + 5)."
  }

  assert {
    condition = (
      !contains(keys(aws_sesv2_configuration_set.this), "notifications") && length(aws_sesv2_email_identity.this) == 0 &&
      aws_sesv2_configuration_set_event_destination.feedback["notifications"].configuration_set_name == "corporate" &&
      local.channel_worker_environments["email"].SES_CONFIGURATION_SET == "corporate" &&
      local.channel_worker_environments["email"].UNSUBSCRIBE_URL_TEMPLATE == "https://example.com/unsubscribe?token={token}" &&
      local.channel_worker_environments["email"].DELIVERY_LOG_TTL_DAYS == "30"
    )
    error_message = "An existing configuration set gets the feedback destination; the unsubscribe template reaches the worker."
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition = alltrue([for v in [
      output.event_bus_name, output.event_bus_arn, output.event_archive_arn, output.event_schema_path, output.ingest_rule_arn,
      output.queue_urls, output.queue_arns, output.dlq_urls, output.dlq_arns, output.email_feedback_dlq_url, output.table_names,
      output.table_arns, output.function_names, output.function_arns, output.function_role_names, output.event_source_mapping_uuids,
      output.ses_identity_arn, output.ses_configuration_set_name, output.ses_events_topic_arn, output.ops_topic_arn,
      output.alarm_names, output.kms_key_arn, output.catalog_definitions, output.producer_policy_documents,
    ] : v == null])
    error_message = "With create = false every output must be null."
  }

  assert {
    condition     = length(aws_cloudwatch_event_bus.this) == 0 && length(aws_cloudwatch_metric_alarm.this) == 0 && length(aws_dynamodb_table_item.catalog) == 0
    error_message = "With create = false nothing is planned."
  }
}

run "sender_outside_identity_is_refused" {
  command = plan

  variables {
    email = {
      from_address = "notifications@other.example.org"
      identity     = "example.com"
    }
  }

  expect_failures = [aws_sesv2_configuration_set_event_destination.feedback]
}
