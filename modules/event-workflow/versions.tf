terraform {
  # optional() attribute defaults need 1.3; 1.5 is the toolkit-wide floor.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.61 added aws_sfn_state_machine.encryption_configuration (CMK encryption of definition and history);
      # it also covers the event-rule module's floor (5.27).
      version = ">= 5.61"
    }
  }
}
