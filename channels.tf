# The channel workers (docs/notification-service.md, sections 4 and 7): one queue worker (modules/queue-worker)
# per enabled channel, fed by the router. A new channel is one entry of local.channel_workers plus its handler
# (CONTRIBUTING.md, "How to add a channel"); the queue <name>-<channel>, its DLQ, the function
# <name>-<channel>-worker, the router's send permission and CHANNEL_QUEUE_URLS, the key policy's log group, the
# DLQ and error alarms and the outputs follow from the entry.
#
# An entry may read the tables only through local.table_refs (names and ARNs formatted from var.name), never
# through module.tables: the function and alarm names derived from this map feed the service key's policy, and
# the tables are encrypted with that key, so a module.tables reference here is a dependency cycle.

locals {
  channel_workers = {
    email = {
      enabled     = var.create
      description = "Delivers ${var.name} email notifications through SES v2"
      handler     = "notification_handlers.service.email_worker.handler"
      # 100 per batch with a 1 s window, like the router: subscriptions and suppressions are read 100 keys per
      # BatchGetItem and the delivery log written 25 rows per BatchWriteItem for the whole batch.
      default_tuning = { batch_size = 100, maximum_batching_window_in_seconds = 1 }
      environment = merge(
        {
          SENDER_ADDRESS            = var.email.from_address
          SES_IDENTITY_ARN          = local.ses_identity_arn
          SES_CONFIGURATION_SET     = local.configuration_set_name
          EMAIL_SUBSCRIPTIONS_TABLE = local.table_refs["email_subscriptions"].name
          EMAIL_SUPPRESSIONS_TABLE  = local.table_refs["email_suppressions"].name
        },
        var.email.unsubscribe_url_template == null ? {} : { UNSUBSCRIBE_URL_TEMPLATE = var.email.unsubscribe_url_template },
      )
      policy_statements = [
        {
          sid        = "ReadSubscriptionsAndSuppressions"
          actions    = ["dynamodb:BatchGetItem"]
          resources  = [local.table_refs["email_subscriptions"].arn, local.table_refs["email_suppressions"].arn]
          conditions = []
        },
        {
          sid        = "SendEmail"
          actions    = ["ses:SendEmail"]
          resources  = local.ses_send_resources
          conditions = local.ses_from_sender
        },
      ]
    }

    websocket = {
      enabled        = local.websocket_enabled
      description    = "Posts ${var.name} notifications to every open WebSocket connection of the recipient"
      handler        = "notification_handlers.service.websocket_worker.handler"
      default_tuning = {}
      environment = {
        CONNECTIONS_TABLE             = local.table_refs["connections"].name
        CONNECTIONS_USER_INDEX        = local.connections_user_index.name
        WEBSOCKET_MANAGEMENT_ENDPOINT = local.websocket_management_endpoint
        MAX_CONCURRENT_POSTS          = tostring(try(var.websocket.max_concurrent_posts, 16))
      }
      policy_statements = [
        {
          # A user's connections are found through the by_user index only (Query; the table itself is never read).
          sid        = "FindUserConnections"
          actions    = ["dynamodb:Query"]
          resources  = ["${local.table_refs["connections"].arn}/index/${local.connections_user_index.name}"]
          conditions = []
        },
        {
          # Stale connections (410 Gone) are deleted 25 per BatchWriteItem.
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
      ]
    }

    push = {
      enabled        = local.push_enabled
      description    = "Publishes ${var.name} notifications to every registered device of the recipient (SNS mobile push)"
      handler        = "notification_handlers.service.push_worker.handler"
      default_tuning = {}
      environment = merge(
        {
          DEVICE_TOKENS_TABLE = local.table_refs["device_tokens"].name
          DEVICE_OWNERS_TABLE = local.table_refs["device_owners"].name
        },
        # Removing a dead device the user owns takes one off their device counter (kept by the registration API).
        local.registration_api_enabled ? { LIMITS_TABLE = local.table_refs["limits"].name } : {},
      )
      policy_statements = concat(
        [
          {
            # One Query per user; tokens of disabled endpoints and rows of tokens another user owns now are
            # deleted (DeleteItem, alone or in a transaction with the ownership item).
            sid        = "ReadAndPruneDeviceTokens"
            actions    = ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:Query"]
            resources  = [local.table_refs["device_tokens"].arn]
            conditions = []
          },
          {
            # Who owns each device of the batch (one BatchGetItem per 100); a dead owned device's ownership item
            # goes with its row (a TransactWriteItems, authorised per item as DeleteItem).
            sid        = "CheckDeviceOwners"
            actions    = ["dynamodb:BatchGetItem", "dynamodb:DeleteItem"]
            resources  = [local.table_refs["device_owners"].arn]
            conditions = []
          },
        ],
        local.registration_api_enabled ? [
          {
            # One off the owner's device counter when a dead owned device is removed (in the same transaction).
            sid        = "CountDevices"
            actions    = ["dynamodb:UpdateItem"]
            resources  = [local.table_refs["limits"].arn]
            conditions = []
          },
        ] : [],
        length(local.push_platform_endpoint_arns) == 0 ? [] : [
          {
            # Endpoint ids are minted by SNS when a device registers, so the resource can only be narrowed to the
            # endpoints of this service's platform applications (endpoint/<PLATFORM>/<application>/*). A disabled
            # endpoint is deleted together with its token; GetEndpointAttributes reads the user a device
            # registered before ownership items was last registered for (CustomUserData).
            sid        = "PublishToDeviceEndpoints"
            actions    = ["sns:DeleteEndpoint", "sns:GetEndpointAttributes", "sns:Publish"]
            resources  = local.push_platform_endpoint_arns
            conditions = []
          },
        ],
      )
    }

    chat = {
      enabled     = local.chat_enabled
      description = "Posts ${var.name} notifications to their chat targets' webhooks (Slack, Teams, Chime, HTTPS)"
      handler     = "notification_handlers.service.chat_worker.handler"
      # 5 per batch: each post may wait timeout_seconds to connect and again to read, within the 60 s timeout.
      # At most 2 concurrent invocations: chat webhooks accept about one message per second per channel.
      default_tuning = { batch_size = 5, maximum_concurrency = 2 }
      environment = {
        CHAT_TARGETS              = local.chat_targets_environment
        CHAT_SECRET_CACHE_SECONDS = tostring(try(var.chat.secret_cache_seconds, 300))
        CHAT_TIMEOUT_SECONDS      = tostring(try(var.chat.timeout_seconds, 5))
      }
      policy_statements = local.chat_policy_statements
    }

    sms = {
      enabled        = local.sms_enabled
      description    = "Sends ${var.name} notifications by SMS (SNS) to the recipient's verified phone number"
      handler        = "notification_handlers.service.sms_worker.handler"
      default_tuning = {}
      environment    = local.sms_settings_environment
      # The verified numbers, the opt-out check and Publish to phone numbers only (sms.tf).
      policy_statements = local.sms_worker_statements
    }

    # The in-app inbox (inbox.tf).
    inbox = local.inbox_channel_worker
  }

  enabled_channel_workers = { for channel, worker in local.channel_workers : channel => worker if worker.enabled }

  # Environment every queue worker (router and channels) has besides its own (docs/notification-service.md,
  # section 6): the delivery log, idempotency and logging. POWERTOOLS_SERVICE_NAME is the function's name.
  queue_worker_environment = {
    DELIVERY_LOG_TABLE      = local.table_refs["delivery_log"].name
    DELIVERY_LOG_TTL_DAYS   = tostring(var.delivery_log_ttl_days)
    IDEMPOTENCY_TABLE       = local.table_refs["idempotency"].name
    IDEMPOTENCY_TTL_SECONDS = tostring(var.idempotency_ttl_seconds)
    POWERTOOLS_LOG_LEVEL    = var.log_level
  }

  # The function settings every queue worker (router and channels) shares.
  queue_worker_function = {
    runtime                 = var.lambda_runtime
    architecture            = var.lambda_architecture
    package                 = var.lambda_package
    code_signing_config_arn = var.lambda_code_signing_config_arn
    log_retention_in_days   = var.log_retention_in_days
  }

  # The whole environment of each enabled channel worker: exactly the variables of docs/notification-service.md,
  # section 6.
  channel_worker_environments = {
    for channel, worker in local.enabled_channel_workers : channel => merge(
      local.queue_worker_environment,
      local.channel_switch_worker_environment,
      { POWERTOOLS_SERVICE_NAME = local.function_names["${channel}_worker"] },
      worker.environment,
    )
  }
}

# One queue worker per enabled channel: the channel queue (router -> worker) and its DLQ, the worker function and
# its event source mapping. Only the router's role sends to a channel queue (identity policy): no service
# principal is admitted.
module "channel_workers" {
  source   = "./modules/queue-worker"
  for_each = local.enabled_channel_workers

  queue_name  = "${var.name}-${each.key}"
  kms_key_arn = local.key_arn

  function = merge(local.queue_worker_function, {
    name                  = local.function_names["${each.key}_worker"]
    description           = each.value.description
    handler               = each.value.handler
    environment_variables = local.channel_worker_environments[each.key]
    policy_statements     = concat(each.value.policy_statements, [local.read_channel_switches_statement], local.queue_worker_statements)
  })

  tuning = local.worker_tuning[each.key]

  tags = var.tags
}
