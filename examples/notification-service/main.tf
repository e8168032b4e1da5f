provider "aws" {
  region = var.region
}

locals {
  # Push needs credentials: the channel is on when at least one platform's secret is given.
  push_platforms = merge(
    var.apns_credentials_secret_arn == null ? {} : { apns = { credentials_secret_arn = var.apns_credentials_secret_arn } },
    var.fcm_credentials_secret_arn == null ? {} : { fcm = { credentials_secret_arn = var.fcm_credentials_secret_arn } },
  )
  push_enabled = length(local.push_platforms) > 0
  push_channel = local.push_enabled ? ["push"] : []

  # Chat is on when at least one target's webhook secret is given: order_shipped is then posted to every target.
  chat_enabled = length(var.chat_targets) > 0
  chat_channel = local.chat_enabled ? ["chat"] : []

  # SMS is on when the countries it may send to are given (a real account starts in the SMS sandbox: see README).
  sms_enabled = length(var.sms_allowed_country_codes) > 0
  sms_channel = local.sms_enabled ? ["sms"] : []

  # The registration API trusts tokens of this issuer and audience: the Cognito user pool below unless you
  # bring your own OIDC provider.
  jwt_issuer   = coalesce(var.jwt_issuer, "https://cognito-idp.${var.region}.amazonaws.com/${one(aws_cognito_user_pool.users[*].id)}")
  jwt_audience = var.jwt_issuer == null ? [one(aws_cognito_user_pool_client.app[*].id)] : var.jwt_audience
}

# A user pool to sign in the app's users (the `sub` of its tokens is the user id notifications are sent to),
# created only when no other issuer is given.
resource "aws_cognito_user_pool" "users" {
  count = var.jwt_issuer == null ? 1 : 0

  name                     = "${var.name}-users"
  deletion_protection      = "INACTIVE" # a throwaway example; keep ACTIVE in production
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  mfa_configuration        = "OPTIONAL"

  software_token_mfa_configuration {
    enabled = true
  }

  password_policy {
    minimum_length    = 12
    require_lowercase = true
    require_numbers   = true
    require_symbols   = true
    require_uppercase = true
  }

  tags = var.tags
}

resource "aws_cognito_user_pool_client" "app" {
  count = var.jwt_issuer == null ? 1 : 0

  name                          = "${var.name}-app"
  user_pool_id                  = aws_cognito_user_pool.users[0].id
  generate_secret               = false
  explicit_auth_flows           = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
}

module "notification_service" {
  source = "../../"

  name = var.name

  notification_types = {
    # Opt-out-able: carries List-Unsubscribe, respects preferences. German recipients get the de template, every
    # other locale falls back to en.
    order_shipped = {
      critical = false
      # Two producers send it (each with its own idempotency keys: the same key from both is two notifications).
      allowed_sources = ["com.example.shop", "com.example.marketplace"]
      channels        = concat(["email", "websocket"], local.push_channel, local.chat_channel, local.sms_channel)
      chat_targets    = local.chat_enabled ? keys(var.chat_targets) : null
      fallback_locale = "en"
      templates = {
        en = {
          email = {
            subject = "Your order {{ order_id }} has shipped"
            text    = "Hi {{ user.display_name }},\n\nyour order {{ order_id }} is on its way with {{ carrier }}.\nTrack it: {{ tracking_url }}"
            html    = "<p>Hi {{ user.display_name }},</p><p>your order <b>{{ order_id }}</b> is on its way with {{ carrier }}.</p><p><a href=\"{{ tracking_url }}\">Track it</a></p>"
          }
          websocket = {
            body = "Order {{ order_id }} has shipped with {{ carrier }}."
          }
          # The module refuses a template for a channel the type does not list: push's only while it is on.
          push = local.push_enabled ? {
            title = "Order {{ order_id }} shipped"
            body  = "On its way with {{ carrier }}."
          } : null
          # Posted once per notification to the team's channel, in the fallback locale: no `user` variables.
          chat = local.chat_enabled ? {
            title = "Order {{ order_id }} shipped"
            text  = "Order {{ order_id }} left the warehouse with {{ carrier }}."
          } : null
          sms = local.sms_enabled ? {
            text = "Your order {{ order_id }} has shipped with {{ carrier }}. Track it: {{ tracking_url }}"
          } : null
        }
        de = {
          email = {
            subject = "Ihre Bestellung {{ order_id }} wurde versandt"
            text    = "Hallo {{ user.display_name }},\n\nIhre Bestellung {{ order_id }} ist mit {{ carrier }} unterwegs.\nSendungsverfolgung: {{ tracking_url }}"
            html    = "<p>Hallo {{ user.display_name }},</p><p>Ihre Bestellung <b>{{ order_id }}</b> ist mit {{ carrier }} unterwegs.</p><p><a href=\"{{ tracking_url }}\">Sendungsverfolgung</a></p>"
          }
          websocket = {
            body = "Bestellung {{ order_id }} wurde mit {{ carrier }} versandt."
          }
          push = local.push_enabled ? {
            title = "Bestellung {{ order_id }} versandt"
            body  = "Unterwegs mit {{ carrier }}."
          } : null
          sms = local.sms_enabled ? {
            text = "Ihre Bestellung {{ order_id }} ist mit {{ carrier }} unterwegs: {{ tracking_url }}"
          } : null
        }
      }
    }
    # Channel fallback: live in an open tab (websocket, always) and on exactly ONE more channel, the first that
    # reaches the user: their phone if they registered a device, else email (a verified, unsuppressed address).
    account_update = {
      allowed_sources = ["com.example.identity"]
      channels        = ["websocket"]
      fallback        = concat(local.push_channel, ["email"])
      fallback_locale = "en"
      templates = {
        en = {
          websocket = {
            body = "Your account changed: {{ change }}."
          }
          push = local.push_enabled ? {
            title = "Account changed"
            body  = "{{ change }}"
          } : null
          email = {
            subject = "Your account changed"
            text    = "Hi {{ user.display_name }},\n\nyour account changed: {{ change }}.\nIf this was not you, reset your password now."
          }
        }
      }
    }
    # In-app only: one inbox item per recipient (GET /inbox of the registration API), pushed live to the user's
    # open WebSocket tabs as {"notification_id", "type", "inbox_item"}. No email, nothing on the lock screen.
    order_delivered = {
      critical        = false
      allowed_sources = ["com.example.shop", "com.example.marketplace"]
      channels        = ["inbox"]
      fallback_locale = "en"
      templates = {
        en = {
          inbox = {
            title = "Order {{ order_id }} delivered"
            body  = "{{ carrier }} delivered your order {{ order_id }}. Enjoy!"
            url   = "{{ tracking_url }}"
          }
        }
        de = {
          inbox = {
            title = "Bestellung {{ order_id }} zugestellt"
            body  = "{{ carrier }} hat Ihre Bestellung {{ order_id }} zugestellt. Viel Freude damit!"
            url   = "{{ tracking_url }}"
          }
        }
      }
    }
    # A digest: price drops on a user's wishlist are collected for a day (UTC) and sent as one email listing the
    # first 10 ({{#each}}), with the count of all of them.
    price_drop = {
      allowed_sources = ["com.example.shop"]
      channels        = ["email"]
      digest          = { window_seconds = 86400, max_items = 10 }
      fallback_locale = "en"
      templates = {
        en = {
          email = {
            subject = "{{ digest.count }} price drop(s) on your wishlist"
            text    = "Hi {{ user.display_name }},\n\nprices dropped:\n{{#each digest.items}}- {{ item.product }}: now {{ item.price }}\n{{/each}}"
            html    = "<p>Hi {{ user.display_name }},</p><p>Prices dropped:</p><ul>{{#each digest.items}}<li>{{ item.product }}: now {{ item.price }}</li>{{/each}}</ul>"
          }
        }
      }
    }
    # A frequency cap: at most 2 promotions per user and day (UTC); the rest are logged suppressed_frequency_cap.
    promotion = {
      allowed_sources = ["com.example.shop"]
      channels        = ["email"]
      max_per_user    = { count = 2, period_seconds = 86400 }
      fallback_locale = "en"
      templates = {
        en = {
          email = {
            subject = "{{ title }}"
            text    = "Hi {{ user.display_name }},\n\n{{ body }}"
          }
        }
      }
    }
    # Critical: ignores opt-outs and the global mute, and has no unsubscribe link.
    security_alert = {
      critical = true
      # A critical type must name its producers: only the identity service may send it.
      allowed_sources = ["com.example.identity"]
      channels        = ["email"]
      fallback_locale = "en"
      templates = {
        en = {
          email = {
            subject = "Security alert: {{ event }}"
            text    = "Hi {{ user.display_name }},\n\n{{ event }} at {{ occurred_at }} from {{ location }}.\nIf this was not you, reset your password now."
          }
        }
      }
    }
  }

  email = {
    from_address             = var.sender_address
    create_identity          = true
    unsubscribe_url_template = var.unsubscribe_url_template
  }

  # Browsers connect with the user pool token the registration API accepts, offered as a subprotocol:
  # new WebSocket(url, ["notifications", idToken]). The module's built-in authorizer checks it against the
  # registration API's issuer and audience; the connection's user id is its `sub`, as on every channel.
  websocket = {}

  push = length(local.push_platforms) == 0 ? null : { platforms = local.push_platforms }

  # The webhook URLs stay in Secrets Manager: only the secrets' ARNs pass through Terraform.
  chat = local.chat_enabled ? { targets = var.chat_targets } : null

  # Users verify their number through the registration API (PUT /phone-number/{phone_number}, then .../verify).
  sms = local.sms_enabled ? {
    allowed_country_codes   = var.sms_allowed_country_codes
    max_price_usd           = var.sms_max_price_usd
    monthly_spend_alarm_usd = var.sms_monthly_spend_alarm_usd
  } : null

  # The in-app inbox: items kept 90 days, read through the registration API's /inbox routes.
  inbox = { item_ttl_days = 90 }

  registration_api = {
    jwt_issuer   = local.jwt_issuer
    jwt_audience = local.jwt_audience
  }

  alarm_subscriptions = { for address in var.alarm_email_addresses : address => {} }

  # How soon an operator's channel switch (output channel_switch_commands) takes effect.
  channel_switch_refresh_seconds = var.channel_switch_refresh_seconds

  # A throwaway example: `terraform destroy` must be able to delete the tables. Keep the default (true) in
  # production.
  table_deletion_protection = false

  tags = var.tags
}
