# Operations alarms: any message in any DLQ, any function error, and an ingest backlog. They notify the ops topic
# (module-created and CMK-encrypted, or the caller's alarm_topic_arn).

locals {
  create_ops_topic = var.create && var.alarm_topic_arn == null

  dead_letter_queue_names = merge(
    {
      ingest-dlq         = "${var.name}-ingest-dlq"
      email-feedback-dlq = "${var.name}-email-feedback-dlq"
    },
    { for channel in keys(local.enabled_channel_workers) : "${channel}-dlq" => "${var.name}-${channel}-dlq" },
  )

  alarms = merge(
    {
      for key, queue in local.dead_letter_queue_names : key => {
        name        = "${var.name}-${key}-not-empty"
        description = "${queue} holds messages: events or deliveries that failed for good. Inspect, fix, redrive."
        namespace   = "AWS/SQS"
        metric      = "ApproximateNumberOfMessagesVisible"
        dimensions  = { QueueName = queue }
        statistic   = "Maximum"
        comparison  = "GreaterThanOrEqualToThreshold"
        threshold   = 1
        periods     = 1
      }
    },
    {
      for key, function in local.function_names : "${replace(key, "_", "-")}-errors" => {
        name        = "${function}-errors"
        description = "${function} failed at least once in a minute (its failed records are retried, then dead-lettered)."
        namespace   = "AWS/Lambda"
        metric      = "Errors"
        dimensions  = { FunctionName = function }
        statistic   = "Sum"
        comparison  = "GreaterThanOrEqualToThreshold"
        threshold   = 1
        periods     = 1
      }
    },
    {
      ingest-age = {
        name        = "${var.name}-ingest-backlog"
        description = "The oldest event in ${var.name}-ingest is older than ${var.ingest_age_alarm_threshold_seconds} s for 3 minutes: the router is behind or failing."
        namespace   = "AWS/SQS"
        metric      = "ApproximateAgeOfOldestMessage"
        dimensions  = { QueueName = "${var.name}-ingest" }
        statistic   = "Maximum"
        comparison  = "GreaterThanThreshold"
        threshold   = var.ingest_age_alarm_threshold_seconds
        periods     = 3
      }
    },
    local.sms_alarms,
  )

  # Built from names: the key policy and the topic policy name them, and the alarms need the topic (cycle).
  alarm_arns = [for a in values(local.alarms) : "${local.arn_prefix}:cloudwatch:${local.region}:${local.account_id}:alarm:${a.name}"]

  alarm_topic_arn = var.alarm_topic_arn != null ? var.alarm_topic_arn : module.ops_topic.topic_arn
}

module "ops_topic" {
  source = "./modules/sns-topic"

  create      = local.create_ops_topic
  name        = "${var.name}-ops"
  kms_key_arn = local.key_arn

  # Only CloudWatch, for this service's alarms, in this account.
  publisher_services = !local.create_ops_topic ? {} : {
    CloudWatchAlarms = {
      service     = "cloudwatch.amazonaws.com"
      source_arns = local.alarm_arns
    }
  }

  subscriptions = { for endpoint, s in var.alarm_subscriptions : endpoint => { protocol = s.protocol } }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = var.create ? local.alarms : {}

  alarm_name          = each.value.name
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = 60
  evaluation_periods  = each.value.periods
  datapoints_to_alarm = each.value.periods
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  # No data means no messages and no invocations: not an alarm.
  treat_missing_data = "notBreaching"

  alarm_actions = [local.alarm_topic_arn]
  ok_actions    = [local.alarm_topic_arn]

  tags = var.tags
}
