# Offline plan-mode tests of the notification service's in-app inbox channel (docs/notification-service.md,
# section 7, "In-app inbox"): its worker, table, registration API routes and the validation of its inputs.
# Shared mock data: account 123456789012, us-east-1.

mock_provider "aws" {
  source = "./tests/terraform_mocks/aws"
}

variables {
  name = "notify"
  notification_types = {
    order_shipped = {
      channels        = ["email", "websocket", "inbox"]
      fallback_locale = "en"
      templates = {
        en = {
          email     = { subject = "Order {{order_id}} shipped", text = "Hi {{user.display_name}}" }
          websocket = { body = "Order {{order_id}} shipped" }
          inbox     = { title = "Order {{order_id}} shipped", body = "It is on its way", url = "https://shop.example.com/orders/{{ order_id }}" }
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
  inbox                     = { item_ttl_days = 30 }
  registration_api = {
    jwt_issuer   = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123"
    jwt_audience = ["client-1"]
  }
}

run "inbox_plan" {
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
    target          = module.channel_workers["inbox"].module.queue.aws_sqs_queue.this
    override_during = plan
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:notify-inbox"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-inbox"
    }
  }

  override_resource {
    target          = module.tables["inbox"].aws_dynamodb_table.this
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify-inbox" }
  }

  assert {
    condition = (
      module.channel_workers["inbox"].function_name == "notify-inbox-worker" &&
      module.channel_workers["inbox"].queue_name == "notify-inbox" &&
      module.channel_workers["inbox"].event_source_mapping.function_response_types == toset(["ReportBatchItemFailures"]) &&
      local.channel_workers["inbox"].handler == "notification_handlers.service.inbox_worker.handler"
    )
    error_message = "The inbox channel is one queue worker <name>-inbox -> <name>-inbox-worker with partial batch responses."
  }

  assert {
    condition = local.channel_worker_environments["inbox"] == {
      INBOX_TABLE                   = "notify-inbox"
      INBOX_ITEM_TTL_DAYS           = "30"
      CONNECTIONS_TABLE             = "notify-connections"
      CONNECTIONS_USER_INDEX        = "by_user"
      WEBSOCKET_MANAGEMENT_ENDPOINT = "https://ws0123.execute-api.us-east-1.amazonaws.com/live"
      MAX_CONCURRENT_POSTS          = "16"
      DELIVERY_LOG_TABLE            = "notify-delivery-log"
      DELIVERY_LOG_TTL_DAYS         = "90"
      IDEMPOTENCY_TABLE             = "notify-idempotency"
      IDEMPOTENCY_TTL_SECONDS       = "86400"
      POWERTOOLS_SERVICE_NAME       = "notify-inbox-worker"
      POWERTOOLS_LOG_LEVEL          = "INFO"
      # Every channel worker honours the operators' channel switches (channel_controls.tf).
      CATALOG_TABLE                  = "notify-catalog"
      CHANNEL_SWITCH_REFRESH_SECONDS = "10"
    }
    error_message = "The inbox worker's environment must match the design document (with the websocket channel: its live push settings)."
  }

  assert {
    condition = { for s in module.channel_workers["inbox"].policy_statements : s.sid => [join(",", sort(s.actions)), join(",", s.resources)] } == {
      ReceiveQueue           = ["sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:123456789012:notify-inbox"]
      WriteInboxItems        = ["dynamodb:PutItem,dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-inbox"]
      FindUserConnections    = ["dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-connections/index/by_user"]
      DeleteStaleConnections = ["dynamodb:BatchWriteItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-connections"]
      PostToConnections      = ["execute-api:ManageConnections", "arn:aws:execute-api:us-east-1:123456789012:ws0123/live/POST/@connections/*"]
      WriteDeliveryLog       = ["dynamodb:BatchWriteItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-delivery-log"]
      Idempotency            = ["dynamodb:DeleteItem,dynamodb:PutItem,dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-idempotency"]
      UseKeyForTables        = ["kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"]
      ReadChannelSwitches    = ["dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-catalog"]
    }
    error_message = "The inbox worker: Put/Update on the inbox table only (never read or delete), the websocket worker's connection rights."
  }

  assert {
    condition = (
      module.tables["inbox"].table_name == "notify-inbox" &&
      local.tables["inbox"].hash_key == "user_id" && local.tables["inbox"].range_key == "item_key" &&
      local.tables["inbox"].ttl_attribute == "expires_at" &&
      output.table_names["inbox"] == "notify-inbox"
    )
    error_message = "The inbox table: user_id / item_key, TTL expires_at, in the table outputs."
  }

  assert {
    condition = (
      length(setintersection(local.registration_routes, ["GET /inbox", "GET /inbox/unread-count", "POST /inbox/read-all", "POST /inbox/{item_id}/read", "POST /inbox/{item_id}/archive"])) == 5 &&
      alltrue([for r in ["GET /inbox", "POST /inbox/{item_id}/archive"] : aws_apigatewayv2_route.registration[r].authorization_type == "JWT"])
    )
    error_message = "The five inbox routes exist on the registration API, behind its JWT authorizer."
  }

  assert {
    condition = (
      local.inbox_registration_environment == tomap({ INBOX_TABLE = "notify-inbox", INBOX_DEFAULT_PAGE_SIZE = "20", INBOX_MAX_PAGE_SIZE = "50" }) &&
      [for s in local.registration_api_policy_statements : [join(",", sort(s.actions)), join(",", s.resources)] if s.sid == "ManageOwnInboxItems"] == [
        ["dynamodb:DeleteItem,dynamodb:GetItem,dynamodb:PutItem,dynamodb:Query,dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-inbox"]
      ]
    )
    error_message = "The registration API reads and changes the inbox table only (no Scan), with the page sizes of the input."
  }

  assert {
    condition = jsondecode(local.catalog_definitions["order_shipped"]).templates.en.inbox == {
      title = "Order {{order_id}} shipped"
      body  = "It is on its way"
      url   = "https://shop.example.com/orders/{{ order_id }}"
    }
    error_message = "The inbox template reaches the catalog item."
  }
}

run "inbox_without_websocket_has_no_connection_rights" {
  command = plan

  variables {
    websocket = null
    notification_types = {
      order_shipped = { channels = ["inbox"], fallback_locale = "en", templates = { en = { inbox = { title = "t", body = "b" } } } }
    }
  }

  assert {
    condition = (
      join(",", [for s in local.channel_workers["inbox"].policy_statements : s.sid]) == "WriteInboxItems" &&
      !contains(keys(local.channel_worker_environments["inbox"]), "WEBSOCKET_MANAGEMENT_ENDPOINT") &&
      local.channel_worker_environments["inbox"]["INBOX_ITEM_TTL_DAYS"] == "30"
    )
    error_message = "Without the websocket channel the inbox worker has no connection rights and no live push."
  }
}

run "inbox_off_by_default" {
  command = plan

  variables {
    inbox = null
    notification_types = {
      order_shipped = { channels = ["email"], fallback_locale = "en", templates = { en = { email = { subject = "s", text = "t" } } } }
    }
  }

  assert {
    condition = (
      !contains(keys(module.channel_workers), "inbox") && module.tables["inbox"].table_arn == null &&
      length([for r in local.registration_routes : r if startswith(r, "GET /inbox") || startswith(r, "POST /inbox")]) == 0 &&
      length(local.inbox_registration_environment) == 0 && length(local.inbox_registration_statements) == 0
    )
    error_message = "No inbox queue, worker, table or route unless the inbox input is set."
  }
}

# --- Refusals ---

run "rejects_inbox_type_when_channel_off" {
  command = plan

  variables {
    inbox = null
  }

  expect_failures = [aws_dynamodb_table_item.catalog]
}

run "rejects_multiline_inbox_title" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["inbox"], fallback_locale = "en", templates = { en = { inbox = { title = "a\nb", body = "b" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_inbox_body_over_4000_characters" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["inbox"], fallback_locale = "en", templates = { en = { inbox = { title = "t", body = replace(format("%4001s", ""), " ", "x") } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_javascript_inbox_url" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["inbox"], fallback_locale = "en", templates = { en = { inbox = { title = "t", body = "b", url = "javascript:alert(1)" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_http_inbox_url" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["inbox"], fallback_locale = "en", templates = { en = { inbox = { title = "t", body = "b", url = "http://shop.example.com/{{order_id}}" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_inbox_url_with_a_space" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["inbox"], fallback_locale = "en", templates = { en = { inbox = { title = "t", body = "b", url = "https://shop.example.com/a b/{{ id }}" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_relative_inbox_url" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["inbox"], fallback_locale = "en", templates = { en = { inbox = { title = "t", body = "b", url = "/orders/{{order_id}}" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_inbox_template_without_inbox_channel" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["email"], fallback_locale = "en", templates = { en = { email = { subject = "s", text = "t" }, inbox = { title = "t", body = "b" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_zero_inbox_ttl" {
  command = plan

  variables {
    inbox = { item_ttl_days = 0 }
  }

  expect_failures = [var.inbox]
}

run "rejects_fractional_inbox_ttl" {
  command = plan

  variables {
    inbox = { item_ttl_days = 1.5 }
  }

  expect_failures = [var.inbox]
}

run "rejects_inbox_page_size_over_100" {
  command = plan

  variables {
    inbox = { max_page_size = 101 }
  }

  expect_failures = [var.inbox]
}

run "rejects_inbox_default_page_size_above_max" {
  command = plan

  variables {
    inbox = { default_page_size = 60, max_page_size = 50 }
  }

  expect_failures = [var.inbox]
}

run "rejects_unknown_worker_key" {
  command = plan

  variables {
    workers = { inbx = { batch_size = 5 } }
  }

  expect_failures = [var.workers]
}
