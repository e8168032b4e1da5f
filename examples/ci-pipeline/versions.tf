terraform {
  # The state this example creates is meant for the S3 backend's native lock file (`use_lockfile`, GA in 1.11):
  # no DynamoDB table. The example itself uses nothing newer than 1.5, but the pipeline it sets up needs 1.11.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.81 made aws_iam_openid_connect_provider.thumbprint_list optional: IAM verifies GitHub's OIDC endpoint
      # against its own library of trusted root CAs, so no thumbprint is configured.
      version = ">= 5.81"
    }
  }
}
