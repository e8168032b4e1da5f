terraform {
  # optional() attribute defaults need 1.3; 1.5 is the toolkit-wide floor.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.27 added aws_cloudwatch_event_rule.state (replacing the deprecated is_enabled).
      version = ">= 5.27"
    }
  }
}
