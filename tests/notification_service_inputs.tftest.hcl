# Bad inputs of the root module (the notification service): each run feeds one realistic mistake and expects
# that input's validation to refuse it at plan (tests/unit/test_tftest_coverage.py checks every validated
# variable has one).

mock_provider "aws" {
  source = "./tests/terraform_mocks/aws"
}

variables {
  notification_types = {
    order_shipped = {
      channels        = ["email"]
      fallback_locale = "en"
      templates = {
        en = { email = { subject = "Order {{order_id}} shipped", text = "Shipped." } }
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
}

run "valid_inputs_plan" {
  command = plan

  assert {
    condition     = length(aws_dynamodb_table_item.catalog) == 1
    error_message = "The shared valid inputs must plan (so that every run below fails only on its own input)."
  }
}

run "rejects_uppercase_name" {
  command = plan

  variables {
    name = "Notify"
  }

  expect_failures = [var.name]
}

run "rejects_reserved_tag_key" {
  command = plan

  variables {
    tags = { "aws:team" = "x" }
  }

  expect_failures = [var.tags]
}

run "rejects_no_notification_types" {
  command = plan

  variables {
    notification_types = {}
  }

  expect_failures = [var.notification_types]
}

run "rejects_type_name_with_dash" {
  command = plan

  variables {
    notification_types = {
      order-shipped = { channels = ["email"], fallback_locale = "en", templates = { en = { email = { subject = "s", text = "t" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_unknown_channel" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["sms"], fallback_locale = "en", templates = { en = { email = { subject = "s", text = "t" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_websocket_channel_without_fallback_template" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["email", "websocket"], fallback_locale = "en", templates = { en = { email = { subject = "s", text = "t" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_no_channel" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = [], fallback_locale = "en", templates = { en = { email = { subject = "s", text = "t" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_missing_fallback_locale" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["email"], fallback_locale = "en", templates = { de = { email = { subject = "s", text = "t" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_fallback_without_channel_template" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["email"], fallback_locale = "en", templates = { en = {}, de = { email = { subject = "s", text = "t" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_bad_locale" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["email"], fallback_locale = "en", templates = { en = { email = { subject = "s", text = "t" } }, de_AT = { email = { subject = "s", text = "t" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_empty_subject" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["email"], fallback_locale = "en", templates = { en = { email = { subject = " ", text = "t" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_overlong_subject" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["email"], fallback_locale = "en", templates = { en = { email = { subject = join("", [for i in range(201) : "x"]), text = "t" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_empty_text" {
  command = plan

  variables {
    notification_types = {
      order_shipped = { channels = ["email"], fallback_locale = "en", templates = { en = { email = { subject = "s", text = "" } } } }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_critical_type_without_allowed_sources" {
  command = plan

  variables {
    notification_types = {
      security_alert = {
        critical        = true
        channels        = ["email"]
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Security alert", text = "New sign-in" } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_empty_allowed_sources" {
  command = plan

  variables {
    notification_types = {
      order_shipped = {
        allowed_sources = []
        channels        = ["email"]
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Shipped", text = "Shipped." } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_aws_allowed_source" {
  command = plan

  variables {
    notification_types = {
      order_shipped = {
        allowed_sources = ["com.example.shop", "aws.s3"]
        channels        = ["email"]
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Shipped", text = "Shipped." } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_duplicate_allowed_source" {
  command = plan

  variables {
    notification_types = {
      order_shipped = {
        allowed_sources = ["com.example.shop", "com.example.shop"]
        channels        = ["email"]
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Shipped", text = "Shipped." } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_allowed_source_the_rule_does_not_admit" {
  command = plan

  variables {
    event_sources = ["com.example.shop"]
    notification_types = {
      order_shipped = {
        allowed_sources = ["com.example.shopp"]
        channels        = ["email"]
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Shipped", text = "Shipped." } } }
      }
    }
  }

  expect_failures = [aws_dynamodb_table_item.catalog]
}

run "producer_policies_cover_open_and_restricted_types" {
  command = plan

  variables {
    event_sources = ["com.example.shop", "com.example.identity"]
    notification_types = {
      order_shipped = {
        channels        = ["email"]
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Shipped", text = "Shipped." } } }
      }
      security_alert = {
        critical        = true
        allowed_sources = ["com.example.identity"]
        channels        = ["email"]
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Security alert", text = "New sign-in" } } }
      }
    }
  }

  assert {
    condition = {
      for source, d in data.aws_iam_policy_document.producer : source => one([
        for c in d.statement[0].condition : toset(c.values) if c.variable == "events:detail-type" && c.test != "Null"
      ])
      } == {
      "com.example.identity" = toset(["order_shipped", "security_alert", "cancel-notification"])
      "com.example.shop"     = toset(["order_shipped", "cancel-notification"])
    }
    error_message = "Every admitted source gets a policy for the types it may send: the shop only the open type, the identity service both."
  }
}

run "rejects_aws_event_source" {
  command = plan

  variables {
    event_sources = ["aws.s3"]
  }

  expect_failures = [var.event_sources]
}

run "rejects_negative_archive_retention" {
  command = plan

  variables {
    archive_retention_days = -1
  }

  expect_failures = [var.archive_retention_days]
}

run "rejects_two_sender_addresses" {
  command = plan

  variables {
    email = { from_address = "a@example.com, b@example.com" }
  }

  expect_failures = [var.email]
}

run "rejects_http_unsubscribe_url" {
  command = plan

  variables {
    email = { from_address = "n@example.com", unsubscribe_url_template = "http://example.com/u?t={token}" }
  }

  expect_failures = [var.email]
}

run "rejects_unsubscribe_url_without_token" {
  command = plan

  variables {
    email = { from_address = "n@example.com", unsubscribe_url_template = "https://example.com/unsubscribe" }
  }

  expect_failures = [var.email]
}

run "rejects_create_identity_with_existing_arn" {
  command = plan

  variables {
    email = { from_address = "n@example.com", create_identity = true, identity_arn = "arn:aws:ses:us-east-1:123456789012:identity/example.com" }
  }

  expect_failures = [var.email]
}

run "rejects_uppercase_identity_domain" {
  command = plan

  variables {
    email = { from_address = "n@example.com", identity = "Example.COM" }
  }

  expect_failures = [var.email]
}

run "rejects_enrichment_function_and_table" {
  command = plan

  variables {
    enrichment = {
      function_arn    = "arn:aws:lambda:us-east-1:123456789012:function:profiles"
      users_table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/users"
    }
  }

  expect_failures = [var.enrichment]
}

run "rejects_enrichment_key_without_table" {
  command = plan

  variables {
    enrichment = { users_table_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/1" }
  }

  expect_failures = [var.enrichment]
}

run "rejects_enrichment_function_name_instead_of_arn" {
  command = plan

  variables {
    enrichment = { function_arn = "profiles" }
  }

  expect_failures = [var.enrichment]
}

run "rejects_large_router_batch_without_window" {
  command = plan

  variables {
    workers = { router = { batch_size = 100, maximum_batching_window_in_seconds = 0 } }
  }

  expect_failures = [var.workers]
}

run "rejects_router_concurrency_of_one" {
  command = plan

  variables {
    workers = { router = { maximum_concurrency = 1 } }
  }

  expect_failures = [var.workers]
}

run "rejects_router_timeout_over_lambda_limit" {
  command = plan

  variables {
    workers = { router = { timeout = 901 } }
  }

  expect_failures = [var.workers]
}

run "rejects_email_worker_concurrency_of_one" {
  command = plan

  variables {
    workers = { email = { maximum_concurrency = 1 } }
  }

  expect_failures = [var.workers]
}

run "rejects_email_worker_zero_receive_count" {
  command = plan

  variables {
    workers = { email = { max_receive_count = 0 } }
  }

  expect_failures = [var.workers]
}

run "rejects_unknown_worker" {
  command = plan

  variables {
    # A typo in a worker's name must not be ignored silently.
    workers = { emial = { maximum_concurrency = 20 } }
  }

  expect_failures = [var.workers]
}

run "rejects_zero_catalog_refresh" {
  command = plan

  variables {
    catalog_refresh_seconds = 0
  }

  expect_failures = [var.catalog_refresh_seconds]
}

run "rejects_zero_delivery_log_ttl" {
  command = plan

  variables {
    delivery_log_ttl_days = 0
  }

  expect_failures = [var.delivery_log_ttl_days]
}

run "rejects_short_idempotency_ttl" {
  command = plan

  variables {
    idempotency_ttl_seconds = 60
  }

  expect_failures = [var.idempotency_ttl_seconds]
}

run "rejects_queue_as_alarm_topic" {
  command = plan

  variables {
    alarm_topic_arn = "arn:aws:sqs:us-east-1:123456789012:ops"
  }

  expect_failures = [var.alarm_topic_arn]
}

run "rejects_alarm_subscription_sms" {
  command = plan

  variables {
    alarm_subscriptions = { "+15555550100" = { protocol = "sms" } }
  }

  expect_failures = [var.alarm_subscriptions]
}

run "rejects_alarm_subscription_bad_email" {
  command = plan

  variables {
    alarm_subscriptions = { "ops-at-example.com" = {} }
  }

  expect_failures = [var.alarm_subscriptions]
}

run "rejects_short_age_threshold" {
  command = plan

  variables {
    ingest_age_alarm_threshold_seconds = 10
  }

  expect_failures = [var.ingest_age_alarm_threshold_seconds]
}

run "rejects_short_deletion_window" {
  command = plan

  variables {
    kms_key_deletion_window_in_days = 5
  }

  expect_failures = [var.kms_key_deletion_window_in_days]
}

run "rejects_alias_prefix" {
  command = plan

  variables {
    kms_key_aliases = ["alias/notify"]
  }

  expect_failures = [var.kms_key_aliases]
}

run "rejects_bad_log_retention" {
  command = plan

  variables {
    log_retention_in_days = 8
  }

  expect_failures = [var.log_retention_in_days]
}

run "rejects_unknown_log_level" {
  command = plan

  variables {
    log_level = "TRACE"
  }

  expect_failures = [var.log_level]
}

run "rejects_old_runtime" {
  command = plan

  variables {
    lambda_runtime = "python3.9"
  }

  expect_failures = [var.lambda_runtime]
}

run "rejects_unknown_architecture" {
  command = plan

  variables {
    lambda_architecture = "sparc"
  }

  expect_failures = [var.lambda_architecture]
}

run "rejects_package_with_two_sources" {
  command = plan

  variables {
    lambda_package = { filename = "lambda.zip", s3_bucket = "b", s3_key = "k" }
  }

  expect_failures = [var.lambda_package]
}

run "rejects_bad_code_signing_arn" {
  command = plan

  variables {
    lambda_code_signing_config_arn = "csc-123"
  }

  expect_failures = [var.lambda_code_signing_config_arn]
}

run "accepts_https_mailto_and_placeholder_urls_in_html" {
  command = plan

  variables {
    notification_types = {
      order_shipped = {
        channels        = ["email"]
        fallback_locale = "en"
        templates = {
          en = { email = { subject = "Shipped", text = "Shipped.", html = "<a href=\"{{ tracking_url }}\">Track</a> <a href='https://shop.example.com/help'>Help</a> <a href=\"mailto:help@example.com\">Mail</a> <img src=\"https://cdn.example.com/{{ logo }}.png\">" } }
        }
      }
    }
  }

  assert {
    condition     = length(aws_dynamodb_table_item.catalog) == 1
    error_message = "https:, mailto: and placeholder-led URLs in html templates must plan."
  }
}

run "rejects_javascript_href_in_html_template" {
  command = plan

  variables {
    notification_types = {
      order_shipped = {
        channels        = ["email"]
        fallback_locale = "en"
        templates = {
          en = { email = { subject = "Shipped", text = "Shipped.", html = "<a href=\"javascript:alert(document.cookie)\">Track</a>" } }
        }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_relative_src_in_html_template" {
  command = plan

  variables {
    notification_types = {
      order_shipped = {
        channels        = ["email"]
        fallback_locale = "en"
        templates = {
          en = { email = { subject = "Shipped", text = "Shipped.", html = "<p>Hi</p><IMG SRC=/logo.png>" } }
        }
      }
    }
  }

  expect_failures = [var.notification_types]
}

# --- scheduling (scheduling.tf) ---------------------------------------------------------------------------

run "scheduling_plans_its_group_and_a_scheduler_only_role" {
  command = plan

  variables {
    scheduling = { max_delay_days = 30 }
  }

  assert {
    condition     = aws_scheduler_schedule_group.this[0].name == "notifications"
    error_message = "The module owns one schedule group named after the service."
  }
  assert {
    condition = one([
      for st in local.scheduling_router_statements : st.conditions[0].values if st.sid == "PassSchedulerRole"
    ]) == ["scheduler.amazonaws.com"]
    error_message = "The router may pass the scheduler role to EventBridge Scheduler only (iam:PassedToService)."
  }
  assert {
    condition     = local.scheduling_router_environment.MAX_DELAY_DAYS == "30"
    error_message = "scheduling.max_delay_days reaches the router as MAX_DELAY_DAYS."
  }
}

run "rejects_schedule_delay_beyond_a_year" {
  command = plan

  variables {
    scheduling = { max_delay_days = 366 }
  }

  expect_failures = [var.scheduling]
}

run "rejects_fractional_schedule_delay" {
  command = plan

  variables {
    scheduling = { max_delay_days = 1.5 }
  }

  expect_failures = [var.scheduling]
}

run "rejects_zero_schedule_delay" {
  command = plan

  variables {
    scheduling = { max_delay_days = 0 }
  }

  expect_failures = [var.scheduling]
}
