# Inputs of the notification service (the repository's root module). Design and contracts:
# docs/notification-service.md.

variable "create" {
  description = "Whether to create any resources. When false the module is a no-op and every output is null."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Base name of every resource: the bus, queues (<name>-ingest, <name>-email, ...), tables (<name>-catalog, ...), functions (<name>-router, <name>-email-worker, <name>-email-feedback) and alarms."
  type        = string
  default     = "notifications"
  nullable    = false

  validation {
    # The longest derived name is the feedback function's DLQ "<name>-email-feedback-dlq" (SQS: 80 chars) and
    # the function "<name>-email-feedback" (Lambda: 64); 32 leaves room for both.
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,31}$", var.name))
    error_message = "name must be 1-32 characters of lowercase letters, digits or '-', starting with a letter or digit."
  }
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    # AWS tagging rules shared by every service these modules tag; "aws:" keys are reserved for AWS.
    condition = alltrue([
      for k, v in var.tags : can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]{1,128}$", k)) && !startswith(lower(k), "aws:") &&
      can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]{0,256}$", v))
    ])
    error_message = "tags: keys must be 1-128 and values at most 256 characters of letters, digits, spaces and _ . : / = + - @, and keys must not start with the reserved \"aws:\" prefix."
  }
}

variable "notification_types" {
  description = <<-EOT
    The notification types producers may send (the event's detail-type), keyed by type name. Each becomes one
    item of the catalog table, read by the router at run time: changing a template is an apply of one item.
      critical        - true: ignores opt-outs and the global mute, and carries no List-Unsubscribe header
      allowed_sources - EventBridge sources (the event's `source`) that may send this type; an event from any
                        other source is rejected to the ingest DLQ (reason source_not_allowed). Required for a
                        critical type (users cannot opt out of it); null (default for others): every source the
                        ingest rule admits. Bind each producer to its source with the output
                        producer_policy_documents: the router can trust `source` only that far.
      channels        - channels the type is delivered on, each of them: email, websocket, push, chat, sms,
                        inbox (a channel other than email needs its input, `websocket`, `push`, `chat`, `sms`
                        or `inbox`, to be set); may be [] with fallback
      chat_targets    - with the chat channel: the chat targets (keys of chat.targets) each notification of the
                        type is posted to, once per notification and target whatever the number of recipients
      fallback        - ordered channels of which exactly ONE is used per recipient: the first one that can
                        reach them (email: a verified, unsuppressed address; push: a device; websocket: an open
                        connection; sms: a verified number; inbox: everyone) and that preferences and the operators' channel
                        switches leave. Logged fallback_used when it is not the first. Distinct, enabled, none
                        also in channels; not chat (posted to the type's targets, not to a recipient)
      fallback_locale - locale used when the recipient's locale and language have no template; it must have
                        a template for every channel of the type
      max_per_user    - frequency cap: at most `count` (1-1,000) deliveries per user and fixed period of
                        `period_seconds` (60-2,592,000, aligned to the epoch); beyond it `overflow` = "drop"
                        (default; logged suppressed_frequency_cap) or "digest" (folded into the user's digest:
                        the type must declare digest). Not on a critical type.
      digest          - collect the events per user for `window_seconds` (60-604,800) and deliver them as one
                        message at the window's end, rendered with digest.count and the first `max_items`
                        (1-50) items ({{#each digest.items}}...{{/each}}). Each event logs `digested`. Not on a
                        critical type nor with chat. With max_per_user (overflow = "digest"): the first `count`
                        per period are delivered at once, the rest digested.
      defer_email_in_quiet_hours - true: the type's email waits for the end of the recipient's quiet hours like
                        push and sms always do (an email that rings a phone); not for a critical type (critical
                        types ignore quiet hours), and the type must have email in channels or fallback
      templates       - locale (en, de-AT) -> channel -> template; email = subject (<= 200 characters),
                        text, optional html; websocket = body; push = title (<= 200 characters), body;
                        chat = optional title (<= 150 characters), text (<= 3,000): plain text, rendered once
                        in the fallback locale without `user` variables, escaped for the platform.
                        sms = text (<= 1,600 characters; the worker also bounds its rendered segments).
                        inbox = title (<= 200 characters), body (<= 4,000), optional url (https://).
                        {{ path }} placeholders, see the design document.
  EOT
  type = map(object({
    critical        = optional(bool, false)
    allowed_sources = optional(list(string))
    channels        = optional(list(string), [])
    chat_targets    = optional(list(string))
    fallback        = optional(list(string))
    fallback_locale = string
    # Frequency caps and digests (docs/notification-service.md, "Frequency caps and digests").
    max_per_user = optional(object({
      count          = number
      period_seconds = number
      overflow       = optional(string, "drop")
    }))
    digest = optional(object({
      window_seconds = number
      max_items      = number
    }))
    # Quiet hours hold push and sms always; email only of the types that set this (docs: "Quiet hours").
    defer_email_in_quiet_hours = optional(bool, false)
    templates = map(object({
      email = optional(object({
        subject = string
        text    = string
        html    = optional(string)
      }))
      websocket = optional(object({
        body = string
      }))
      push = optional(object({
        title = string
        body  = string
      }))
      chat = optional(object({
        title = optional(string)
        text  = string
      }))
      sms = optional(object({
        text = string
      }))
      inbox = optional(object({
        title = string
        body  = string
        url   = optional(string)
      }))
    }))
  }))
  nullable = false

  validation {
    condition     = length(var.notification_types) > 0
    error_message = "notification_types must declare at least one type: the router rejects every event whose detail-type is not declared."
  }

  validation {
    condition     = alltrue([for k in keys(var.notification_types) : can(regex("^[a-z][a-z0-9_]{0,63}$", k))])
    error_message = "notification_types keys are the events' detail-type: 1-64 characters of lowercase letters, digits and '_', starting with a letter (e.g. order_shipped)."
  }

  validation {
    condition = alltrue([
      for t in values(var.notification_types) : (length(t.channels) > 0 || t.fallback != null) && length(distinct(t.channels)) == length(t.channels) &&
      alltrue([for c in t.channels : contains(["email", "websocket", "push", "chat", "sms", "inbox"], c)])
    ])
    error_message = "notification_types[*].channels must be a list of distinct channels from email, websocket, push, chat, sms, inbox, non-empty unless the type has a fallback list."
  }

  validation {
    # Exactly one fallback channel is used per recipient; a channel in both lists would be delivered twice.
    condition = alltrue([
      for t in values(var.notification_types) : t.fallback == null || try(
        length(t.fallback) > 0 && length(distinct(t.fallback)) == length(t.fallback) &&
        alltrue([for c in t.fallback : contains(["email", "websocket", "push", "sms", "inbox"], c) && !contains(t.channels, c)]),
        false
      )
    ])
    error_message = "notification_types[*].fallback must be a non-empty ordered list of distinct channels from email, websocket, push, sms, inbox (not chat), none of them also in channels (leave it unset for no fallback)."
  }

  validation {
    # The router refuses the same definition (the type's events would be rejected): refuse it at plan instead.
    condition = alltrue([
      for t in values(var.notification_types) : !t.defer_email_in_quiet_hours || (
        !t.critical && contains(concat(t.channels, t.fallback == null ? [] : t.fallback), "email")
      )
    ])
    error_message = "notification_types[*].defer_email_in_quiet_hours needs a non-critical type (critical types ignore quiet hours) with email in channels or fallback."
  }

  validation {
    condition = alltrue([
      for t in values(var.notification_types) : alltrue([
        for l in concat([t.fallback_locale], keys(t.templates)) : can(regex("^[a-z]{2,3}(-[A-Z]{2})?$", l))
      ])
    ])
    error_message = "notification_types[*]: locales (fallback_locale and the templates keys) must look like en or de-AT (language, optionally '-' and a region)."
  }

  validation {
    condition = alltrue([
      for t in values(var.notification_types) : contains(keys(t.templates), t.fallback_locale) &&
      alltrue([for c in concat(t.channels, t.fallback == null ? [] : t.fallback) : try(t.templates[t.fallback_locale][c] != null, false)])
    ])
    error_message = "notification_types[*]: the fallback_locale must have a template for every channel of the type (channels and fallback)."
  }

  validation {
    condition = alltrue([
      for t in values(var.notification_types) : alltrue([
        for tpl in values(t.templates) : (tpl.email == null || contains(concat(t.channels, t.fallback == null ? [] : t.fallback), "email")) &&
        (tpl.websocket == null || contains(concat(t.channels, t.fallback == null ? [] : t.fallback), "websocket")) &&
        (tpl.push == null || contains(concat(t.channels, t.fallback == null ? [] : t.fallback), "push")) &&
        (tpl.chat == null || contains(t.channels, "chat")) &&
        (tpl.sms == null || contains(concat(t.channels, t.fallback == null ? [] : t.fallback), "sms")) &&
        (tpl.inbox == null || contains(concat(t.channels, t.fallback == null ? [] : t.fallback), "inbox"))
      ])
    ])
    error_message = "notification_types[*].templates: a template for a channel the type lists in neither channels nor fallback would never be used."
  }

  validation {
    condition = alltrue(flatten([
      for t in values(var.notification_types) : [
        for tpl in values(t.templates) : tpl.email == null ? true : try(
          length(trimspace(tpl.email.subject)) > 0 && length(tpl.email.subject) <= 200 && !strcontains(tpl.email.subject, "\n") &&
          length(trimspace(tpl.email.text)) > 0 && (tpl.email.html == null || length(trimspace(coalesce(tpl.email.html, " "))) > 0),
          false
        )
      ]
    ]))
    error_message = "notification_types[*].templates[*].email: subject must be 1-200 characters on one line, text must not be empty, and html (optional) must not be empty when given."
  }

  validation {
    # HTML-escaping does not defuse a URL: javascript:, data:, http: or a relative URL in an href survives it. A literal
    # URL attribute value must be https:// or mailto:, or begin with a {{ placeholder }}, whose rendered value the
    # router checks the same way (an event that renders anything else is rejected naming the variable).
    condition = alltrue(flatten([
      for t in values(var.notification_types) : [
        for tpl in values(t.templates) : [
          for m in try(regexall("(?i)(?:^|[\\s\"'/])(?:href|src|action|formaction|xlink:href|poster|background|cite)\\s*=\\s*(\"[^\"]*\"|'[^']*'|[^\\s>]*)", tpl.email.html), []) :
          can(regex("^[\"']?(?i:https://|mailto:|\\{\\{)", m[0]))
        ]
      ]
    ]))
    error_message = "notification_types[*].templates[*].email.html: every href, src, action, formaction, xlink:href, poster, background and cite value must be an absolute https:// or mailto: URL or begin with a {{ placeholder }} (whose value must then render as one); javascript:, data:, http: and relative URLs are refused."
  }

  validation {
    # API Gateway refuses a WebSocket frame over 128 KiB; the worker records a larger rendered body as failed.
    condition = alltrue(flatten([
      for t in values(var.notification_types) : [
        for tpl in values(t.templates) : tpl.websocket == null ? true : try(
          length(trimspace(tpl.websocket.body)) > 0 && length(tpl.websocket.body) <= 65536, false
        )
      ]
    ]))
    error_message = "notification_types[*].templates[*].websocket: body must not be empty and at most 65,536 characters (a WebSocket frame holds 128 KiB)."
  }

  validation {
    # APNs and FCM accept payloads of 4 KB: a title is one line, the body a few paragraphs at most.
    condition = alltrue(flatten([
      for t in values(var.notification_types) : [
        for tpl in values(t.templates) : tpl.push == null ? true : try(
          length(trimspace(tpl.push.title)) > 0 && length(tpl.push.title) <= 200 && !strcontains(tpl.push.title, "\n") &&
          length(trimspace(tpl.push.body)) > 0 && length(tpl.push.body) <= 3000,
          false
        )
      ]
    ]))
    error_message = "notification_types[*].templates[*].push: title must be 1-200 characters on one line and body 1-3,000 characters (APNs and FCM payloads hold 4 KB)."
  }

  validation {
    # An inbox item is a list entry: a one-line title and a short body; the whole page of items must stay small.
    condition = alltrue(flatten([
      for t in values(var.notification_types) : [
        for tpl in values(t.templates) : tpl.inbox == null ? true : try(
          length(trimspace(tpl.inbox.title)) > 0 && length(tpl.inbox.title) <= 200 && !strcontains(tpl.inbox.title, "\n") &&
          length(trimspace(tpl.inbox.body)) > 0 && length(tpl.inbox.body) <= 4000,
          false
        )
      ]
    ]))
    error_message = "notification_types[*].templates[*].inbox: title must be 1-200 characters on one line and body 1-4,000 characters."
  }

  validation {
    # The inbox url is a link the app opens: like an email href, a literal must be https:// (javascript:, data:,
    # http: and relative URLs are refused) or begin with a {{ placeholder }}, whose rendered value the router checks.
    condition = alltrue(flatten([
      for t in values(var.notification_types) : [
        for tpl in values(t.templates) : try(tpl.inbox.url, null) == null ? true : try(
          can(regex("^(?i:https://[^\\s/\\\\]|\\{\\{)", tpl.inbox.url)) && length(tpl.inbox.url) <= 2048 &&
          !can(regex("\\s", replace(tpl.inbox.url, "/\\{\\{[^}]*\\}\\}/", ""))),
          false
        )
      ]
    ]))
    error_message = "notification_types[*].templates[*].inbox.url must be an absolute https:// URL without spaces outside its {{ placeholders }} (at most 2,048 characters) or begin with a {{ placeholder }} (whose value must then render as one); javascript:, data:, http: and relative URLs are refused."
  }

  validation {
    # Chat is posted once per notification (no recipient): a `user` placeholder could never be filled. Slack's
    # header holds 150 characters and a section 3,000; the worker escapes the rendered text for the platform.
    condition = alltrue(flatten([
      for t in values(var.notification_types) : [
        for tpl in values(t.templates) : tpl.chat == null ? true : try(
          length(trimspace(tpl.chat.text)) > 0 && length(tpl.chat.text) <= 3000 &&
          (tpl.chat.title == null || (length(trimspace(coalesce(tpl.chat.title, " "))) > 0 && length(coalesce(tpl.chat.title, " ")) <= 150 && !strcontains(coalesce(tpl.chat.title, " "), "\n"))) &&
          !can(regex("\\{\\{\\s*user(\\.|\\s*\\}\\})", "${tpl.chat.text} ${coalesce(tpl.chat.title, " ")}")),
          false
        )
      ]
    ]))
    error_message = "notification_types[*].templates[*].chat: text must be 1-3,000 characters, title (optional) 1-150 characters on one line, and neither may use {{ user.* }}: a chat message is posted once per notification, not per recipient."
  }

  validation {
    condition = alltrue([
      for t in values(var.notification_types) : contains(t.channels, "chat") ? try(
        length(t.chat_targets) > 0 && length(distinct(t.chat_targets)) == length(t.chat_targets) &&
        alltrue([for c in t.chat_targets : can(regex("^[a-z][a-z0-9_-]{0,63}$", c))]),
        false
      ) : t.chat_targets == null
    ])
    error_message = "notification_types[*].chat_targets: a type with the chat channel must list the distinct chat targets (keys of chat.targets, e.g. [\"ops\"]) it is posted to; a type without it must not set chat_targets."
  }

  validation {
    # SNS accepts 1,600 bytes of SMS text (10 GSM-7 segments); the worker bounds the rendered text by sms.max_segments.
    condition = alltrue(flatten([
      for t in values(var.notification_types) : [
        for tpl in values(t.templates) : tpl.sms == null ? true : try(
          length(trimspace(tpl.sms.text)) > 0 && length(tpl.sms.text) <= 1600, false
        )
      ]
    ]))
    error_message = "notification_types[*].templates[*].sms: text must not be empty and at most 1,600 characters (SNS's SMS limit; keep it within sms.max_segments segments: 160 GSM-7 or 70 UCS-2 characters alone, 153 or 67 per part)."
  }

  validation {
    # A critical type ignores opt-outs and the mute and has no unsubscribe link: a producer that may send it can
    # reach every user with mail they cannot stop, so who may send it is never left open.
    condition     = alltrue([for t in values(var.notification_types) : !t.critical || t.allowed_sources != null])
    error_message = "notification_types[*]: a critical type must list the EventBridge sources allowed to send it in allowed_sources (e.g. allowed_sources = [\"com.example.identity\"]): its users cannot opt out of it."
  }

  validation {
    condition = alltrue([
      for t in values(var.notification_types) : t.allowed_sources == null || try(
        length(t.allowed_sources) > 0 && length(distinct(t.allowed_sources)) == length(t.allowed_sources) &&
        alltrue([for s in t.allowed_sources : length(s) >= 1 && length(s) <= 256 && !startswith(s, "aws.")]),
        false
      )
    ])
    error_message = "notification_types[*].allowed_sources must be a non-empty list of distinct event sources of 1-256 characters, none starting with \"aws.\" (reserved for AWS services); leave it unset to admit every source."
  }

  validation {
    condition = alltrue([
      for t in values(var.notification_types) : t.max_per_user == null || try(
        t.max_per_user.count >= 1 && t.max_per_user.count <= 1000 && floor(t.max_per_user.count) == t.max_per_user.count &&
        t.max_per_user.period_seconds >= 60 && t.max_per_user.period_seconds <= 2592000 &&
        floor(t.max_per_user.period_seconds) == t.max_per_user.period_seconds &&
        contains(["drop", "digest"], t.max_per_user.overflow) && !t.critical,
        false
      )
    ])
    error_message = "notification_types[*].max_per_user: count must be a whole number 1-1000, period_seconds a whole number of seconds 60-2592000 (30 days), overflow \"drop\" or \"digest\"; a critical type cannot be capped (it is never dropped)."
  }

  validation {
    condition = alltrue([
      for t in values(var.notification_types) : t.digest == null || try(
        t.digest.window_seconds >= 60 && t.digest.window_seconds <= 604800 && floor(t.digest.window_seconds) == t.digest.window_seconds &&
        t.digest.max_items >= 1 && t.digest.max_items <= 50 && floor(t.digest.max_items) == t.digest.max_items &&
        !t.critical && !contains(t.channels, "chat"),
        false
      )
    ])
    error_message = "notification_types[*].digest: window_seconds must be a whole number of seconds 60-604800 (7 days) and max_items a whole number 1-50 (the items listed; the count covers them all); a critical type or a type with the chat channel cannot have a digest."
  }

  validation {
    # overflow = "digest" folds what is over the cap into the digest, so the type needs one; a digest type with a
    # cap that drops would drop what it should collect.
    condition = alltrue([
      for t in values(var.notification_types) : t.max_per_user == null || try(
        (t.max_per_user.overflow == "digest") == (t.digest != null), false
      )
    ])
    error_message = "notification_types[*].max_per_user.overflow = \"digest\" needs the type to declare digest = { window_seconds, max_items }, and a type with digest may only use overflow = \"digest\"."
  }

  validation {
    # A digest is rendered with digest, user and notification only (item inside a block): a placeholder naming a
    # field of the event's own data would fail every flush (the router refuses the type when it loads it too).
    condition = alltrue(flatten([
      for t in values(var.notification_types) : [
        for tpl in values(t.templates) : [
          for field in flatten([for channel in values(tpl) : channel == null ? [] : [for v in values(channel) : v if v != null]]) :
          t.digest == null || alltrue([for root in regexall("\\{\\{\\s*([A-Za-z_][A-Za-z0-9_-]*)", field) : contains(["digest", "user", "notification", "item"], root[0])])
        ]
      ]
    ]))
    error_message = "notification_types[*].templates of a type with digest may use only {{ digest.count }}, {{#each digest.items}}...{{ item.<field> }}...{{/each}}, {{ user.* }} and {{ notification.* }}: a digest has no single event's data."
  }

  validation {
    # {{#each path}}...{{/each}} lists digest items: one level, no nesting (templates.py checks the rest at load).
    condition = alltrue(flatten([
      for t in values(var.notification_types) : [
        for tpl in values(t.templates) : [
          for field in flatten([for channel in values(tpl) : channel == null ? [] : [for v in values(channel) : v if v != null]]) :
          # Split at each {{/each}}: every piece but the last opens exactly one block, the last opens none.
          alltrue([
            for n, piece in split("{{/each}}", field) :
            length(regexall("\\{\\{#each", piece)) == (n == length(split("{{/each}}", field)) - 1 ? 0 : 1)
          ])
        ]
      ]
    ]))
    error_message = "notification_types[*].templates: every {{#each digest.items}} must be closed by {{/each}}, and blocks cannot be nested."
  }

  validation {
    # One catalog item per type; DynamoDB items hold at most 400 KB (the key attributes and names count too).
    condition     = alltrue([for t in values(var.notification_types) : length(jsonencode(t)) <= 350000])
    error_message = "notification_types[*]: a type's templates must stay under 350,000 characters of JSON (a DynamoDB item holds 400 KB)."
  }
}

variable "event_sources" {
  description = "Event `source` values the ingest rule admits. Empty (default): every event put on the service's bus."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for s in var.event_sources : length(s) >= 1 && length(s) <= 256 && !startswith(s, "aws.")])
    error_message = "event_sources must be 1-256 characters each and must not start with \"aws.\" (reserved for AWS services; custom events cannot use it)."
  }

  validation {
    condition     = length(distinct(var.event_sources)) == length(var.event_sources)
    error_message = "event_sources must not contain duplicates."
  }
}

variable "archive_retention_days" {
  description = "Days the bus archive keeps every event (replayable with StartReplay). 0 keeps events indefinitely."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.archive_retention_days >= 0 && floor(var.archive_retention_days) == var.archive_retention_days
    error_message = "archive_retention_days must be a whole number of days, 0 (indefinitely) or more."
  }
}

variable "email" {
  description = <<-EOT
    The email channel.
      from_address             - From address of every email; it must be the SES identity or belong to its domain
      create_identity          - true: the module creates the SES identity (an address receives a verification
                                 link; a domain needs the DKIM CNAMEs of the output ses_identity_dkim_tokens)
      identity                 - SES identity (domain or address); default: from_address
      identity_arn             - ARN of an existing identity to send from instead (e.g. another account's, with a
                                 sending authorization policy); not with create_identity
      configuration_set_name   - existing SES configuration set to use; the module adds its bounce/complaint event
                                 destination to it. null (default): the module creates "<name>"
      require_tls              - module-created configuration set: deliver only over TLS (default true)
      unsubscribe_url_template - https URL containing {token}: non-critical emails carry List-Unsubscribe (one-click)
  EOT
  type = object({
    from_address             = string
    create_identity          = optional(bool, false)
    identity                 = optional(string)
    identity_arn             = optional(string)
    configuration_set_name   = optional(string)
    require_tls              = optional(bool, true)
    unsubscribe_url_template = optional(string)
  })
  nullable = false

  validation {
    condition     = can(regex("^[^@\\s,;<>\"]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", lower(var.email.from_address)))
    error_message = "email.from_address must be a single email address such as notifications@example.com."
  }

  validation {
    condition = var.email.identity == null ? true : (
      can(regex("^[^@\\s,;<>\"]+@[^@\\s,;<>\"]+\\.[A-Za-z]{2,}$", coalesce(var.email.identity, "x"))) ||
      can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", coalesce(var.email.identity, "x")))
    )
    error_message = "email.identity must be an email address or a lowercase domain name (example.com)."
  }

  validation {
    condition     = var.email.identity_arn == null || can(regex("^arn:aws[a-zA-Z-]*:ses:[a-z0-9-]+:[0-9]{12}:identity/.+$", coalesce(var.email.identity_arn, "x")))
    error_message = "email.identity_arn must be an SES identity ARN (arn:aws:ses:<region>:<account>:identity/<domain or address>)."
  }

  validation {
    condition     = !(var.email.create_identity && var.email.identity_arn != null)
    error_message = "email: set create_identity or identity_arn, not both (identity_arn names an identity that already exists)."
  }

  validation {
    condition     = var.email.configuration_set_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", coalesce(var.email.configuration_set_name, "x")))
    error_message = "email.configuration_set_name must be 1-64 characters of letters, digits, '_' or '-'."
  }

  validation {
    condition = var.email.unsubscribe_url_template == null || try(
      startswith(var.email.unsubscribe_url_template, "https://") && strcontains(var.email.unsubscribe_url_template, "{token}") &&
      length(var.email.unsubscribe_url_template) <= 1024 && !can(regex("\\s", var.email.unsubscribe_url_template)),
      false
    )
    error_message = "email.unsubscribe_url_template must be an https:// URL without spaces containing {token} (e.g. https://example.com/unsubscribe?token={token})."
  }
}

variable "enrichment" {
  description = <<-EOT
    Where recipient profiles come from. Default: the module's users table (<name>-users).
      function_arn            - custom enrichment Lambda, invoked synchronously by the router (contract in the design
                                document); no users table is created or read
      users_table_arn         - an existing users table (key user_id) instead of the module's
      users_table_kms_key_arn - that table's customer-managed key (the router gets kms:Decrypt on it via DynamoDB)
  EOT
  type = object({
    function_arn            = optional(string)
    users_table_arn         = optional(string)
    users_table_kms_key_arn = optional(string)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.enrichment.function_arn == null || can(regex("^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$", coalesce(var.enrichment.function_arn, "x")))
    error_message = "enrichment.function_arn must be a Lambda function ARN (optionally with a version or alias)."
  }

  validation {
    condition     = var.enrichment.users_table_arn == null || can(regex("^arn:aws[a-zA-Z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$", coalesce(var.enrichment.users_table_arn, "x")))
    error_message = "enrichment.users_table_arn must be a DynamoDB table ARN (arn:aws:dynamodb:<region>:<account>:table/<name>)."
  }

  validation {
    condition     = var.enrichment.users_table_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", coalesce(var.enrichment.users_table_kms_key_arn, "x")))
    error_message = "enrichment.users_table_kms_key_arn must be a KMS key ARN."
  }

  validation {
    condition     = !(var.enrichment.function_arn != null && var.enrichment.users_table_arn != null)
    error_message = "enrichment: set function_arn or users_table_arn, not both (with a custom function the users table is not read)."
  }

  validation {
    condition     = var.enrichment.users_table_kms_key_arn == null || var.enrichment.users_table_arn != null
    error_message = "enrichment.users_table_kms_key_arn is only used with users_table_arn."
  }
}

variable "workers" {
  description = <<-EOT
    Tuning of the queue workers (modules/queue-worker), keyed by worker: router (the ingest queue) and the
    channels email, websocket, push, chat, sms and inbox. Every field is optional; a field not set keeps the
    worker's default.
      batch_size / maximum_batching_window_in_seconds - records per invocation and how long SQS gathers them
                            (a batch above 10 needs a window of at least 1 s). Defaults: router and email 100
                            with 1 s, websocket, push and sms 10 with 0 s, chat 5 with 0 s
      maximum_concurrency - at most this many concurrent invocations from the queue (2-1000; router 10, chat 2,
                            others 5). For chat it also bounds the request rate to the webhooks.
                            For email it also bounds the SES send rate: keep it below your SES sending quota
      max_receive_count   - receives before a message moves to the worker's DLQ (1-1000; default 5)
      timeout / memory_size - of the function (default 60 s; router 512 MB, others 256 MB); the queue's
                            visibility timeout is 6 x timeout + the window
  EOT
  type = map(object({
    batch_size                         = optional(number)
    maximum_batching_window_in_seconds = optional(number)
    maximum_concurrency                = optional(number)
    max_receive_count                  = optional(number)
    timeout                            = optional(number)
    memory_size                        = optional(number)
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for key in keys(var.workers) : contains(["router", "email", "websocket", "push", "chat", "sms", "inbox"], key)])
    error_message = "workers keys must be router, email, websocket, push, chat, sms or inbox (a worker that does not exist cannot be tuned)."
  }

  validation {
    condition = alltrue([
      for w in values(var.workers) : (w.batch_size == null || try(w.batch_size >= 1 && w.batch_size <= 10000 && floor(w.batch_size) == w.batch_size, false)) &&
      (w.maximum_batching_window_in_seconds == null || try(w.maximum_batching_window_in_seconds >= 0 && w.maximum_batching_window_in_seconds <= 300, false)) &&
      (w.batch_size == null || w.maximum_batching_window_in_seconds == null || try(w.batch_size <= 10 || w.maximum_batching_window_in_seconds >= 1, false))
    ])
    error_message = "workers[*]: batch_size must be a whole number 1-10000 and maximum_batching_window_in_seconds 0-300; a batch_size above 10 needs a window of at least 1 second (SQS event source rule)."
  }

  validation {
    condition = alltrue([
      for w in values(var.workers) : (w.maximum_concurrency == null || try(w.maximum_concurrency >= 2 && w.maximum_concurrency <= 1000 && floor(w.maximum_concurrency) == w.maximum_concurrency, false)) &&
      (w.max_receive_count == null || try(w.max_receive_count >= 1 && w.max_receive_count <= 1000 && floor(w.max_receive_count) == w.max_receive_count, false))
    ])
    error_message = "workers[*]: maximum_concurrency must be a whole number 2-1000 (SQS event source limits) and max_receive_count 1-1000."
  }

  validation {
    # 6 x 900 + 300 stays within SQS's 12-hour visibility limit; 900 s is also Lambda's maximum.
    condition = alltrue([
      for w in values(var.workers) : (w.timeout == null || try(w.timeout >= 1 && w.timeout <= 900 && floor(w.timeout) == w.timeout, false)) &&
      (w.memory_size == null || try(w.memory_size >= 128 && w.memory_size <= 10240 && floor(w.memory_size) == w.memory_size, false))
    ])
    error_message = "workers[*]: timeout must be 1-900 seconds and memory_size 128-10240 MB (whole numbers)."
  }
}

variable "catalog_refresh_seconds" {
  description = "How long the router caches the catalog of notification types (CATALOG_REFRESH_SECONDS)."
  type        = number
  default     = 300
  nullable    = false

  validation {
    condition     = var.catalog_refresh_seconds >= 1 && var.catalog_refresh_seconds <= 86400 && floor(var.catalog_refresh_seconds) == var.catalog_refresh_seconds
    error_message = "catalog_refresh_seconds must be a whole number of seconds between 1 and 86400."
  }
}

variable "channel_switch_refresh_seconds" {
  description = "How long the router and the channel workers cache the operators' channel switches (CHANNEL_SWITCH_REFRESH_SECONDS): a channel switched off stops within this many seconds. Each execution environment reads the switches once per period (one Query)."
  type        = number
  default     = 10
  nullable    = false

  validation {
    # Longer than 5 minutes is no emergency switch any more.
    condition     = var.channel_switch_refresh_seconds >= 1 && var.channel_switch_refresh_seconds <= 300 && floor(var.channel_switch_refresh_seconds) == var.channel_switch_refresh_seconds
    error_message = "channel_switch_refresh_seconds must be a whole number of seconds between 1 and 300 (the kill switch must act within minutes at most)."
  }
}

variable "delivery_log_ttl_days" {
  description = "Days a delivery-log row is kept (DynamoDB TTL on expires_at; DELIVERY_LOG_TTL_DAYS)."
  type        = number
  default     = 90
  nullable    = false

  validation {
    condition     = var.delivery_log_ttl_days >= 1 && var.delivery_log_ttl_days <= 3650 && floor(var.delivery_log_ttl_days) == var.delivery_log_ttl_days
    error_message = "delivery_log_ttl_days must be a whole number between 1 and 3650."
  }
}

variable "idempotency_ttl_seconds" {
  description = "How long a processed notification id (router) or delivery (workers) is remembered: a duplicate arriving later is processed again. Default 1 day, beyond EventBridge's 24-hour retry window."
  type        = number
  default     = 86400
  nullable    = false

  validation {
    condition     = var.idempotency_ttl_seconds >= 300 && var.idempotency_ttl_seconds <= 2592000 && floor(var.idempotency_ttl_seconds) == var.idempotency_ttl_seconds
    error_message = "idempotency_ttl_seconds must be a whole number between 300 (5 minutes) and 2592000 (30 days)."
  }
}

variable "table_deletion_protection" {
  description = "Deletion protection of every table. Keep true in production; set false for throwaway environments (destroy fails otherwise)."
  type        = bool
  default     = true
  nullable    = false
}

variable "alarm_topic_arn" {
  description = "Existing SNS topic for the alarms. null (default): the module creates a CMK-encrypted ops topic (<name>-ops). An existing topic's policy (and key policy, if encrypted) must let cloudwatch.amazonaws.com publish."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-zA-Z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", coalesce(var.alarm_topic_arn, "x")))
    error_message = "alarm_topic_arn must be an SNS topic ARN."
  }
}

variable "alarm_subscriptions" {
  description = "Subscriptions of the module-created ops topic, keyed by endpoint (an email address by default)."
  type = map(object({
    protocol = optional(string, "email")
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for s in values(var.alarm_subscriptions) : contains(["email", "email-json", "https"], s.protocol)])
    error_message = "alarm_subscriptions[*].protocol must be email, email-json or https."
  }

  validation {
    condition = alltrue([
      for endpoint, s in var.alarm_subscriptions : s.protocol == "https" ? startswith(endpoint, "https://") : can(regex("^[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}$", endpoint))
    ])
    error_message = "alarm_subscriptions keys must be email addresses (email protocols) or https:// URLs (https)."
  }
}

variable "ingest_age_alarm_threshold_seconds" {
  description = "Alarm when the oldest message of the ingest queue is older than this (the router is falling behind or failing)."
  type        = number
  default     = 300
  nullable    = false

  validation {
    condition     = var.ingest_age_alarm_threshold_seconds >= 60 && var.ingest_age_alarm_threshold_seconds <= 1209600
    error_message = "ingest_age_alarm_threshold_seconds must be between 60 and 1209600 (the queue's 14-day retention)."
  }
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before a scheduled deletion of the service CMK completes (7-30 days)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30 && floor(var.kms_key_deletion_window_in_days) == var.kms_key_deletion_window_in_days
    error_message = "kms_key_deletion_window_in_days must be a whole number between 7 and 30."
  }
}

variable "kms_key_aliases" {
  description = "Aliases of the service CMK, without \"alias/\". null (default): [name]."
  type        = list(string)
  default     = null

  validation {
    condition     = var.kms_key_aliases == null || alltrue([for a in coalesce(var.kms_key_aliases, []) : can(regex("^[A-Za-z0-9/_-]{1,250}$", a)) && !startswith(a, "alias/") && !startswith(lower(a), "aws/")])
    error_message = "kms_key_aliases must be 1-250 characters of letters, digits, '/', '_' or '-', without the \"alias/\" prefix (the module adds it) and not starting with \"aws/\"."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the functions' log groups (a value CloudWatch Logs accepts; 0 = never expire)."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_level" {
  description = "Log level of the handlers (POWERTOOLS_LOG_LEVEL)."
  type        = string
  default     = "INFO"
  nullable    = false

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "lambda_runtime" {
  description = "Python runtime of every function of the service. The packaged handlers ship python3.12 bytecode; on python3.11 or python3.13 every cold start compiles the sources instead (about 35-60 ms more, docs/benchmarks.md)."
  type        = string
  default     = "python3.12"
  nullable    = false

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be python3.11, python3.12 or python3.13."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of every function of the service: arm64 (default, cheaper) or x86_64."
  type        = string
  default     = "arm64"
  nullable    = false

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "lambda_package" {
  description = "Deployment package of the handlers. null (default): the committed dist/lambda.zip. Otherwise a local `filename`, or `s3_bucket` + `s3_key` (see the lambda-function module)."
  type = object({
    filename          = optional(string)
    s3_bucket         = optional(string)
    s3_key            = optional(string)
    s3_object_version = optional(string)
    source_code_hash  = optional(string)
  })
  default = null

  validation {
    condition = var.lambda_package == null ? true : (
      (var.lambda_package.filename != null) != (var.lambda_package.s3_bucket != null || var.lambda_package.s3_key != null)
      && (var.lambda_package.s3_bucket == null) == (var.lambda_package.s3_key == null)
    )
    error_message = "lambda_package needs exactly one source: filename, or s3_bucket together with s3_key."
  }
}

variable "lambda_code_signing_config_arn" {
  description = "Lambda code signing configuration for every function of the service (null = no code signing; see the lambda-function module)."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_code_signing_config_arn == null || can(regex("^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:code-signing-config:csc-[a-z0-9]{17}$", coalesce(var.lambda_code_signing_config_arn, "x")))
    error_message = "lambda_code_signing_config_arn must be a Lambda code signing config ARN."
  }
}

# --- WebSocket, mobile push and the registration API (docs/notification-service.md, section 7). Each is
# off (null) by default: nothing of a channel is created until its input is set.

variable "websocket" {
  description = <<-EOT
    The WebSocket channel (null = off): an API Gateway WebSocket API, its connections table, the websocket queue
    and DLQ, and the worker that posts to the user's open connections.
      stage_name             - stage of the API (the wss:// URL ends with it)
    Who may connect ($connect authorisation; the connection's user id, the one notifications are sent to):
      (default)              - the built-in JWT authorizer: the same token the registration API accepts (issuer,
                               audience, RS256 signature against the issuer's JWKS, exp/nbf/iat, token_use,
                               scopes); the user id is its `sub`, as on every other channel. The browser offers
                               the token as a subprotocol: new WebSocket(url, ["notifications", token]). Needs
                               registration_api (its jwt_issuer, jwt_audience and authorization_scopes are reused)
                               or `jwt`.
      jwt                    - issuer (https URL), audience (accepted aud / client_id values), scopes (optional:
                               a token must carry one of them), jwks_uri (optional https URL, default
                               <issuer>/.well-known/jwks.json, Cognito's and most OIDC issuers')
      authorizer             - your own Lambda REQUEST authorizer instead: function_arn (optionally with a
                               version or alias), identity_sources (route.request.header.<name> /
                               route.request.querystring.<name>), create_permission (default true: the module
                               lets this API invoke the function; false when the function is in another account
                               and its owner grants it). The user id is its principalId: make it the JWT sub.
      iam_authorization      - true: SigV4 (IAM) instead, an explicit opt-in. The user id is then the caller's
                               Cognito identity id (identity pool), NOT the JWT sub the registration API and
                               producers use: send notifications to that id. An IAM ARN is never a user id.
    At most one of jwt, authorizer and iam_authorization = true. A client can never choose its user id, and an
    id that is not a valid recipient (the event contract's pattern) is refused at $connect.
      throttling_burst_limit / throttling_rate_limit - default route throttling of the stage
      max_concurrent_posts   - PostToConnection calls one worker invocation makes at once (MAX_CONCURRENT_POSTS)
    Access logging of a WebSocket stage needs the account's API Gateway CloudWatch Logs role
    (aws_api_gateway_account, once per account and region).
  EOT
  type = object({
    stage_name = optional(string, "live")
    jwt = optional(object({
      issuer   = string
      audience = list(string)
      scopes   = optional(list(string), [])
      jwks_uri = optional(string)
    }))
    authorizer = optional(object({
      function_arn      = string
      identity_sources  = optional(list(string), ["route.request.header.Authorization"])
      create_permission = optional(bool, true)
    }))
    iam_authorization      = optional(bool, false)
    throttling_burst_limit = optional(number, 500)
    throttling_rate_limit  = optional(number, 1000)
    max_concurrent_posts   = optional(number, 16)
  })
  default = null

  validation {
    condition     = var.websocket == null || can(regex("^[A-Za-z0-9_-]{1,128}$", var.websocket.stage_name))
    error_message = "websocket.stage_name must be 1-128 characters of letters, digits, '_' or '-'."
  }

  validation {
    condition = var.websocket == null ? true : try(var.websocket.authorizer == null, false) || try(
      can(regex("^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$", var.websocket.authorizer.function_arn)) &&
      length(var.websocket.authorizer.identity_sources) > 0 &&
      alltrue([for s in var.websocket.authorizer.identity_sources : can(regex("^(route\\.request\\.(header|querystring)\\.[A-Za-z0-9_.-]+|stageVariables\\.[A-Za-z0-9_]+|context\\.[A-Za-z0-9_.]+)$", s))]),
      false
    )
    error_message = "websocket.authorizer: function_arn must be a Lambda function ARN (optionally with a version or alias) and identity_sources a non-empty list such as [\"route.request.header.Authorization\"] or [\"route.request.querystring.token\"]."
  }

  validation {
    condition = var.websocket == null ? true : try(
      length([for chosen in [var.websocket.jwt != null, var.websocket.authorizer != null, var.websocket.iam_authorization] : chosen if chosen]) <= 1,
      false
    )
    error_message = "websocket: choose at most one of jwt (the built-in JWT authorizer with another issuer), authorizer (your own Lambda authorizer) and iam_authorization = true (SigV4; its user ids are not the JWT sub)."
  }

  validation {
    condition = var.websocket == null ? true : try(var.websocket.jwt == null, false) || try(
      can(regex("^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[^\\s?#]*)?$", var.websocket.jwt.issuer)) &&
      length(var.websocket.jwt.audience) > 0 && alltrue([for a in var.websocket.jwt.audience : length(trimspace(a)) > 0]) &&
      alltrue([for s in var.websocket.jwt.scopes : can(regex("^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,256}$", s))]),
      false
    )
    error_message = "websocket.jwt: issuer must be the issuer's https:// URL without query or fragment (Cognito: https://cognito-idp.<region>.amazonaws.com/<pool id>), audience a non-empty list of non-empty client ids, scopes OAuth scope names without spaces or quotes."
  }

  validation {
    condition = var.websocket == null ? true : try(var.websocket.jwt.jwks_uri == null, true) || try(
      can(regex("^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[^\\s?#]*)?$", var.websocket.jwt.jwks_uri)), false
    )
    error_message = "websocket.jwt.jwks_uri must be an https:// URL without query or fragment (e.g. https://issuer.example.com/.well-known/jwks.json): the signing keys are never fetched over plain HTTP."
  }

  validation {
    condition = var.websocket == null ? true : try(
      var.websocket.throttling_burst_limit >= 0 && var.websocket.throttling_burst_limit <= 5000 && floor(var.websocket.throttling_burst_limit) == var.websocket.throttling_burst_limit &&
      var.websocket.throttling_rate_limit > 0 && var.websocket.throttling_rate_limit <= 10000,
      false
    )
    error_message = "websocket: throttling_burst_limit must be a whole number 0-5000 and throttling_rate_limit above 0 and at most 10000 requests per second (API Gateway's default account quota)."
  }

  validation {
    condition     = var.websocket == null ? true : try(var.websocket.max_concurrent_posts >= 1 && var.websocket.max_concurrent_posts <= 128 && floor(var.websocket.max_concurrent_posts) == var.websocket.max_concurrent_posts, false)
    error_message = "websocket.max_concurrent_posts must be a whole number between 1 and 128."
  }
}

variable "push" {
  description = <<-EOT
    The mobile push channel (null = off): SNS platform applications, the device tokens table, the push queue and
    DLQ, and the worker that publishes to the user's devices.
      platforms - keyed by platform: apns (production), apns_sandbox, fcm. Each takes exactly one of:
                    credentials_secret_arn         - Secrets Manager secret with the platform credentials (format:
                                                     design document, section 7); the module's provisioner function
                                                     creates, updates and deletes the platform application
                                                     "<name>-<platform>" from it, so the credentials never pass
                                                     through Terraform variables or state
                    credentials_secret_kms_key_arn - the secret's customer-managed key, if it has one
                    platform_application_arn       - an existing SNS platform application of that platform
  EOT
  type = object({
    platforms = map(object({
      credentials_secret_arn         = optional(string)
      credentials_secret_kms_key_arn = optional(string)
      platform_application_arn       = optional(string)
    }))
  })
  default = null

  validation {
    condition     = var.push == null ? true : try(length(var.push.platforms) > 0 && alltrue([for p in keys(var.push.platforms) : contains(["apns", "apns_sandbox", "fcm"], p)]), false)
    error_message = "push.platforms must configure at least one of apns, apns_sandbox, fcm (and no other key)."
  }

  validation {
    condition = var.push == null ? true : try(alltrue([
      for p in values(var.push.platforms) : (p.credentials_secret_arn == null) != (p.platform_application_arn == null) &&
      (p.credentials_secret_kms_key_arn == null || p.credentials_secret_arn != null)
    ]), false)
    error_message = "push.platforms[*]: set exactly one of credentials_secret_arn (the module creates the platform application) or platform_application_arn (an existing one); credentials_secret_kms_key_arn only with credentials_secret_arn."
  }

  validation {
    condition = var.push == null ? true : try(alltrue([
      for p in values(var.push.platforms) : (p.credentials_secret_arn == null || can(regex("^arn:aws[a-zA-Z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", p.credentials_secret_arn))) &&
      (p.credentials_secret_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", p.credentials_secret_kms_key_arn)))
    ]), false)
    error_message = "push.platforms[*]: credentials_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>) and credentials_secret_kms_key_arn a KMS key ARN."
  }

  validation {
    # SNS names the FCM platform GCM.
    condition = var.push == null ? true : try(alltrue([
      for k, p in var.push.platforms : p.platform_application_arn == null || can(regex(
        "^arn:aws[a-zA-Z-]*:sns:[a-z0-9-]+:[0-9]{12}:app/${lookup({ apns = "APNS", apns_sandbox = "APNS_SANDBOX", fcm = "GCM" }, k, "-")}/[A-Za-z0-9_.-]{1,256}$",
        p.platform_application_arn
      ))
    ]), false)
    error_message = "push.platforms[*].platform_application_arn must be an SNS platform application ARN of that platform: arn:aws:sns:<region>:<account>:app/APNS/<name> (apns), app/APNS_SANDBOX/<name> (apns_sandbox), app/GCM/<name> (fcm)."
  }
}

variable "chat" {
  description = <<-EOT
    The chat channel (null = off): the chat queue and DLQ and the worker that posts each notification of a type
    with the chat channel to that type's chat_targets (Slack, Microsoft Teams, Amazon Chime or any HTTPS
    endpoint), once per notification and target.
      targets              - 1-20, keyed by target name (lowercase letters, digits, '_', '-'; what chat_targets name):
        platform                   - slack, teams, chime or webhook (any HTTPS endpoint, plain JSON)
        webhook_secret_arn         - Secrets Manager secret whose SecretString is the webhook URL (or {"url": ...}).
                                     Only the ARN passes through Terraform: the URL, whose path is the webhook's
                                     secret, never enters variables or state. The worker refuses a URL that is not
                                     https or, for slack/teams/chime, not on the platform's hosts
        webhook_secret_kms_key_arn - the secret's customer-managed key, if it has one
      secret_cache_seconds - how long the worker keeps a URL read from its secret (default 300, 1-3600)
      timeout_seconds      - connect and read timeout of each webhook request (default 5, 1-10)
  EOT
  type = object({
    targets = map(object({
      platform                   = string
      webhook_secret_arn         = string
      webhook_secret_kms_key_arn = optional(string)
    }))
    secret_cache_seconds = optional(number, 300)
    timeout_seconds      = optional(number, 5)
  })
  default = null

  validation {
    # Every target's platform and secret ARN travel in CHAT_TARGETS: Lambda's environment holds 4 KB in all.
    condition     = var.chat == null ? true : try(length(var.chat.targets) > 0 && length(var.chat.targets) <= 20 && alltrue([for k in keys(var.chat.targets) : can(regex("^[a-z][a-z0-9_-]{0,63}$", k))]), false)
    error_message = "chat.targets must hold 1-20 targets (their secret ARNs share the function's 4 KB environment), each keyed by 1-64 lowercase letters, digits, '_' or '-', starting with a letter (e.g. ops)."
  }

  validation {
    condition     = var.chat == null ? true : try(alltrue([for t in values(var.chat.targets) : contains(["slack", "teams", "chime", "webhook"], t.platform)]), false)
    error_message = "chat.targets[*].platform must be slack, teams, chime or webhook."
  }

  validation {
    condition = var.chat == null ? true : try(alltrue([
      for t in values(var.chat.targets) : can(regex("^arn:aws[a-zA-Z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", t.webhook_secret_arn)) &&
      (t.webhook_secret_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", coalesce(t.webhook_secret_kms_key_arn, "x"))))
    ]), false)
    error_message = "chat.targets[*]: webhook_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>), never the webhook URL itself, and webhook_secret_kms_key_arn a KMS key ARN."
  }

  validation {
    condition = var.chat == null ? true : try(
      var.chat.secret_cache_seconds >= 1 && var.chat.secret_cache_seconds <= 3600 && floor(var.chat.secret_cache_seconds) == var.chat.secret_cache_seconds &&
      var.chat.timeout_seconds >= 1 && var.chat.timeout_seconds <= 10 && floor(var.chat.timeout_seconds) == var.chat.timeout_seconds,
      false
    )
    error_message = "chat: secret_cache_seconds must be a whole number 1-3600 (a rotated URL is used after at most this long) and timeout_seconds 1-10."
  }
}

variable "registration_api" {
  description = <<-EOT
    The registration API (null = off): an HTTP API with a JWT authorizer through which signed-in users register
    devices, manage email subscriptions and preferences and read their deliveries (routes: design document,
    section 7). The user id is the token's `sub` claim.
      jwt_issuer             - https URL of the issuer (Cognito: https://cognito-idp.<region>.amazonaws.com/<pool id>)
      jwt_audience           - accepted `aud` values (Cognito: the app client ids)
      authorization_scopes   - scopes every route requires (empty: any valid token of the audience)
      stage_name             - "$default" (default: no stage prefix in the URL) or a name
      cors_allowed_origins   - browser origins allowed to call the API (default none: no CORS headers)
      throttling_burst_limit / throttling_rate_limit - default route throttling of the stage (all users together)
      requests_per_user_per_minute - requests one user (JWT `sub`) may make per minute; more get 429 with
                               retry-after (default 60; a fixed one-minute window counted in the limits table)
      timeout / memory_size  - of the function
      verification           - limits on email verification, counted in the limits table so deleting and re-adding
                               an address resets none (design document, section 7, email verification):
        codes_per_address_per_day   - codes mailed to one address per UTC day, by all users together (default 5)
        codes_per_user_per_day      - codes one user may have mailed per UTC day, to all addresses (default 10)
        guesses_per_address_per_day - codes guessed for one address per UTC day, by all users (default 10)
        resend_cooldown_seconds     - minimum time between two codes to one address (default 60)
        block_days_after_feedback   - a bounce or complaint about a verification mail blocks verification mail to
                                      that address for this many days (default 30); notifications are unaffected
      max_devices_per_user   - push devices one user may own (default 10, 1-100): the push worker publishes to
                               all of a recipient's devices in one invocation, so this bounds a batch's work
  EOT
  type = object({
    jwt_issuer             = string
    jwt_audience           = list(string)
    authorization_scopes   = optional(list(string), [])
    stage_name             = optional(string, "$default")
    cors_allowed_origins   = optional(list(string), [])
    throttling_burst_limit = optional(number, 100)
    throttling_rate_limit  = optional(number, 50)
    timeout                = optional(number, 10)
    memory_size            = optional(number, 256)
    # Per-identity limiting: the stage throttle above is one bucket that one user could empty for everyone.
    requests_per_user_per_minute = optional(number, 60)
    verification = optional(object({
      codes_per_address_per_day   = optional(number, 5)
      codes_per_user_per_day      = optional(number, 10)
      guesses_per_address_per_day = optional(number, 10)
      resend_cooldown_seconds     = optional(number, 60)
      block_days_after_feedback   = optional(number, 30)
    }), {})
    max_devices_per_user = optional(number, 10)
  })
  default = null

  validation {
    condition     = var.registration_api == null ? true : try(can(regex("^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[^\\s?#]*)?$", var.registration_api.jwt_issuer)), false)
    error_message = "registration_api.jwt_issuer must be the issuer's https:// URL (e.g. https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123), without query or fragment."
  }

  validation {
    condition = var.registration_api == null ? true : try(
      length(var.registration_api.jwt_audience) > 0 && alltrue([for a in var.registration_api.jwt_audience : length(trimspace(a)) > 0]),
      false
    )
    error_message = "registration_api.jwt_audience must list at least one non-empty audience (Cognito: the app client id); a token for another audience is refused."
  }

  validation {
    condition     = var.registration_api == null ? true : try(alltrue([for s in var.registration_api.authorization_scopes : can(regex("^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,256}$", s))]), false)
    error_message = "registration_api.authorization_scopes must be OAuth scope names without spaces or quotes (e.g. notifications/self)."
  }

  validation {
    condition     = var.registration_api == null ? true : try(var.registration_api.stage_name == "$default" || can(regex("^[A-Za-z0-9_-]{1,128}$", var.registration_api.stage_name)), false)
    error_message = "registration_api.stage_name must be \"$default\" or 1-128 characters of letters, digits, '_' or '-'."
  }

  validation {
    condition = var.registration_api == null ? true : try(alltrue([
      for o in var.registration_api.cors_allowed_origins : can(regex("^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?$", o)) || can(regex("^http://localhost(:[0-9]{1,5})?$", o))
    ]), false)
    error_message = "registration_api.cors_allowed_origins must be origins like https://app.example.com (http only for localhost); \"*\" is not allowed: the API carries bearer tokens."
  }

  validation {
    condition = var.registration_api == null ? true : try(
      var.registration_api.throttling_burst_limit >= 0 && var.registration_api.throttling_burst_limit <= 5000 && floor(var.registration_api.throttling_burst_limit) == var.registration_api.throttling_burst_limit &&
      var.registration_api.throttling_rate_limit > 0 && var.registration_api.throttling_rate_limit <= 10000,
      false
    )
    error_message = "registration_api: throttling_burst_limit must be a whole number 0-5000 and throttling_rate_limit above 0 and at most 10000 requests per second."
  }

  validation {
    condition = var.registration_api == null ? true : try(
      var.registration_api.requests_per_user_per_minute >= 1 && var.registration_api.requests_per_user_per_minute <= 10000 &&
      floor(var.registration_api.requests_per_user_per_minute) == var.registration_api.requests_per_user_per_minute,
      false
    )
    error_message = "registration_api.requests_per_user_per_minute must be a whole number 1-10000: how many requests one signed-in user may make per minute before getting 429 (the stage throttle still caps all users together)."
  }

  validation {
    # API Gateway waits at most 30 s for an HTTP API integration.
    condition = var.registration_api == null ? true : try(
      var.registration_api.timeout >= 1 && var.registration_api.timeout <= 29 && floor(var.registration_api.timeout) == var.registration_api.timeout &&
      var.registration_api.memory_size >= 128 && var.registration_api.memory_size <= 10240 && floor(var.registration_api.memory_size) == var.registration_api.memory_size,
      false
    )
    error_message = "registration_api: timeout must be 1-29 seconds (API Gateway's integration limit is 30 s) and memory_size 128-10240 MB (whole numbers)."
  }

  # Verification limits: each bounded so the code stays unguessable (guess probability per day is at most
  # guesses_per_address_per_day / 32^8) and one account cannot mail-bomb (codes per user and per address).
  validation {
    condition = var.registration_api == null ? true : try(
      var.registration_api.verification.codes_per_address_per_day >= 1 && var.registration_api.verification.codes_per_address_per_day <= 50 && floor(var.registration_api.verification.codes_per_address_per_day) == var.registration_api.verification.codes_per_address_per_day,
      false
    )
    error_message = "registration_api.verification.codes_per_address_per_day must be a whole number 1-50: each is a mail to an address whose owner may never have asked for it."
  }

  validation {
    condition = var.registration_api == null ? true : try(
      var.registration_api.verification.codes_per_user_per_day >= 1 && var.registration_api.verification.codes_per_user_per_day <= 100 && floor(var.registration_api.verification.codes_per_user_per_day) == var.registration_api.verification.codes_per_user_per_day,
      false
    )
    error_message = "registration_api.verification.codes_per_user_per_day must be a whole number 1-100 (one account must not be able to mail many addresses)."
  }

  validation {
    condition = var.registration_api == null ? true : try(
      var.registration_api.verification.guesses_per_address_per_day >= 1 && var.registration_api.verification.guesses_per_address_per_day <= 100 && floor(var.registration_api.verification.guesses_per_address_per_day) == var.registration_api.verification.guesses_per_address_per_day,
      false
    )
    error_message = "registration_api.verification.guesses_per_address_per_day must be a whole number 1-100 (at 100 a year of guessing hits an 8-character code with probability 3.3e-8)."
  }

  validation {
    condition = var.registration_api == null ? true : try(
      var.registration_api.verification.resend_cooldown_seconds >= 1 && var.registration_api.verification.resend_cooldown_seconds <= 3600 && floor(var.registration_api.verification.resend_cooldown_seconds) == var.registration_api.verification.resend_cooldown_seconds,
      false
    )
    error_message = "registration_api.verification.resend_cooldown_seconds must be a whole number of seconds 1-3600."
  }

  validation {
    condition = var.registration_api == null ? true : try(
      var.registration_api.verification.block_days_after_feedback >= 1 && var.registration_api.verification.block_days_after_feedback <= 365 && floor(var.registration_api.verification.block_days_after_feedback) == var.registration_api.verification.block_days_after_feedback,
      false
    )
    error_message = "registration_api.verification.block_days_after_feedback must be a whole number of days 1-365 (a complaint about a verification mail blocks only verification mail, and not forever)."
  }

  validation {
    # Every device of a recipient is published to within one push worker invocation (claim, Publish, complete per
    # device): the cap keeps a batch well inside the worker's timeout.
    condition = var.registration_api == null ? true : try(
      var.registration_api.max_devices_per_user >= 1 && var.registration_api.max_devices_per_user <= 100 && floor(var.registration_api.max_devices_per_user) == var.registration_api.max_devices_per_user,
      false
    )
    error_message = "registration_api.max_devices_per_user must be a whole number from 1 to 100: every device of a user is published to within one push worker batch, so more devices risk the batch timing out (default 10)."
  }
}

variable "sms" {
  description = <<-EOT
    The SMS channel (null = off; docs/notification-service.md, section 9): the phone numbers table, the SMS queue
    and DLQ, the worker that sends through Amazon SNS (Publish to a phone number), and the registration API's
    phone number routes (a number is used only once verified with a code sent to it).
      allowed_country_codes   - country calling codes numbers may have, e.g. ["1", "44"] (required: SMS
                                pumping targets countries you do not serve; premium-rate ranges are refused always)
      max_price_usd           - per-message price ceiling in USD (SNS's AWS.SNS.SMS.MaxPrice: a message that would
                                cost more is not sent; default 0.50)
      sms_type                - Transactional (default: routed for reliability) or Promotional (cheapest route)
      sender_id               - alphanumeric sender ID, 1-11 letters and digits with at least one letter, where
                                the destination country supports it (optional)
      origination_number      - an E.164 origination number (long code, toll-free, 10DLC) of the account (optional)
      max_segments            - at most this many segments per message (1-10, default 3); a longer rendered text
                                is logged failed (message_too_long), nothing sent
      monthly_spend_alarm_usd - alarm to the ops topic when the account's SMS spend this month (AWS/SNS
                                SMSMonthToDateSpentUSD) reaches it (optional). The account's monthly spend limit
                                itself is an account-wide SNS setting this module does not own (see the docs)
  EOT
  type = object({
    allowed_country_codes   = list(string)
    max_price_usd           = optional(number, 0.5)
    sms_type                = optional(string, "Transactional")
    sender_id               = optional(string)
    origination_number      = optional(string)
    max_segments            = optional(number, 3)
    monthly_spend_alarm_usd = optional(number)
  })
  default = null

  validation {
    condition     = var.sms == null ? true : try(length(var.sms.allowed_country_codes) > 0 && alltrue([for c in var.sms.allowed_country_codes : can(regex("^[1-9][0-9]{0,2}$", c))]), false)
    error_message = "sms.allowed_country_codes must list at least one country calling code of 1-3 digits without + (e.g. [\"1\", \"44\"])."
  }

  validation {
    condition     = var.sms == null ? true : try(var.sms.max_price_usd > 0 && var.sms.max_price_usd <= 10, false)
    error_message = "sms.max_price_usd must be more than 0 and at most 10 (USD per message)."
  }

  validation {
    condition     = var.sms == null ? true : try(contains(["Transactional", "Promotional"], var.sms.sms_type), false)
    error_message = "sms.sms_type must be Transactional or Promotional."
  }

  validation {
    condition     = var.sms == null ? true : try(var.sms.sender_id == null || (can(regex("^[A-Za-z0-9]{1,11}$", var.sms.sender_id)) && can(regex("[A-Za-z]", var.sms.sender_id))), false)
    error_message = "sms.sender_id must be 1-11 letters and digits with at least one letter (an alphanumeric sender ID)."
  }

  validation {
    condition     = var.sms == null ? true : try(var.sms.origination_number == null || can(regex("^\\+[1-9][0-9]{7,14}$", var.sms.origination_number)), false)
    error_message = "sms.origination_number must be an E.164 number: + and 8-15 digits, the country code first (e.g. +18445550123)."
  }

  validation {
    condition     = var.sms == null ? true : try(var.sms.max_segments >= 1 && var.sms.max_segments <= 10 && floor(var.sms.max_segments) == var.sms.max_segments, false)
    error_message = "sms.max_segments must be a whole number from 1 to 10 (SNS accepts 1,600 bytes: 10 GSM-7 segments)."
  }

  validation {
    condition     = var.sms == null ? true : try(var.sms.monthly_spend_alarm_usd == null ? true : var.sms.monthly_spend_alarm_usd > 0, false)
    error_message = "sms.monthly_spend_alarm_usd must be more than 0 (USD) when set."
  }
}

variable "inbox" {
  description = <<-EOT
    The in-app inbox channel (null = off): the table <name>-inbox (one item per recipient and notification,
    newest first), the inbox queue and worker, and the inbox routes of the registration API (GET /inbox,
    GET /inbox/unread-count, POST /inbox/read-all, POST /inbox/{item_id}/read, POST /inbox/{item_id}/archive).
    With the websocket channel on, a new item is also posted to the recipient's open connections.
      item_ttl_days     - days an item (read or not, archived or not) is kept before DynamoDB TTL removes it
                          (default 90, 1-3650)
      default_page_size - items per GET /inbox page when the request has no limit (default 20, 1-100)
      max_page_size     - the largest limit a request may ask for (default 50, 1-100; at least default_page_size)
  EOT
  type = object({
    item_ttl_days     = optional(number, 90)
    default_page_size = optional(number, 20)
    max_page_size     = optional(number, 50)
  })
  default = null

  validation {
    condition = var.inbox == null ? true : try(
      var.inbox.item_ttl_days >= 1 && var.inbox.item_ttl_days <= 3650 && floor(var.inbox.item_ttl_days) == var.inbox.item_ttl_days,
      false
    )
    error_message = "inbox.item_ttl_days must be a whole number of days from 1 to 3650 (default 90)."
  }

  validation {
    # A page is one Query of at most max_page_size items (each up to ~6 KB of title, body and url): 100 keeps a
    # page under 1 MB (DynamoDB's Query limit) and the API's response small.
    condition = var.inbox == null ? true : try(
      var.inbox.default_page_size >= 1 && var.inbox.max_page_size <= 100 && var.inbox.default_page_size <= var.inbox.max_page_size &&
      floor(var.inbox.default_page_size) == var.inbox.default_page_size && floor(var.inbox.max_page_size) == var.inbox.max_page_size,
      false
    )
    error_message = "inbox: default_page_size and max_page_size must be whole numbers from 1 to 100, with default_page_size <= max_page_size (defaults 20 and 50)."
  }
}
