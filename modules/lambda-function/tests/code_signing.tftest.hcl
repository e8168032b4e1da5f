# Offline plan-mode tests: `terraform test` in modules/lambda-function (Terraform >= 1.11 for override_during).

mock_provider "aws" {
  source = "../../tests/terraform_mocks/aws"
}

variables {
  name        = "notify"
  handler     = "notification_handlers.root_activity.handler"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  # The committed dist/lambda.zip may not be built yet; an S3 package keeps the tests self-contained.
  package = {
    s3_bucket = "example-artifacts"
    s3_key    = "lambda.zip"
  }
}

run "no_code_signing_by_default" {
  command = plan
  assert {
    condition     = aws_lambda_function.this[0].code_signing_config_arn == null
    error_message = "default must be null"
  }
}

run "code_signing_config_is_attached" {
  command = plan
  variables {
    code_signing_config_arn = "arn:aws:lambda:eu-west-1:123456789012:code-signing-config:csc-0123456789abcdef0"
  }
  assert {
    condition     = aws_lambda_function.this[0].code_signing_config_arn == "arn:aws:lambda:eu-west-1:123456789012:code-signing-config:csc-0123456789abcdef0"
    error_message = "not attached"
  }
}
