# Offline plan-mode tests of the notification service's chat channel (docs/notification-service.md, section 7):
# the worker's role, environment and mapping, the catalog's chat targets, and every chat input refused at plan.
# Shared mock data: account 123456789012, us-east-1.

mock_provider "aws" {
  source = "./tests/terraform_mocks/aws"
}

variables {
  name = "notify"
  notification_types = {
    deploy_finished = {
      channels        = ["email", "chat"]
      chat_targets    = ["ops", "release-room"]
      fallback_locale = "en"
      templates = {
        en = {
          email = { subject = "Deploy {{version}} finished", text = "Hi {{user.display_name}}" }
          chat  = { title = "Deploy {{version}}", text = "{{version}} is live in {{stage}}." }
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
  chat = {
    targets = {
      ops = {
        platform           = "slack"
        webhook_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:notify/chat/ops-AbCdEf" # pragma: allowlist secret
      }
      release-room = {
        platform                   = "teams"
        webhook_secret_arn         = "arn:aws:secretsmanager:us-east-1:123456789012:secret:notify/chat/release-GhIjKl" # pragma: allowlist secret
        webhook_secret_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/88888888-2222-3333-4444-555555555555"
      }
    }
  }
}

run "chat_plan" {
  command = plan

  override_resource {
    target          = module.kms_key.aws_kms_key.this
    override_during = plan
    values          = { arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555" }
  }

  override_resource {
    target          = module.channel_workers["chat"].module.queue.aws_sqs_queue.this
    override_during = plan
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:notify-chat"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-chat"
    }
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
    target          = module.channel_workers["chat"].module.dlq.aws_sqs_queue.this
    override_during = plan
    values          = { arn = "arn:aws:sqs:us-east-1:123456789012:notify-chat-dlq" }
  }

  assert {
    condition = { for s in module.channel_workers["chat"].policy_statements : s.sid => [join(",", sort(s.actions)), join(",", s.resources)] } == {
      ReceiveQueue          = ["sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:123456789012:notify-chat"]
      ReadWebhookSecrets    = ["secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:notify/chat/ops-AbCdEf,arn:aws:secretsmanager:us-east-1:123456789012:secret:notify/chat/release-GhIjKl"]
      DecryptWebhookSecrets = ["kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/88888888-2222-3333-4444-555555555555"]
      WriteDeliveryLog      = ["dynamodb:BatchWriteItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-delivery-log"]
      Idempotency           = ["dynamodb:DeleteItem,dynamodb:PutItem,dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-idempotency"]
      UseKeyForTables       = ["kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"]
      ReadChannelSwitches   = ["dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-catalog"]
    }
    error_message = "The chat worker reads exactly the targets' secrets and nothing beyond every worker's delivery log, idempotency and table key."
  }

  assert {
    condition = jsonencode([for s in module.channel_workers["chat"].policy_statements : s.conditions if s.sid == "DecryptWebhookSecrets"][0]) == jsonencode([
      { test = "StringEquals", variable = "kms:ViaService", values = ["secretsmanager.us-east-1.amazonaws.com"] },
      { test = "StringEquals", variable = "kms:EncryptionContext:SecretARN", values = ["arn:aws:secretsmanager:us-east-1:123456789012:secret:notify/chat/ops-AbCdEf", "arn:aws:secretsmanager:us-east-1:123456789012:secret:notify/chat/release-GhIjKl"] },
    ])
    error_message = "The secrets' CMK decrypts only through Secrets Manager and only for the targets' secrets."
  }

  assert {
    condition = local.channel_worker_environments["chat"] == {
      DELIVERY_LOG_TABLE        = "notify-delivery-log"
      DELIVERY_LOG_TTL_DAYS     = "90"
      IDEMPOTENCY_TABLE         = "notify-idempotency"
      IDEMPOTENCY_TTL_SECONDS   = "86400"
      POWERTOOLS_LOG_LEVEL      = "INFO"
      POWERTOOLS_SERVICE_NAME   = "notify-chat-worker"
      CHAT_SECRET_CACHE_SECONDS = "300"
      CHAT_TIMEOUT_SECONDS      = "5"
      CHAT_TARGETS = jsonencode({
        ops            = { platform = "slack", secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:notify/chat/ops-AbCdEf" }     # pragma: allowlist secret
        "release-room" = { platform = "teams", secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:notify/chat/release-GhIjKl" } # pragma: allowlist secret
      })
      # Every channel worker honours the operators' channel switches (channel_controls.tf).
      CATALOG_TABLE                  = "notify-catalog"
      CHANNEL_SWITCH_REFRESH_SECONDS = "10"
    }
    error_message = "The chat worker's environment must match the design document: secret ARNs, never a URL."
  }

  assert {
    condition = (
      module.channel_workers["chat"].event_source_mapping.event_source_arn == "arn:aws:sqs:us-east-1:123456789012:notify-chat" &&
      module.channel_workers["chat"].event_source_mapping.function_response_types == toset(["ReportBatchItemFailures"]) &&
      module.channel_workers["chat"].event_source_mapping.batch_size == 5 &&
      module.channel_workers["chat"].event_source_mapping.maximum_concurrency == 2 &&
      local.function_names["chat_worker"] == "notify-chat-worker" &&
      local.worker_tuning["chat"].batch_size == 5
    )
    error_message = "The chat worker reads its queue 5 at a time with partial batch responses, at most 2 at once."
  }

  assert {
    condition = (
      jsondecode(local.catalog_definitions["deploy_finished"]).chat_targets == ["ops", "release-room"] &&
      jsondecode(local.catalog_definitions["deploy_finished"]).templates.en.chat == { title = "Deploy {{version}}", text = "{{version}} is live in {{stage}}." }
    )
    error_message = "The catalog item carries the type's chat targets and chat template."
  }
}

run "chat_off_by_default" {
  command = plan

  variables {
    chat = null
    notification_types = {
      deploy_finished = {
        channels        = ["email"]
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Deploy", text = "Done." } } }
      }
    }
  }

  assert {
    condition     = !contains(keys(local.enabled_channel_workers), "chat") && !contains(keys(local.function_names), "chat_worker")
    error_message = "No chat queue or worker until var.chat is set."
  }
}

run "rejects_chat_type_without_chat_input" {
  command = plan

  variables {
    chat = null
  }

  expect_failures = [aws_dynamodb_table_item.catalog]
}

run "rejects_chat_target_not_declared" {
  command = plan

  variables {
    notification_types = {
      deploy_finished = {
        channels        = ["chat"]
        chat_targets    = ["opz"]
        fallback_locale = "en"
        templates       = { en = { chat = { text = "Deployed {{version}}." } } }
      }
    }
  }

  expect_failures = [aws_dynamodb_table_item.catalog]
}

run "rejects_chat_type_without_targets" {
  command = plan

  variables {
    notification_types = {
      deploy_finished = {
        channels        = ["chat"]
        fallback_locale = "en"
        templates       = { en = { chat = { text = "Deployed {{version}}." } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_chat_template_with_user_variable" {
  command = plan

  variables {
    notification_types = {
      deploy_finished = {
        channels        = ["chat"]
        chat_targets    = ["ops"]
        fallback_locale = "en"
        templates       = { en = { chat = { text = "Hi {{ user.display_name }}, deployed." } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_chat_title_over_slack_header_limit" {
  command = plan

  variables {
    notification_types = {
      deploy_finished = {
        channels        = ["chat"]
        chat_targets    = ["ops"]
        fallback_locale = "en"
        templates       = { en = { chat = { title = join("", [for i in range(151) : "x"]), text = "Deployed." } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_unknown_chat_platform" {
  command = plan

  variables {
    chat = { targets = { ops = { platform = "discord", webhook_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:notify/chat/ops-AbCdEf" } } } # pragma: allowlist secret
  }

  expect_failures = [var.chat]
}

run "rejects_webhook_url_instead_of_secret_arn" {
  command = plan

  variables {
    chat = { targets = { ops = { platform = "slack", webhook_secret_arn = "https://hooks.slack.com/services/T000/B000/XXXX" } } } # pragma: allowlist secret
  }

  expect_failures = [var.chat]
}

run "rejects_chat_target_name_with_uppercase" {
  command = plan

  variables {
    chat = { targets = { Ops = { platform = "slack", webhook_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:notify/chat/ops-AbCdEf" } } } # pragma: allowlist secret
  }

  expect_failures = [var.chat]
}

run "rejects_chat_timeout_over_ten_seconds" {
  command = plan

  variables {
    chat = {
      targets         = { ops = { platform = "slack", webhook_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:notify/chat/ops-AbCdEf" } } # pragma: allowlist secret
      timeout_seconds = 30
    }
  }

  expect_failures = [var.chat]
}

run "rejects_more_chat_targets_than_the_environment_holds" {
  command = plan

  variables {
    chat = {
      targets = { for i in range(21) : "team-${i}" => { platform = "slack", webhook_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:notify/chat/t${i}-AbCdEf" } } # pragma: allowlist secret
    }
  }

  expect_failures = [var.chat]
}
