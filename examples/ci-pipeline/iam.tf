locals {
  # --- the plan role's read access, derived from the deployer policy ------------------------------------
  # Refreshing state during a plan calls the Get/List/Describe actions of the resource types the deployer
  # policy covers, on the same resources. Kept out: actions that return data or credentials rather than
  # configuration (object bodies, secret values, items, log events, tokens): a pull request's code runs with
  # this role, so anyone who can push a branch could read them. IAM action names are case-insensitive.
  read_action_pattern = "^[a-z0-9-]+:(describe|get|list)[a-z0-9*]*$"
  data_action_pattern = join("", [
    "^(s3:getobject.*|secretsmanager:getsecretvalue|ssm:getparameter.*|sts:.*|sqs:receivemessage",
    "|dynamodb:(getitem|batchgetitem|getrecords|getsharditerator)",
    "|kinesis:(getrecords|getsharditerator)|logs:(getlogevents|getlogrecord|getqueryresults)",
    "|[a-z0-9-]+:get[a-z]*(token|credentials|password|secretvalue)",
    # A wildcard would reach the data actions above on these services.
    "|(s3|secretsmanager|ssm|dynamodb|kinesis|logs|sqs):[a-z]*\\*.*)$",
  ])

  plan_read_statements = [
    for index, statement in local.deployer_statements : merge(
      {
        Sid      = "DeployerRead${index}"
        Effect   = "Allow"
        Resource = statement.Resource
        Action = [
          for action in flatten([statement.Action]) : action
          if can(regex(local.read_action_pattern, lower(action))) && !can(regex(local.data_action_pattern, lower(action)))
        ]
      },
      can(statement.Condition) ? { Condition = statement.Condition } : {},
    )
    if statement.Effect == "Allow" && length([
      for action in flatten([statement.Action]) : action
      if can(regex(local.read_action_pattern, lower(action))) && !can(regex(local.data_action_pattern, lower(action)))
    ]) > 0
  ]
  plan_read_policy_json = jsonencode({ Version = "2012-10-17", Statement = local.plan_read_statements })

  # The deployer policy minified: IAM counts every character but whitespace towards a role's 10,240-character
  # inline policy quota, shared with the state policy (~1,000 characters).
  deployer_policy_minified = local.deployer_policy_json == null ? null : jsonencode(jsondecode(local.deployer_policy_json))

  # Both roles reach the state key through S3 only.
  kms_via_s3 = "s3.${var.region}.amazonaws.com"
}

# --- trust: who may assume each role -------------------------------------------------------------------

data "aws_iam_policy_document" "plan_trust" {
  statement {
    sid     = "GitHubPullRequestsOfTheRepository"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.github_oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }

    # Only jobs of pull_request workflow runs of this repository. GitHub gives fork pull requests no
    # id-token, so only people who can push a branch to the repository reach this role.
    condition {
      test     = "StringEquals"
      variable = "${local.github_oidc_host}:sub"
      values   = [local.plan_subject]
    }
  }
}

data "aws_iam_policy_document" "apply_trust" {
  statement {
    sid     = "GitHubProtectedEnvironment"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.github_oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }

    # Only jobs that run in the environment, i.e. after its protection rules (required reviewers, the
    # deployment branch main) let them start.
    condition {
      test     = "StringEquals"
      variable = "${local.github_oidc_host}:sub"
      values   = [local.apply_subject]
    }
  }
}

# --- what each role may do -------------------------------------------------------------------------------

data "aws_iam_policy_document" "plan" {
  # The deployer policy's read actions (none when there is no deployer policy).
  source_policy_documents = length(local.plan_read_statements) > 0 ? [local.plan_read_policy_json] : []

  # ListObjectsV2 on the bucket: `terraform init` lists the workspaces (prefix env:/) and the backend lists
  # the state key; it reveals key names, not contents.
  statement {
    sid       = "TerraformStateList"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [local.state_bucket_arn]
  }

  statement {
    sid       = "TerraformStateRead"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = [local.state_object_arn]
  }

  # The plan takes the lock (a conditional PutObject of <key>.tflock) and removes it when done.
  statement {
    sid       = "TerraformStateLock"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [local.lock_object_arn]
  }

  # Decrypt reads the state; GenerateDataKey encrypts the lock file. Only through S3 in this region.
  statement {
    sid       = "TerraformStateKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [module.state_kms_key.key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.kms_via_s3]
    }
  }
}

data "aws_iam_policy_document" "apply_state" {
  statement {
    sid       = "TerraformStateList"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [local.state_bucket_arn]
  }

  statement {
    sid       = "TerraformStateReadWrite"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = [local.state_object_arn]
  }

  statement {
    sid       = "TerraformStateLock"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [local.lock_object_arn]
  }

  statement {
    sid       = "TerraformStateKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [module.state_kms_key.key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.kms_via_s3]
    }
  }
}

# --- the roles -------------------------------------------------------------------------------------------

resource "aws_iam_role" "plan" {
  name                 = "${var.name}-plan"
  description          = "Terraform plan from pull requests of ${var.github_repository}: read-only, state read and lock"
  assume_role_policy   = data.aws_iam_policy_document.plan_trust.json
  max_session_duration = var.max_session_duration

  tags = var.tags
}

resource "aws_iam_role_policy" "plan" {
  name   = "terraform-plan"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan.json
}

resource "aws_iam_role" "apply" {
  name                 = "${var.name}-apply"
  description          = "Terraform apply from the ${var.github_environment} environment of ${var.github_repository}"
  assume_role_policy   = data.aws_iam_policy_document.apply_trust.json
  max_session_duration = var.max_session_duration

  tags = var.tags
}

resource "aws_iam_role_policy" "apply_state" {
  name   = "terraform-state"
  role   = aws_iam_role.apply.id
  policy = data.aws_iam_policy_document.apply_state.json
}

# The deployer policy as it is shipped: checked and generated per module, so it is attached unchanged.
resource "aws_iam_role_policy" "apply_deployer" {
  count = local.deployer_policy_json == null ? 0 : 1

  name   = "terraform-deployer"
  role   = aws_iam_role.apply.id
  policy = local.deployer_policy_minified
}

# Without a deployer policy (deployer_policy_source = "none") the roles reach only the state: the example still
# plans, so that it can be tried before choosing what it deploys.
check "deployer_policy_size" {
  assert {
    condition     = local.deployer_policy_minified == null || try(length(local.deployer_policy_minified) <= 9000, true)
    error_message = "The deployer policy is longer than 9,000 characters: with the state policy it would exceed IAM's 10,240-character inline quota per role, and the apply would fail. Split it over several modules' pipelines."
  }
}
