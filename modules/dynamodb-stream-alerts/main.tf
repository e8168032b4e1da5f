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
  # `id` is the region name in provider 5.x and 6.x alike (6.x deprecates `name`).
  region = try(data.aws_region.current[0].id, "")

  create_table = var.create && var.table != null
  table_name   = var.table == null ? null : coalesce(var.table.name, var.name)
  stream_arn   = local.create_table ? try(aws_dynamodb_table.this[0].stream_arn, null) : try(var.existing_stream.arn, null)

  # Built from the name rather than taken from the resource: the role's trust policy and KMS conditions
  # need it before the pipe exists (the pipe needs the role).
  pipe_name = coalesce(var.pipe_name, var.name)
  pipe_arn  = "arn:${local.partition}:pipes:${local.region}:${local.account_id}:pipe/${local.pipe_name}"

  # The attribute that identifies an item in the alert: the created table's hash key, or paymentId.
  id_attribute = coalesce(var.alert_message.id_attribute, try(var.table.hash_key, null), "paymentId")

  default_filter_pattern = jsonencode({
    eventName = var.alert_event_names
    dynamodb = {
      NewImage = {
        (var.alert_attribute) = { S = var.alert_values }
      }
    }
  })
  filter_patterns = coalesce(var.filter_patterns, [local.default_filter_pattern])

  # Pipes input-template syntax: <$.json.path> is replaced by the value at that path of the stream record
  # (strings are inserted without quotes), <aws.pipes.*> by the pipe's reserved variables.
  default_input_template = join("\n", [
    var.alert_message.title,
    "",
    "${var.alert_message.id_label}: <$.dynamodb.NewImage.${local.id_attribute}.S>",
    "Amount: <$.dynamodb.NewImage.${var.alert_message.amount_attribute}.N>",
    "Status: <$.dynamodb.NewImage.${var.alert_attribute}.S>",
    "Change: <$.eventName> at <$.dynamodb.ApproximateCreationDateTime> (Unix time, approximate)",
    "Received by the pipe at: <aws.pipes.event.ingestion-time>",
    "Stream: <aws.pipes.source-arn>",
    "Event ID: <$.eventID>",
  ])
  input_template = coalesce(var.input_template, local.default_input_template)

  key_arn = module.kms_key.key_arn
}

# One CMK for the table, the alert topic, the dead-letter queue and the pipe's own data (filter, template).
module "kms_key" {
  source = "../kms-key"

  create                  = var.create
  name                    = var.name
  description             = "Encrypts the ${var.name} table, alerts, dead letters and pipe configuration"
  aliases                 = coalesce(var.kms_key.aliases, [var.name])
  deletion_window_in_days = var.kms_key.deletion_window_in_days

  # Every use of the key (DynamoDB, SNS and SQS on behalf of the pipe role, the pipe's own data) is granted
  # through IAM, which the key policy's account-root statement enables: no service principal needs the key.

  tags = var.tags
}

resource "aws_dynamodb_table" "this" {
  count = local.create_table ? 1 : 0

  name         = local.table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = var.table.hash_key
  range_key    = var.table.range_key

  attribute {
    name = var.table.hash_key
    type = var.table.hash_key_type
  }

  dynamic "attribute" {
    for_each = var.table.range_key == null ? [] : [1]

    content {
      name = var.table.range_key
      type = var.table.range_key_type
    }
  }

  stream_enabled   = true
  stream_view_type = var.table.stream_view_type

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = local.key_arn
  }

  deletion_protection_enabled = var.table.deletion_protection

  tags = var.tags
}

# Records the pipe cannot deliver after its retries. The pipe's role writes to it through its identity
# policy, so the queue policy admits no one else and refuses non-TLS access.
module "dead_letter_queue" {
  source = "../sqs-queue"

  create                    = var.create
  name                      = "${var.name}-dlq"
  kms_key_arn               = local.key_arn
  message_retention_seconds = var.dead_letter_queue_message_retention_seconds

  tags = var.tags
}

module "sns_topic" {
  source = "../sns-topic"

  create       = var.create
  name         = var.name
  display_name = var.sns_topic_display_name
  kms_key_arn  = local.key_arn

  # Only the pipe (through its role) publishes; every other IAM principal is explicitly denied sns:Publish.
  publisher_iam_arns = var.create ? [aws_iam_role.pipe[0].arn] : []

  subscriptions = { for endpoint, s in var.subscriptions : endpoint => { protocol = s.protocol } }

  tags = var.tags
}

resource "aws_pipes_pipe" "this" {
  count = var.create ? 1 : 0

  name          = local.pipe_name
  description   = var.pipe_description
  desired_state = var.pipe_desired_state
  role_arn      = aws_iam_role.pipe[0].arn
  source        = local.stream_arn
  target        = module.sns_topic.topic_arn

  kms_key_identifier = var.encrypt_pipe_data ? local.key_arn : null

  source_parameters {
    filter_criteria {
      dynamic "filter" {
        for_each = local.filter_patterns

        content {
          pattern = filter.value
        }
      }
    }

    dynamodb_stream_parameters {
      starting_position                  = var.source_parameters.starting_position
      batch_size                         = var.source_parameters.batch_size
      maximum_batching_window_in_seconds = var.source_parameters.maximum_batching_window_in_seconds
      maximum_record_age_in_seconds      = var.source_parameters.maximum_record_age_in_seconds
      maximum_retry_attempts             = var.source_parameters.maximum_retry_attempts
      parallelization_factor             = var.source_parameters.parallelization_factor
      on_partial_batch_item_failure      = var.source_parameters.bisect_batch_on_failure ? "AUTOMATIC_BISECT" : null

      dead_letter_config {
        arn = module.dead_letter_queue.queue_arn
      }
    }
  }

  target_parameters {
    input_template = local.input_template
  }

  tags = var.tags

  # The role's permissions must exist before the pipe starts polling the stream.
  depends_on = [aws_iam_role_policy.pipe]

  lifecycle {
    precondition {
      condition     = (var.table == null) != (var.existing_stream == null)
      error_message = "Set exactly one of table (the module creates the table and its stream) and existing_stream (the stream ARN of a table you manage); to use existing_stream, also set table = null."
    }
  }
}
