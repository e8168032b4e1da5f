variable "region" {
  description = "Region to deploy into."
  type        = string
  default     = "us-east-1"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region code such as us-east-1."
  }
}

variable "name" {
  description = "Base name of the table, pipe, topic, key alias and DLQ."
  type        = string
  default     = "payment-alerts"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", var.name))
    error_message = "name must be 1-40 characters of letters, digits, '-' or '_', starting with a letter or digit."
  }
}

variable "email_addresses" {
  description = "Email addresses that receive the alerts (each must confirm its subscription)."
  type        = list(string)
  default     = ["payments-team@example.com"]
  nullable    = false

  validation {
    condition     = length(var.email_addresses) > 0 && alltrue([for e in var.email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}$", e))])
    error_message = "email_addresses must be a non-empty list of email addresses (name@example.com)."
  }
}

variable "deletion_protection" {
  description = "Protect the table from deletion. The example defaults to false so `terraform destroy` cleans up; keep true in production."
  type        = bool
  default     = false
  nullable    = false
}

variable "starting_position" {
  description = "Where the pipe starts reading the stream: LATEST or TRIM_HORIZON."
  type        = string
  default     = "LATEST"
  nullable    = false

  validation {
    condition     = contains(["LATEST", "TRIM_HORIZON"], var.starting_position)
    error_message = "starting_position must be LATEST or TRIM_HORIZON."
  }
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before the CMK is deleted after destroy (7-30 days; the kms-key module checks it)."
  type        = number
  default     = 7
  nullable    = false
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default = {
    Project = "dynamodb-stream-alerts"
  }
  nullable = false
}
