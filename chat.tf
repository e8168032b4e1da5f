# The chat channel (docs/notification-service.md, section 7): the chat queue and the worker that posts each
# notification of a type with the chat channel to the type's chat_targets (Slack, Microsoft Teams, Amazon Chime
# or any HTTPS endpoint), once per notification and target. Off until var.chat is set.
#
# Webhook URLs never pass through Terraform: a Slack, Teams or Chime incoming-webhook URL carries its secret in
# its path, so the caller stores it in Secrets Manager and gives the secret's ARN; the worker reads it at run time
# (cached briefly) and checks it (https, the platform's hosts) before every post. EventBridge API destinations
# were not used: their invocation_endpoint is a plain argument of aws_cloudwatch_event_api_destination, so the URL
# (the secret) would sit in the variables and the state; connections keep only header/query/OAuth credentials in
# Secrets Manager, which these webhooks do not use (design document, "Why not API destinations").

locals {
  chat_enabled = var.create && var.chat != null
  chat_targets = local.chat_enabled ? var.chat.targets : {}

  chat_secret_arns     = distinct([for t in values(local.chat_targets) : t.webhook_secret_arn])
  chat_secret_key_arns = distinct([for t in values(local.chat_targets) : t.webhook_secret_kms_key_arn if t.webhook_secret_kms_key_arn != null])

  # CHAT_TARGETS: target -> platform and secret ARN (no URL).
  chat_targets_environment = jsonencode({
    for k, t in local.chat_targets : k => { platform = t.platform, secret_arn = t.webhook_secret_arn }
  })

  chat_policy_statements = concat(
    [
      {
        # Exactly the secrets named in chat.targets.
        sid        = "ReadWebhookSecrets"
        actions    = ["secretsmanager:GetSecretValue"]
        resources  = local.chat_secret_arns
        conditions = []
      },
    ],
    length(local.chat_secret_key_arns) == 0 ? [] : [
      {
        # A secret under a customer-managed key is decrypted through Secrets Manager only, and only for these
        # secrets (Secrets Manager's encryption context names the secret).
        sid       = "DecryptWebhookSecrets"
        actions   = ["kms:Decrypt"]
        resources = local.chat_secret_key_arns
        conditions = [
          { test = "StringEquals", variable = "kms:ViaService", values = ["secretsmanager.${local.region}.${local.dns_suffix}"] },
          { test = "StringEquals", variable = "kms:EncryptionContext:SecretARN", values = local.chat_secret_arns },
        ]
      },
    ],
  )
}
