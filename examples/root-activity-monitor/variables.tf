variable "region" {
  description = "Region to deploy into. Root console sign-in events are only delivered in us-east-1."
  type        = string
  default     = "us-east-1"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region code such as us-east-1."
  }
}

variable "name" {
  description = "Base name of the monitor's resources."
  type        = string
  default     = "root-activity-monitor"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", var.name))
    error_message = "name must be 1-40 characters of letters, digits, '-' or '_', starting with a letter or digit."
  }
}

variable "email_addresses" {
  description = "Email addresses that receive the alerts (each must confirm its subscription)."
  type        = list(string)
  default     = ["security@example.com"]
  nullable    = false

  validation {
    condition     = length(var.email_addresses) > 0 && alltrue([for e in var.email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}$", e))])
    error_message = "email_addresses must be a non-empty list of email addresses (name@example.com)."
  }
}

variable "account_alias" {
  description = "Friendly account name shown in the alerts."
  type        = string
  default     = ""
  nullable    = false
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default = {
    Project = "root-activity-monitor"
  }
  nullable = false
}
