terraform {
  # optional() defaults need 1.3; 1.5 is the floor the toolkit supports.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.31 is the first release whose Lambda runtime enum accepts python3.12.
      version = ">= 5.31"
    }
  }
}
