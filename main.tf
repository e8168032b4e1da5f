# The notification service: producers put events on the service's bus; a router validates, de-duplicates,
# enriches and renders them and fans out per recipient and channel; channel workers deliver. Design and
# contracts (event schema, tables, environment, failure semantics): docs/notification-service.md.

data "aws_caller_identity" "current" {
  count = var.create ? 1 : 0
}

data "aws_partition" "current" {
  count = var.create ? 1 : 0
}

data "aws_region" "current" {
  count = var.create ? 1 : 0
}

locals {
  account_id = try(data.aws_caller_identity.current[0].account_id, "")
  partition  = try(data.aws_partition.current[0].partition, "")
  dns_suffix = try(data.aws_partition.current[0].dns_suffix, "")
  # `id` is the region name in provider 5.x and 6.x alike; 6.x deprecates `name` (tests/unit/test_versions.py).
  region = try(data.aws_region.current[0].id, "")

  # The channels beyond email (websocket.tf, push.tf, registration_api.tf): each is off until its input is set.
  websocket_enabled        = var.create && var.websocket != null
  push_enabled             = var.create && var.push != null
  registration_api_enabled = var.create && var.registration_api != null
  inbox_enabled            = var.create && var.inbox != null

  # Function role -> name of every function that exists (<name>-<role with '-'>): the queue workers
  # (channels.tf), the other functions (functions.tf) and the registration API's.
  function_names = {
    for role in concat(
      ["router"],
      [for channel in keys(local.enabled_channel_workers) : "${channel}_worker"],
      [for role, enabled in local.lambda_functions_enabled : role if enabled],
      local.registration_api_enabled ? ["registration_api"] : [],
    ) : role => "${var.name}-${replace(role, "_", "-")}"
  }

  # Tuning of every queue worker: modules/queue-worker's defaults, then the worker's own defaults, then what
  # var.workers sets (its null fields are the ones not set).
  worker_tuning = {
    for key, defaults in merge(
      # 100 records per batch: the router looks up profiles and preferences for a whole batch with BatchGetItem
      # (100 keys per call), so smaller batches multiply those calls (docs/benchmarks.md); the 1 s window bounds
      # the latency this adds when traffic is low.
      { router = { batch_size = 100, maximum_batching_window_in_seconds = 1, maximum_concurrency = 10, memory_size = 512 } },
      { for channel, worker in local.channel_workers : channel => worker.default_tuning },
    ) : key => merge(defaults, { for field, value in try(var.workers[key], {}) : field => value if value != null })
  }

  # Every queue worker (router first, then the enabled channels) and every function by role, for the outputs.
  queue_workers = merge({ router = module.router_worker }, module.channel_workers)
  functions = {
    for role, f in merge(
      { router = module.router_worker },
      { for channel, w in module.channel_workers : "${channel}_worker" => w },
      module.lambda_functions,
      { registration_api = module.registration_api },
    ) : role => f if contains(keys(local.function_names), role)
  }

  # Access logs of the APIs (CMK-encrypted log groups of their own).
  access_log_group_names = merge(
    local.websocket_enabled ? { websocket = "/aws/apigateway/${var.name}-websocket" } : {},
    local.registration_api_enabled ? { registration_api = "/aws/apigateway/${var.name}-registration-api" } : {},
  )

  # ARNs are built from names wherever a key policy or a queue/topic policy needs them: the key encrypts the
  # bus, queues, topics and log groups, so taking the ARNs from those resources would be a dependency cycle.
  arn_prefix = "arn:${local.partition}"
  bus_arn    = "${local.arn_prefix}:events:${local.region}:${local.account_id}:event-bus/${var.name}"
  rule_name  = "${var.name}-ingest"
  rule_arn   = "${local.arn_prefix}:events:${local.region}:${local.account_id}:rule/${var.name}/${local.rule_name}"
  log_group_arns = concat(
    [for n in values(local.function_names) : "${local.arn_prefix}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${n}"],
    [for n in values(local.access_log_group_names) : "${local.arn_prefix}:logs:${local.region}:${local.account_id}:log-group:${n}"],
  )

  # An event pattern needs at least one field; a prefix of "" matches every source, i.e. every event on the bus.
  ingest_event_pattern = length(var.event_sources) == 0 ? jsonencode({ source = [{ prefix = "" }] }) : jsonencode({ source = var.event_sources })

  via_dynamodb = "dynamodb.${local.region}.${local.dns_suffix}"
  key_arn      = module.kms_key.key_arn

  # Key-policy grants for the AWS services that use the service CMK on their own behalf, each scoped to the
  # resource it acts for (aws:SourceArn) and to this account (aws:SourceAccount, added by modules/kms-key).
  kms_service_grants = {
    for label, grant in {
      # Events stored on the bus (and the rule's pattern and target data) are encrypted under the bus ARN as
      # encryption context: the grant is bound to this bus only.
      events-bus = {
        service            = "events.amazonaws.com"
        actions            = ["kms:Decrypt", "kms:GenerateDataKey"]
        source_arns        = [local.bus_arn]
        encryption_context = { "aws:events:event-bus:arn" = [local.bus_arn] }
      }
      # EventBridge checks that the key exists and is symmetric when the bus is created or updated. DescribeKey
      # carries no encryption context; it returns key metadata only, and only to EventBridge acting for this
      # account (aws:SourceAccount).
      events-bus-describe-key = {
        service = "events.amazonaws.com"
        actions = ["kms:DescribeKey"]
      }
      # The rule delivers to the (CMK-encrypted) ingest queue, and the rule's and the bus's undeliverable events
      # go to the ingest DLQ: SQS encrypts them on EventBridge's behalf.
      events-queues = {
        service     = "events.amazonaws.com"
        actions     = ["kms:Decrypt", "kms:GenerateDataKey"]
        source_arns = [local.rule_arn, local.bus_arn]
      }
      # SES publishes bounce and complaint events of the configuration set to the encrypted SES events topic.
      ses-events = {
        service     = "ses.amazonaws.com"
        actions     = ["kms:Decrypt", "kms:GenerateDataKey"]
        source_arns = [local.configuration_set_arn]
      }
      # CloudWatch publishes this service's alarms to the encrypted ops topic (only when the module creates it).
      cloudwatch-alarms = {
        service     = "cloudwatch.amazonaws.com"
        actions     = ["kms:Decrypt", "kms:GenerateDataKey"]
        source_arns = local.alarm_arns
      }
    } : label => grant if var.create && (label != "cloudwatch-alarms" || local.create_ops_topic)
  }

  # Environment of each function: exactly the variables of docs/notification-service.md, section 6.
  router_environment = merge(
    {
      CATALOG_TABLE             = module.tables["catalog"].table_name
      CATALOG_REFRESH_SECONDS   = tostring(var.catalog_refresh_seconds)
      PREFERENCES_TABLE         = module.tables["preferences"].table_name
      CHANNEL_QUEUE_URLS        = jsonencode(local.channel_queue_urls)
      REJECTED_EVENTS_QUEUE_URL = module.router_worker.dlq_url
      POWERTOOLS_SERVICE_NAME   = local.function_names.router
    },
    local.queue_worker_environment,
    local.channel_controls_router_environment,
    local.scheduling_router_environment,
    local.cadence_router_environment,
    local.quiet_hours_router_environment,
    # Exactly one source of profiles: the custom enrichment function, or a users table (built-in or existing).
    var.enrichment.function_arn != null ? { ENRICHMENT_FUNCTION_ARN = var.enrichment.function_arn } : { USERS_TABLE = local.users_table_name },
  )

  # Channel -> queue URL of every enabled channel (email always).
  channel_queue_urls = { for channel, worker in module.channel_workers : channel => worker.queue_url }
  channel_queue_arns = [for worker in values(module.channel_workers) : worker.queue_arn]

  event_schema_path = "${path.module}/lambda_src/notification_handlers/service/schemas/notification-event.schema.json"
}

# One CMK for the whole service: bus, queues, tables, topics, Lambda environments and log groups. Roles of this
# service get the key through IAM (the account-root statement enables that); the services that use it on their
# own behalf get a key-policy grant each, scoped to the resource that uses it.
module "kms_key" {
  source = "./modules/kms-key"

  create                  = var.create
  name                    = var.name
  description             = "Encrypts the ${var.name} notification service: bus, queues, tables, topics and logs"
  aliases                 = var.kms_key_aliases == null ? [var.name] : var.kms_key_aliases
  deletion_window_in_days = var.kms_key_deletion_window_in_days

  cloudwatch_logs_log_group_arns = var.create ? local.log_group_arns : []

  service_grants = local.kms_service_grants

  tags = var.tags
}

resource "aws_cloudwatch_event_bus" "this" {
  count = var.create ? 1 : 0

  name               = var.name
  description        = "Notification events of ${var.name} (schema: notification-event.schema.json)"
  kms_key_identifier = module.kms_key.key_arn

  # Events the bus cannot encrypt or decrypt (key disabled, policy broken) land here instead of being lost.
  # AWS strongly recommends a DLQ for a CMK-encrypted bus.
  dead_letter_config {
    arn = module.router_worker.dlq_arn
  }

  tags = var.tags
}

# Every event on the bus is kept for replay. Provider 5.x has no kms_key_identifier on archives (6.x adds it),
# so archived events are encrypted with an AWS owned key, not the service CMK; the archive is readable only
# through EventBridge replays into this bus.
resource "aws_cloudwatch_event_archive" "this" {
  count = var.create ? 1 : 0

  name             = var.name
  description      = "Every event put on the ${var.name} bus, for replay"
  event_source_arn = aws_cloudwatch_event_bus.this[0].arn
  retention_days   = var.archive_retention_days
}

module "ingest_rule" {
  source = "./modules/event-rule"

  create         = var.create
  name           = var.name
  event_bus_name = try(aws_cloudwatch_event_bus.this[0].name, var.name)

  rules = {
    ingest = {
      name          = local.rule_name
      description   = "Every notification event of ${var.name} -> the ingest queue"
      event_pattern = local.ingest_event_pattern
    }
  }

  targets = !var.create ? {} : {
    ingest-queue = {
      rule = "ingest"
      type = "sqs"
      arn  = module.router_worker.queue_arn
      # SQS is only unreachable in an outage or when a policy is broken: keep retrying for the full 24 hours.
      retry_policy = {
        maximum_event_age_in_seconds = 86400
        maximum_retry_attempts       = 185
      }
      dead_letter_arn = module.router_worker.dlq_arn
    }
  }

  # The ingest DLQ is shared: events the rule cannot deliver, events the bus cannot decrypt, events the queue
  # gave up on and events the router rejects all end up in the one queue an operator watches.
  create_dead_letter_queue = false
  dead_letter_arn          = module.router_worker.dlq_arn

  tags = var.tags
}

# The router: the ingest queue (bus -> router) and its DLQ, the router function and its event source mapping.
module "router_worker" {
  source = "./modules/queue-worker"

  create      = var.create
  queue_name  = "${var.name}-ingest"
  kms_key_arn = local.key_arn

  function = merge(local.queue_worker_function, {
    name                  = local.function_names.router
    description           = "Validates, de-duplicates, enriches and renders ${var.name} notifications, fans out per channel"
    handler               = "notification_handlers.service.router.handler"
    environment_variables = local.router_environment
    policy_statements     = concat(local.router_policy_statements, local.queue_worker_statements)
  })

  tuning = local.worker_tuning.router

  queue_service_senders = !var.create ? {} : {
    IngestRule = {
      service     = "events.amazonaws.com"
      source_arns = [local.rule_arn]
    }
  }

  # The ingest DLQ is shared: the rule's target DLQ (SourceArn = the rule) and the bus's encryption DLQ
  # (SourceArn = the bus). The router sends rejected events with its role (identity policy), and SQS redrives
  # without a queue policy.
  dlq_service_senders = !var.create ? {} : {
    EventBridge = {
      service     = "events.amazonaws.com"
      source_arns = [local.rule_arn, local.bus_arn]
    }
  }

  tags = var.tags
}
