terraform {
  # optional() attribute defaults need 1.3; 1.5 is the toolkit-wide floor.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.31 is the first release whose Lambda runtime enum accepts python3.12 (the default runtime).
      version = ">= 5.31"
    }
  }
}
