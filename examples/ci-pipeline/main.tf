provider "aws" {
  region = var.region
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  github_oidc_host  = "token.actions.githubusercontent.com"
  oidc_provider_arn = coalesce(var.github_oidc_provider_arn, one(aws_iam_openid_connect_provider.github[*].arn))

  # The `sub` claims GitHub puts in the tokens of the two jobs (the default claim template; see the README if
  # your organisation customised it). A pull_request job carries no branch in its `sub`; a job that names an
  # environment carries only the environment, whatever the branch or event.
  plan_subject  = "repo:${var.github_repository}:pull_request"
  apply_subject = "repo:${var.github_repository}:environment:${var.github_environment}"

  state_bucket_name = coalesce(var.state_bucket_name, "${var.name}-tfstate-${local.account_id}-${var.region}")
  # S3 bucket ARNs carry neither region nor account: known at plan, before the bucket exists.
  state_bucket_arn = "arn:${local.partition}:s3:::${local.state_bucket_name}"
  state_object_arn = "${local.state_bucket_arn}/${var.state_key}"
  # The S3 backend's native lock (use_lockfile = true) is an object next to the state: <key>.tflock.
  lock_object_arn = "${local.state_object_arn}.tflock"

  # The policy applying the deployed configuration needs. Reading the root module's file only when it exists
  # lets the example plan in a checkout that does not ship it.
  deployer_policy_file = "${path.module}/../../deployer-policy.json"
  deployer_policy_source = (
    var.deployer_policy_json != null ? "variable" : fileexists(local.deployer_policy_file) ? "file" : "none"
  )
  deployer_policy_json = {
    variable = var.deployer_policy_json
    file     = local.deployer_policy_source == "file" ? file(local.deployer_policy_file) : null
    none     = null
  }[local.deployer_policy_source]
  # Statements the plan role's reads can be derived from; the policy itself is attached as it is.
  deployer_statements = try([
    for statement in jsondecode(local.deployer_policy_json).Statement : statement
    if can(statement.Effect) && can(statement.Action) && can(statement.Resource)
  ], [])
}

# GitHub's OIDC issuer. No thumbprint_list: IAM verifies token.actions.githubusercontent.com against its own
# library of trusted root CAs (AWS, July 2023); a configured thumbprint would be stored but not used, and would
# only need updating when GitHub rotates its certificate chain.
resource "aws_iam_openid_connect_provider" "github" {
  count = var.github_oidc_provider_arn == null ? 1 : 0

  url            = "https://${local.github_oidc_host}"
  client_id_list = ["sts.amazonaws.com"]

  tags = var.tags
}
