# Upgrading from the layout before the sqs-queue block (commit 2f268f7): the dead-letter queue, and the
# messages it holds, move to module.dead_letter_queue through moved.tf instead of being destroyed and
# recreated (a queue deleted and created again under the same name also fails for 60 seconds). Both runs apply
# against the mock provider on one state (state_key); a queue the upgrade created anew would take the
# "recreated" identifiers overridden below instead of keeping the old queue's.

mock_provider "aws" {
  source = "../../tests/terraform_mocks/aws"
}

run "layout_before_sqs_queue_block" {
  state_key = "upgrade"
  command   = apply

  module {
    source = "../../tests/upgrade_layouts/dlq_before_sqs_queue_block"
  }

  variables {
    name        = "notify"
    kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }

  override_resource {
    target = aws_sqs_queue.dlq
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:notify-dlq"
      id  = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-dlq"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-dlq"
    }
  }
}

run "upgrade_keeps_the_dead_letter_queue" {
  state_key = "upgrade"
  command   = apply

  variables {
    name = "notify"
    subscriptions = {
      "payments-team@example.com" = {}
    }
  }

  override_resource {
    target = module.dead_letter_queue.aws_sqs_queue.this
    values = {
      arn = "arn:aws:sqs:us-east-1:123456789012:notify-dlq-recreated"
      id  = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-dlq-recreated"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/notify-dlq-recreated"
    }
  }

  override_resource {
    target = module.kms_key.aws_kms_key.this
    values = {
      arn    = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
      key_id = "11111111-2222-3333-4444-555555555555"
    }
  }

  override_resource {
    target = aws_dynamodb_table.this
    values = {
      arn        = "arn:aws:dynamodb:us-east-1:123456789012:table/notify"
      stream_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notify/stream/2024-05-14T09:10:02.112"
    }
  }

  override_resource {
    target = aws_iam_role.pipe
    values = {
      arn = "arn:aws:iam::123456789012:role/notify-pipe"
    }
  }

  override_resource {
    target = module.sns_topic.aws_sns_topic.this
    values = {
      arn = "arn:aws:sns:us-east-1:123456789012:notify"
    }
  }

  assert {
    condition     = output.dead_letter_queue_arn == run.layout_before_sqs_queue_block.queue_arn
    error_message = "The dead-letter queue was recreated on upgrade: moved.tf must move aws_sqs_queue.dlq to module.dead_letter_queue.aws_sqs_queue.this."
  }

  assert {
    condition     = output.dead_letter_queue_url == run.layout_before_sqs_queue_block.queue_url
    error_message = "The dead-letter queue was recreated on upgrade (its URL changed)."
  }
}
