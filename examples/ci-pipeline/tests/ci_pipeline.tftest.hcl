# Offline plan-mode tests of the pipeline's trust, permissions, state bucket and input validation
# (`terraform test` in examples/ci-pipeline; mock provider: no AWS account, nothing created).

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
      arn        = "arn:aws:iam::123456789012:user/admin"
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
      id = "us-east-1"
    }
  }

  # Mocked policy documents would otherwise be random strings.
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

# The CMK's ARN is only known after apply; the policies scope KMS to it.
override_resource {
  target          = module.state_kms_key.aws_kms_key.this
  override_during = plan
  values = {
    arn    = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    key_id = "11111111-2222-3333-4444-555555555555"
  }
}

override_resource {
  target          = aws_iam_openid_connect_provider.github
  override_during = plan
  values = {
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
  }
}

run "defaults_trust_only_pull_requests_and_the_environment" {
  command = plan

  # The plan role: pull_request jobs of the configured repository, for STS, compared exactly.
  assert {
    condition = toset([
      for c in data.aws_iam_policy_document.plan_trust.statement[0].condition : "${c.test} ${c.variable} ${join(",", c.values)}"
      ]) == toset([
      "StringEquals token.actions.githubusercontent.com:aud sts.amazonaws.com",
      "StringEquals token.actions.githubusercontent.com:sub repo:example-org/example-repo:pull_request",
    ])
    error_message = "The plan role must trust exactly aud = sts.amazonaws.com and sub = repo:OWNER/REPO:pull_request, with StringEquals."
  }

  # The apply role: only jobs of the protected environment.
  assert {
    condition = toset([
      for c in data.aws_iam_policy_document.apply_trust.statement[0].condition : "${c.test} ${c.variable} ${join(",", c.values)}"
      ]) == toset([
      "StringEquals token.actions.githubusercontent.com:aud sts.amazonaws.com",
      "StringEquals token.actions.githubusercontent.com:sub repo:example-org/example-repo:environment:production",
    ])
    error_message = "The apply role must trust exactly aud = sts.amazonaws.com and sub = repo:OWNER/REPO:environment:production, with StringEquals."
  }

  assert {
    condition = alltrue([
      for doc in [data.aws_iam_policy_document.plan_trust, data.aws_iam_policy_document.apply_trust] :
      length(doc.statement) == 1 && doc.statement[0].actions == toset(["sts:AssumeRoleWithWebIdentity"]) &&
      doc.statement[0].effect == "Allow" &&
      [for p in doc.statement[0].principals : "${p.type} ${join(",", p.identifiers)}"] == ["Federated arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"]
    ])
    error_message = "Each role has one trust statement: sts:AssumeRoleWithWebIdentity by the GitHub OIDC provider only."
  }

  assert {
    condition = (
      aws_iam_openid_connect_provider.github[0].url == "https://token.actions.githubusercontent.com" &&
      aws_iam_openid_connect_provider.github[0].client_id_list == toset(["sts.amazonaws.com"])
    )
    error_message = "The OIDC provider is GitHub's issuer with the audience sts.amazonaws.com."
  }

  assert {
    condition     = aws_iam_role.plan.name == "terraform-ci-plan" && aws_iam_role.apply.name == "terraform-ci-apply"
    error_message = "Roles are named <name>-plan and <name>-apply."
  }

  # Before the deployer policies exist the example still plans; once the repository ships the root module's
  # deployer-policy.json it is read from there.
  assert {
    condition     = contains(["file", "none"], output.deployer_policy_source)
    error_message = "Without deployer_policy_json the policy comes from the repository's file, or there is none."
  }

  assert {
    condition     = length(aws_iam_role_policy.apply_deployer) == (output.deployer_policy_source == "file" ? 1 : 0)
    error_message = "The deployer policy is attached exactly when there is one."
  }
}

run "defaults_protect_the_state_bucket" {
  command = plan

  assert {
    condition     = aws_s3_bucket.state.bucket == "terraform-ci-tfstate-123456789012-us-east-1" && aws_s3_bucket.state.force_destroy == false
    error_message = "The state bucket is <name>-tfstate-<account>-<region> and is never force-destroyed."
  }

  assert {
    condition     = one(aws_s3_bucket_versioning.state.versioning_configuration).status == "Enabled"
    error_message = "The state bucket must be versioned."
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.state.block_public_acls,
      aws_s3_bucket_public_access_block.state.block_public_policy,
      aws_s3_bucket_public_access_block.state.ignore_public_acls,
      aws_s3_bucket_public_access_block.state.restrict_public_buckets,
    ])
    error_message = "All four public access blocks must be on."
  }

  assert {
    condition = alltrue([
      for r in aws_s3_bucket_server_side_encryption_configuration.state.rule : alltrue([
        for d in r.apply_server_side_encryption_by_default :
        d.sse_algorithm == "aws:kms" && d.kms_master_key_id == "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
      ])
    ])
    error_message = "The state must be encrypted with the CMK (SSE-KMS)."
  }

  assert {
    condition     = one(aws_s3_bucket_ownership_controls.state.rule).object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.state_bucket.statement :
      s.effect == "Deny" && length(setsubtract(["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"], s.actions)) == 0 && anytrue([
        for c in s.condition : c.test == "Bool" && c.variable == "aws:SecureTransport" && tolist(c.values) == tolist(["false"])
      ])
    ])
    error_message = "The bucket policy must deny every request made without TLS."
  }

  assert {
    condition = anytrue([
      for r in aws_s3_bucket_lifecycle_configuration.state.rule :
      r.status == "Enabled" && one(r.noncurrent_version_expiration).noncurrent_days == 90
    ])
    error_message = "Old state versions expire after noncurrent_state_version_days (90 by default)."
  }

  assert {
    condition     = length(aws_s3_bucket_logging.state) == 0
    error_message = "Access logging is off unless a log bucket is given."
  }

  # The roles reach the state key and its lock file, nothing else in the bucket; the plan role never writes state.
  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.plan.statement : !contains(tolist(s.actions), "s3:PutObject") || s.resources == toset(["arn:aws:s3:::terraform-ci-tfstate-123456789012-us-east-1/notification-service/terraform.tfstate.tflock"])
    ])
    error_message = "The plan role may write the lock file only."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.apply_state.statement :
      s.actions == toset(["s3:GetObject", "s3:PutObject"]) && s.resources == toset(["arn:aws:s3:::terraform-ci-tfstate-123456789012-us-east-1/notification-service/terraform.tfstate"])
    ])
    error_message = "The apply role reads and writes the state key."
  }

  assert {
    condition     = strcontains(output.backend_config, "use_lockfile = true") && strcontains(output.backend_config, "bucket       = \"terraform-ci-tfstate-123456789012-us-east-1\"") && !strcontains(output.backend_config, "dynamodb")
    error_message = "The backend block uses the bucket with S3 native locking, no DynamoDB table."
  }
}

run "deployer_policy_attached_to_apply_and_read_actions_to_plan" {
  command = plan

  variables {
    github_repository  = "Acme-Corp/notifications.infra"
    github_environment = "prod eu"
    deployer_policy_json = jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          Sid      = "Queues"
          Effect   = "Allow"
          Action   = ["sqs:CreateQueue", "sqs:GetQueueAttributes", "sqs:ListQueueTags", "sqs:ReceiveMessage", "sqs:DeleteQueue"]
          Resource = "arn:aws:sqs:*:123456789012:notify-*"
        },
        {
          Effect   = "Allow"
          Action   = "lambda:GetFunction"
          Resource = ["arn:aws:lambda:*:123456789012:function:notify-*"]
          Condition = {
            StringEquals = { "aws:ResourceAccount" = "123456789012" }
          }
        },
        {
          Effect   = "Allow"
          Action   = ["s3:GetObject", "s3:Get*", "secretsmanager:GetSecretValue", "iam:PassRole", "ssm:GetParameter"]
          Resource = "*"
        },
        {
          Effect   = "Deny"
          Action   = ["iam:CreateUser"]
          Resource = "*"
        },
      ]
    })
  }

  assert {
    condition     = output.deployer_policy_source == "variable" && length(aws_iam_role_policy.apply_deployer) == 1
    error_message = "A given deployer policy is attached to the apply role."
  }

  assert {
    condition     = jsondecode(aws_iam_role_policy.apply_deployer[0].policy) == jsondecode(var.deployer_policy_json)
    error_message = "The apply role gets the deployer policy unchanged."
  }

  assert {
    condition = jsondecode(one(data.aws_iam_policy_document.plan.source_policy_documents)).Statement == [
      {
        Sid      = "DeployerRead0"
        Effect   = "Allow"
        Action   = ["sqs:GetQueueAttributes", "sqs:ListQueueTags"]
        Resource = "arn:aws:sqs:*:123456789012:notify-*"
      },
      {
        Sid       = "DeployerRead1"
        Effect    = "Allow"
        Action    = ["lambda:GetFunction"]
        Resource  = ["arn:aws:lambda:*:123456789012:function:notify-*"]
        Condition = { StringEquals = { "aws:ResourceAccount" = "123456789012" } }
      },
    ]
    error_message = "The plan role gets only the configuration reads of the deployer policy (no writes, no object bodies, secrets, parameters, messages or wildcards over data), on the same resources and conditions."
  }

  assert {
    condition     = output.plan_subject == "repo:Acme-Corp/notifications.infra:pull_request" && output.apply_subject == "repo:Acme-Corp/notifications.infra:environment:prod eu"
    error_message = "The subjects carry the repository and environment exactly as given."
  }
}

run "existing_oidc_provider_and_access_logging" {
  command = plan

  variables {
    github_oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    access_logging           = { target_bucket = "org-s3-access-logs" }
    state_bucket_name        = "acme-terraform-state"
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 0 && output.github_oidc_provider_arn == var.github_oidc_provider_arn
    error_message = "An existing OIDC provider is used, not created (an account holds one per URL)."
  }

  assert {
    condition     = aws_s3_bucket_logging.state[0].target_bucket == "org-s3-access-logs" && aws_s3_bucket_logging.state[0].target_prefix == "acme-terraform-state/"
    error_message = "Access logs go to the given bucket under <state bucket>/."
  }
}

# --- validation ------------------------------------------------------------------------------------------

run "rejects_repository_with_wildcard" {
  command = plan
  variables { github_repository = "example-org/*" }
  expect_failures = [var.github_repository]
}

run "rejects_repository_url" {
  command = plan
  variables { github_repository = "https://github.com/example-org/example-repo" }
  expect_failures = [var.github_repository]
}

run "rejects_repository_without_owner" {
  command = plan
  variables { github_repository = "example-repo" }
  expect_failures = [var.github_repository]
}

run "rejects_environment_with_colon" {
  command = plan
  variables { github_environment = "production:x" }
  expect_failures = [var.github_environment]
}

run "rejects_environment_with_wildcard" {
  command = plan
  variables { github_environment = "prod*" }
  expect_failures = [var.github_environment]
}

run "rejects_deployer_policy_not_json" {
  command = plan
  variables { deployer_policy_json = "Statement: []" }
  expect_failures = [var.deployer_policy_json]
}

run "rejects_deployer_policy_with_not_action" {
  command = plan
  variables {
    deployer_policy_json = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"NotAction\":\"iam:*\",\"Resource\":\"*\"}]}"
  }
  expect_failures = [var.deployer_policy_json]
}

run "rejects_state_key_outside_the_bucket_layout" {
  command = plan
  variables { state_key = "../other/terraform.tfstate" }
  expect_failures = [var.state_key]
}

run "rejects_oidc_provider_of_another_issuer" {
  command = plan
  variables { github_oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/gitlab.com" }
  expect_failures = [var.github_oidc_provider_arn]
}

run "rejects_long_name" {
  command = plan
  variables { name = "a-name-much-too-long-for-a-bucket" }
  expect_failures = [var.name]
}

run "rejects_region_that_is_not_a_region" {
  command = plan
  variables { region = "US East" }
  expect_failures = [var.region]
}

run "rejects_reserved_tag_key" {
  command = plan
  variables { tags = { "aws:owner" = "x" } }
  expect_failures = [var.tags]
}

run "rejects_dotted_bucket_name" {
  command = plan
  variables { state_bucket_name = "acme.terraform.state" }
  expect_failures = [var.state_bucket_name]
}

run "rejects_zero_version_retention" {
  command = plan
  variables { noncurrent_state_version_days = 0 }
  expect_failures = [var.noncurrent_state_version_days]
}

run "rejects_access_log_bucket_that_is_not_a_name" {
  command = plan
  variables { access_logging = { target_bucket = "s3://logs" } }
  expect_failures = [var.access_logging]
}

run "rejects_session_shorter_than_an_hour" {
  command = plan
  variables { max_session_duration = 900 }
  expect_failures = [var.max_session_duration]
}
