terraform {
  # optional() defaults need 1.3; 1.5 is the floor the toolkit supports.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The notification service needs aws_cloudwatch_event_bus.dead_letter_config (5.97).
      version = ">= 5.97"
    }
  }
}
