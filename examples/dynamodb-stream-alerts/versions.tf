terraform {
  # optional() defaults need 1.3; 1.5 is the floor the toolkit supports.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.85 is the first release whose aws_pipes_pipe accepts kms_key_identifier.
      version = ">= 5.85"
    }
  }
}
