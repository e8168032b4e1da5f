# Scheduled and delayed send (docs/notification-service.md, "Scheduled and delayed send"). The router defers an
# event with detail.sendAt / detail.delaySeconds: up to 15 minutes as an SQS-delayed message on the ingest queue,
# later as an EventBridge Scheduler one-time schedule in this module's group that puts the event back on the
# ingest queue when due (then deleted: ActionAfterCompletion = DELETE). Nothing polls.

variable "scheduling" {
  description = <<-EOT
    Scheduled and delayed send. max_delay_days: how far ahead an event's detail.sendAt / detail.delaySeconds may
    reach (1-365, default 365); further is rejected to the ingest DLQ with its reason.
  EOT
  type = object({
    max_delay_days = optional(number, 365)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.scheduling.max_delay_days == null ? true : (var.scheduling.max_delay_days >= 1 && var.scheduling.max_delay_days <= 365 && floor(var.scheduling.max_delay_days) == var.scheduling.max_delay_days)
    error_message = "scheduling.max_delay_days must be a whole number of days from 1 to 365 (EventBridge Scheduler one-time schedules; the contract allows at most a year)."
  }
}

locals {
  schedule_group_name = var.name
  schedule_group_arn  = "${local.arn_prefix}:scheduler:${local.region}:${local.account_id}:schedule-group/${local.schedule_group_name}"
  # Schedules are named n-<first 60 hex digits of the notification id> (deferral.schedule_name).
  schedules_arn      = "${local.arn_prefix}:scheduler:${local.region}:${local.account_id}:schedule/${local.schedule_group_name}/*"
  scheduler_role_arn = "${local.arn_prefix}:iam::${local.account_id}:role/${var.name}-scheduler"
  via_sqs            = "sqs.${local.region}.${local.dns_suffix}"

  # The router's environment for deferral (docs/notification-service.md, section 6).
  scheduling_router_environment = {
    INGEST_QUEUE_URL     = module.router_worker.queue_url
    SCHEDULE_GROUP_NAME  = local.schedule_group_name
    SCHEDULE_TARGET_ARN  = module.router_worker.queue_arn
    SCHEDULER_ROLE_ARN   = local.scheduler_role_arn
    SCHEDULE_DLQ_ARN     = module.router_worker.dlq_arn
    SCHEDULE_KMS_KEY_ARN = local.key_arn
    MAX_DELAY_DAYS       = tostring(var.scheduling.max_delay_days)
  }

  # Quiet hours (docs/notification-service.md, "Quiet hours"): the router holds push and sms, and the email of
  # types with defer_email_in_quiet_hours, until the recipient's window ends; a hold beyond 15 minutes is a
  # one-time schedule whose target is the channel queue itself (its DLQ: the channel's). Only those queues.
  quiet_hours_channels = concat(
    ["push", "sms"],
    anytrue([for t in values(var.notification_types) : t.defer_email_in_quiet_hours]) ? ["email"] : [],
  )
  quiet_hours_queues = {
    for channel, worker in module.channel_workers : channel => { arn = worker.queue_arn, dlq_arn = worker.dlq_arn }
    if contains(local.quiet_hours_channels, channel)
  }
  # What the scheduler role may send held messages to: exactly those queues and their DLQs.
  quiet_hours_scheduler_resources = flatten([for queue in values(local.quiet_hours_queues) : [queue.arn, queue.dlq_arn]])
  quiet_hours_router_environment = length(local.quiet_hours_queues) == 0 ? {} : {
    QUIET_HOURS_QUEUES = jsonencode(local.quiet_hours_queues)
  }

  scheduling_router_statements = !var.create ? [] : [
    {
      # Delays of up to 15 minutes: the event goes back to the ingest queue with DelaySeconds.
      sid        = "DelayOnIngestQueue"
      actions    = ["sqs:SendMessage"]
      resources  = [module.router_worker.queue_arn]
      conditions = []
    },
    {
      # One-time schedules of this module's group only; the name is the notification id's.
      sid        = "ManageSchedulesOfTheGroup"
      actions    = ["scheduler:CreateSchedule", "scheduler:DeleteSchedule"]
      resources  = [local.schedules_arn]
      conditions = []
    },
    {
      # The schedule's execution role, handed to EventBridge Scheduler and to nothing else.
      sid        = "PassSchedulerRole"
      actions    = ["iam:PassRole"]
      resources  = [local.scheduler_role_arn]
      conditions = [{ test = "StringEquals", variable = "iam:PassedToService", values = ["scheduler.amazonaws.com"] }]
    },
    {
      # Schedules are encrypted with the service CMK (KmsKeyArn): Scheduler uses the key as the caller, bound to
      # schedules of this group by the encryption context.
      sid        = "EncryptSchedules"
      actions    = ["kms:Decrypt", "kms:Encrypt"]
      resources  = [local.key_arn]
      conditions = [{ test = "StringLike", variable = "kms:EncryptionContext:aws:scheduler:schedule:arn", values = [local.schedules_arn] }]
    },
  ]
}

resource "aws_scheduler_schedule_group" "this" {
  count = var.create ? 1 : 0

  name = local.schedule_group_name
  tags = var.tags
}

data "aws_iam_policy_document" "scheduler_assume_role" {
  count = var.create ? 1 : 0

  statement {
    sid     = "SchedulerOfThisGroup"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    # Scheduler names the schedule group as the source: only this module's schedules may use the role.
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.schedule_group_arn]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  count = var.create ? 1 : 0

  name               = "${var.name}-scheduler"
  description        = "Lets the ${var.name} schedules put due notifications back on the ingest queue"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume_role[0].json

  tags = var.tags
}

data "aws_iam_policy_document" "scheduler" {
  count = var.create ? 1 : 0

  statement {
    # The due event to the ingest queue; what Scheduler cannot deliver, to the ingest DLQ (shared with the rule's
    # and the router's rejects: the one queue an operator watches).
    sid       = "SendDueNotifications"
    actions   = ["sqs:SendMessage"]
    resources = [module.router_worker.queue_arn, module.router_worker.dlq_arn]
  }

  dynamic "statement" {
    # Quiet hours: a held channel message to its channel queue at the window's end, or to that channel's DLQ.
    for_each = length(local.quiet_hours_queues) == 0 ? [] : [1]
    content {
      sid       = "SendHeldChannelMessages"
      actions   = ["sqs:SendMessage"]
      resources = local.quiet_hours_scheduler_resources
    }
  }

  statement {
    # The queues are encrypted with the service CMK; SQS uses the key on the role's behalf.
    sid       = "UseKeyForQueues"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.via_sqs]
    }
  }

  statement {
    # The schedule's payload is encrypted with the service CMK (KmsKeyArn of each schedule).
    sid       = "DecryptSchedules"
    actions   = ["kms:Decrypt"]
    resources = [local.key_arn]

    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:scheduler:schedule:arn"
      values   = [local.schedules_arn]
    }
  }
}

resource "aws_iam_role_policy" "scheduler" {
  count = var.create ? 1 : 0

  name   = "${var.name}-scheduler"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.scheduler[0].json
}

output "schedule_group_name" {
  description = "Name of the EventBridge Scheduler group holding the one-time schedules of scheduled notifications (n-<notification id prefix>) and of messages held for quiet hours (q-<hash>)."
  value       = try(aws_scheduler_schedule_group.this[0].name, null)
}

output "schedule_group_arn" {
  description = "ARN of the schedule group of scheduled notifications."
  value       = try(aws_scheduler_schedule_group.this[0].arn, null)
}

output "scheduler_role_arn" {
  description = "ARN of the execution role of the schedules (sqs:SendMessage on the ingest queue and its DLQ, and on the channel queues quiet hours hold, push, sms and opted-in email, and their DLQs)."
  value       = try(aws_iam_role.scheduler[0].arn, null)
}
