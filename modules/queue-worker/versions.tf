terraform {
  # optional() attribute defaults need 1.3; 1.5 is the toolkit-wide floor.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # lambda-function needs 5.31 (python3.12 in the runtime enum).
      version = ">= 5.31"
    }
  }
}
