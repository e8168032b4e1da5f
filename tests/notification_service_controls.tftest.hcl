# Offline plan-mode tests of channel fallback and the channel kill switch (docs/notification-service.md, "Channel
# fallback and the channel kill switch"). Shared mock data: account 123456789012, us-east-1.

mock_provider "aws" {
  source = "./tests/terraform_mocks/aws"
}

variables {
  name = "notify"
  notification_types = {
    # Live in the browser; otherwise on the phone, else by email: exactly one of push and email.
    account_update = {
      channels        = ["websocket"]
      fallback        = ["push", "email"]
      fallback_locale = "en"
      templates = {
        en = {
          email     = { subject = "Your account changed", text = "Hi {{user.display_name}}" }
          websocket = { body = "Account changed" }
          push      = { title = "Account", body = "Your account changed" }
        }
      }
    }
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
  websocket = { iam_authorization = true }
  push = {
    platforms = {
      fcm = { platform_application_arn = "arn:aws:sns:us-east-1:123456789012:app/GCM/shop-android" }
    }
  }
}

run "fallback_and_switches_plan" {
  command = plan

  assert {
    condition = (
      jsondecode(jsondecode(aws_dynamodb_table_item.catalog["account_update"].item).definition.S).fallback == ["push", "email"] &&
      jsondecode(jsondecode(aws_dynamodb_table_item.catalog["account_update"].item).definition.S).channels == ["websocket"] &&
      !can(jsondecode(jsondecode(aws_dynamodb_table_item.catalog["order_shipped"].item).definition.S).fallback)
    )
    error_message = "The catalog definition carries the fallback list of a type that has one, and no fallback key otherwise."
  }

  assert {
    condition = {
      for k, v in local.router_environment : k => v if contains(["CHANNEL_SWITCH_REFRESH_SECONDS", "EMAIL_SUBSCRIPTIONS_TABLE", "EMAIL_SUPPRESSIONS_TABLE", "DEVICE_TOKENS_TABLE", "CONNECTIONS_TABLE", "CONNECTIONS_USER_INDEX"], k)
      } == {
      CHANNEL_SWITCH_REFRESH_SECONDS = "10"
      EMAIL_SUBSCRIPTIONS_TABLE      = "notify-email-subscriptions"
      EMAIL_SUPPRESSIONS_TABLE       = "notify-email-suppressions"
      DEVICE_TOKENS_TABLE            = "notify-device-tokens"
    }
    error_message = "The router gets the tables of the probes of the channels some type falls back on (push, email), not websocket's."
  }

  assert {
    condition = { for s in local.router_policy_statements : s.sid => [join(",", sort(s.actions)), join(",", s.resources)] if startswith(s.sid, "Probe") } == {
      ProbeEmailReachability = ["dynamodb:BatchGetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-email-subscriptions,arn:aws:dynamodb:us-east-1:123456789012:table/notify-email-suppressions"]
      ProbePushReachability  = ["dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-device-tokens"]
    }
    error_message = "The router may read exactly the probe tables of the fallback channels."
  }

  assert {
    condition = (
      jsonencode([for s in local.router_policy_statements : s.conditions if s.sid == "ReadCatalog"]) == jsonencode([[{ test = "ForAllValues:StringEquals", variable = "dynamodb:LeadingKeys", values = ["notification-types", "channel-switches"] }]]) &&
      alltrue([
        for channel in ["email", "websocket", "push"] : jsonencode([for s in module.channel_workers[channel].policy_statements : s.conditions if s.sid == "ReadChannelSwitches"]) == jsonencode([[{ test = "ForAllValues:StringEquals", variable = "dynamodb:LeadingKeys", values = ["channel-switches"] }]])
      ]) &&
      alltrue([for channel in ["email", "websocket", "push"] : local.channel_worker_environments[channel].CATALOG_TABLE == "notify-catalog"])
    )
    error_message = "The router reads the types and the switches partitions only; every channel worker reads the switches partition only (Query, dynamodb:LeadingKeys)."
  }

  assert {
    condition = (
      output.channel_switch_commands.switches["email#order_shipped"].disable == "aws dynamodb put-item --table-name notify-catalog --region us-east-1 --item '{\"catalog_id\":{\"S\":\"channel-switches\"},\"disabled\":{\"BOOL\":true},\"notification_type\":{\"S\":\"email#order_shipped\"}}'" &&
      output.channel_switch_commands.switches["email"].enable == "aws dynamodb delete-item --table-name notify-catalog --region us-east-1 --key '{\"catalog_id\":{\"S\":\"channel-switches\"},\"notification_type\":{\"S\":\"email\"}}'" &&
      toset(keys(output.channel_switch_commands.switches)) == toset(["email", "push", "websocket", "email#account_update", "push#account_update", "websocket#account_update", "email#order_shipped"])
    )
    error_message = "channel_switch_commands holds the exact disable/enable commands of every channel and of every channel of every type."
  }

  assert {
    condition     = jsonencode([for c in data.aws_iam_policy_document.channel_switch_operator[0].statement[0].condition : c.values if c.variable == "dynamodb:LeadingKeys"]) == jsonencode([["channel-switches"]])
    error_message = "The operators' policy reaches the switch partition only."
  }
}

run "no_fallback_no_probe_permissions" {
  command = plan

  variables {
    notification_types = {
      order_shipped = {
        channels        = ["email"]
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Shipped", text = "Shipped." } } }
      }
    }
  }

  assert {
    condition     = length([for s in local.router_policy_statements : s if startswith(s.sid, "Probe")]) == 0 && !contains(keys(local.router_environment), "EMAIL_SUBSCRIPTIONS_TABLE")
    error_message = "Without a fallback list the router reads no probe table."
  }
}

run "rejects_fallback_repeating_a_channel_of_channels" {
  command = plan

  variables {
    notification_types = {
      order_shipped = {
        # email twice: once from channels and once as the fallback's pick.
        channels        = ["email"]
        fallback        = ["push", "email"]
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Shipped", text = "Shipped." }, push = { title = "Shipped", body = "Shipped." } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_fallback_with_an_unknown_channel" {
  command = plan

  variables {
    notification_types = {
      order_shipped = {
        fallback        = ["pager", "email"]
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Shipped", text = "Shipped." } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_fallback_channel_without_template" {
  command = plan

  variables {
    notification_types = {
      order_shipped = {
        fallback        = ["push", "email"]
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Shipped", text = "Shipped." } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_a_type_without_channels_or_fallback" {
  command = plan

  variables {
    notification_types = {
      order_shipped = {
        channels        = []
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Shipped", text = "Shipped." } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_fallback_on_a_channel_that_is_off" {
  command = plan

  variables {
    push = null
  }

  # account_update falls back on push, whose input is not set: the router would fan out to a queue that does not
  # exist.
  expect_failures = [aws_dynamodb_table_item.catalog]
}

run "rejects_zero_channel_switch_refresh" {
  command = plan

  variables {
    channel_switch_refresh_seconds = 0
  }

  expect_failures = [var.channel_switch_refresh_seconds]
}

run "rejects_an_hour_long_channel_switch_refresh" {
  command = plan

  variables {
    # An emergency switch that takes an hour is no emergency switch.
    channel_switch_refresh_seconds = 3600
  }

  expect_failures = [var.channel_switch_refresh_seconds]
}

run "sms_fallback_probes_verified_numbers" {
  command = plan

  variables {
    notification_types = {
      order_shipped = {
        channels        = ["email"]
        fallback        = ["push", "sms"]
        fallback_locale = "en"
        templates = {
          en = {
            email = { subject = "Order {{order_id}} shipped", text = "Shipped." }
            push  = { title = "Shipped", body = "Order {{order_id}}" }
            sms   = { text = "Order {{order_id}} shipped." }
          }
        }
      }
    }
    sms = { allowed_country_codes = ["1"] }
  }

  assert {
    condition     = local.router_environment["PHONE_NUMBERS_TABLE"] == "notify-phone-numbers"
    error_message = "A type falling back on sms gives the router the phone numbers table to probe."
  }

  assert {
    condition = { for s in local.router_policy_statements : s.sid => [join(",", sort(s.actions)), join(",", s.resources)] if startswith(s.sid, "Probe") } == {
      ProbePushReachability = ["dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-device-tokens"]
      ProbeSmsReachability  = ["dynamodb:BatchGetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-phone-numbers"]
    }
    error_message = "The router may read exactly the probe tables of the fallback channels (push, sms)."
  }
}
