# The SMS channel (docs/notification-service.md, section 9): the phone numbers table (tables.tf), the SMS queue and
# worker (channels.tf, entry "sms"), the registration API's phone number routes, and the spend alarm. Off until
# var.sms is set.
#
# Sent through Amazon SNS (Publish with PhoneNumber): the design document says why SNS rather than AWS End User
# Messaging SMS (pinpoint-sms-voice-v2). SNS has no ARN for a phone number, so Publish and
# CheckIfPhoneNumberIsOptedOut are allowed on "*"; an explicit Deny of sns:Publish on every SNS ARN (topics,
# platform endpoints) leaves the roles able to send SMS and nothing else. The account-wide SMS settings (monthly
# spend limit, default sender ID, delivery status logging) stay the account owner's (aws_sns_sms_preferences is
# one per account): this module sets a per-message price ceiling and alarms on the month's spend.

locals {
  sms_enabled = var.create && var.sms != null

  # What the worker and the registration API read (service/sms.py).
  sms_settings_environment = !local.sms_enabled ? {} : merge(
    {
      PHONE_NUMBERS_TABLE       = local.table_refs["phone_numbers"].name
      SMS_TYPE                  = var.sms.sms_type
      SMS_MAX_PRICE_USD         = format("%.5f", var.sms.max_price_usd)
      SMS_MAX_SEGMENTS          = tostring(var.sms.max_segments)
      SMS_ALLOWED_COUNTRY_CODES = join(",", var.sms.allowed_country_codes)
    },
    var.sms.sender_id == null ? {} : { SMS_SENDER_ID = var.sms.sender_id },
    var.sms.origination_number == null ? {} : { SMS_ORIGINATION_NUMBER = var.sms.origination_number },
  )

  sms_send_statements = [
    {
      # A phone number has no ARN: SNS authorises Publish to one, and CheckIfPhoneNumberIsOptedOut, on "*".
      sid        = "SendSms"
      effect     = "Allow"
      actions    = ["sns:CheckIfPhoneNumberIsOptedOut", "sns:Publish"]
      resources  = ["*"]
      conditions = []
    },
    {
      # ... and never to a topic or platform endpoint: with this Deny, the "*" above reaches phone numbers only.
      sid        = "SmsOnlyNoTopicsOrEndpoints"
      effect     = "Deny"
      actions    = ["sns:Publish"]
      resources  = ["${local.arn_prefix}:sns:*:*:*"]
      conditions = []
    },
  ]

  sms_worker_statements = concat(
    [
      {
        # The recipients' verified numbers: one BatchGetItem per 100 users (service/phone_numbers.py).
        sid        = "ReadVerifiedPhoneNumbers"
        effect     = "Allow"
        actions    = ["dynamodb:BatchGetItem"]
        resources  = [local.table_refs["phone_numbers"].arn]
        conditions = []
      },
    ],
    local.sms_send_statements,
  )

  # The registration API's phone number routes (service/registration/phone_number.py).
  registration_sms_routes = local.sms_enabled && local.registration_api_enabled ? toset([
    "GET /phone-number",
    "PUT /phone-number/{phone_number}",
    "POST /phone-number/{phone_number}/verify",
    "DELETE /phone-number",
  ]) : toset([])

  registration_sms_environment = local.registration_api_enabled ? local.sms_settings_environment : {}

  registration_sms_statements = !(local.sms_enabled && local.registration_api_enabled) ? [] : concat(
    [
      {
        # The caller's item and the number's ownership item: read, written and moved in TransactWriteItems
        # (authorised per item as PutItem, UpdateItem and DeleteItem).
        sid        = "ManagePhoneNumbers"
        effect     = "Allow"
        actions    = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        resources  = [local.table_refs["phone_numbers"].arn]
        conditions = []
      },
    ],
    local.sms_send_statements,
  )

  # The account's SMS spend this month (SNS publishes it without dimensions), when an alarm threshold is set.
  sms_alarms = local.sms_enabled && try(var.sms.monthly_spend_alarm_usd, null) != null ? {
    sms-spend = {
      name        = "${var.name}-sms-monthly-spend"
      description = "The account's SMS spend this month reached ${var.sms.monthly_spend_alarm_usd} USD (AWS/SNS SMSMonthToDateSpentUSD; the account's monthly spend limit stops SMS when it is reached)."
      namespace   = "AWS/SNS"
      metric      = "SMSMonthToDateSpentUSD"
      dimensions  = {}
      statistic   = "Maximum"
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = var.sms.monthly_spend_alarm_usd
      periods     = 1
    }
  } : {}
}

resource "aws_apigatewayv2_route" "registration_sms" {
  for_each = local.registration_sms_routes

  api_id               = aws_apigatewayv2_api.registration[0].id
  route_key            = each.key
  target               = "integrations/${aws_apigatewayv2_integration.registration[0].id}"
  authorization_type   = "JWT"
  authorizer_id        = aws_apigatewayv2_authorizer.registration[0].id
  authorization_scopes = length(var.registration_api.authorization_scopes) > 0 ? var.registration_api.authorization_scopes : null
}
