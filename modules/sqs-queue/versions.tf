terraform {
  # optional() attribute defaults need 1.3; 1.5 is the toolkit-wide floor.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}
