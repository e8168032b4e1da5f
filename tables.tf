# The service's tables (docs/notification-service.md, sections 3 and 7): on-demand, PITR, the service CMK, deletion
# protection from table_deletion_protection, TTL where records expire.

locals {
  # The built-in users table exists only when profiles come from neither a custom function nor an existing table.
  create_users_table = var.create && var.enrichment.function_arn == null && var.enrichment.users_table_arn == null

  users_table_arn  = var.enrichment.users_table_arn != null ? var.enrichment.users_table_arn : module.tables["users"].table_arn
  users_table_name = var.enrichment.users_table_arn != null ? element(split("/", var.enrichment.users_table_arn), 1) : module.tables["users"].table_name
}

locals {
  # The tables by role (<name>-<role with '-'>): key schema and TTL as in the design document, and whether the
  # table exists. A role that is off keeps its module instance with create = false (outputs null), so every
  # reference to it stays valid.
  tables = {
    catalog             = { enabled = var.create, hash_key = "catalog_id", range_key = "notification_type" }
    users               = { enabled = local.create_users_table, hash_key = "user_id" }
    preferences         = { enabled = var.create, hash_key = "user_id" }
    email_subscriptions = { enabled = var.create, hash_key = "user_id" }
    email_suppressions  = { enabled = var.create, hash_key = "address" }
    delivery_log        = { enabled = var.create, hash_key = "notification_id", range_key = "delivery_key", ttl_attribute = "expires_at" }
    # Idempotency records (the Powertools layout, service/idempotency.py): key "id", expiry "expiration" (epoch
    # seconds).
    idempotency = { enabled = var.create, hash_key = "id", ttl_attribute = "expiration" }
    # One item per open WebSocket connection; the worker finds a user's connections through by_user (KEYS_ONLY:
    # the connection id is all it needs). TTL: API Gateway closes every connection after 2 hours at most.
    connections = {
      enabled                  = local.websocket_enabled
      hash_key                 = "connection_id"
      ttl_attribute            = "expires_at"
      global_secondary_indexes = [local.connections_user_index]
    }
    # Device tokens per user (device_key = <platform>#<token>). Created with the push channel or the
    # registration API (which registers devices).
    device_tokens = { enabled = local.push_enabled || local.registration_api_enabled, hash_key = "user_id", range_key = "device_key" }
    # One item per device token (device_key = <platform>#<token>): the user who owns it and its endpoint. Written
    # in the same transaction as the owner's device_tokens row, so a token has exactly one owner; the push worker
    # publishes to a row only if this item names the row's user (docs/notification-service.md, section 7).
    device_owners = { enabled = local.push_enabled || local.registration_api_enabled, hash_key = "device_key" }
    # Counters that must outlive the records they protect (docs/notification-service.md, section 7): devices per
    # user, verification codes and guesses per user and per address, requests per user and minute. One item per
    # counter, limit_key = "<kind>#<subject>[#<window>]"; windowed counters carry expires_at so they vanish on
    # their own, while per-user totals (devices) carry none. Deleting a subscription or a device never touches
    # this table, so a delete-and-re-add cycle cannot reset a limit.
    # Also the router's frequency caps (cap#<type>#<period>#<bucket>#<user>, expiring at the period's end, digests.tf).
    limits = { enabled = local.registration_api_enabled || local.frequency_caps_enabled, hash_key = "limit_key", ttl_attribute = "expires_at" }
    # Digests (digests.tf): per user, one item per type and window (digest_key = <type>#<window start>), expiring a
    # day after the window's end.
    digests = { enabled = local.digests_enabled, hash_key = "user_id", range_key = "digest_key", ttl_attribute = "expires_at" }
    # The SMS channel's numbers (sms.tf): user#<id> (the verified number, a pending one and its code) and
    # number#<e164> (its one owner), changed together in transactions by the registration API.
    phone_numbers = { enabled = local.sms_enabled, hash_key = "phone_key" }
    # The in-app inbox (inbox.tf): per user, items newest first (item#<created>.<notification id>), archived items
    # (archived#...), one marker per notification (nid#...) and the unread counter (counter). Items and markers
    # expire after inbox.item_ttl_days.
    inbox = { enabled = local.inbox_enabled, hash_key = "user_id", range_key = "item_key", ttl_attribute = "expires_at" }
  }

  # Name and ARN of every table by role, formatted from var.name (AWS's documented ARN format) rather than taken
  # from module.tables: the channel workers (channels.tf) use these, because the tables depend on the service key,
  # whose policy names the workers' log groups and alarms (a cycle through module outputs).
  table_refs = {
    for role in keys(local.tables) : role => {
      name = "${var.name}-${replace(role, "_", "-")}"
      arn  = "${local.arn_prefix}:dynamodb:${local.region}:${local.account_id}:table/${var.name}-${replace(role, "_", "-")}"
    }
  }

  connections_user_index = {
    name               = "by_user"
    hash_key           = { name = "user_id", type = "S" }
    range_key          = { name = "connected_at", type = "S" }
    projection_type    = "KEYS_ONLY"
    non_key_attributes = []
  }

  # Role -> name and ARN of every table the service reads: its own, or the existing users table.
  table_names = merge(
    { for role, table in module.tables : role => table.table_name if local.tables[role].enabled },
    var.create && var.enrichment.function_arn == null ? { users = local.users_table_name } : {},
  )
  table_arns = merge(
    { for role, table in module.tables : role => table.table_arn if local.tables[role].enabled },
    var.create && var.enrichment.function_arn == null ? { users = local.users_table_arn } : {},
  )
}

# On-demand, PITR, the service CMK and deletion protection from table_deletion_protection (modules/dynamodb-table).
module "tables" {
  source   = "./modules/dynamodb-table"
  for_each = local.tables

  create                      = each.value.enabled
  name                        = local.table_refs[each.key].name
  kms_key_arn                 = local.key_arn
  hash_key                    = { name = each.value.hash_key }
  range_key                   = try({ name = each.value.range_key }, null)
  ttl_attribute               = try(each.value.ttl_attribute, null)
  global_secondary_indexes    = try(each.value.global_secondary_indexes, [])
  deletion_protection_enabled = var.table_deletion_protection

  tags = var.tags
}

locals {
  # The JSON the router parses (design document, section 2); optional template fields that are not set are
  # left out rather than written as null, and so is allowed_sources when every source may send the type.
  catalog_definitions = {
    for type, t in var.notification_types : type => jsonencode(merge(
      {
        critical        = t.critical
        channels        = t.channels
        fallback_locale = t.fallback_locale
        templates = {
          for locale, channels in t.templates : locale => {
            for channel, template in { email = channels.email, websocket = channels.websocket, push = channels.push, chat = channels.chat, sms = channels.sms, inbox = channels.inbox } : channel => {
              for field, value in template : field => value if value != null
            } if template != null
          }
        }
      },
      t.allowed_sources == null ? {} : { allowed_sources = t.allowed_sources },
      t.chat_targets == null ? {} : { chat_targets = t.chat_targets },
      t.fallback == null ? {} : { fallback = t.fallback },
      t.max_per_user == null ? {} : { max_per_user = t.max_per_user },
      t.digest == null ? {} : { digest = t.digest },
      t.defer_email_in_quiet_hours ? { defer_email_in_quiet_hours = true } : {},
    ))
  }
}

# One catalog item per notification type: changing a template is an apply of this item, with no code or function
# redeploy (the router re-reads the catalog every CATALOG_REFRESH_SECONDS).
resource "aws_dynamodb_table_item" "catalog" {
  for_each = var.create ? local.catalog_definitions : {}

  table_name = module.tables["catalog"].table_name
  hash_key   = "catalog_id"
  range_key  = "notification_type"

  item = jsonencode({
    catalog_id        = { S = "notification-types" }
    notification_type = { S = each.key }
    definition        = { S = each.value }
  })

  lifecycle {
    # The router would fan out to a queue that does not exist: refuse the type instead.
    precondition {
      condition = alltrue([
        for c in concat(var.notification_types[each.key].channels, local.type_fallbacks[each.key]) : contains(keys(local.enabled_channel_workers), c)
      ])
      error_message = "notification_types.${each.key} uses a channel (in channels or fallback) that is not enabled: \"websocket\" needs the websocket input, \"push\" the push input, \"chat\" the chat input, \"sms\" the sms input, \"inbox\" the inbox input."
    }
    # A chat target the chat input does not declare has no webhook: a typo, refused at plan.
    precondition {
      condition     = length(setsubtract(coalesce(var.notification_types[each.key].chat_targets, []), keys(local.chat_targets))) == 0
      error_message = "notification_types.${each.key}.chat_targets names a target that chat.targets does not declare."
    }
    # An allowed source the ingest rule does not admit could never send the type: a typo, refused here.
    precondition {
      condition     = length(var.event_sources) == 0 || length(setsubtract(var.notification_types[each.key].allowed_sources == null ? [] : var.notification_types[each.key].allowed_sources, var.event_sources)) == 0
      error_message = "notification_types.${each.key}.allowed_sources names a source the ingest rule does not admit: every allowed source must also be in event_sources (or leave event_sources empty)."
    }
  }
}
