variable "region" {
  description = "Region to deploy into (SES must be available there)."
  type        = string
  default     = "us-east-1"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region code such as us-east-1."
  }
}

variable "name" {
  description = "Base name of the service's resources."
  type        = string
  default     = "notifications"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,31}$", var.name))
    error_message = "name must be 1-32 characters of lowercase letters, digits or '-', starting with a letter or digit."
  }
}

variable "sender_address" {
  description = "From address of the emails. The example creates an SES email identity for it: SES sends a verification link to it."
  type        = string
  default     = "notifications@example.com"
  nullable    = false

  validation {
    condition     = can(regex("^[^@\\s,;<>\"]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", lower(var.sender_address)))
    error_message = "sender_address must be one email address such as notifications@example.com."
  }
}

variable "unsubscribe_url_template" {
  description = "One-click unsubscribe URL of non-critical emails; {token} is replaced by the recipient's token."
  type        = string
  default     = "https://example.com/notifications/unsubscribe?token={token}"
  nullable    = false

  validation {
    condition     = startswith(var.unsubscribe_url_template, "https://") && strcontains(var.unsubscribe_url_template, "{token}")
    error_message = "unsubscribe_url_template must be an https:// URL containing {token}."
  }
}

variable "alarm_email_addresses" {
  description = "Addresses subscribed to the ops topic (each must confirm its subscription). Empty: no subscription."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for e in var.alarm_email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}$", e))])
    error_message = "alarm_email_addresses must be email addresses (name@example.com)."
  }
}

variable "apns_credentials_secret_arn" {
  description = <<-EOT
    Secrets Manager secret holding the APNs credentials (JSON; see the root module's README), or null for no
    APNs. Only the ARN passes through Terraform: the secret's value never enters variables or state.
  EOT
  type        = string
  default     = null

  validation {
    condition     = var.apns_credentials_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.apns_credentials_secret_arn))
    error_message = "apns_credentials_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "fcm_credentials_secret_arn" {
  description = "Secrets Manager secret holding the FCM service-account JSON, or null for no FCM."
  type        = string
  default     = null

  validation {
    condition     = var.fcm_credentials_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.fcm_credentials_secret_arn))
    error_message = "fcm_credentials_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "chat_targets" {
  description = <<-EOT
    Chat targets order_shipped is posted to, keyed by target name: platform (slack, teams, chime or webhook) and
    webhook_secret_arn, a Secrets Manager secret whose value is the webhook URL. Empty (default): no chat channel.
    Only the ARN passes through Terraform: the URL never enters variables or state.
  EOT
  type = map(object({
    platform           = string
    webhook_secret_arn = string
  }))
  default  = {}
  nullable = false

  validation {
    condition = alltrue([
      for k, t in var.chat_targets : can(regex("^[a-z][a-z0-9_-]{0,63}$", k)) && contains(["slack", "teams", "chime", "webhook"], t.platform) &&
      can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", t.webhook_secret_arn))
    ])
    error_message = "chat_targets: keys must be lowercase target names (e.g. ops), platform slack, teams, chime or webhook, and webhook_secret_arn a Secrets Manager secret ARN (never the URL itself)."
  }
}

variable "sms_allowed_country_codes" {
  description = <<-EOT
    Turns the SMS channel on: the country calling codes users' numbers may have, e.g. ["1", "44"] (default []:
    SMS off). A new AWS account sends SMS only to numbers verified in the SNS SMS sandbox (see README).
  EOT
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for c in var.sms_allowed_country_codes : can(regex("^[1-9][0-9]{0,2}$", c))])
    error_message = "sms_allowed_country_codes must be country calling codes of 1-3 digits without + (e.g. [\"1\", \"44\"])."
  }
}

variable "sms_max_price_usd" {
  description = "Per-message SMS price ceiling in USD (SNS does not send a message that would cost more)."
  type        = number
  default     = 0.5
  nullable    = false

  validation {
    condition     = var.sms_max_price_usd > 0 && var.sms_max_price_usd <= 10
    error_message = "sms_max_price_usd must be more than 0 and at most 10."
  }
}

variable "sms_monthly_spend_alarm_usd" {
  description = "Alarm (to the ops topic) when the account's SMS spend this month reaches this many USD (null: no alarm)."
  type        = number
  default     = null

  validation {
    condition     = var.sms_monthly_spend_alarm_usd == null ? true : var.sms_monthly_spend_alarm_usd > 0
    error_message = "sms_monthly_spend_alarm_usd must be more than 0 when set."
  }
}

variable "jwt_issuer" {
  description = "OIDC issuer the registration API trusts (https). Null: the example creates a Cognito user pool and trusts it."
  type        = string
  default     = null

  validation {
    condition     = var.jwt_issuer == null || startswith(coalesce(var.jwt_issuer, "-"), "https://")
    error_message = "jwt_issuer must be an https:// URL."
  }
}

variable "jwt_audience" {
  description = "Audiences (client ids) the registration API accepts with jwt_issuer."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.jwt_audience : length(a) > 0])
    error_message = "jwt_audience entries must be non-empty."
  }
}

variable "channel_switch_refresh_seconds" {
  description = "How long the router and the channel workers cache the operators' channel switches: a channel switched off stops within this many seconds (1-300)."
  type        = number
  default     = 10
  nullable    = false
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default = {
    Project = "notification-service"
  }
  nullable = false
}
