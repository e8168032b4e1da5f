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
  description = "Base name of the workflow's resources."
  type        = string
  default     = "event-workflow"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", var.name))
    error_message = "name must be 1-40 characters of letters, digits, '-' or '_', starting with a letter or digit."
  }
}

variable "event_bus_name" {
  description = "Existing event bus the rule listens on."
  type        = string
  default     = "default"
  nullable    = false

  validation {
    condition     = can(regex("^[/.A-Za-z0-9_-]{1,256}$", var.event_bus_name)) && !startswith(var.event_bus_name, "arn:")
    error_message = "event_bus_name must be an event bus name (not an ARN)."
  }
}

variable "event_sources" {
  description = "Event sources that start the workflow (events from this account only)."
  type        = list(string)
  default     = ["demo.sfn"]
  nullable    = false

  validation {
    condition     = length(var.event_sources) > 0 && alltrue([for s in var.event_sources : length(s) >= 1 && length(s) <= 256])
    error_message = "event_sources must be a non-empty list of sources (1-256 characters each)."
  }
}

variable "definition_file" {
  description = "Path of your own Amazon States Language file; null = the built-in A/B router."
  type        = string
  default     = null

  validation {
    condition     = var.definition_file == null || try(fileexists(var.definition_file), false)
    error_message = "definition_file must be the path of an existing file."
  }
}

variable "state_machine_type" {
  description = "STANDARD or EXPRESS."
  type        = string
  default     = "STANDARD"
  nullable    = false

  validation {
    condition     = contains(["STANDARD", "EXPRESS"], var.state_machine_type)
    error_message = "state_machine_type must be STANDARD or EXPRESS."
  }
}

variable "log_level" {
  description = "Execution logging level: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ALL"
  nullable    = false

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.log_level)
    error_message = "log_level must be ALL, ERROR, FATAL or OFF."
  }
}

variable "log_include_execution_data" {
  description = "Include execution input/output in the logs (off: events may carry sensitive data)."
  type        = bool
  default     = false
  nullable    = false
}

variable "log_retention_in_days" {
  description = "Retention of the execution log group."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be a CloudWatch Logs retention value (0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default = {
    Project = "event-workflow"
  }
  nullable = false
}
