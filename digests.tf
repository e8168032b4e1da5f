# Frequency caps and digests (docs/notification-service.md, "Frequency caps and digests"). A type with max_per_user
# is counted per user and fixed period in the limits table (cap#... items, one conditional UpdateItem each); a type
# with digest collects its events per user and window in the digests table, and one EventBridge Scheduler one-time
# schedule per (user, type, window) of the scheduling group puts a digest-flush message on the ingest queue at the
# window's end (scheduling.tf already lets the router create schedules of the group).

locals {
  frequency_caps_enabled = var.create && anytrue([for t in values(var.notification_types) : t.max_per_user != null])
  digests_enabled        = var.create && anytrue([for t in values(var.notification_types) : t.digest != null])

  cadence_router_environment = merge(
    local.frequency_caps_enabled ? { LIMITS_TABLE = local.table_refs["limits"].name } : {},
    local.digests_enabled ? { DIGESTS_TABLE = local.table_refs["digests"].name } : {},
  )

  cadence_router_statements = concat(
    local.frequency_caps_enabled ? [
      {
        # Count a delivery (UpdateItem with the ceiling in its condition; a refusal returns the counter, which tells
        # a retry of a counted delivery from one over the cap): only the cap#... counters, not the API's.
        sid        = "CountFrequencyCaps"
        actions    = ["dynamodb:UpdateItem"]
        resources  = [local.table_refs["limits"].arn]
        conditions = [{ test = "ForAllValues:StringLike", variable = "dynamodb:LeadingKeys", values = ["cap#*"] }]
      },
    ] : [],
    local.digests_enabled ? [
      {
        # Append an event to the user's digest (UpdateItem, conditional), and at the flush mark it flushed and read
        # it back (UpdateItem with ReturnValues): nothing else, and no other table.
        sid        = "CollectDigests"
        actions    = ["dynamodb:UpdateItem"]
        resources  = [local.table_refs["digests"].arn]
        conditions = []
      },
    ] : [],
  )
}

output "digests_table_name" {
  description = "Name of the digests table (events collected per user, type and window), null without a type with digest."
  value       = local.digests_enabled ? module.tables["digests"].table_name : null
}

output "digests_table_arn" {
  description = "ARN of the digests table, null without a type with digest."
  value       = local.digests_enabled ? module.tables["digests"].table_arn : null
}
