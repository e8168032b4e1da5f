# Offline plan-mode tests: `terraform test` in modules/sns-topic (Terraform >= 1.11 for override_during).

mock_provider "aws" {
  source = "../../tests/terraform_mocks/aws"
}

variables {
  name        = "alerts"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  subscriptions = {
    "ops@example.com" = { protocol = "email" }
    queue = {
      protocol             = "sqs"
      endpoint             = "arn:aws:sqs:us-east-1:123456789012:alerts-inbox"
      raw_message_delivery = true
      filter_policy        = "{\"severity\":[\"high\"]}"
    }
  }
}

run "topic_is_encrypted_with_the_given_key" {
  command = plan

  assert {
    condition     = aws_sns_topic.this[0].kms_master_key_id == var.kms_key_arn
    error_message = "The topic must be encrypted with the given customer-managed key."
  }

  assert {
    condition     = aws_sns_topic.this[0].name == "alerts" && output.topic_kms_master_key_id == var.kms_key_arn
    error_message = "Topic name and the key output must reflect the inputs."
  }
}

run "policy_denies_insecure_transport_and_scopes_publishers" {
  command = plan

  variables {
    publisher_iam_arns = ["arn:aws:iam::123456789012:role/publisher"]
    publisher_services = {
      rule = {
        service     = "events.amazonaws.com"
        source_arns = ["arn:aws:events:us-east-1:123456789012:rule/alerts"]
      }
    }
  }

  # With a known topic ARN the policy document is read at plan time, so its statements can be inspected.
  override_resource {
    target          = aws_sns_topic.this
    override_during = plan
    values = {
      arn = "arn:aws:sns:us-east-1:123456789012:alerts"
    }
  }

  assert {
    condition = length([
      for s in data.aws_iam_policy_document.topic[0].statement : s
      if s.sid == "DenyInsecureTransport" && s.effect == "Deny"
      && contains(s.actions, "sns:Publish") && contains(s.actions, "sns:Subscribe")
      && anytrue([for c in s.condition : c.test == "Bool" && c.variable == "aws:SecureTransport" && contains(c.values, "false")])
      && anytrue([for p in s.principals : p.type == "*" && contains(p.identifiers, "*")])
    ]) == 1
    error_message = "The topic policy must deny every topic action over non-TLS connections, to every principal."
  }

  assert {
    condition = length([
      for s in data.aws_iam_policy_document.topic[0].statement : s
      if s.effect == "Allow" && contains(s.actions, "sns:Publish")
      && anytrue([for p in s.principals : p.type == "Service" && contains(p.identifiers, "events.amazonaws.com")])
      && anytrue([for c in s.condition : c.variable == "aws:SourceAccount" && contains(c.values, "123456789012")])
      && anytrue([for c in s.condition : c.variable == "aws:SourceArn" && contains(c.values, "arn:aws:events:us-east-1:123456789012:rule/alerts")])
    ]) == 1
    error_message = "A service publisher must be scoped by aws:SourceAccount and aws:SourceArn."
  }

  assert {
    condition = length([
      for s in data.aws_iam_policy_document.topic[0].statement : s
      if s.sid == "DenyUnlistedIamPublishers" && s.effect == "Deny"
      && anytrue([for c in s.condition : c.test == "ArnNotEquals" && toset(c.values) == toset(var.publisher_iam_arns)])
    ]) == 1
    error_message = "Listed IAM publishers must come with a deny for every other IAM publisher."
  }

  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.topic[0].statement : [for a in s.actions : !strcontains(a, "*")]
    ]))
    error_message = "No wildcard actions in the topic policy."
  }
}

run "one_subscription_per_entry" {
  command = plan

  assert {
    condition     = length(aws_sns_topic_subscription.this) == 2
    error_message = "Each subscriptions entry must create exactly one subscription."
  }

  assert {
    condition = (
      aws_sns_topic_subscription.this["ops@example.com"].protocol == "email"
      && aws_sns_topic_subscription.this["ops@example.com"].endpoint == "ops@example.com"
      && aws_sns_topic_subscription.this["ops@example.com"].raw_message_delivery != true
    )
    error_message = "An email subscription keyed by its address must use the key as endpoint, without raw delivery."
  }

  assert {
    condition = (
      aws_sns_topic_subscription.this["queue"].endpoint == "arn:aws:sqs:us-east-1:123456789012:alerts-inbox"
      && aws_sns_topic_subscription.this["queue"].raw_message_delivery == true
      && jsondecode(aws_sns_topic_subscription.this["queue"].filter_policy) == { severity = ["high"] }
      && aws_sns_topic_subscription.this["queue"].filter_policy_scope == "MessageAttributes"
    )
    error_message = "A labelled SQS subscription must use its explicit endpoint, raw delivery and filter policy."
  }
}

run "fifo_topic_gets_the_suffix" {
  command = plan

  variables {
    fifo_topic                  = true
    content_based_deduplication = true
    subscriptions               = {}
  }

  assert {
    condition     = aws_sns_topic.this[0].name == "alerts.fifo" && aws_sns_topic.this[0].content_based_deduplication == true
    error_message = "A FIFO topic must get the .fifo suffix and content-based deduplication when asked."
  }
}

run "create_false_builds_nothing" {
  command = plan

  variables {
    create      = false
    kms_key_arn = null
  }

  assert {
    condition = (
      length(aws_sns_topic.this) == 0 && length(aws_sns_topic_policy.this) == 0
      && length(aws_sns_topic_subscription.this) == 0 && length(data.aws_iam_policy_document.topic) == 0
    )
    error_message = "create = false must build nothing."
  }

  assert {
    condition     = output.topic_arn == null && output.topic_policy == null && output.subscription_arns == null
    error_message = "create = false must leave every output null."
  }
}

# --- Bad inputs: each run feeds one realistic mistake and expects that input's validation to refuse it. ---

run "rejects_fifo_suffix_in_name" {
  command = plan

  variables {
    name = "alerts.fifo"
  }

  expect_failures = [var.name]
}

run "rejects_empty_display_name" {
  command = plan

  variables {
    display_name = ""
  }

  expect_failures = [var.display_name]
}

run "rejects_overlong_display_name" {
  command = plan

  variables {
    display_name = "Security alerts for the production payments platform, sent to the on-call rotation and the security team"
  }

  expect_failures = [var.display_name]
}

run "rejects_key_id_instead_of_key_arn" {
  command = plan

  variables {
    kms_key_arn = "11111111-2222-3333-4444-555555555555"
  }

  expect_failures = [var.kms_key_arn]
}

run "requires_a_key" {
  command = plan

  variables {
    kms_key_arn = null
  }

  expect_failures = [aws_sns_topic.this]
}

run "rejects_account_root_as_publisher" {
  command = plan

  variables {
    publisher_iam_arns = ["arn:aws:iam::123456789012:root"]
  }

  expect_failures = [var.publisher_iam_arns]
}

run "rejects_service_name_without_domain" {
  command = plan

  variables {
    publisher_services = { rule = { service = "events" } }
  }

  expect_failures = [var.publisher_services]
}

run "rejects_rule_name_as_source_arn" {
  command = plan

  variables {
    publisher_services = { rule = { service = "events.amazonaws.com", source_arns = ["alerts-rule"] } }
  }

  expect_failures = [var.publisher_services]
}

run "rejects_unknown_protocol" {
  command = plan

  variables {
    subscriptions = { "+15555550100" = { protocol = "sms" } }
  }

  expect_failures = [var.subscriptions]
}

run "rejects_malformed_email" {
  command = plan

  variables {
    subscriptions = { "ops@example" = { protocol = "email" } }
  }

  expect_failures = [var.subscriptions]
}

run "rejects_queue_url_as_sqs_endpoint" {
  command = plan

  variables {
    subscriptions = { queue = { protocol = "sqs", endpoint = "https://sqs.us-east-1.amazonaws.com/123456789012/alerts-inbox" } }
  }

  expect_failures = [var.subscriptions]
}

run "rejects_plain_http_endpoint" {
  command = plan

  variables {
    subscriptions = { hook = { protocol = "https", endpoint = "http://hooks.example.com/alerts" } }
  }

  expect_failures = [var.subscriptions]
}

run "rejects_filter_policy_that_is_not_json" {
  command = plan

  variables {
    subscriptions = { "ops@example.com" = { protocol = "email", filter_policy = "severity = high" } }
  }

  expect_failures = [var.subscriptions]
}

run "rejects_redrive_policy_that_is_not_json" {
  command = plan

  variables {
    subscriptions = { "ops@example.com" = { protocol = "email", redrive_policy = "arn:aws:sqs:us-east-1:123456789012:dlq" } }
  }

  expect_failures = [var.subscriptions]
}

run "rejects_unknown_filter_policy_scope" {
  command = plan

  variables {
    subscriptions = { "ops@example.com" = { protocol = "email", filter_policy = "{}", filter_policy_scope = "Body" } }
  }

  expect_failures = [var.subscriptions]
}

run "rejects_raw_delivery_for_email" {
  command = plan

  variables {
    subscriptions = { "ops@example.com" = { protocol = "email", raw_message_delivery = true } }
  }

  expect_failures = [var.subscriptions]
}

run "rejects_email_on_fifo_topic" {
  command = plan

  variables {
    fifo_topic = true
  }

  expect_failures = [aws_sns_topic_subscription.this]
}

run "rejects_reserved_aws_tag_prefix" {
  command = plan

  variables {
    tags = { "aws:createdBy" = "me" }
  }

  expect_failures = [var.tags]
}
