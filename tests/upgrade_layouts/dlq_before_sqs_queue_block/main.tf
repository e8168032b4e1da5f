# The dead-letter queue as lambda-function, event-rule and dynamodb-stream-alerts declared it themselves until
# commit 2f268f7 (2026-11-24), when it became the sqs-queue block (module.dead_letter_queue): the same queue at
# its old addresses. Each of those modules' tests/upgrade.tftest.hcl applies this first, then the module on the
# same state (state_key): the queue must keep its identity through the module's moved.tf.

variable "name" {
  type = string
}

variable "kms_key_arn" {
  type = string
}

resource "aws_sqs_queue" "dlq" {
  count = 1

  name                              = "${var.name}-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
}

resource "aws_sqs_queue_policy" "dlq" {
  count = 1

  queue_url = aws_sqs_queue.dlq[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "sqs:*"
      Resource  = aws_sqs_queue.dlq[0].arn
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

output "queue_arn" {
  value = aws_sqs_queue.dlq[0].arn
}

output "queue_url" {
  value = aws_sqs_queue.dlq[0].id
}
