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

run "default_plan_secure_bucket" {
  command = plan

  override_resource {
    target          = module.kms_key.aws_kms_key.this
    override_during = plan
    values = {
      arn    = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
      key_id = "11111111-2222-3333-4444-555555555555"
    }
  }

  override_resource {
    target          = aws_s3_bucket.this
    override_during = plan
    values = {
      id  = "uploads-123456789012-eu-west-1"
      arn = "arn:aws:s3:::uploads-123456789012-eu-west-1"
    }
  }

  assert {
    condition     = aws_s3_bucket.this[0].bucket == "uploads-123456789012-eu-west-1" && output.bucket_arn == "arn:aws:s3:::uploads-123456789012-eu-west-1"
    error_message = "The default bucket name must be <name>-<account>-<region>."
  }

  assert {
    condition     = aws_s3_bucket.this[0].force_destroy == false
    error_message = "force_destroy must default to false: destroy must not delete data silently."
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this[0].block_public_acls,
      aws_s3_bucket_public_access_block.this[0].block_public_policy,
      aws_s3_bucket_public_access_block.this[0].ignore_public_acls,
      aws_s3_bucket_public_access_block.this[0].restrict_public_buckets,
    ])
    error_message = "All four public access block settings must be true."
  }

  assert {
    condition     = one(aws_s3_bucket_ownership_controls.this[0].rule).object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled (BucketOwnerEnforced)."
  }

  assert {
    condition = (
      one(one(aws_s3_bucket_server_side_encryption_configuration.this[0].rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" &&
      one(one(aws_s3_bucket_server_side_encryption_configuration.this[0].rule).apply_server_side_encryption_by_default).kms_master_key_id == output.kms_key_arn &&
      one(aws_s3_bucket_server_side_encryption_configuration.this[0].rule).bucket_key_enabled == true
    )
    error_message = "Default encryption must be SSE-KMS with the module's CMK and an S3 bucket key."
  }

  assert {
    condition     = one(aws_s3_bucket_versioning.this[0].versioning_configuration).status == "Enabled"
    error_message = "Versioning must be enabled."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.bucket[0].statement[0].effect == "Deny" &&
      one(data.aws_iam_policy_document.bucket[0].statement[0].condition).variable == "aws:SecureTransport" &&
      toset(one(data.aws_iam_policy_document.bucket[0].statement[0].condition).values) == toset(["false"]) &&
      toset(data.aws_iam_policy_document.bucket[0].statement[0].resources) == toset(["arn:aws:s3:::uploads-123456789012-eu-west-1", "arn:aws:s3:::uploads-123456789012-eu-west-1/*"]) &&
      alltrue([for a in data.aws_iam_policy_document.bucket[0].statement[0].actions : !strcontains(a, "*")]) &&
      contains(data.aws_iam_policy_document.bucket[0].statement[0].actions, "s3:GetObject") &&
      contains(data.aws_iam_policy_document.bucket[0].statement[0].actions, "s3:PutObject")
    )
    error_message = "The bucket policy must deny non-TLS access to the bucket and its objects, with explicit actions."
  }

  assert {
    condition     = jsonencode(output.notification_events) == jsonencode({ objects = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"] })
    error_message = "By default every object creation and removal is notified."
  }

  assert {
    condition = (
      one(aws_s3_bucket_notification.this[0].lambda_function).id == "objects" &&
      one(aws_s3_bucket_notification.this[0].lambda_function).filter_prefix == null &&
      one(aws_s3_bucket_notification.this[0].lambda_function).filter_suffix == null
    )
    error_message = "The default notification has no key filter."
  }

  assert {
    condition = (
      aws_lambda_permission.s3[0].principal == "s3.amazonaws.com" &&
      aws_lambda_permission.s3[0].source_arn == "arn:aws:s3:::uploads-123456789012-eu-west-1" &&
      aws_lambda_permission.s3[0].source_account == "123456789012" &&
      aws_lambda_permission.s3[0].action == "lambda:InvokeFunction"
    )
    error_message = "The invoke permission must be scoped to the bucket ARN and the account."
  }

  assert {
    condition     = output.ses_send_resources == tolist(["arn:aws:ses:eu-west-1:123456789012:identity/s3-alerts@example.com"])
    error_message = "ses:SendEmail must be scoped to the sender identity only."
  }

  assert {
    condition     = length(aws_sesv2_email_identity.this) == 0
    error_message = "By default the SES identity is expected to exist already."
  }

  assert {
    condition     = output.lambda_function.log_group_kms_key_id == output.kms_key_arn && output.lambda_function.log_group_name == "/aws/lambda/uploads"
    error_message = "The log group must be /aws/lambda/<name>, encrypted with the CMK."
  }

  assert {
    condition     = one(aws_s3_bucket_lifecycle_configuration.this[0].rule).noncurrent_version_expiration[0].noncurrent_days == 90
    error_message = "Old versions expire after 90 days by default."
  }
}

run "existing_bucket_filters_identity_and_configuration_set" {
  command = plan

  variables {
    bucket = { existing = { name = "team-drop.example" } }
    notifications = {
      pdf-uploads = { events = ["s3:ObjectCreated:Put", "s3:ObjectCreated:CompleteMultipartUpload"], filter_prefix = "incoming/", filter_suffix = ".pdf" }
      deletions   = { events = ["s3:ObjectRemoved:*"] }
    }
    ses_identity               = { name = "example.com", create = true }
    ses_configuration_set_name = "tracking"
    subject_prefix             = "[prod]"
  }

  assert {
    condition     = length(aws_s3_bucket.this) == 0 && length(aws_s3_bucket_policy.this) == 0 && output.bucket_created == false
    error_message = "An existing bucket must not be created or re-configured beyond its notifications."
  }

  assert {
    condition     = aws_s3_bucket_notification.this[0].bucket == "team-drop.example" && aws_lambda_permission.s3[0].source_arn == "arn:aws:s3:::team-drop.example"
    error_message = "Notifications and the permission must target the existing bucket."
  }

  assert {
    condition = jsonencode({
      for c in aws_s3_bucket_notification.this[0].lambda_function : c.id => [sort(c.events), c.filter_prefix, c.filter_suffix]
      }) == jsonencode({
      deletions   = [["s3:ObjectRemoved:*"], null, null]
      pdf-uploads = [["s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectCreated:Put"], "incoming/", ".pdf"]
    })
    error_message = "Each notification entry must become one lambda_function configuration with its events and filters."
  }

  assert {
    condition     = aws_sesv2_email_identity.this[0].email_identity == "example.com"
    error_message = "The module must create the requested domain identity."
  }

  assert {
    condition = output.ses_send_resources == tolist([
      "arn:aws:ses:eu-west-1:123456789012:identity/example.com",
      "arn:aws:ses:eu-west-1:123456789012:configuration-set/tracking",
    ])
    error_message = "With a configuration set, ses:SendEmail must cover the identity and the configuration set, nothing else."
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition = alltrue([for v in [
      output.bucket_name, output.bucket_arn, output.kms_key_arn, output.lambda_function.function_arn, output.lambda_function.role_arn,
      output.lambda_function.log_group_name, output.dead_letter_queue_arn, output.ses_identity_arn, output.ses_send_resources,
      output.lambda_permission_source_arn, output.notification_events, output.kms_alias_arns,
    ] : v == null])
    error_message = "With create = false every output must be null."
  }
}

run "rejects_both_bucket_modes" {
  command = plan

  variables {
    bucket = { create = {}, existing = { name = "other-bucket" } }
  }

  expect_failures = [var.bucket]
}

run "rejects_no_bucket_mode" {
  command = plan

  variables {
    bucket = {}
  }

  expect_failures = [var.bucket]
}

run "rejects_bad_bucket_name" {
  command = plan

  variables {
    bucket = { create = { name = "Not_A_Bucket" } }
  }

  expect_failures = [var.bucket]
}

run "rejects_iam_action_as_event" {
  command = plan

  variables {
    notifications = { objects = { events = ["s3:PutObject"] } }
  }

  expect_failures = [var.notifications]
}

run "rejects_wildcard_with_specific_event" {
  command = plan

  variables {
    notifications = { objects = { events = ["s3:ObjectCreated:*", "s3:ObjectCreated:Put"] } }
  }

  expect_failures = [var.notifications]
}

run "rejects_empty_events" {
  command = plan

  variables {
    notifications = { objects = { events = [] } }
  }

  expect_failures = [var.notifications]
}

run "rejects_bad_recipient" {
  command = plan

  variables {
    recipients = ["ops@example.com", "not-an-email"]
  }

  expect_failures = [var.recipients]
}

run "rejects_no_recipients" {
  command = plan

  variables {
    recipients = []
  }

  expect_failures = [var.recipients]
}

run "rejects_bad_sender" {
  command = plan

  variables {
    sender_email = "alerts at example.com"
  }

  expect_failures = [var.sender_email]
}

run "rejects_bad_identity" {
  command = plan

  variables {
    ses_identity = { name = "not a domain" }
  }

  expect_failures = [var.ses_identity]
}

run "rejects_sender_outside_the_identity" {
  command = plan

  variables {
    ses_identity = { name = "example.org" }
  }

  expect_failures = [aws_lambda_permission.s3]
}

run "rejects_bad_configuration_set" {
  command = plan

  variables {
    ses_configuration_set_name = "has spaces"
  }

  expect_failures = [var.ses_configuration_set_name]
}

run "rejects_bad_name" {
  command = plan

  variables {
    name = "Uploads_Notifier"
  }

  expect_failures = [var.name]
}

run "rejects_bad_noncurrent_expiration" {
  command = plan

  variables {
    bucket = { create = { noncurrent_version_expiration_days = 0 } }
  }

  expect_failures = [var.bucket]
}

# --- Bad inputs: each run feeds one realistic mistake and expects that input's validation to refuse it. ---

run "rejects_multiline_subject_prefix" {
  command = plan

  variables {
    subject_prefix = "[uploads]\nBcc: attacker@example.com"
  }

  expect_failures = [var.subject_prefix]
}

run "rejects_negative_reserved_concurrency" {
  command = plan

  variables {
    lambda = { reserved_concurrent_executions = -5 }
  }

  expect_failures = [var.lambda]
}

# Values the building blocks refuse (a bad runtime, timeout, package, alias, tag, ...) are proven refused
# through this module by tests/unit/test_pattern_passthrough.py: `expect_failures` cannot name a child
# module's variable (hashicorp/terraform#34951).
