# Inline permissions of the functions, passed to modules/lambda-function (which adds its own: the log
# group, X-Ray, the function key through Lambda and SQS, and the async DLQ). Least privilege: each role gets
# exactly its tables, queues and keys, and every action is named.

locals {
  # Idempotency (lambda_src/notification_handlers/service/idempotency.py): claim (PutItem with a condition; a
  # refused claim returns the record that refused it, so nothing is ever read), complete (UpdateItem), release
  # after a failure (DeleteItem).
  idempotency_actions = ["dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]

  # Tables encrypted with the service CMK are decrypted through DynamoDB, on the caller's behalf; the key can be
  # used for nothing else through this statement.
  use_key_for_tables = {
    sid        = "UseKeyForTables"
    actions    = ["kms:Decrypt"]
    resources  = [local.key_arn]
    conditions = [{ test = "StringEquals", variable = "kms:ViaService", values = [local.via_dynamodb] }]
  }

  # Every queue worker (router and channel workers) writes the delivery log, 25 rows per BatchWriteItem (the router
  # its suppressed-by-preference rows), and claims its idempotency records. modules/queue-worker adds the
  # statement that consumes the worker's own queue.
  queue_worker_statements = [
    {
      sid        = "WriteDeliveryLog"
      actions    = ["dynamodb:BatchWriteItem"]
      resources  = [module.tables["delivery_log"].table_arn]
      conditions = []
    },
    {
      sid        = "Idempotency"
      actions    = local.idempotency_actions
      resources  = [module.tables["idempotency"].table_arn]
      conditions = []
    },
    local.use_key_for_tables,
  ]

  router_policy_statements = concat(
    [
      {
        # One Query reads the whole catalog (catalog_id = "notification-types"), another the operators' channel
        # switches (catalog_id = "channel-switches", channel_controls.tf); no other partition.
        sid        = "ReadCatalog"
        actions    = ["dynamodb:Query"]
        resources  = [module.tables["catalog"].table_arn]
        conditions = [{ test = "ForAllValues:StringEquals", variable = "dynamodb:LeadingKeys", values = ["notification-types", local.channel_switch_partition] }]
      },
      {
        sid        = "ReadPreferences"
        actions    = ["dynamodb:BatchGetItem"]
        resources  = [module.tables["preferences"].table_arn]
        conditions = []
      },
      {
        # Fan-out to the channel queues (SendMessageBatch is authorised by sqs:SendMessage) and rejected events
        # to the ingest DLQ.
        sid        = "SendToChannelQueuesAndRejects"
        actions    = ["sqs:SendMessage"]
        resources  = concat(local.channel_queue_arns, [module.router_worker.dlq_arn])
        conditions = []
      },
    ],
    var.enrichment.function_arn == null ? [
      {
        sid        = "ReadUsers"
        actions    = ["dynamodb:BatchGetItem"]
        resources  = [local.users_table_arn]
        conditions = []
      },
      ] : [
      {
        # Only the configured enrichment function (with its qualifier, when one is given).
        sid        = "InvokeEnrichment"
        actions    = ["lambda:InvokeFunction"]
        resources  = [var.enrichment.function_arn]
        conditions = []
      },
    ],
    local.fallback_probe_statements,
    local.scheduling_router_statements,
    local.cadence_router_statements,
    var.enrichment.users_table_kms_key_arn == null ? [] : [
      {
        sid        = "UseKeyForExistingUsersTable"
        actions    = ["kms:Decrypt"]
        resources  = [var.enrichment.users_table_kms_key_arn]
        conditions = [{ test = "StringEquals", variable = "kms:ViaService", values = [local.via_dynamodb] }]
      },
    ],
  )

  # SES v2 SendEmail is authorised on the identity and on the configuration set it names.
  ses_send_resources = [local.ses_identity_arn, local.configuration_set_arn]

  # Every SendEmail of the service is from the configured sender only: ses:FromAddress is the address part of
  # FromEmailAddress (the display name is ses:FromDisplayName), compared case-sensitively by StringEquals; the
  # handlers send exactly var.email.from_address. A leaked role cannot send as another address of the identity's
  # domain (e.g. security@ or billing@).
  ses_from_sender = [{ test = "StringEquals", variable = "ses:FromAddress", values = [var.email.from_address] }]

  email_feedback_policy_statements = concat(
    [
      {
        # Suppress addresses: one BatchWriteItem (PutRequests) per SNS message of bounced/complained recipients.
        sid        = "WriteSuppressions"
        actions    = ["dynamodb:BatchWriteItem"]
        resources  = [module.tables["email_suppressions"].table_arn]
        conditions = []
      },
      local.use_key_for_tables,
    ],
    !local.registration_api_enabled ? [] : [
      {
        # A bounce or complaint about a verification mail blocks verification mail to the address for a while
        # (verify-blocked#<address> items of the limits table), never all of its mail.
        sid        = "WriteVerificationBlocks"
        actions    = ["dynamodb:BatchWriteItem"]
        resources  = [module.tables["limits"].table_arn]
        conditions = []
      },
    ],
  )
}

# --- Roles of the WebSocket, push and registration API functions (docs/notification-service.md, section 7) ---

locals {
  websocket_connections_policy_statements = [
    {
      # $connect writes the connection item, $disconnect deletes it; nothing else is read or written.
      sid        = "RecordConnections"
      actions    = ["dynamodb:DeleteItem", "dynamodb:PutItem"]
      resources  = [module.tables["connections"].table_arn]
      conditions = []
    },
    local.use_key_for_tables,
  ]

  push_platforms_policy_statements = concat(
    [
      {
        # Exactly the secrets named in push.platforms.
        sid        = "ReadPlatformCredentials"
        actions    = ["secretsmanager:GetSecretValue"]
        resources  = local.push_secret_arns
        conditions = []
      },
      {
        # CreatePlatformApplication has no resource type in the SNS service authorization reference (the
        # application does not exist yet): AWS requires "*". Every other call is scoped to the named applications.
        sid        = "CreatePlatformApplications"
        actions    = ["sns:CreatePlatformApplication"]
        resources  = ["*"]
        conditions = []
      },
      {
        sid        = "ManagePlatformApplications"
        actions    = ["sns:DeletePlatformApplication", "sns:GetPlatformApplicationAttributes", "sns:SetPlatformApplicationAttributes"]
        resources  = [for k in keys(local.push_application_names) : local.push_platform_application_arns[k]]
        conditions = []
      },
    ],
    length(local.push_secret_key_arns) == 0 ? [] : [
      {
        # Secrets encrypted with a customer-managed key are decrypted through Secrets Manager only.
        sid        = "DecryptPlatformCredentials"
        actions    = ["kms:Decrypt"]
        resources  = local.push_secret_key_arns
        conditions = [{ test = "StringEquals", variable = "kms:ViaService", values = ["secretsmanager.${local.region}.${local.dns_suffix}"] }]
      },
    ],
  )

  # Each statement with its effect (the SMS statements include a Deny), so the list has one element type.
  registration_api_policy_statements = [for s in concat(
    local.inbox_registration_statements,
    [
      {
        # Rows are written and deleted in TransactWriteItems with the ownership item (authorised per item).
        sid        = "ManageDeviceTokens"
        actions    = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
        resources  = [module.tables["device_tokens"].table_arn]
        conditions = []
      },
      {
        # One ownership item per token, moved with conditions in the same transaction as the rows.
        sid        = "ManageDeviceOwners"
        actions    = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"]
        resources  = [module.tables["device_owners"].table_arn]
        conditions = []
      },
      {
        sid        = "ManageEmailSubscriptions"
        actions    = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
        resources  = [module.tables["email_subscriptions"].table_arn]
        conditions = []
      },
      {
        # A suppressed address (bounce or complaint) gets no verification code: one GetItem per code request.
        sid        = "ReadSuppressions"
        actions    = ["dynamodb:GetItem"]
        resources  = [module.tables["email_suppressions"].table_arn]
        conditions = []
      },
      {
        # Conditional counters (ADD with a ceiling in the condition) and their reads; never deleted by the API.
        sid        = "CountLimits"
        actions    = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
        resources  = [module.tables["limits"].table_arn]
        conditions = []
      },
      {
        sid        = "ManagePreferences"
        actions    = ["dynamodb:GetItem", "dynamodb:PutItem"]
        resources  = [module.tables["preferences"].table_arn]
        conditions = []
      },
      {
        # Only the caller's rows are read (begins_with(delivery_key, "<sub>#")); IAM cannot express that, the
        # handler's key condition does.
        sid        = "ReadDeliveryLog"
        actions    = ["dynamodb:Query"]
        resources  = [module.tables["delivery_log"].table_arn]
        conditions = []
      },
      {
        # Opt-outs name notification types and channels that must exist.
        sid        = "ReadCatalog"
        actions    = ["dynamodb:Query"]
        resources  = [module.tables["catalog"].table_arn]
        conditions = []
      },
      {
        # The verification code mail: the same identity and sender, its own configuration set (email.tf).
        sid        = "SendVerificationEmail"
        actions    = ["ses:SendEmail"]
        resources  = [local.ses_identity_arn, local.verification_configuration_set_arn]
        conditions = local.ses_from_sender
      },
      local.use_key_for_tables,
    ],
    length(local.push_platform_application_arns) == 0 ? [] : [
      {
        sid        = "CreateDeviceEndpoints"
        actions    = ["sns:CreatePlatformEndpoint"]
        resources  = values(local.push_platform_application_arns)
        conditions = []
      },
      {
        # Re-enable (SetEndpointAttributes), check (GetEndpointAttributes) and remove endpoints of these
        # applications; endpoint ids are minted by SNS, hence the trailing "*".
        sid        = "ManageDeviceEndpoints"
        actions    = ["sns:DeleteEndpoint", "sns:GetEndpointAttributes", "sns:SetEndpointAttributes"]
        resources  = local.push_platform_endpoint_arns
        conditions = []
      },
    ],
    # The phone number routes (sms.tf): the numbers table and verification codes by SMS.
    local.registration_sms_statements,
  ) : merge({ effect = "Allow" }, s)]
}

# Producers: the router trusts an event's `source` (allowed_sources, namespaced notification ids) only as far as the
# bus's PutEvents permissions go. One ready policy document per source, for the caller to attach to that producer's
# role alone: PutEvents on this bus for events of that source and of the types it may send, nothing else.
locals {
  producer_sources = distinct(concat(
    flatten([for t in values(var.notification_types) : t.allowed_sources == null ? [] : t.allowed_sources]),
    var.event_sources,
  ))
  # Source -> the types it may send: those that list it, and those open to every source.
  producer_types = {
    for source, types in {
      for source in local.producer_sources : source => sort([
        for name, t in var.notification_types : name if t.allowed_sources == null ? true : contains(t.allowed_sources, source)
      ])
    } : source => types if length(types) > 0
  }
}

data "aws_iam_policy_document" "producer" {
  for_each = var.create ? local.producer_types : {}

  statement {
    sid       = "PutNotificationEventsOfOneSource"
    actions   = ["events:PutEvents"]
    resources = [local.bus_arn]

    # events:source and events:detail-type are the fields of the entries put (EventBridge condition keys of
    # PutEvents). ForAllValues holds whether EventBridge presents one entry's value or every entry's; the Null
    # conditions stop ForAllValues from matching a request that carries no value at all.
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "events:source"
      values   = [each.key]
    }
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "events:detail-type"
      # and cancel requests of its own notifications (scheduling.tf): the id is namespaced by this source.
      values = concat(each.value, ["cancel-notification"])
    }
    condition {
      test     = "Null"
      variable = "events:source"
      values   = ["false"]
    }
    condition {
      test     = "Null"
      variable = "events:detail-type"
      values   = ["false"]
    }
  }
}
