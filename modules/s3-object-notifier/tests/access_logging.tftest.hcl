# Offline plan-mode tests: `terraform test` in modules/s3-object-notifier (Terraform >= 1.11 for override_during).

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
      arn        = "arn:aws:iam::123456789012:user/test"
      user_id    = "AIDATESTUSER"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition          = "aws"
      dns_suffix         = "amazonaws.com"
      reverse_dns_prefix = "com.amazonaws"
    }
  }

  mock_data "aws_region" {
    defaults = {
      id = "eu-west-1"
    }
  }

  # Mocked policy documents would otherwise be random strings.
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  name         = "uploads"
  sender_email = "s3-alerts@example.com"
  recipients   = ["ops@example.com", "data@example.org"]
  # The committed dist/lambda.zip may not be built yet; an S3 package keeps the tests self-contained.
  lambda = {
    package = {
      s3_bucket = "example-artifacts"
      s3_key    = "lambda.zip"
    }
  }
}

run "access_logging_off_by_default" {
  command = plan
  assert {
    condition     = length(aws_s3_bucket_logging.this) == 0
    error_message = "logging must be off by default"
  }
}

run "access_logging_opt_in" {
  command = plan
  variables {
    bucket = { create = { name = "uploads-bucket", access_logging = { target_bucket = "org-s3-logs" } } }
  }
  assert {
    condition     = aws_s3_bucket_logging.this[0].target_bucket == "org-s3-logs" && aws_s3_bucket_logging.this[0].target_prefix == "uploads-bucket/"
    error_message = "logging target wrong"
  }
}

run "access_logging_custom_prefix" {
  command = plan
  variables {
    bucket = { create = { access_logging = { target_bucket = "org-s3-logs", target_prefix = "s3/uploads/" } } }
  }
  assert {
    condition     = aws_s3_bucket_logging.this[0].target_prefix == "s3/uploads/"
    error_message = "prefix wrong"
  }
}

run "access_logging_rejects_self" {
  command = plan
  variables {
    bucket = { create = { name = "uploads-bucket", access_logging = { target_bucket = "uploads-bucket" } } }
  }
  expect_failures = [var.bucket]
}

run "access_logging_rejects_bad_name" {
  command = plan
  variables {
    bucket = { create = { access_logging = { target_bucket = "Not_A_Bucket" } } }
  }
  expect_failures = [var.bucket]
}
