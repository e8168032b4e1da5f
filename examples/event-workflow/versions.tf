terraform {
  # optional() defaults need 1.3; 1.5 is the floor the toolkit supports.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.61 added aws_sfn_state_machine.encryption_configuration.
      version = ">= 5.61"
    }
  }
}
