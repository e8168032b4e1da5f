# Quiet hours (docs/notification-service.md, "Quiet hours"): the catalog field defer_email_in_quiet_hours, the
# router's QUIET_HOURS_QUEUES and the scheduler role's permission to send held channel messages to exactly those
# channel queues and their DLQs.

mock_provider "aws" {
  source = "./tests/terraform_mocks/aws"
}

variables {
  name = "notify"
  notification_types = {
    order_shipped = {
      channels                   = ["email", "sms"]
      fallback_locale            = "en"
      defer_email_in_quiet_hours = true
      templates = {
        en = {
          email = { subject = "Order {{order_id}} shipped", text = "Shipped." }
          sms   = { text = "Order {{order_id}} shipped" }
        }
      }
    }
    security_alert = {
      critical        = true
      allowed_sources = ["com.example.identity"]
      channels        = ["email"]
      fallback_locale = "en"
      templates = {
        en = { email = { subject = "Sign-in", text = "New sign-in." } }
      }
    }
  }
  email = {
    from_address = "notifications@example.com"
  }
  sms = { allowed_country_codes = ["1"] }
  lambda_package = {
    s3_bucket = "example-artifacts"
    s3_key    = "lambda.zip"
  }
}

run "quiet_hours_queues_and_the_scheduler_role" {
  command = plan

  override_resource {
    target          = module.channel_workers["email"].module.queue.aws_sqs_queue.this
    override_during = plan
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:notify-email"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-email"
    }
  }

  override_resource {
    target          = module.channel_workers["email"].module.dlq.aws_sqs_queue.this
    override_during = plan
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:notify-email-dlq"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-email-dlq"
    }
  }

  override_resource {
    target          = module.channel_workers["sms"].module.queue.aws_sqs_queue.this
    override_during = plan
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:notify-sms"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-sms"
    }
  }

  override_resource {
    target          = module.channel_workers["sms"].module.dlq.aws_sqs_queue.this
    override_during = plan
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:notify-sms-dlq"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-sms-dlq"
    }
  }

  assert {
    condition = local.quiet_hours_queues == {
      email = { arn = "arn:aws:sqs:us-east-1:123456789012:notify-email", dlq_arn = "arn:aws:sqs:us-east-1:123456789012:notify-email-dlq" }
      sms   = { arn = "arn:aws:sqs:us-east-1:123456789012:notify-sms", dlq_arn = "arn:aws:sqs:us-east-1:123456789012:notify-sms-dlq" }
    }
    error_message = "The router gets the queue and DLQ ARNs of the enabled channels quiet hours hold: sms, and email because a type opts in (push is not enabled)."
  }

  assert {
    condition     = jsondecode(local.router_environment["QUIET_HOURS_QUEUES"]) == local.quiet_hours_queues
    error_message = "QUIET_HOURS_QUEUES reaches the router's environment."
  }

  assert {
    condition = sort(local.quiet_hours_scheduler_resources) == sort([
      "arn:aws:sqs:us-east-1:123456789012:notify-email", "arn:aws:sqs:us-east-1:123456789012:notify-email-dlq",
      "arn:aws:sqs:us-east-1:123456789012:notify-sms", "arn:aws:sqs:us-east-1:123456789012:notify-sms-dlq",
    ])
    error_message = "The scheduler role may send held messages to exactly the held channels' queues and DLQs."
  }

  assert {
    condition     = jsondecode(aws_dynamodb_table_item.catalog["order_shipped"].item).definition.S == jsonencode(merge(jsondecode(jsondecode(aws_dynamodb_table_item.catalog["order_shipped"].item).definition.S), { defer_email_in_quiet_hours = true }))
    error_message = "The catalog definition carries defer_email_in_quiet_hours = true."
  }

  assert {
    condition     = !strcontains(jsondecode(aws_dynamodb_table_item.catalog["security_alert"].item).definition.S, "quiet_hours")
    error_message = "A type that does not set defer_email_in_quiet_hours keeps its catalog item unchanged (the field is left out)."
  }
}

run "without_held_channels_nothing_changes" {
  command = plan

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
    sms = null
  }

  assert {
    condition     = length(local.quiet_hours_router_environment) == 0 && !contains(keys(local.router_environment), "QUIET_HOURS_QUEUES")
    error_message = "No push, no sms and no type holding email: no QUIET_HOURS_QUEUES."
  }

  assert {
    condition     = length(local.quiet_hours_scheduler_resources) == 0
    error_message = "Nothing is held: the scheduler role sends to the ingest queue and its DLQ only."
  }
}

run "rejects_defer_email_on_a_critical_type" {
  command = plan

  variables {
    notification_types = {
      security_alert = {
        critical                   = true
        allowed_sources            = ["com.example.identity"]
        channels                   = ["email"]
        fallback_locale            = "en"
        defer_email_in_quiet_hours = true
        templates = {
          en = { email = { subject = "Sign-in", text = "New sign-in." } }
        }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_defer_email_without_email" {
  command = plan

  variables {
    notification_types = {
      order_shipped = {
        channels                   = ["sms"]
        fallback_locale            = "en"
        defer_email_in_quiet_hours = true
        templates = {
          en = { sms = { text = "Order {{order_id}} shipped" } }
        }
      }
    }
  }

  expect_failures = [var.notification_types]
}
