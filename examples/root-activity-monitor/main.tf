provider "aws" {
  region = var.region
}

module "root_activity_monitor" {
  source = "../../modules/root-activity-monitor"

  name          = var.name
  account_alias = var.account_alias

  subscriptions = { for email in var.email_addresses : email => { protocol = "email" } }

  tags = var.tags
}
