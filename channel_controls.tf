# Channel fallback and the channel kill switch (docs/notification-service.md, "Channel fallback and the channel
# kill switch").
#
# Fallback: a type's `fallback` list is delivered on exactly one channel per recipient, the first that can reach
# them. The router decides that before fan-out with one batched probe per channel (service/reachability.py), so it
# reads the tables of the channels some type falls back on: their names go into its environment and their read
# actions into its role, for those channels only.
#
# Kill switch: operators write items into the catalog table's partition catalog_id = "channel-switches" (never
# managed by Terraform, so an apply never reverts one; the exact commands are the output channel_switch_commands).
# The router and every channel worker read that partition only (dynamodb:LeadingKeys), once per
# channel_switch_refresh_seconds.

locals {
  channel_switch_partition = "channel-switches"

  # Type -> its fallback list ([] without one), and every channel some type falls back on.
  type_fallbacks    = { for type, t in var.notification_types : type => t.fallback == null ? [] : t.fallback }
  fallback_channels = toset(flatten(values(local.type_fallbacks)))
  probe_email       = var.create && contains(local.fallback_channels, "email")
  probe_push        = local.push_enabled && contains(local.fallback_channels, "push")
  probe_websocket   = local.websocket_enabled && contains(local.fallback_channels, "websocket")
  probe_sms         = local.sms_enabled && contains(local.fallback_channels, "sms")

  # The router's extra environment: the switch refresh, and the tables of each probe it needs.
  channel_controls_router_environment = merge(
    { CHANNEL_SWITCH_REFRESH_SECONDS = tostring(var.channel_switch_refresh_seconds) },
    local.probe_email ? {
      EMAIL_SUBSCRIPTIONS_TABLE = local.table_refs["email_subscriptions"].name
      EMAIL_SUPPRESSIONS_TABLE  = local.table_refs["email_suppressions"].name
    } : {},
    local.probe_push ? { DEVICE_TOKENS_TABLE = local.table_refs["device_tokens"].name } : {},
    local.probe_websocket ? {
      CONNECTIONS_TABLE      = local.table_refs["connections"].name
      CONNECTIONS_USER_INDEX = local.connections_user_index.name
    } : {},
    local.probe_sms ? { PHONE_NUMBERS_TABLE = local.table_refs["phone_numbers"].name } : {},
  )

  # Every channel worker reads the switches (messages already queued stop too).
  channel_switch_worker_environment = {
    CATALOG_TABLE                  = local.table_refs["catalog"].name
    CHANNEL_SWITCH_REFRESH_SECONDS = tostring(var.channel_switch_refresh_seconds)
  }

  # The switch partition only: a worker cannot read the catalog's types, and no role of the service can write
  # a switch (operators do, with channel_switch_operator_policy_json).
  read_channel_switches_statement = {
    sid        = "ReadChannelSwitches"
    actions    = ["dynamodb:Query"]
    resources  = [local.table_refs["catalog"].arn]
    conditions = [{ test = "ForAllValues:StringEquals", variable = "dynamodb:LeadingKeys", values = [local.channel_switch_partition] }]
  }

  # The router's reads for the probes (service/reachability.py): exactly the tables of the channels some type falls
  # back on.
  fallback_probe_statements = concat(
    local.probe_email ? [
      {
        # Verified addresses of the batch's users, then whether they are suppressed: one BatchGetItem per 100 keys.
        sid        = "ProbeEmailReachability"
        actions    = ["dynamodb:BatchGetItem"]
        resources  = [local.table_refs["email_subscriptions"].arn, local.table_refs["email_suppressions"].arn]
        conditions = []
      },
    ] : [],
    local.probe_push ? [
      {
        # Whether a user has a device: Query with Limit 1 on the user's partition.
        sid        = "ProbePushReachability"
        actions    = ["dynamodb:Query"]
        resources  = [local.table_refs["device_tokens"].arn]
        conditions = []
      },
    ] : [],
    local.probe_websocket ? [
      {
        # Whether a user has an open connection: Query with Limit 1 on the by_user index (never the table).
        sid        = "ProbeWebsocketReachability"
        actions    = ["dynamodb:Query"]
        resources  = ["${local.table_refs["connections"].arn}/index/${local.connections_user_index.name}"]
        conditions = []
      },
    ] : [],
    local.probe_sms ? [
      {
        # Whether a user has a verified phone number: one BatchGetItem per 100 users.
        sid        = "ProbeSmsReachability"
        actions    = ["dynamodb:BatchGetItem"]
        resources  = [local.table_refs["phone_numbers"].arn]
        conditions = []
      },
    ] : [],
  )

  # Scopes an operator can switch off: a channel for every type, or a channel of one type that uses it.
  channel_switch_scopes = concat(
    sort(keys(local.enabled_channel_workers)),
    sort(flatten([
      for type, t in var.notification_types : [for c in concat(t.channels, local.type_fallbacks[type]) : "${c}#${type}"]
    ])),
  )
  channel_switch_key   = { for scope in local.channel_switch_scopes : scope => { catalog_id = { S = local.channel_switch_partition }, notification_type = { S = scope } } }
  channel_switch_table = "--table-name ${local.table_refs["catalog"].name} --region ${local.region}"
}

# What an operator needs to flip a switch and nothing more: the switch partition of the catalog table (write, read)
# and the service key through DynamoDB. Attach it to the on-call role.
data "aws_iam_policy_document" "channel_switch_operator" {
  count = var.create ? 1 : 0

  statement {
    sid       = "FlipChannelSwitches"
    actions   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
    resources = [local.table_refs["catalog"].arn]

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:LeadingKeys"
      values   = [local.channel_switch_partition]
    }
  }

  statement {
    sid       = "UseKeyForTheCatalogTable"
    actions   = ["kms:Decrypt"]
    resources = [local.key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.via_dynamodb]
    }
  }
}
