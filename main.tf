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

  # Part 2 (websocket.tf, push.tf, registration_api.tf): each channel is off until its input is set.
  websocket_enabled        = var.create && var.websocket != null
  push_enabled             = var.create && var.push != null
  registration_api_enabled = var.create && var.registration_api != null

  function_names = merge(
    {
      router         = "${var.name}-router"
      email_worker   = "${var.name}-email-worker"
      email_feedback = "${var.name}-email-feedback"
    },
    local.websocket_enabled ? {
      websocket_connections = "${var.name}-websocket-connections"
      websocket_worker      = "${var.name}-websocket-worker"
    } : {},
    local.websocket_builtin_authorizer ? { websocket_authorizer = "${var.name}-websocket-authorizer" } : {},
    local.push_enabled ? { push_worker = "${var.name}-push-worker" } : {},
    local.push_enabled && length(local.provisioned_platforms) > 0 ? { push_platforms = "${var.name}-push-platforms" } : {},
    local.registration_api_enabled ? { registration_api = "${var.name}-registration-api" } : {},
  )

  # Part 2 functions by role (outputs list those that exist).
  part2_functions = {
    websocket_connections = module.websocket_connections
    websocket_authorizer  = module.websocket_authorizer
    websocket_worker      = module.websocket_worker
    push_worker           = module.push_worker
    push_platforms        = module.push_platforms
    registration_api      = module.registration_api
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

  # AWS guidance for an SQS event source: visibility timeout >= 6 x function timeout + batching window, so a
  # batch that is retried inside the function is never handed to a second invocation meanwhile.
  ingest_visibility_timeout = 6 * var.router.timeout + var.router.maximum_batching_window_in_seconds
  email_visibility_timeout  = 6 * var.email_worker.timeout + var.email_worker.maximum_batching_window_in_seconds

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
      CATALOG_TABLE             = module.catalog_table.table_name
      CATALOG_REFRESH_SECONDS   = tostring(var.router.catalog_refresh_seconds)
      PREFERENCES_TABLE         = module.preferences_table.table_name
      DELIVERY_LOG_TABLE        = module.delivery_log_table.table_name
      DELIVERY_LOG_TTL_DAYS     = tostring(var.delivery_log_ttl_days)
      IDEMPOTENCY_TABLE         = module.idempotency_table.table_name
      IDEMPOTENCY_TTL_SECONDS   = tostring(var.idempotency_ttl_seconds)
      CHANNEL_QUEUE_URLS        = jsonencode(local.channel_queue_urls)
      REJECTED_EVENTS_QUEUE_URL = module.ingest_dlq.queue_url
      POWERTOOLS_SERVICE_NAME   = "${var.name}-router"
      POWERTOOLS_LOG_LEVEL      = var.log_level
    },
    # Exactly one source of profiles: the custom enrichment function, or a users table (built-in or existing).
    var.enrichment.function_arn != null ? { ENRICHMENT_FUNCTION_ARN = var.enrichment.function_arn } : { USERS_TABLE = local.users_table_name },
  )

  # Channel -> queue URL of every enabled channel (email always).
  channel_queue_urls = merge(
    { email = module.email_queue.queue_url },
    local.websocket_enabled ? { websocket = module.websocket_queue.queue_url } : {},
    local.push_enabled ? { push = module.push_queue.queue_url } : {},
  )
  channel_queue_arns = concat(
    [module.email_queue.queue_arn],
    local.websocket_enabled ? [module.websocket_queue.queue_arn] : [],
    local.push_enabled ? [module.push_queue.queue_arn] : [],
  )

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
    arn = module.ingest_dlq.queue_arn
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
      arn  = module.ingest_queue.queue_arn
      # SQS is only unreachable in an outage or when a policy is broken: keep retrying for the full 24 hours.
      retry_policy = {
        maximum_event_age_in_seconds = 86400
        maximum_retry_attempts       = 185
      }
      dead_letter_arn = module.ingest_dlq.queue_arn
    }
  }

  # The ingest DLQ is shared: events the rule cannot deliver, events the bus cannot decrypt, events the queue
  # gave up on and events the router rejects all end up in the one queue an operator watches.
  create_dead_letter_queue = false
  dead_letter_arn          = module.ingest_dlq.queue_arn

  tags = var.tags
}

module "ingest_queue" {
  source = "./modules/sqs-queue"

  create                     = var.create
  name                       = "${var.name}-ingest"
  kms_key_arn                = local.key_arn
  visibility_timeout_seconds = local.ingest_visibility_timeout

  redrive_policy = !var.create ? null : {
    dead_letter_target_arn = module.ingest_dlq.queue_arn
    max_receive_count      = var.router.max_receive_count
  }

  service_senders = !var.create ? {} : {
    IngestRule = {
      service     = "events.amazonaws.com"
      source_arns = [local.rule_arn]
    }
  }

  tags = var.tags
}

module "ingest_dlq" {
  source = "./modules/sqs-queue"

  create      = var.create
  name        = "${var.name}-ingest-dlq"
  kms_key_arn = local.key_arn

  # The rule's target DLQ (SourceArn = the rule) and the bus's encryption DLQ (SourceArn = the bus). The router
  # sends rejected events with its role (identity policy), and SQS redrives without a queue policy.
  service_senders = !var.create ? {} : {
    EventBridge = {
      service     = "events.amazonaws.com"
      source_arns = [local.rule_arn, local.bus_arn]
    }
  }

  tags = var.tags
}

module "router" {
  source = "./modules/lambda-function"

  create       = var.create
  name         = local.function_names.router
  description  = "Validates, de-duplicates, enriches and renders ${var.name} notifications, fans out per channel"
  handler      = "notification_handlers.service.router.handler"
  runtime      = var.lambda_runtime
  architecture = var.lambda_architecture
  timeout      = var.router.timeout
  memory_size  = var.router.memory_size
  package      = var.lambda_package
  kms_key_arn  = local.key_arn
  tracing_mode = "Active"

  code_signing_config_arn = var.lambda_code_signing_config_arn
  log_retention_in_days   = var.log_retention_in_days

  environment_variables = local.router_environment

  # The router is only ever invoked by its SQS event source mapping (synchronously): failures go back to the
  # queue and on to the ingest DLQ through the redrive policy. The async DLQ only catches a stray asynchronous
  # invoke (say, a manual test) and reuses the ingest DLQ, which the role may write to anyway.
  create_dead_letter_queue = false
  dead_letter_target_arn   = module.ingest_dlq.queue_arn

  policy_statements = var.create ? local.router_policy_statements : []

  tags = var.tags
}

resource "aws_lambda_event_source_mapping" "router" {
  count = var.create ? 1 : 0

  event_source_arn                   = module.ingest_queue.queue_arn
  function_name                      = module.router.function_arn
  batch_size                         = var.router.batch_size
  maximum_batching_window_in_seconds = var.router.maximum_batching_window_in_seconds
  # The router reports the records it could not process (batchItemFailures); only those are retried.
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.router.maximum_concurrency
  }
}
