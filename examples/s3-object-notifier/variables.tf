variable "region" {
  description = "Region to deploy into (SES must be available there)."
  type        = string
  default     = "us-east-1"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region code such as us-east-1."
  }
}

variable "name" {
  description = "Base name of the notifier's resources."
  type        = string
  default     = "s3-object-notifier"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,39}$", var.name))
    error_message = "name must be 1-40 characters of lowercase letters, digits or '-', starting with a letter or digit."
  }
}

variable "bucket_name" {
  description = "Name of the bucket to create. null = <name>-<account id>-<region>."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.bucket_name, "xxx")))
    error_message = "bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, '.' or '-')."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket with its objects. true suits a demo; keep false for real data."
  type        = bool
  default     = true
  nullable    = false
}

variable "filter_prefix" {
  description = "Notify only for keys starting with this prefix (null = every key)."
  type        = string
  default     = null
}

variable "sender_email" {
  description = "From address; the example creates its SES email identity (click the verification link SES sends)."
  type        = string
  default     = "s3-alerts@example.com"
  nullable    = false

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}$", var.sender_email))
    error_message = "sender_email must be an email address (name@example.com)."
  }
}

variable "recipients" {
  description = "Addresses that receive one email per created or removed object."
  type        = list(string)
  default     = ["ops@example.com"]
  nullable    = false

  validation {
    condition     = length(var.recipients) > 0 && alltrue([for e in var.recipients : can(regex("^[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}$", e))])
    error_message = "recipients must be a non-empty list of email addresses (name@example.com)."
  }
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default = {
    Project = "s3-object-notifier"
  }
  nullable = false
}
