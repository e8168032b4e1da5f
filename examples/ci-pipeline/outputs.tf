output "github_oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider of GitHub Actions (created here or given)."
  value       = local.oidc_provider_arn
}

output "plan_role_arn" {
  description = "ARN of the plan role (pull requests of the repository): the workflow's TF_PLAN_ROLE_ARN."
  value       = aws_iam_role.plan.arn
}

output "plan_role_name" {
  description = "Name of the plan role."
  value       = aws_iam_role.plan.name
}

output "apply_role_arn" {
  description = "ARN of the apply role (the protected environment only): the workflow's TF_APPLY_ROLE_ARN."
  value       = aws_iam_role.apply.arn
}

output "apply_role_name" {
  description = "Name of the apply role."
  value       = aws_iam_role.apply.name
}

output "plan_subject" {
  description = "The OIDC `sub` the plan role trusts (repo:OWNER/REPO:pull_request)."
  value       = local.plan_subject
}

output "apply_subject" {
  description = "The OIDC `sub` the apply role trusts (repo:OWNER/REPO:environment:NAME)."
  value       = local.apply_subject
}

output "deployer_policy_source" {
  description = "Where the apply role's deployer policy came from: \"variable\", \"file\" (the repository's deployer-policy.json) or \"none\"."
  value       = local.deployer_policy_source
}

output "state_bucket_name" {
  description = "Name of the state bucket."
  value       = aws_s3_bucket.state.bucket
}

output "state_bucket_arn" {
  description = "ARN of the state bucket."
  value       = aws_s3_bucket.state.arn
}

output "state_key" {
  description = "Object key of the deployed configuration's state."
  value       = var.state_key
}

output "state_kms_key_arn" {
  description = "ARN of the CMK that encrypts the state."
  value       = module.state_kms_key.key_arn
}

output "state_kms_alias_arns" {
  description = "Map of alias name to alias ARN of the state key."
  value       = module.state_kms_key.alias_arns
}

output "backend_config" {
  description = "A backend block to paste into the deployed configuration (S3 native locking: no DynamoDB table)."
  value       = <<-EOT
    terraform {
      backend "s3" {
        bucket       = "${aws_s3_bucket.state.bucket}"
        key          = "${var.state_key}"
        region       = "${var.region}"
        encrypt      = true
        kms_key_id   = "${module.state_kms_key.key_arn}"
        use_lockfile = true
      }
    }
  EOT
}

output "github_variables" {
  description = "Repository variables the workflow reads (Settings > Secrets and variables > Actions > Variables); none is a secret."
  value = {
    AWS_REGION        = var.region
    TF_PLAN_ROLE_ARN  = aws_iam_role.plan.arn
    TF_APPLY_ROLE_ARN = aws_iam_role.apply.arn
  }
}
