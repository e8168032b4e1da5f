# Offline plan-mode tests of frequency caps and digests (docs/notification-service.md, "Frequency caps and
# digests"). Shared mock data: account 123456789012, us-east-1.

mock_provider "aws" {
  source = "./tests/terraform_mocks/aws"
}

variables {
  name = "notify"
  notification_types = {
    # At most 3 a day per user; the rest dropped (suppressed_frequency_cap).
    promotion = {
      channels        = ["email"]
      max_per_user    = { count = 3, period_seconds = 86400 }
      fallback_locale = "en"
      templates = {
        en = { email = { subject = "{{ title }}", text = "{{ body }}" } }
      }
    }
    # Collected per user for an hour and sent as one email listing the first 10.
    price_drop = {
      channels        = ["email"]
      digest          = { window_seconds = 3600, max_items = 10 }
      fallback_locale = "en"
      templates = {
        en = { email = { subject = "{{ digest.count }} price drops", text = "{{#each digest.items}}- {{ item.product }}\n{{/each}}" } }
      }
    }
  }
  email = {
    from_address = "notifications@example.com"
  }
  lambda_package = {
    s3_bucket = "example-artifacts"
    s3_key    = "lambda.zip"
  }
}

run "caps_and_digests_plan" {
  command = plan

  assert {
    condition = (
      jsondecode(jsondecode(aws_dynamodb_table_item.catalog["promotion"].item).definition.S).max_per_user == { count = 3, period_seconds = 86400, overflow = "drop" } &&
      jsondecode(jsondecode(aws_dynamodb_table_item.catalog["price_drop"].item).definition.S).digest == { window_seconds = 3600, max_items = 10 } &&
      !can(jsondecode(jsondecode(aws_dynamodb_table_item.catalog["promotion"].item).definition.S).digest)
    )
    error_message = "The catalog definition carries max_per_user (overflow defaulted to drop) and digest of the types that declare them, and nothing otherwise."
  }

  assert {
    condition     = local.router_environment["LIMITS_TABLE"] == "notify-limits" && local.router_environment["DIGESTS_TABLE"] == "notify-digests"
    error_message = "The router gets the limits table (frequency caps) and the digests table."
  }

  assert {
    condition     = local.tables["limits"].enabled && local.tables["digests"].enabled && local.tables["digests"].range_key == "digest_key"
    error_message = "A frequency cap creates the limits table (without the registration API), a digest type the digests table."
  }

  assert {
    condition = { for s in local.router_policy_statements : s.sid => [join(",", sort(s.actions)), join(",", s.resources), jsonencode(s.conditions)] if contains(["CountFrequencyCaps", "CollectDigests"], s.sid) } == {
      CountFrequencyCaps = ["dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-limits", jsonencode([{ test = "ForAllValues:StringLike", variable = "dynamodb:LeadingKeys", values = ["cap#*"] }])]
      CollectDigests     = ["dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/notify-digests", jsonencode([])]
    }
    error_message = "The router may count only cap# counters of the limits table and update only the digests table."
  }
}

run "no_caps_no_digests_no_tables" {
  command = plan

  variables {
    notification_types = {
      order_shipped = {
        channels        = ["email"]
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Shipped", text = "Shipped." } } }
      }
    }
  }

  assert {
    condition     = !local.tables["limits"].enabled && !local.tables["digests"].enabled && !contains(keys(local.router_environment), "DIGESTS_TABLE") && !contains(keys(local.router_environment), "LIMITS_TABLE")
    error_message = "Without caps, digests and the registration API there is neither a limits nor a digests table, and the router is not told of one."
  }
}

run "rejects_a_digest_window_out_of_range" {
  command = plan

  variables {
    notification_types = {
      price_drop = {
        channels        = ["email"]
        digest          = { window_seconds = 30, max_items = 10 }
        fallback_locale = "en"
        templates       = { en = { email = { subject = "{{ digest.count }} drops", text = "Drops." } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_digest_max_items_out_of_range" {
  command = plan

  variables {
    notification_types = {
      price_drop = {
        channels        = ["email"]
        digest          = { window_seconds = 3600, max_items = 51 }
        fallback_locale = "en"
        templates       = { en = { email = { subject = "{{ digest.count }} drops", text = "Drops." } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_a_bad_cap" {
  command = plan

  variables {
    notification_types = {
      promotion = {
        channels        = ["email"]
        max_per_user    = { count = 0, period_seconds = 86400 }
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Sale", text = "Sale." } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_a_cap_on_a_critical_type" {
  command = plan

  variables {
    notification_types = {
      security_alert = {
        critical        = true
        allowed_sources = ["com.example.identity"]
        channels        = ["email"]
        max_per_user    = { count = 3, period_seconds = 3600 }
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Alert", text = "Alert." } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_overflow_digest_without_a_digest" {
  command = plan

  variables {
    notification_types = {
      promotion = {
        channels        = ["email"]
        max_per_user    = { count = 3, period_seconds = 86400, overflow = "digest" }
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Sale", text = "Sale." } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_an_unclosed_or_nested_each_block" {
  command = plan

  variables {
    notification_types = {
      price_drop = {
        channels        = ["email"]
        digest          = { window_seconds = 3600, max_items = 10 }
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Drops", text = "{{#each digest.items}}{{#each digest.items}}x{{/each}}{{/each}}" } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}

run "rejects_a_data_field_in_a_digest_template" {
  command = plan

  variables {
    notification_types = {
      price_drop = {
        channels        = ["email"]
        digest          = { window_seconds = 3600, max_items = 10 }
        fallback_locale = "en"
        templates       = { en = { email = { subject = "Price drop: {{ product }}", text = "{{#each digest.items}}{{ item.product }}{{/each}}" } } }
      }
    }
  }

  expect_failures = [var.notification_types]
}
