# The in-app inbox channel (docs/notification-service.md, section 7, "In-app inbox"): the worker (one entry of
# local.channel_workers, channels.tf) writes one item per recipient and notification into the table <name>-inbox
# (tables.tf) and, with the websocket channel on, posts it to the recipient's open connections; the registration
# API (registration_api.tf) lists, counts, marks read and archives the caller's own items. Off until var.inbox is
# set.

locals {
  inbox_settings = {
    item_ttl_days     = try(var.inbox.item_ttl_days, 90)
    default_page_size = try(var.inbox.default_page_size, 20)
    max_page_size     = try(var.inbox.max_page_size, 50)
  }

  # The worker's entry of local.channel_workers (channels.tf).
  inbox_channel_worker = {
    enabled        = local.inbox_enabled
    description    = "Writes ${var.name} in-app inbox items (one per recipient) and pushes them to open WebSocket connections"
    handler        = "notification_handlers.service.inbox_worker.handler"
    default_tuning = {}
    environment = merge(
      {
        INBOX_TABLE         = local.table_refs["inbox"].name
        INBOX_ITEM_TTL_DAYS = tostring(local.inbox_settings.item_ttl_days)
      },
      # The live push reuses the websocket worker's connection lookup, fan-out and stale-connection delete.
      local.websocket_enabled ? {
        CONNECTIONS_TABLE             = local.table_refs["connections"].name
        CONNECTIONS_USER_INDEX        = local.connections_user_index.name
        WEBSOCKET_MANAGEMENT_ENDPOINT = local.websocket_management_endpoint
        MAX_CONCURRENT_POSTS          = tostring(try(var.websocket.max_concurrent_posts, 16))
      } : {},
    )
    policy_statements = concat(
      [
        {
          # One TransactWriteItems per item (authorised per item): the per-notification marker and the item
          # (PutItem, only if absent) and the unread counter (UpdateItem). Never read, never deleted here.
          sid        = "WriteInboxItems"
          actions    = ["dynamodb:PutItem", "dynamodb:UpdateItem"]
          resources  = [local.table_refs["inbox"].arn]
          conditions = []
        },
      ],
      local.websocket_enabled ? [
        {
          # A user's connections are found through the by_user index only (Query; the table itself is never read).
          sid        = "FindUserConnections"
          actions    = ["dynamodb:Query"]
          resources  = ["${local.table_refs["connections"].arn}/index/${local.connections_user_index.name}"]
          conditions = []
        },
        {
          # Stale connections (410 Gone) are deleted 25 per BatchWriteItem, as the websocket worker does.
          sid        = "DeleteStaleConnections"
          actions    = ["dynamodb:BatchWriteItem"]
          resources  = [local.table_refs["connections"].arn]
          conditions = []
        },
        {
          # Connection ids are minted by API Gateway on every connect, so the resource can only be narrowed to
          # this API's stage and the POST (PostToConnection) method of the @connections API: hence the trailing "*".
          sid        = "PostToConnections"
          actions    = ["execute-api:ManageConnections"]
          resources  = ["${coalesce(local.websocket_execution_arn, "-")}/${local.websocket_stage_name}/POST/@connections/*"]
          conditions = []
        },
      ] : [],
    )
  }

  # The registration API's inbox routes (registration_api.tf), only with the inbox channel.
  inbox_registration_routes = local.inbox_enabled ? [
    "GET /inbox",
    "GET /inbox/unread-count",
    "POST /inbox/read-all",
    "POST /inbox/{item_id}/read",
    "POST /inbox/{item_id}/archive",
  ] : []

  inbox_registration_environment = local.registration_api_enabled && local.inbox_enabled ? {
    INBOX_TABLE             = local.table_refs["inbox"].name
    INBOX_DEFAULT_PAGE_SIZE = tostring(local.inbox_settings.default_page_size)
    INBOX_MAX_PAGE_SIZE     = tostring(local.inbox_settings.max_page_size)
  } : {}

  inbox_registration_statements = local.registration_api_enabled && local.inbox_enabled ? [
    {
      # The caller's partition only (user_id = the JWT sub, set by the handler; IAM cannot express that): Query
      # and GetItem to list and count; mark read, mark all read and archive are UpdateItem, DeleteItem and
      # PutItem alone or in TransactWriteItems (authorised per item).
      sid        = "ManageOwnInboxItems"
      actions    = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
      resources  = [module.tables["inbox"].table_arn]
      conditions = []
    },
  ] : []
}
