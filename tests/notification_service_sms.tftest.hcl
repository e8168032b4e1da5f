# Offline plan-mode tests of the notification service's SMS channel (docs/notification-service.md, section 9): the
# worker's role, environment and mapping, the phone numbers table, the registration API's phone number routes and
# statements, the spend alarm, and every validation of the sms input and the sms template. Shared mock data:
# account 123456789012, us-east-1.

mock_provider "aws" {
  source = "./tests/terraform_mocks/aws"
}

variables {
  name = "notify"
  notification_types = {
    order_shipped = {
      channels        = ["email", "sms"]
      fallback_locale = "en"
      templates = {
        en = {
          email = { subject = "Order {{order_id}} shipped", text = "Hi {{user.display_name}}" }
          sms   = { text = "Order {{order_id}} shipped" }
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
  registration_api = {
    jwt_issuer   = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123"
    jwt_audience = ["client-1"]
  }
  sms = {
    allowed_country_codes   = ["1", "44"]
    max_price_usd           = 0.05
    sender_id               = "Shop"
    monthly_spend_alarm_usd = 100
  }
}

run "sms_channel_plan" {
  command = plan

  override_resource {
    target          = module.channel_workers["sms"].module.queue.aws_sqs_queue.this
    override_during = plan
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:notify-sms"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-sms"
    }
  }

  assert {
    condition = local.channel_worker_environments["sms"] == {
      PHONE_NUMBERS_TABLE       = "notify-phone-numbers"
      SMS_TYPE                  = "Transactional"
      SMS_MAX_PRICE_USD         = "0.05000"
      SMS_MAX_SEGMENTS          = "3"
      SMS_ALLOWED_COUNTRY_CODES = "1,44"
      SMS_SENDER_ID             = "Shop"
      DELIVERY_LOG_TABLE        = "notify-delivery-log"
      DELIVERY_LOG_TTL_DAYS     = "90"
      IDEMPOTENCY_TABLE         = "notify-idempotency"
      IDEMPOTENCY_TTL_SECONDS   = "86400"
      POWERTOOLS_SERVICE_NAME   = "notify-sms-worker"
      POWERTOOLS_LOG_LEVEL      = "INFO"
      # Every channel worker honours the operators' channel switches (channel_controls.tf).
      CATALOG_TABLE                  = "notify-catalog"
      CHANNEL_SWITCH_REFRESH_SECONDS = "10"
    }
    error_message = "The SMS worker's environment must match the design document (section 6 and 8)."
  }

  assert {
    condition = {
      for s in module.channel_workers["sms"].policy_statements : s.sid => [s.effect, join(",", sort(s.actions)), join(",", s.resources)]
      if contains(["ReadVerifiedPhoneNumbers", "SendSms", "SmsOnlyNoTopicsOrEndpoints", "ReceiveQueue"], s.sid)
      } == {
      ReceiveQueue               = ["Allow", "sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:123456789012:notify-sms"]
      ReadVerifiedPhoneNumbers   = ["Allow", "dynamodb:BatchGetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-phone-numbers"]
      SendSms                    = ["Allow", "sns:CheckIfPhoneNumberIsOptedOut,sns:Publish", "*"]
      SmsOnlyNoTopicsOrEndpoints = ["Deny", "sns:Publish", "arn:aws:sns:*:*:*"]
    }
    error_message = "The SMS worker reads the numbers table and sends SMS only: Publish on '*' beside a Deny on every SNS ARN."
  }

  assert {
    condition = (
      module.channel_workers["sms"].event_source_mapping.event_source_arn == "arn:aws:sqs:us-east-1:123456789012:notify-sms" &&
      module.channel_workers["sms"].event_source_mapping.function_response_types == toset(["ReportBatchItemFailures"]) &&
      module.channel_workers["sms"].function_name == "notify-sms-worker"
    )
    error_message = "The SMS queue feeds the worker with partial batch responses."
  }

  assert {
    condition     = module.tables["phone_numbers"].table_name == "notify-phone-numbers" && contains(keys(local.enabled_channel_workers), "sms")
    error_message = "The phone numbers table exists and the SMS channel is enabled (the router fans out to it)."
  }

  assert {
    condition     = keys(aws_apigatewayv2_route.registration_sms) == ["DELETE /phone-number", "GET /phone-number", "POST /phone-number/{phone_number}/verify", "PUT /phone-number/{phone_number}"] && alltrue([for r in aws_apigatewayv2_route.registration_sms : r.authorization_type == "JWT"])
    error_message = "The registration API has the four phone number routes, each behind the JWT authorizer."
  }

  assert {
    condition = {
      for s in local.registration_api_policy_statements : s.sid => [try(s.effect, "Allow"), join(",", sort(s.actions)), join(",", s.resources)]
      if contains(["ManagePhoneNumbers", "SendSms", "SmsOnlyNoTopicsOrEndpoints"], s.sid)
      } == {
      ManagePhoneNumbers         = ["Allow", "dynamodb:DeleteItem,dynamodb:GetItem,dynamodb:PutItem,dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-phone-numbers"]
      SendSms                    = ["Allow", "sns:CheckIfPhoneNumberIsOptedOut,sns:Publish", "*"]
      SmsOnlyNoTopicsOrEndpoints = ["Deny", "sns:Publish", "arn:aws:sns:*:*:*"]
    }
    error_message = "The registration API manages the numbers table and sends codes by SMS only."
  }

  assert {
    condition     = local.registration_sms_environment.PHONE_NUMBERS_TABLE == "notify-phone-numbers" && local.registration_sms_environment.SMS_ALLOWED_COUNTRY_CODES == "1,44"
    error_message = "The registration API gets the SMS settings (codes are sent with them)."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["sms-spend"].metric_name == "SMSMonthToDateSpentUSD" &&
      aws_cloudwatch_metric_alarm.this["sms-spend"].namespace == "AWS/SNS" &&
      aws_cloudwatch_metric_alarm.this["sms-spend"].threshold == 100 &&
      contains(keys(aws_cloudwatch_metric_alarm.this), "sms-dlq") && contains(keys(aws_cloudwatch_metric_alarm.this), "sms-worker-errors")
    )
    error_message = "The month's SMS spend, the SMS DLQ and the worker's errors are alarmed."
  }

  assert {
    condition     = jsondecode(jsondecode(aws_dynamodb_table_item.catalog["order_shipped"].item).definition.S).templates.en.sms == { text = "Order {{order_id}} shipped" }
    error_message = "The catalog definition carries the sms template."
  }
}

run "sms_off_by_default" {
  command = plan

  variables {
    sms = null
    notification_types = {
      order_shipped = { channels = ["email"], fallback_locale = "en", templates = { en = { email = { subject = "s", text = "t" } } } }
    }
  }

  assert {
    condition     = !contains(keys(module.channel_workers), "sms") && length(aws_apigatewayv2_route.registration_sms) == 0 && module.tables["phone_numbers"].table_name == null && !contains(keys(aws_cloudwatch_metric_alarm.this), "sms-spend")
    error_message = "Without the sms input there is no SMS worker, numbers table, route or alarm."
  }

  assert {
    condition     = length([for s in local.registration_api_policy_statements : s if contains(s.actions, "sns:Publish")]) == 0
    error_message = "Without the sms input the registration API cannot send SMS."
  }
}

run "sms_without_spend_alarm" {
  command = plan

  variables {
    sms = { allowed_country_codes = ["49"] }
  }

  assert {
    condition     = !contains(keys(aws_cloudwatch_metric_alarm.this), "sms-spend") && local.channel_worker_environments["sms"].SMS_MAX_PRICE_USD == "0.50000" && !contains(keys(local.channel_worker_environments["sms"]), "SMS_SENDER_ID")
    error_message = "Defaults: 0.50 USD per message, no sender id, no spend alarm."
  }
}

run "rejects_sms_type_when_channel_off" {
  command = plan

  variables {
    sms = null
  }

  expect_failures = [aws_dynamodb_table_item.catalog]
}

run "rejects_sms_without_country_codes" {
  command = plan
  variables {
    sms = { allowed_country_codes = [] }
  }
  expect_failures = [var.sms]
}

run "rejects_sms_country_code_with_plus" {
  command = plan
  variables {
    sms = { allowed_country_codes = ["+1"] }
  }
  expect_failures = [var.sms]
}

run "rejects_sms_zero_price" {
  command = plan
  variables {
    sms = { allowed_country_codes = ["1"], max_price_usd = 0 }
  }
  expect_failures = [var.sms]
}

run "rejects_sms_type" {
  command = plan
  variables {
    sms = { allowed_country_codes = ["1"], sms_type = "transactional" }
  }
  expect_failures = [var.sms]
}

run "rejects_sms_sender_id_too_long" {
  command = plan
  variables {
    sms = { allowed_country_codes = ["1"], sender_id = "ShopNotifications" }
  }
  expect_failures = [var.sms]
}

run "rejects_sms_numeric_sender_id" {
  command = plan
  variables {
    sms = { allowed_country_codes = ["1"], sender_id = "12345" }
  }
  expect_failures = [var.sms]
}

run "rejects_sms_origination_number_not_e164" {
  command = plan
  variables {
    sms = { allowed_country_codes = ["1"], origination_number = "18445550123" }
  }
  expect_failures = [var.sms]
}

run "rejects_sms_eleven_segments" {
  command = plan
  variables {
    sms = { allowed_country_codes = ["1"], max_segments = 11 }
  }
  expect_failures = [var.sms]
}

run "rejects_sms_zero_spend_alarm" {
  command = plan
  variables {
    sms = { allowed_country_codes = ["1"], monthly_spend_alarm_usd = 0 }
  }
  expect_failures = [var.sms]
}

run "rejects_sms_text_over_sns_limit" {
  command = plan
  variables {
    notification_types = {
      order_shipped = { channels = ["sms"], fallback_locale = "en", templates = { en = { sms = { text = join("", [for i in range(161) : "0123456789"]) } } } }
    }
  }
  expect_failures = [var.notification_types]
}

run "rejects_sms_template_without_sms_channel" {
  command = plan
  variables {
    notification_types = {
      order_shipped = { channels = ["email"], fallback_locale = "en", templates = { en = { email = { subject = "s", text = "t" }, sms = { text = "t" } } } }
    }
  }
  expect_failures = [var.notification_types]
}

run "rejects_sms_worker_typo" {
  command = plan
  variables {
    workers = { smss = { batch_size = 5 } }
  }
  expect_failures = [var.workers]
}
