terraform {
  # optional() defaults need 1.3; 1.5 is the floor the toolkit supports.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The notification service needs aws_cloudwatch_event_bus.dead_letter_config (5.97; kms_key_identifier
      # came earlier). The building blocks alone work from 5.0/5.31 (see their versions.tf).
      version = ">= 5.97"
    }
  }
}
