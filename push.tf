# The mobile push channel (docs/notification-service.md, section 7): SNS platform applications for APNs and FCM,
# the push queue and the worker that publishes each channel message to every registered device of its user.
# Off until var.push is set.
#
# Platform credentials (APNs signing key or certificate, FCM service account) never pass through Terraform: the
# caller stores them in Secrets Manager and gives the secret's ARN; the provisioner function reads the secret and
# creates, updates and deletes the platform application itself (aws_lambda_invocation with the CRUD lifecycle),
# so neither the variables nor the state hold a credential. Existing applications are used by ARN instead.

locals {
  push_platforms = local.push_enabled ? var.push.platforms : {}

  # SNS platform names (FCM is "GCM" in SNS).
  sns_platform_names = { apns = "APNS", apns_sandbox = "APNS_SANDBOX", fcm = "GCM" }

  provisioned_platforms = { for k, p in local.push_platforms : k => p if p.credentials_secret_arn != null }
  push_application_names = {
    for k in keys(local.provisioned_platforms) : k => "${var.name}-${replace(k, "_", "-")}"
  }

  # Known at plan time (SNS names an application arn:<partition>:sns:<region>:<account>:app/<PLATFORM>/<name>), so
  # the roles can be scoped to exactly these applications; the provisioner's answer is checked against it.
  push_platform_application_arns = merge(
    { for k, p in local.push_platforms : k => p.platform_application_arn if p.platform_application_arn != null },
    {
      for k, n in local.push_application_names :
      k => "${local.arn_prefix}:sns:${local.region}:${local.account_id}:app/${local.sns_platform_names[k]}/${n}"
    },
  )

  # Endpoints of an application: arn:...:endpoint/<PLATFORM>/<application name>/<endpoint id>.
  push_platform_endpoint_arns = [for arn in values(local.push_platform_application_arns) : "${replace(arn, ":app/", ":endpoint/")}/*"]

  push_secret_arns     = distinct([for p in values(local.provisioned_platforms) : p.credentials_secret_arn])
  push_secret_key_arns = distinct([for p in values(local.provisioned_platforms) : p.credentials_secret_kms_key_arn if p.credentials_secret_kms_key_arn != null])

  push_platforms_environment = {
    POWERTOOLS_SERVICE_NAME = "${var.name}-push-platforms"
    POWERTOOLS_LOG_LEVEL    = var.log_level
  }
}

# One invocation per platform with credentials: "create" creates the application, "update" (a changed secret ARN)
# sets its attributes again, "delete" (platform removed or destroy) deletes it. The input carries only names and
# the secret's ARN; the result only the application's ARN.
resource "aws_lambda_invocation" "push_platform" {
  for_each = local.provisioned_platforms

  function_name   = module.lambda_functions["push_platforms"].function_name
  lifecycle_scope = "CRUD"

  input = jsonencode({
    platform               = each.key
    sns_platform           = local.sns_platform_names[each.key]
    name                   = local.push_application_names[each.key]
    credentials_secret_arn = each.value.credentials_secret_arn
  })

  lifecycle {
    postcondition {
      condition     = try(jsondecode(self.result).platform_application_arn, null) == local.push_platform_application_arns[each.key]
      error_message = "The push-platforms function must answer {\"platform_application_arn\": \"${local.push_platform_application_arns[each.key]}\"} (the roles are scoped to that ARN)."
    }
  }
}
