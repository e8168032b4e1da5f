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
  # `id` is the region name in provider 5.x and 6.x alike; 6.x deprecates `name` and adds `region`, which
  # 5.x lacks. tests/unit/test_versions.py rejects `.name`.
  region = try(data.aws_region.current[0].id, "")

  function_name = coalesce(var.lambda.function_name, var.name)
  rule_names    = { for k in keys(var.event_patterns) : k => "${var.name}-${k}" }

  # ARNs are built from names rather than taken from the resources: the key policy must exist before the
  # log group and the DLQ that it protects, so referencing them would be a dependency cycle.
  log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${local.function_name}"
  rule_arns     = [for n in values(local.rule_names) : "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${n}"]
}

# One CMK for the topic, the log group and the dead-letter queue.
module "kms_key" {
  source = "../kms-key"

  create                  = var.create
  name                    = var.name
  description             = "Encrypts the ${var.name} root-activity alerts, logs and dead letters"
  aliases                 = coalesce(var.kms_key.aliases, [var.name])
  deletion_window_in_days = var.kms_key.deletion_window_in_days

  cloudwatch_logs_log_group_arns = var.create ? [local.log_group_arn] : []

  service_grants = !var.create ? {} : {
    # EventBridge encrypts undeliverable events it sends to the (CMK-encrypted) DLQ.
    # The Lambda role's use of the key (SNS publish, DLQ, environment) is granted through IAM, which the
    # key policy's account-root statement enables.
    events-dlq = {
      service     = "events.amazonaws.com"
      actions     = ["kms:Decrypt", "kms:GenerateDataKey"]
      source_arns = local.rule_arns
    }
  }

  tags = var.tags
}

module "sns_topic" {
  source = "../sns-topic"

  create       = var.create
  name         = var.name
  display_name = var.sns_topic_display_name
  kms_key_arn  = module.kms_key.key_arn

  # Only the handler publishes; every other IAM principal is explicitly denied sns:Publish.
  publisher_iam_arns = var.create ? [module.lambda_function.role_arn] : []

  subscriptions = { for endpoint, s in var.subscriptions : endpoint => { protocol = s.protocol } }

  tags = var.tags
}

module "event_rule" {
  source = "../event-rule"

  create         = var.create
  name           = var.name
  event_bus_name = "default" # CloudTrail delivers AWS API and sign-in events to the default bus only.

  rules = {
    for k, pattern in var.event_patterns : k => {
      name          = local.rule_names[k]
      description   = var.event_rule_description
      event_pattern = pattern
      state         = var.event_rule_state
    }
  }

  targets = !var.create ? {} : {
    for k in keys(var.event_patterns) : k => {
      rule = k
      type = "lambda"
      arn  = module.lambda_function.function_arn
      retry_policy = {
        maximum_event_age_in_seconds = 3600
        maximum_retry_attempts       = 24
      }
    }
  }

  # This queue is shared with the Lambda function's asynchronous-invocation DLQ (one queue instead of two).
  create_dead_letter_queue = true
  kms_key_arn              = module.kms_key.key_arn

  tags = var.tags
}

module "lambda_function" {
  source = "../lambda-function"

  create       = var.create
  name         = local.function_name
  description  = "Notifies ${var.name} subscribers of AWS root user activity"
  handler      = "notification_handlers.root_activity.handler"
  kms_key_arn  = module.kms_key.key_arn
  tracing_mode = "Active"
  publish      = false

  # The caller's settings, validated by the lambda-function module (null = its default).
  runtime                        = var.lambda.runtime
  architecture                   = var.lambda.architecture
  timeout                        = var.lambda.timeout
  memory_size                    = var.lambda.memory_size
  package                        = var.lambda.package
  code_signing_config_arn        = var.lambda.code_signing_config_arn
  reserved_concurrent_executions = var.lambda.reserved_concurrent_executions
  log_retention_in_days          = var.lambda.log_retention_in_days
  log_level                      = var.lambda.log_level

  environment_variables = {
    SNS_TOPIC_ARN           = module.sns_topic.topic_arn
    ACCOUNT_ALIAS           = var.account_alias
    NON_ROOT_EVENTS         = var.non_root_events
    POWERTOOLS_SERVICE_NAME = var.name
  }

  # A failing handler is retried twice by Lambda, then the event is dead-lettered.
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 21600
  create_dead_letter_queue     = false
  dead_letter_target_arn       = module.event_rule.dead_letter_queue_arn

  policy_statements = [
    {
      sid       = "PublishAlerts"
      actions   = ["sns:Publish"]
      resources = [module.sns_topic.topic_arn]
    },
    {
      # Publishing to the encrypted topic needs the key, but only through SNS.
      sid       = "UseKeyForAlertTopic"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [module.kms_key.key_arn]
      conditions = [{
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["sns.${local.region}.${local.dns_suffix}"]
      }]
    },
  ]

  tags = var.tags
}
