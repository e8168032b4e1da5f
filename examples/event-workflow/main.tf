provider "aws" {
  region = var.region
}

module "event_workflow" {
  source = "../../modules/event-workflow"

  name           = var.name
  event_bus_name = var.event_bus_name

  # Default pattern: {"source":["demo.sfn"],"account":[<this account>]}.
  event_pattern = { source = var.event_sources }

  # null = the module's built-in router (Choice on $.detail.Path: A -> PathA, B -> PathB, else Fail).
  definition_file = var.definition_file

  state_machine_type         = var.state_machine_type
  log_level                  = var.log_level
  log_include_execution_data = var.log_include_execution_data
  log_retention_in_days      = var.log_retention_in_days

  tags = var.tags
}
