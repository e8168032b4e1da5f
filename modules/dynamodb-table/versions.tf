terraform {
  # optional() attribute defaults need 1.3; 1.5 is the toolkit-wide floor.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.0 is the floor of every building block; deletion_protection_enabled exists since 4.56.
      version = ">= 5.0"
    }
  }
}
