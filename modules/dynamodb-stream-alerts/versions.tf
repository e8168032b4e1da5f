terraform {
  # optional() attribute defaults need 1.3; 1.5 is the toolkit-wide floor.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.85 is the first release whose aws_pipes_pipe accepts kms_key_identifier (CMK-encrypted pipe data).
      version = ">= 5.85"
    }
  }
}
