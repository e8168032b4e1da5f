# Resource addresses before the dead-letter queue became the sqs-queue block (commit 2f268f7): a deployment
# from before keeps its queue, and the messages in it, instead of destroying and recreating it
# (tests/upgrade.tftest.hcl). Kept at least until the next major release (docs/upgrading.md).

moved {
  from = aws_sqs_queue.dlq
  to   = module.dead_letter_queue.aws_sqs_queue.this
}

moved {
  from = aws_sqs_queue_policy.dlq
  to   = module.dead_letter_queue.aws_sqs_queue_policy.this
}
