variable "region" {
  description = "Region of the state bucket and its KMS key (IAM roles and the OIDC provider are global)."
  type        = string
  default     = "us-east-1"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region code such as us-east-1."
  }
}

variable "name" {
  description = "Base name of the roles (<name>-plan, <name>-apply), the key alias and the default bucket name."
  type        = string
  default     = "terraform-ci"
  nullable    = false

  validation {
    # 24 keeps the default bucket name <name>-tfstate-<account>-<region> within S3's 63 characters.
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,23}$", var.name))
    error_message = "name must be 1-24 characters of lowercase letters, digits or '-', starting with a letter or digit."
  }
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default = {
    Project = "terraform-ci"
  }
  nullable = false

  validation {
    condition = alltrue([
      for k, v in var.tags : can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]{1,128}$", k)) && !startswith(lower(k), "aws:") &&
      can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]{0,256}$", v))
    ])
    error_message = "tags: keys must be 1-128 and values at most 256 characters of letters, digits, spaces and _ . : / = + - @, and keys must not start with the reserved \"aws:\" prefix."
  }
}

variable "github_repository" {
  description = <<-EOT
    The repository whose workflows may assume the roles, as OWNER/REPO spelled exactly as GitHub does (the
    token's `sub` is compared with StringEquals, which is case-sensitive). The placeholder lets the example
    plan as it is; set your own before applying.
  EOT
  type        = string
  default     = "example-org/example-repo"
  nullable    = false

  validation {
    # GitHub owners: letters, digits and single hyphens (39 max); repositories: letters, digits, '.', '_', '-'.
    condition     = can(regex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$", var.github_repository)) && !can(regex("/\\.\\.?$", var.github_repository))
    error_message = "github_repository must be OWNER/REPO (e.g. example-org/example-repo): no wildcard, no URL, no trailing slash."
  }
}

variable "github_environment" {
  description = "The protected GitHub environment the apply job runs in; only its jobs may assume the apply role."
  type        = string
  default     = "production"
  nullable    = false

  validation {
    # The environment name becomes part of the token's `sub`; ':' would make the claim ambiguous and '*'/'?'
    # have no business in a name compared with StringEquals.
    condition     = can(regex("^[A-Za-z0-9 _.-]{1,255}$", var.github_environment)) && trimspace(var.github_environment) == var.github_environment
    error_message = "github_environment must be 1-255 letters, digits, spaces, '_', '.' or '-', without leading or trailing spaces."
  }
}

variable "github_oidc_provider_arn" {
  description = <<-EOT
    ARN of an existing IAM OIDC provider for https://token.actions.githubusercontent.com (an account holds at
    most one per URL). null = create it here.
  EOT
  type        = string
  default     = null

  validation {
    condition     = var.github_oidc_provider_arn == null || can(regex("^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", coalesce(var.github_oidc_provider_arn, "x")))
    error_message = "github_oidc_provider_arn must be the ARN of the GitHub OIDC provider: arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com."
  }
}

variable "state_bucket_name" {
  description = "Name of the state bucket. null = <name>-tfstate-<account id>-<region>."
  type        = string
  default     = null

  validation {
    condition     = var.state_bucket_name == null || can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", coalesce(var.state_bucket_name, "xxx")))
    error_message = "state_bucket_name must be 3-63 lowercase letters, digits or '-' (no '.': virtual-hosted TLS fails on dotted names)."
  }
}

variable "state_key" {
  description = "Object key of the deployed configuration's state in the bucket; the roles may touch only this key and its lock file."
  type        = string
  default     = "notification-service/terraform.tfstate"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.()/-]{1,900}\\.tfstate$", var.state_key)) && !startswith(var.state_key, "/") && !strcontains(var.state_key, "//") && !strcontains(var.state_key, "..")
    error_message = "state_key must be a relative object key ending in .tfstate (letters, digits and ! _ . ( ) / -; no leading '/', '//' or '..'), e.g. notification-service/terraform.tfstate."
  }
}

variable "noncurrent_state_version_days" {
  description = "Days a superseded state version is kept (every apply writes one) before S3 expires it."
  type        = number
  default     = 90
  nullable    = false

  validation {
    condition     = var.noncurrent_state_version_days >= 1 && var.noncurrent_state_version_days <= 3650 && floor(var.noncurrent_state_version_days) == var.noncurrent_state_version_days
    error_message = "noncurrent_state_version_days must be a whole number of days between 1 and 3650."
  }
}

variable "access_logging" {
  description = <<-EOT
    S3 server access logging of the state bucket into a bucket you own (SSE-S3; S3 cannot deliver access logs
    to an SSE-KMS bucket). null = off: CloudTrail data events are the other way to audit state reads.
      target_bucket - name of the log bucket
      target_prefix - key prefix of the logs (default "<state bucket>/")
  EOT
  type = object({
    target_bucket = string
    target_prefix = optional(string)
  })
  default = null

  validation {
    condition     = var.access_logging == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", try(var.access_logging.target_bucket, "")))
    error_message = "access_logging.target_bucket must be a bucket name (3-63 lowercase letters, digits, '.' or '-')."
  }
}

variable "max_session_duration" {
  description = "Longest session, in seconds, either role grants (3600-43200); a plan or apply longer than this loses its credentials."
  type        = number
  default     = 3600
  nullable    = false

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200 && floor(var.max_session_duration) == var.max_session_duration
    error_message = "max_session_duration must be a whole number of seconds between 3600 and 43200."
  }
}

variable "deployer_policy_json" {
  description = <<-EOT
    IAM policy (JSON) holding what applying, updating and destroying the deployed configuration needs: the
    deployer policy the toolkit ships per module (modules/<name>/deployer-policy.json, deployer-policy.json
    for the root module). Attached inline to the apply role; its Get/List/Describe actions, on the same
    resources, become the plan role's read access. null = the root module's deployer-policy.json when the
    repository has one, otherwise none (the roles can then only reach the state).
  EOT
  type        = string
  default     = null

  validation {
    condition     = var.deployer_policy_json == null || can(jsondecode(var.deployer_policy_json).Statement[0].Effect)
    error_message = "deployer_policy_json must be an IAM policy document in JSON with a non-empty \"Statement\" list (e.g. file(\"deployer-policy.json\"))."
  }

  validation {
    condition = var.deployer_policy_json == null || try(alltrue([
      for s in jsondecode(var.deployer_policy_json).Statement : s.Effect == "Allow" || s.Effect == "Deny"
    ]), false)
    error_message = "deployer_policy_json: every statement needs \"Effect\": \"Allow\" or \"Deny\"."
  }

  validation {
    # The plan role's read access is derived from the actions: NotAction/NotResource cannot be narrowed safely.
    condition = var.deployer_policy_json == null || try(alltrue([
      for s in jsondecode(var.deployer_policy_json).Statement : can(s.Action) && can(s.Resource) && !can(s.NotAction) && !can(s.NotResource) && !can(s.Principal)
    ]), false)
    error_message = "deployer_policy_json: every statement needs Action and Resource (no NotAction, NotResource or Principal: it is an identity policy)."
  }
}
