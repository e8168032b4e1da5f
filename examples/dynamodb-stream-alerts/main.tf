provider "aws" {
  region = var.region
}

module "dynamodb_stream_alerts" {
  source = "../../modules/dynamodb-stream-alerts"

  name = var.name

  table = {
    hash_key            = "paymentId"
    stream_view_type    = "NEW_AND_OLD_IMAGES"
    deletion_protection = var.deletion_protection
  }

  alert_attribute = "status"
  alert_values    = ["Not Authorised"]

  source_parameters = {
    starting_position = var.starting_position
    batch_size        = 10
  }

  subscriptions = { for email in var.email_addresses : email => { protocol = "email" } }

  kms_key = { deletion_window_in_days = var.kms_key_deletion_window_in_days }

  tags = var.tags
}
